#!/usr/bin/env python3
"""A minimal Toolbus tool consumer in Python.

It answers `tool_requests.<service>` the way the TypeScript consumers do, knowing nothing of
the platform but what `libs/contracts/schemas/*.schema.json` (read at run time) and the
CloudEvents binary-mode convention say. See README.md in this folder.

Wire protocol (CloudEvents 1.0, binary mode over Kafka headers):
  request: ce_specversion, ce_id, ce_source, ce_type, ce_time, content-type, ce_correlationid,
           ce_replyto, ce_replypartition, ce_deadline, traceparent; JSON body
  reply:   to topic ce_replyto, partition ce_replypartition, the request's key; a new ce_id,
           ce_correlationid copied, traceparent continuing the caller's trace; JSON body valid
           against tool_call.completed.schema.json or tool_call.failed.schema.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import secrets
import signal
import sys
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

HERE = Path(__file__).resolve().parent
DEFAULT_SCHEMAS_DIR = HERE / ".." / ".." / "libs" / "contracts" / "schemas"

log = logging.getLogger("python-fx")


# --------------------------------------------------------------------------------------------
# Structured logs: one JSON object per line on stderr (stdout carries only READY).


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update((k, v) for k, v in getattr(record, "fields", {}).items() if v is not None)
        if record.exc_info:
            entry["err"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def info(msg: str, **fields: Any) -> None:
    log.info(msg, extra={"fields": fields})


def warn(msg: str, **fields: Any) -> None:
    log.warning(msg, extra={"fields": fields})


def error(msg: str, **fields: Any) -> None:
    log.error(msg, extra={"fields": fields})


# --------------------------------------------------------------------------------------------
# The contract: JSON Schemas exported from libs/contracts, and nothing else.


class Contracts:
    """The exported schemas this consumer needs, with their CloudEvents types."""

    def __init__(self, schemas_dir: Path) -> None:
        def load(name: str) -> dict[str, Any]:
            path = schemas_dir / f"{name}.schema.json"
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise SystemExit(
                    f"schema {path} not found: --schemas-dir must point at libs/contracts/schemas"
                ) from None
            Draft202012Validator.check_schema(schema)
            return schema

        self.envelope = validator(load("cloudevent.attributes"))
        requested = load("tool_call.requested")
        completed = load("tool_call.completed")
        failed = load("tool_call.failed")
        self.requested = validator(requested)
        self.completed = validator(completed)
        self.failed = validator(failed)
        # The CloudEvents types come from the schemas too (`x-cloudevents-type`).
        self.requested_type: str = requested["x-cloudevents-type"]
        self.completed_type: str = completed["x-cloudevents-type"]
        self.failed_type: str = failed["x-cloudevents-type"]


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def escape_pointer_token(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path: Any) -> str:
    """RFC 6901 JSON pointer; "/" is the whole document, as in libs/contracts."""
    tokens = list(path)
    return "".join("/" + escape_pointer_token(t) for t in tokens) if tokens else "/"


def expected_of(e: ValidationError) -> str:
    v = e.validator_value
    if e.validator == "type":
        return v if isinstance(v, str) else " or ".join(v)
    if e.validator == "enum":
        return "one of " + ", ".join(json.dumps(x) for x in v)
    if e.validator == "const":
        return json.dumps(v)
    if e.validator == "exclusiveMinimum":
        return f"a number > {v}"
    if e.validator == "minimum":
        return f"a number >= {v}"
    if e.validator == "exclusiveMaximum":
        return f"a number < {v}"
    if e.validator == "maximum":
        return f"a number <= {v}"
    if e.validator == "pattern":
        return f"a string matching {v}"
    if e.validator == "minLength":
        return f"at least {v} characters"
    if e.validator == "maxLength":
        return f"at most {v} characters"
    if e.validator == "format":
        return f"a {v} string"
    if e.validator == "additionalProperties":
        return "no other properties"
    return f"{e.validator}: {json.dumps(v, default=str)}"


def field_issues(v: Draft202012Validator, instance: Any) -> list[dict[str, str]]:
    """Every problem of `instance`, each located by JSON pointer, in document order."""
    issues: list[dict[str, str]] = []
    seen_required: set[str] = set()
    for e in sorted(v.iter_errors(instance), key=lambda e: [str(p) for p in e.path]):
        if e.validator == "required" and isinstance(e.instance, dict):
            # jsonschema reports a missing property at its parent; point at the property itself.
            for name in e.validator_value:
                at = pointer([*e.path, name])
                if name not in e.instance and at not in seen_required:
                    seen_required.add(at)
                    issues.append({"pointer": at, "message": "is required", "expected": "present"})
            continue
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = set(e.schema.get("properties", {}))
            for name in (k for k in e.instance if k not in allowed):
                issues.append(
                    {
                        "pointer": pointer([*e.path, name]),
                        "message": "is not allowed",
                        "expected": expected_of(e),
                    }
                )
            continue
        expected = expected_of(e)
        issues.append(
            {"pointer": pointer(e.path), "message": f"must be {expected}", "expected": expected}
        )
    return issues[:100]


def describe(issues: list[dict[str, str]]) -> str:
    return "; ".join(f"{i['pointer']}: {i['message']}" for i in issues[:10])


# --------------------------------------------------------------------------------------------
# The tool: convert_currency, with its own JSON Schemas (draft 2020-12) and fixed demo rates.

CURRENCIES = ["USD", "EUR", "GBP", "JPY"]
# Units of each currency per US dollar. Demo numbers, not market data.
USD_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.5}


@dataclass
class Tool:
    name: str
    input: Draft202012Validator
    output: Draft202012Validator
    handler: Callable[[dict[str, Any]], dict[str, Any]]


def convert_currency(args: dict[str, Any]) -> dict[str, Any]:
    amount, src, dst = args["amount"], args["from"], args["to"]
    rate = round(USD_RATES[dst] / USD_RATES[src], 6)
    converted = round(amount * rate, 0 if dst == "JPY" else 2)
    return {"amount": amount, "from": src, "to": dst, "converted": converted, "rate": rate}


CONVERT_CURRENCY = Tool(
    name="convert_currency",
    input=validator(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "amount": {"type": "number", "exclusiveMinimum": 0},
                "from": {"type": "string", "enum": CURRENCIES},
                "to": {"type": "string", "enum": CURRENCIES},
            },
            "required": ["amount", "from", "to"],
            "additionalProperties": False,
        }
    ),
    output=validator(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "amount": {"type": "number"},
                "from": {"enum": CURRENCIES},
                "to": {"enum": CURRENCIES},
                "converted": {"type": "number"},
                "rate": {"type": "number", "exclusiveMinimum": 0},
            },
            "required": ["amount", "from", "to", "converted", "rate"],
        }
    ),
    handler=convert_currency,
)

TOOLS = {t.name: t for t in [CONVERT_CURRENCY]}


# --------------------------------------------------------------------------------------------
# Handling one request.


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# CloudEvents attributes as binary-mode Kafka headers: ce_<attribute>.
CE_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "correlationid",
    "replyto",
    "replypartition",
    "deadline",
)
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def child_traceparent(parent: Optional[str]) -> Optional[str]:
    """Same trace id, a new span id for this consumer's work (W3C trace context)."""
    m = TRACEPARENT.match(parent or "")
    if not m or m.group(1) == "0" * 32:
        return None
    return f"00-{m.group(1)}-{secrets.token_hex(8)}-{m.group(3)}"


class ValidationFailure(Exception):
    def __init__(self, code: str, message: str, issues: Optional[list[dict[str, str]]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.issues = issues


class IdempotencyStore:
    """In-memory dedup by idempotency key (bounded, oldest evicted first).

    A production consumer keeps this in its database and writes the record in the same
    transaction as the tool's effect; memory is enough to show the wire behaviour.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()

    def get(self, key: str) -> Optional[tuple[str, dict[str, Any]]]:
        return self.entries.get(key)

    def put(self, key: str, fingerprint: str, reply: dict[str, Any]) -> None:
        self.entries[key] = (fingerprint, reply)
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)


def fingerprint(call: dict[str, Any]) -> str:
    body = json.dumps({"tool": call["tool"], "input": call["input"]}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


class ToolConsumer:
    def __init__(self, contracts: Contracts, service: str) -> None:
        self.contracts = contracts
        self.service = service
        self.source = f"/toolbus/{service}"
        self.dedup = IdempotencyStore()

    def handle(self, body: Optional[bytes], key: Optional[str]) -> tuple[str, dict[str, Any]]:
        """The reply (ce_type, payload) for one request body. Never raises for bad input."""
        started = time.monotonic()
        call: Any = None
        try:
            try:
                call = json.loads(body or b"")
            except ValueError as e:
                raise ValidationFailure(
                    "invalid_request",
                    f"request body is not JSON: {e}",
                    [{"pointer": "/", "message": "must be a JSON object", "expected": "JSON"}],
                ) from None
            issues = field_issues(self.contracts.requested, call)
            if issues:
                raise ValidationFailure(
                    "invalid_request",
                    f"request does not match {self.contracts.requested_type}: {describe(issues)}",
                    issues,
                )
            return self.run(call, started)
        except ValidationFailure as f:
            return self.failed(call, key, started, "validation", f.code, f.message, f.issues)
        except Exception:  # a bug in a handler: answered with a safe message, details in the log
            log.exception("tool handler failed", extra={"fields": {"key": key}})
            return self.failed(
                call, key, started, "internal", "internal_error", "the tool failed unexpectedly"
            )

    def run(self, call: dict[str, Any], started: float) -> tuple[str, dict[str, Any]]:
        tool = TOOLS.get(call["tool"])
        if tool is None:
            raise ValidationFailure(
                "unknown_tool",
                f'tool "{call["tool"]}" is not served by {self.service}; '
                f"it serves {', '.join(sorted(TOOLS))}",
            )
        key, fp = call["idempotencyKey"], fingerprint(call)
        stored = self.dedup.get(key)
        if stored is not None:
            if stored[0] != fp:
                raise ValidationFailure(
                    "idempotency_key_reused",
                    f"idempotency key {key} was already used for a different call",
                )
            info("deduplicated", idempotencyKey=key, callId=call["callId"])
            reply = {**stored[1], "callId": call["callId"], "deduplicated": True}
            reply["durationMs"] = elapsed_ms(started)
            return self.contracts.completed_type, reply
        issues = field_issues(tool.input, call["input"])
        if issues:
            raise ValidationFailure(
                "invalid_input",
                f"invalid input for {tool.name}: {describe(issues)}",
                issues,
            )
        output = tool.handler(call["input"])
        bad_output = field_issues(tool.output, output)
        if bad_output:
            raise RuntimeError(f"{tool.name} returned invalid output: {describe(bad_output)}")
        reply = {
            "callId": call["callId"],
            "idempotencyKey": key,
            "tool": tool.name,
            "output": output,
            "durationMs": elapsed_ms(started),
            "deduplicated": False,
            "completedAt": now_rfc3339(),
        }
        self.dedup.put(key, fp, reply)
        return self.contracts.completed_type, reply

    def failed(
        self,
        call: Any,
        key: Optional[str],
        started: float,
        error_class: str,
        code: str,
        message: str,
        issues: Optional[list[dict[str, str]]] = None,
    ) -> tuple[str, dict[str, Any]]:
        call = call if isinstance(call, dict) else {}
        # A request too broken to name itself still gets an answer that matches the schema.
        ident = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")
        idem = call.get("idempotencyKey")
        if not (isinstance(idem, str) and ident.match(idem)):
            idem = key if key and ident.match(key) else f"unknown:{uuid.uuid4()}"
        tool = call.get("tool")
        if not (isinstance(tool, str) and re.match(r"^[a-z][a-z0-9_]{0,63}$", tool)):
            tool = "unknown"
        call_id = call.get("callId")
        err: dict[str, Any] = {
            "class": error_class,
            "code": code,
            "message": message[:2000],
            "retryable": False,
        }
        if issues:
            err["issues"] = issues
        return self.contracts.failed_type, {
            "callId": call_id if isinstance(call_id, str) else "",
            "idempotencyKey": idem,
            "tool": tool,
            "error": err,
            "durationMs": elapsed_ms(started),
            "failedAt": now_rfc3339(),
        }


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)


# --------------------------------------------------------------------------------------------
# Kafka: the loop. One message at a time; the offset is committed only after the reply (or the
# DLQ entry) is confirmed by the broker, so a crash redelivers rather than loses a request.


class DeliveryFailed(Exception):
    pass


class Runner:
    def __init__(self, args: argparse.Namespace, contracts: Contracts) -> None:
        self.args = args
        self.contracts = contracts
        self.tools = ToolConsumer(contracts, args.service)
        self.topic = f"tool_requests.{args.service}"
        self.stopping = False
        self.assigned = False
        self.ready = False
        kafka_log = logging.getLogger("librdkafka")
        common = {
            "bootstrap.servers": args.brokers,
            "client.id": f"{args.service}-python",
            "logger": kafka_log,
            "error_cb": lambda e: warn("kafka client error", error=str(e)),
        }
        self.consumer = Consumer(
            {
                **common,
                "group.id": args.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                "fetch.wait.max.ms": 50,
                "topic.metadata.refresh.interval.ms": 10000,
            }
        )
        self.producer = Producer(
            {**common, "acks": "all", "enable.idempotence": True, "linger.ms": 0}
        )

    def on_assign(self, _consumer: Consumer, partitions: list[Any]) -> None:
        info("partitions assigned", topic=self.topic, partitions=[p.partition for p in partitions])
        self.assigned = bool(partitions)

    def on_revoke(self, _consumer: Consumer, partitions: list[Any]) -> None:
        info("partitions revoked", topic=self.topic, partitions=[p.partition for p in partitions])
        self.assigned = False

    def run(self) -> int:
        self.consumer.subscribe([self.topic], on_assign=self.on_assign, on_revoke=self.on_revoke)
        info("subscribed", topic=self.topic, group=self.args.group, brokers=self.args.brokers)
        try:
            while not self.stopping:
                msg = self.consumer.poll(0.1)
                if self.assigned and not self.ready:
                    self.ready = True
                    print("READY", flush=True)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        warn("consumer error", error=str(msg.error()))
                    continue
                try:
                    self.process(msg)
                except DeliveryFailed:
                    raise
                except Exception as e:  # a bug, not the caller's fault: park it with the reason
                    log.exception("could not handle a request", extra={"fields": {}})
                    self.dead_letter(msg, f"consumer error: {type(e).__name__}: {e}")
                # Committed only now: the reply (or DLQ entry) is on the broker.
                self.consumer.commit(message=msg, asynchronous=False)
        except DeliveryFailed as e:
            # Not committed: the request is redelivered to the next consumer of the partition.
            error("could not deliver a reply; exiting without committing its offset", error=str(e))
            self.close()
            return 1
        self.close()
        return 0

    def close(self) -> None:
        info("stopping")
        self.producer.flush(10)
        # Every handled message was committed synchronously; close() leaves the group at once.
        self.consumer.close()
        info("stopped")

    def process(self, msg: Message) -> None:
        headers = {
            k: v.decode("utf-8", "replace") for k, v in (msg.headers() or []) if v is not None
        }
        key = msg.key().decode("utf-8", "replace") if msg.key() is not None else None
        where = {
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": key,
        }
        trace_id = (TRACEPARENT.match(headers.get("traceparent", "")) or [None, None])[1]

        attrs: dict[str, Any] = {
            name: headers[f"ce_{name}"]
            for name in CE_ATTRIBUTES
            if f"ce_{name}" in headers
        }
        if "replypartition" in attrs and re.fullmatch(r"\d+", attrs["replypartition"]):
            attrs["replypartition"] = int(attrs["replypartition"])
        envelope = field_issues(self.contracts.envelope, attrs)
        content_type = headers.get("content-type", "application/json")
        if envelope or not content_type.startswith("application/json"):
            reason = describe(envelope) or f'unsupported content-type "{content_type}"'
            return self.dead_letter(msg, f"not a valid CloudEvent: {reason}", **where)
        if attrs["type"] != self.contracts.requested_type:
            return self.dead_letter(
                msg,
                f'unexpected ce_type "{attrs["type"]}": this consumer accepts '
                f"{self.contracts.requested_type}",
                **where,
            )
        if "correlationid" not in attrs or "replyto" not in attrs:
            return self.dead_letter(
                msg, "request has no ce_correlationid or ce_replyto header", **where
            )
        deadline = attrs.get("deadline")
        if deadline and parse_time(deadline) < datetime.now(timezone.utc):
            info("request expired before it was handled; skipped", deadline=deadline, **where)
            return

        reply_type, reply = self.tools.handle(msg.value(), key)
        completed = reply_type == self.contracts.completed_type
        check = self.contracts.completed if completed else self.contracts.failed
        problems = field_issues(check, reply)
        if problems:  # a bug here, never the caller's: do not send what the contract forbids
            raise RuntimeError(f"reply does not match {reply_type}: {describe(problems)}")

        out_headers = {
            "ce_specversion": "1.0",
            "ce_id": str(uuid.uuid4()),
            "ce_source": self.tools.source,
            "ce_type": reply_type,
            "ce_time": now_rfc3339(),
            "content-type": "application/json",
            "ce_correlationid": attrs["correlationid"],
        }
        if reply.get("tool") and reply["tool"] != "unknown":
            out_headers["ce_subject"] = reply["tool"]
        traceparent = child_traceparent(headers.get("traceparent"))
        if traceparent:
            out_headers["traceparent"] = traceparent
            if "tracestate" in headers:
                out_headers["tracestate"] = headers["tracestate"]
        self.produce(
            attrs["replyto"],
            attrs.get("replypartition"),
            msg.key(),
            json.dumps(reply).encode(),
            out_headers,
        )
        info(
            f"tool call {'completed' if completed else 'failed'}",
            tool=reply["tool"],
            callId=reply["callId"],
            idempotencyKey=reply["idempotencyKey"],
            code=reply.get("error", {}).get("code"),
            durationMs=reply["durationMs"],
            trace_id=trace_id,
            **where,
        )

    def dead_letter(self, msg: Message, reason: str, **where: Any) -> None:
        """Parks a message that cannot be answered on <topic>.dlq, as the TypeScript bus does."""
        warn("request parked on the dead-letter topic", reason=reason, **where)
        headers = [(k, v) for k, v in (msg.headers() or [])]
        headers += [
            ("toolbus_dlq_reason", reason[:4000].encode()),
            ("toolbus_dlq_error", b"PoisonMessageError"),
            ("toolbus_dlq_attempts", b"1"),
            ("toolbus_dlq_topic", msg.topic().encode()),
            ("toolbus_dlq_partition", str(msg.partition()).encode()),
            ("toolbus_dlq_offset", str(msg.offset()).encode()),
            ("toolbus_dlq_group", self.args.group.encode()),
            ("toolbus_dlq_at", now_rfc3339().encode()),
        ]
        self.produce(f"{msg.topic()}.dlq", None, msg.key(), msg.value() or b"", headers)

    def produce(
        self,
        topic: str,
        partition: Optional[int],
        key: Optional[bytes],
        value: bytes,
        headers: Any,
    ) -> None:
        """Produces one record and waits for the broker's acknowledgement (acks=all)."""
        result: dict[str, Any] = {}

        def delivered(err: Optional[KafkaError], _msg: Message) -> None:
            result["err"] = err
            result["done"] = True

        kwargs: dict[str, Any] = {"key": key, "value": value, "headers": headers}
        if partition is not None:
            kwargs["partition"] = partition
        try:
            self.producer.produce(topic, on_delivery=delivered, **kwargs)
        except (KafkaException, BufferError) as e:
            raise DeliveryFailed(f"{topic}: {e}") from e
        deadline = time.monotonic() + 30
        while "done" not in result and time.monotonic() < deadline:
            self.producer.poll(0.05)
        if "done" not in result:
            raise DeliveryFailed(f"{topic}: no acknowledgement within 30 s")
        if result["err"] is not None:
            raise DeliveryFailed(f"{topic}: {result['err']}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="A Toolbus tool consumer in Python (convert_currency), "
        "built on the JSON Schemas exported from libs/contracts."
    )
    parser.add_argument(
        "--brokers",
        default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:39092"),
        help="comma-separated bootstrap brokers (default: $KAFKA_BROKERS or 127.0.0.1:39092)",
    )
    parser.add_argument(
        "--service", default="python-fx", help="serves tool_requests.<service> (default python-fx)"
    )
    parser.add_argument(
        "--group", help="consumer group (default: <service>.tool_requests.<service>)"
    )
    parser.add_argument(
        "--schemas-dir",
        type=Path,
        default=DEFAULT_SCHEMAS_DIR,
        help="libs/contracts/schemas (default: relative to this file)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LOG_LEVEL", "info"),
        help="debug, info, warning, error (default: $LOG_LEVEL or info)",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", args.service):
        parser.error("--service: lower-case letters, digits and dashes, starting with a letter")
    args.group = args.group or f"{args.service}.tool_requests.{args.service}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler])

    runner = Runner(args, Contracts(args.schemas_dir.resolve()))

    def stop(signum: int, _frame: Any) -> None:
        info("signal received; finishing the current request", signal=signal.Signals(signum).name)
        runner.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return runner.run()


if __name__ == "__main__":
    sys.exit(main())
