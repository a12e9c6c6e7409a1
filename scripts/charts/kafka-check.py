#!/usr/bin/env python3
"""The chart's Kafka topics and the Kafka users' ACLs follow the code's topics.

    kafka-check.py <contract.json> <kafka-users.yaml> <scenario>=<rendered.yaml> ...

<contract.json> is what scripts/charts/kafka-contract.mjs prints from libs/contracts
(platformTopics() and a tool consumer's `tool_requests.<service>` pair). Checked:

  - each scenario that renders KafkaTopics declares every topic of platformTopics(), and the
    pair of every tool consumer it deploys, under the name the services use on the brokers
    (KAFKA_NAMESPACE, the same in every service's ConfigMap, in front: the transport prefixes
    names without a separator of its own), with at least the contract's partitions and its
    retention or compaction, and nothing else;
  - in such a scenario, every KafkaUser it renders lets each service do what SERVICE_IO says,
    and under a namespace so do k8s/kafka-users.yaml's users with the namespace in front of
    every topic and group name (as k8s/README.md tells to apply them);
  - k8s/kafka-users.yaml (no namespace) lets each service do what SERVICE_IO says, and names no
    topic the contract does not;
  - SERVICE_IO names every topic of libs/contracts, so a new topic cannot go unchecked.

The last line is `checks: N passed, M failed`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifests  # noqa: E402

# What each service does on the bus, by `Topics` key of libs/contracts, read from its code:
# `reads` are subscriptions (Nest @OnMessage/@OnRequest handlers, RegistryView, request-reply
# reply groups), each under a consumer group `<service>.…`; a handler parks poison messages on
# `<topic>.dlq`, so `dlq` lists the read topics whose DLQ it writes; `writes` are publishes,
# requests and the replies a responder sends. TOOL stands for the consumer's tool_requests.<name>.
# The gateway has no code in this repository yet: its line is DESIGN.md's request path.
SERVICE_IO: dict[str, dict[str, list[str]]] = {
    "registry": {"reads": [], "dlq": [], "writes": ["registryChanges", "audit"]},
    "model-shim": {"reads": ["modelRequests"], "dlq": ["modelRequests"], "writes": ["modelReplies", "audit"]},
    # services/orchestrator/src: ask.consumer, invocation.consumer, ledger.consumer (audit),
    # RegistryView (registryChanges), prepareReplies(modelReplies, toolResponses); it publishes
    # progress, audit events, model requests and tool calls, and answers asks and invocations.
    "orchestrator": {
        "reads": ["askRequests", "invokeRequests", "audit", "registryChanges", "modelReplies", "toolResponses"],
        "dlq": ["askRequests", "invokeRequests", "audit", "registryChanges"],
        "writes": ["askReplies", "askProgress", "invokeReplies", "modelRequests", "audit", "TOOLS"],
    },
    "gateway": {
        "reads": ["askReplies", "askProgress", "invokeReplies"],
        "dlq": [],
        "writes": ["askRequests", "invokeRequests", "audit"],
    },
    # Tool consumers (the tool SDK): their own requests, answered on tool_responses.
    "crm": {"reads": ["TOOL"], "dlq": ["TOOL"], "writes": ["toolResponses"]},
    "erp": {"reads": ["TOOL"], "dlq": ["TOOL"], "writes": ["toolResponses"]},
    # Catalog consumers read the registry's changes too.
    "http-executor": {"reads": ["TOOL", "registryChanges"], "dlq": ["TOOL", "registryChanges"], "writes": ["toolResponses"]},
    "mcp-bridge": {"reads": ["TOOL", "registryChanges"], "dlq": ["TOOL", "registryChanges"], "writes": ["toolResponses"]},
}



def allows(acls: list[dict], kind: str, name: str, op: str) -> bool:
    """Whether a Strimzi simple-authorization ACL list grants `op` on resource `name`."""
    implied = {"Describe": {"Describe", "Read", "Write"}}.get(op, {op})
    for acl in acls:
        r = acl.get("resource", {})
        if r.get("type") != kind or not implied & set(acl.get("operations", [])):
            continue
        pattern = r.get("patternType", "literal")
        if (pattern == "literal" and r.get("name") == name) or (pattern == "prefix" and name.startswith(r.get("name", ""))):
            return True
    return False


def acl_problems(where: str, service: str, acls: list[dict], topics: dict[str, str], ns: str) -> list[str]:
    io = SERVICE_IO[service]
    tool = f"{ns}tool_requests.{service}"

    def wire(key: str) -> str:
        return tool if key == "TOOL" else f"{ns}{topics[key]}"

    problems = []
    for key in io["reads"]:
        if not allows(acls, "topic", wire(key), "Read"):
            problems.append(f"{where}: {service} reads {wire(key)} but may not (no Read)")
    for key in io["dlq"]:
        if not allows(acls, "topic", f"{wire(key)}.dlq", "Write"):
            problems.append(f"{where}: {service} parks poison messages on {wire(key)}.dlq but may not (no Write)")
    for key in io["writes"]:
        name = f"{ns}tool_requests.any-consumer" if key == "TOOLS" else wire(key)
        if not allows(acls, "topic", name, "Write"):
            problems.append(f"{where}: {service} writes {name} but may not (no Write)")
    if io["reads"] and not allows(acls, "group", f"{ns}{service}.any-group", "Read"):
        problems.append(f"{where}: {service} consumes in groups {ns}{service}.… but may not (no Read on that group prefix)")
    # Start-up creates what is missing (bus.ensureTopics): the platform's topics, its own pair.
    for key, name in topics.items():
        if not allows(acls, "topic", f"{ns}{name}", "Create"):
            problems.append(f"{where}: {service} creates {ns}{name} at start-up when missing but may not (no Create)")
    return problems


def literal_topics_known(where: str, acls: list[dict], known: set[str], ns: str) -> list[str]:
    problems = []
    for acl in acls:
        r = acl.get("resource", {})
        if r.get("type") == "topic" and r.get("patternType", "literal") == "literal":
            name = r["name"]
            base = name[len(ns):] if name.startswith(ns) else None
            plain = base[: -len(".dlq")] if base and base.endswith(".dlq") else base
            if plain is None or (plain not in known and not plain.startswith("tool_requests.")):
                problems.append(f"{where}: ACL on topic {name}, which is no topic of libs/contracts{' under ' + ns if ns else ''}")
    return problems


def prefixed(acls: list[dict], ns: str) -> list[dict]:
    """k8s/kafka-users.yaml's rules for a platform under `ns`, as k8s/README.md derives them:
    every topic and group resource name with the namespace in front."""
    out = []
    for acl in acls:
        r = dict(acl.get("resource", {}))
        if r.get("type") in ("topic", "group"):
            r["name"] = ns + r.get("name", "")
        out.append({**acl, "resource": r})
    return out


def users(docs: list[dict]) -> dict[str, list[dict]]:
    out = {}
    for d in docs:
        if d.get("kind") == "KafkaUser":
            name = d["metadata"]["name"]
            service = name.split("-", 1)[1] if "-" in name else name
            out[service] = ((d.get("spec") or {}).get("authorization") or {}).get("acls") or []
    return out


def scenario_namespace(docs: list[dict]) -> tuple[str, list[str]]:
    seen = {}
    for d in docs:
        if d.get("kind") == "ConfigMap" and "KAFKA_BROKERS" in (d.get("data") or {}):
            seen[d["metadata"]["name"]] = (d.get("data") or {}).get("KAFKA_NAMESPACE", "")
    values = set(seen.values())
    if len(values) > 1:
        return "", [f"services disagree on KAFKA_NAMESPACE: {seen}"]
    return (values.pop() if values else ""), []


def check_scenario(scenario: str, docs: list[dict], contract: dict, file_users: dict[str, list[dict]], c: manifests.Checks) -> None:
    topics_docs = [d for d in docs if d.get("kind") == "KafkaTopic"]
    if not topics_docs:
        return
    ns, problems = scenario_namespace(docs)
    consumers = sorted(
        {
            d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
            for d in docs
            if d.get("kind") == "Deployment" and d["spec"]["template"]["metadata"]["labels"].get("toolbus.io/tier") == "tools"
        }
    )
    want = {f"{ns}{t['name']}": t for t in contract["platform"]}
    for svc in consumers:
        for t in contract["consumer"]:
            want[f"{ns}{t['name'].replace('SERVICE', svc)}"] = t
    have = {d["spec"]["topicName"]: d for d in topics_docs}
    for name, spec in sorted(want.items()):
        d = have.get(name)
        if d is None:
            problems.append(f"{scenario}: no KafkaTopic for {name} (libs/contracts platformTopics)")
            continue
        s = d["spec"]
        if int(s["partitions"]) < spec["partitions"]:
            problems.append(f"{scenario}: {name} has {s['partitions']} partitions, fewer than the {spec['partitions']} of libs/contracts (the services would grow it, and need Alter)")
        cfg = s.get("config") or {}
        if spec.get("compacted"):
            if cfg.get("cleanup.policy") != "compact":
                problems.append(f"{scenario}: {name} is compacted in libs/contracts, not in the chart")
        elif int(cfg.get("retention.ms", -1)) != spec.get("retentionMs"):
            problems.append(f"{scenario}: {name} keeps {cfg.get('retention.ms')} ms, libs/contracts {spec.get('retentionMs')} ms")
    for name in sorted(set(have) - set(want)):
        problems.append(f"{scenario}: KafkaTopic {name} is no topic of libs/contracts (or of a deployed consumer{', under ' + ns if ns else ''})")
    c.check(f"{scenario}: {len(want)} topics of libs/contracts{' under ' + repr(ns) if ns else ''} declared as KafkaTopics, none else", problems)
    for service, acls in sorted(users(docs).items()):
        if service in SERVICE_IO:
            c.check(f"{scenario}: KafkaUser of {service} covers what its code reads and writes", acl_problems(scenario, service, acls, contract["topics"], ns))
    if ns:
        # Every user of k8s/kafka-users.yaml, prefixed as k8s/README.md says.
        deployed = sorted(set(file_users) & set(SERVICE_IO))
        problems = []
        for service in deployed:
            acls = prefixed(file_users.get(service, []), ns)
            problems += acl_problems(f"{scenario}: kafka-users.yaml under {ns}", service, acls, contract["topics"], ns)
            problems += literal_topics_known(f"{scenario}: kafka-users.yaml under {ns}", acls, set(contract["topics"].values()), ns)
        c.check(f"{scenario}: kafka-users.yaml under {ns!r} covers {', '.join(deployed)}", problems)


def main() -> int:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    contract = json.loads(Path(sys.argv[1]).read_text())
    topics: dict[str, str] = contract["topics"]
    c = manifests.Checks()
    named = {k for io in SERVICE_IO.values() for ks in io.values() for k in ks} - {"TOOL", "TOOLS"}
    c.check(
        f"every topic of libs/contracts ({len(topics)}) is read or written by a service of SERVICE_IO",
        [f"{k} ({v}) is in libs/contracts but SERVICE_IO names no service that reads or writes it" for k, v in topics.items() if k not in named]
        + [f"SERVICE_IO names {k}, which libs/contracts Topics has not" for k in sorted(named - set(topics))],
    )
    file_users = users(manifests.load(Path(sys.argv[2])))
    known = set(topics.values())
    for service in SERVICE_IO:
        acls = file_users.get(service)
        where = Path(sys.argv[2]).name
        if acls is None:
            c.check(f"{where}: KafkaUser of {service}", [f"{where} has no KafkaUser toolbus-{service}"])
            continue
        c.check(
            f"{where}: KafkaUser of {service} covers what its code reads and writes",
            acl_problems(where, service, acls, topics, "") + literal_topics_known(where, acls, known, ""),
        )
    for arg in sys.argv[3:]:
        scenario, _, path = arg.partition("=")
        check_scenario(scenario, manifests.load(Path(path)), contract, file_users, c)
    print(f"checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
