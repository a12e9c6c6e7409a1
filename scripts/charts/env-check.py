#!/usr/bin/env python3
"""The chart tells the truth about the code: every environment variable a rendered workload
sets is one the service's code reads, and every variable its code requires is set.

    env-check.py <specs.json> <scenario>=<rendered.yaml> ...

<specs.json> is what scripts/charts/config-specs.mjs prints from the built config modules
({service: {VAR: {required, secret}}}). For each scenario, each workload (Deployment, and the
migration Job, which runs the same code) is matched to its service by the pod label
app.kubernetes.io/name, and its containers' environment is collected: the ConfigMaps of
`envFrom`, and `env` (a Vault `<VAR>_FILE` counts as <VAR>: loadConfig reads either). Then:

  - a variable no spec declares fails, naming scenario, service and variable;
  - a variable the spec requires (no default, not optional) that is never set fails;
  - a variable the spec marks secret must come from a Secret (secretKeyRef) or a Vault file.

One counted check per scenario and service; the last line is `checks: N passed, M failed`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifests  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


# Variables read by a library itself rather than by our specs (the OpenTelemetry SDK reads
# OTEL_* on its own), each with the reason it may be set. Empty on purpose: no service starts
# the OpenTelemetry SDK yet (libs/observability's startTelemetry is called by none), so neither
# OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES (the latter only ever read by the SDK's env
# resource detector, which startTelemetry does not use) reaches any code; the chart sets neither.
READ_BY_LIBRARIES: dict[str, str] = {}

# Workloads whose image is not ours: their environment is the image's own contract.
NOT_OURS = {
    "vllm": "the vLLM image reads its own environment (HF_TOKEN, VLLM_API_KEY, HF_HUB_OFFLINE, ...)",
}

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}

# Every unread variable over all scenarios, with the services it lands in (printed last).
UNREAD: dict[str, set[str]] = {}



def has_code(service: str) -> bool:
    return (ROOT / "services" / service).is_dir() or (ROOT / "services" / "tool-consumers" / service).is_dir()


def tier(workloads: list[dict]) -> str:
    return workloads[0]["spec"]["template"].get("metadata", {}).get("labels", {}).get("toolbus.io/tier", "")


def declared(var: str, spec: dict) -> bool:
    return var in spec or var in READ_BY_LIBRARIES


def container_env(doc: dict, configmaps: dict) -> tuple[dict[str, str], list[str]]:
    """{VAR: where it comes from} over a workload's containers, and problems reading it."""
    spec = doc["spec"]["template"]["spec"]
    ns = doc["metadata"].get("namespace")
    found: dict[str, str] = {}
    problems: list[str] = []
    for ct in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for src in ct.get("envFrom") or []:
            ref = (src.get("configMapRef") or {}).get("name")
            if ref is None:
                problems.append(f"{doc['kind']} {doc['metadata']['name']}: envFrom {src} is not a ConfigMap of the release")
                continue
            data = configmaps.get((ns, ref))
            if data is None:
                problems.append(f"{doc['kind']} {doc['metadata']['name']}: envFrom ConfigMap {ref} is not rendered")
                continue
            for name in data:
                found[name] = f"ConfigMap {ref}"
        for e in ct.get("env") or []:
            name = e["name"]
            if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]:
                found[name] = "secret"
            elif name.endswith("_FILE") and str(e.get("value", "")).startswith("/vault/secrets/"):
                found[name] = "vault"
            else:
                found[name] = f"{doc['kind']} env"
    return found, problems


def check_scenario(scenario: str, path: Path, specs: dict, c: manifests.Checks) -> None:
    docs = manifests.load(path)
    configmaps = {
        (d["metadata"].get("namespace"), d["metadata"]["name"]): d.get("data") or {}
        for d in docs
        if d.get("kind") == "ConfigMap"
    }
    by_service: dict[str, list[dict]] = {}
    for d in docs:
        if d.get("kind") in WORKLOADS:
            labels = d["spec"]["template"].get("metadata", {}).get("labels", {})
            by_service.setdefault(labels.get("app.kubernetes.io/name", "?"), []).append(d)
    for service in sorted(by_service):
        if service in NOT_OURS:
            print(f"  --   {scenario}: {service} not checked: {NOT_OURS[service]}")
            continue
        spec = specs.get(service)
        if spec is None:
            if has_code(service):
                c.check(
                    f"{scenario}: {service}",
                    [f"{scenario}: {service} has code but no config spec: add it to SERVICES in scripts/charts/config-specs.mjs"],
                )
            else:
                where = f"services/tool-consumers/{service}" if tier(by_service[service]) == "tools" else f"services/{service}"
                print(f"  --   {scenario}: {service} not checked: its code is not in this repository (no {where})")
            continue
        problems: list[str] = []
        names: set[str] = set()
        unread: dict[str, list[str]] = {}
        for d in by_service[service]:
            env, read_problems = container_env(d, configmaps)
            problems += [f"{scenario}: {service}: {p}" for p in read_problems]
            what = f"{d['kind']} {d['metadata']['name']}"
            for name, where in sorted(env.items()):
                var = name
                # loadConfig reads any variable from the file named by <VAR>_FILE (Vault Agent's files).
                if not declared(name, spec) and name.endswith("_FILE") and declared(name[: -len("_FILE")], spec):
                    var = name[: -len("_FILE")]
                names.add(var)
                if not declared(var, spec):
                    unread.setdefault(name, []).append(f"{what} from {where}")
                elif spec.get(var, {}).get("secret") and where not in ("secret", "vault"):
                    problems.append(f"{scenario}: {service}: {var} is a secret but {what} sets it from {where}, not from a Secret")
            for var, v in sorted(spec.items()):
                if v["required"] and var not in env and f"{var}_FILE" not in env:
                    problems.append(f"{scenario}: {service}: {var} is required by its config spec but {what} never sets it")
        for name, wheres in sorted(unread.items()):
            UNREAD.setdefault(name, set()).add(service)
            problems.append(f"{scenario}: {service}: {name} is set ({'; '.join(wheres)}) but no config spec of {service} declares it")
        c.check(f"{scenario}: {service}: {len(names)} variables, each read by its code", problems)


def main() -> int:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    specs = json.loads(Path(sys.argv[1]).read_text())
    c = manifests.Checks()
    for arg in sys.argv[2:]:
        scenario, _, path = arg.partition("=")
        check_scenario(scenario, Path(path), specs, c)
    if UNREAD:
        print("  unread, over all scenarios: " + ", ".join(f"{v} ({', '.join(sorted(ss))})" for v, ss in sorted(UNREAD.items())))
    print(f"checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
