#!/usr/bin/env python3
"""Policy checks on rendered manifests: what a platform team's admission policies would demand,
checked before anything reaches a cluster.

    policy-test.py render <rendered.yaml> [--no-network-policies]
    policy-test.py canary <chart dir> <kubernetes version>

`render` checks one rendered scenario:
  - every container (and init container) has CPU and memory requests and limits;
  - every long-running container has liveness, readiness and startup probes;
  - every pod is restricted: non-root, read-only root filesystem, no privilege escalation,
    all capabilities dropped, RuntimeDefault seccomp, no host namespaces or hostPath, and no
    service-account token unless Vault Agent needs one;
  - every image has a pinned tag (not `latest`, not untagged);
  - every namespace that runs pods has a default-deny NetworkPolicy for both directions
    (unless the scenario turns NetworkPolicies off, when none may be rendered);
  - every Service, PDB and HPA points at pods or a Deployment the release renders;
  - no Secret is rendered, no ConfigMap holds a secret-looking key, and every secret-looking
    environment variable comes from a secretKeyRef or a Vault file.

`canary` tries to smuggle canary secret values into the chart through the places a user
might put them and asserts that each is refused and that the canary never reaches the
rendered output.

Each family of checks is one counted check; the last line is `checks: N passed, M failed`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifests  # noqa: E402

SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL|(^|_)TOKEN$|^DATABASE_URL$)", re.I
)
# A directory where secrets are mounted (SECRETS_DIR) is a path, not a secret.
NOT_SECRET = re.compile(r"_DIR$", re.I)


def looks_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET.search(name)

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}



def pod_spec(doc: dict) -> dict | None:
    if doc.get("kind") == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if doc.get("kind") in WORKLOADS:
        return doc["spec"]["template"]["spec"]
    if doc.get("kind") == "Pod":
        return doc["spec"]
    return None


def pod_meta(doc: dict) -> dict:
    if doc.get("kind") == "Pod":
        return doc.get("metadata", {})
    return doc["spec"]["template"].get("metadata", {})


def ident(doc: dict, container: dict | None = None) -> str:
    m = doc.get("metadata", {})
    s = f"{doc.get('kind')} {m.get('namespace', '-')}/{m.get('name')}"
    return f"{s} container {container['name']}" if container else s


def containers(spec: dict):
    yield from spec.get("initContainers", []) or []
    yield from spec.get("containers", []) or []


PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers left after removing strings,
    label matchers, grouping clauses, range selectors, functions and keywords."""
    e = re.sub(r'"[^"]*"', "", expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    names = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", e)
    return {n for n in names if n not in PROMQL_WORDS}


def check_render(path: Path, network_policies: bool) -> manifests.Checks:
    c = manifests.Checks()
    print(f"policy: {path.name}")
    try:
        docs = manifests.load(path)
    except yaml.YAMLError as e:
        c.check("manifests parse as distinct documents", [str(e)])
        return c
    c.check("manifests parse as distinct documents", [])
    workloads = [(d, pod_spec(d)) for d in docs if pod_spec(d) is not None]

    problems = []
    for d, spec in workloads:
        for ct in containers(spec):
            res = ct.get("resources") or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        problems.append(f"{ident(d, ct)}: no {kind}.{r}")
    c.check(f"resources: requests and limits on all {sum(len(list(containers(s))) for _, s in workloads)} containers", problems)

    problems = []
    for d, spec in workloads:
        if d["kind"] in ("Job", "CronJob"):
            continue  # run to completion: nothing to probe
        for ct in spec.get("containers", []):
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if probe not in ct:
                    problems.append(f"{ident(d, ct)}: no {probe}")
    c.check("probes: liveness, readiness and startup on every long-running container", problems)

    problems = []
    for d, spec in workloads:
        psc = spec.get("securityContext") or {}
        vault = pod_meta(d).get("annotations", {}).get("vault.hashicorp.com/agent-inject") == "true"
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(flag):
                problems.append(f"{ident(d)}: {flag}")
        for v in spec.get("volumes", []) or []:
            if "hostPath" in v:
                problems.append(f"{ident(d)}: hostPath volume {v['name']}")
        if spec.get("automountServiceAccountToken") is not False and not vault:
            problems.append(f"{ident(d)}: service-account token mounted without Vault needing it")
        if not spec.get("serviceAccountName"):
            problems.append(f"{ident(d)}: runs as the namespace's default ServiceAccount")
        for ct in containers(spec):
            sc = ct.get("securityContext") or {}
            who = ident(d, ct)
            if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                problems.append(f"{who}: runAsNonRoot not true")
            if (sc.get("runAsUser", psc.get("runAsUser")) or 0) == 0:
                problems.append(f"{who}: runAsUser is 0 or unset")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{who}: allowPrivilegeEscalation not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{who}: readOnlyRootFilesystem not true")
            if sc.get("privileged"):
                problems.append(f"{who}: privileged")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{who}: capabilities not dropped (drop: [ALL])")
            if (sc.get("capabilities") or {}).get("add"):
                problems.append(f"{who}: adds capabilities")
            seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{who}: seccompProfile {seccomp!r}, want RuntimeDefault")
    c.check("securityContext: restricted Pod Security on every pod and container", problems)

    problems = []
    for d, spec in workloads:
        for ct in containers(spec):
            image = ct.get("image", "")
            ref = image.split("@")[0]
            tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else ""
            if not tag or tag == "latest":
                problems.append(f"{ident(d, ct)}: image {image!r} has no pinned tag")
    c.check("images: every image has a pinned tag", problems)

    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    pod_namespaces = sorted({d["metadata"].get("namespace") for d, _ in workloads})
    problems = []
    if network_policies:
        for ns in pod_namespaces:
            deny = [
                p
                for p in policies
                if p["metadata"].get("namespace") == ns
                and p["spec"].get("podSelector") in ({}, None)
                and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress")
                and not p["spec"].get("egress")
            ]
            if not deny:
                problems.append(f"namespace {ns}: no default-deny NetworkPolicy (Ingress and Egress)")
        for p in policies:
            for direction, key in (("ingress", "from"), ("egress", "to")):
                for i, rule in enumerate(p["spec"].get(direction) or []):
                    if not rule.get(key):
                        problems.append(f"{ident(p)}: {direction}[{i}] has no {key}: it allows every peer")
        label = f"network: default deny in {len(pod_namespaces)} namespaces, no allow-all rules"
    else:
        problems = [f"{ident(p)} rendered although NetworkPolicies are off" for p in policies]
        label = "network: no NetworkPolicies when switched off"
    c.check(label, problems)

    problems = []
    pods = [(d["metadata"].get("namespace"), pod_meta(d).get("labels", {}), d) for d, _ in workloads]
    deployments = {(d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs if d.get("kind") == "Deployment"}
    for d in docs:
        ns = d.get("metadata", {}).get("namespace")
        if d.get("kind") == "Service":
            sel = d["spec"].get("selector") or {}
            hits = [p for pns, labels, p in pods if pns == ns and p["kind"] != "Job" and sel.items() <= labels.items()]
            if not hits:
                problems.append(f"{ident(d)}: selects no pods")
            if any(p["kind"] == "Job" for pns, labels, p in pods if pns == ns and sel.items() <= labels.items()):
                problems.append(f"{ident(d)}: also selects migration Job pods")
        if d.get("kind") == "PodDisruptionBudget":
            sel = (d["spec"].get("selector") or {}).get("matchLabels") or {}
            if not any(pns == ns and sel.items() <= labels.items() for pns, labels, _ in pods):
                problems.append(f"{ident(d)}: selects no pods")
        if d.get("kind") == "HorizontalPodAutoscaler":
            target = d["spec"]["scaleTargetRef"]
            if (ns, target["name"]) not in deployments:
                problems.append(f"{ident(d)}: scales {target['name']}, which is not rendered")
            dep = next((x for x in docs if x.get("kind") == "Deployment" and x["metadata"]["name"] == target["name"] and x["metadata"].get("namespace") == ns), None)
            if dep and "replicas" in dep["spec"]:
                problems.append(f"{ident(d)}: its Deployment also sets replicas (every upgrade would reset the HPA's count)")
    c.check("wiring: Services, PDBs and HPAs point at rendered pods", problems)

    rules = [r for d in docs if d.get("kind") == "PrometheusRule" for g in d["spec"]["groups"] for r in g["rules"]]
    if rules:
        problems = []
        for r in rules:
            metrics = promql_metrics(r["expr"])
            if not metrics or any(not m.startswith("toolbus_") for m in metrics):
                problems.append(f"alert {r.get('alert')}: reads {sorted(metrics)}, want toolbus_* metrics only")
            if not r.get("annotations", {}).get("runbook_url"):
                problems.append(f"alert {r.get('alert')}: no runbook_url")
        c.check(f"monitoring: {len(rules)} alerts read toolbus_* metrics and link the runbook", problems)

    problems = []
    for d in docs:
        if d.get("kind") == "Secret":
            problems.append(f"{ident(d)}: the chart renders a Secret (secrets must be referenced, never rendered)")
        if d.get("kind") == "ConfigMap":
            for key in (d.get("data") or {}):
                if looks_secret(key):
                    problems.append(f"{ident(d)}: key {key} looks secret")
    for d, spec in workloads:
        for ct in containers(spec):
            for env in ct.get("env", []) or []:
                if looks_secret(env["name"]) and "value" in env and not env["name"].endswith("_FILE"):
                    problems.append(f"{ident(d, ct)}: {env['name']} has a literal value")
    c.check("secrets: none rendered, every secret read by reference", problems)
    return c


# Places a user might put a secret value; each must be refused before anything is rendered.
CANARIES = [
    ("a password next to a Secret reference", {"secrets": {"database": {"name": "db", "key": "url", "password": "CANARY-1"}}}),
    ("a provider key as a plain value", {"secrets": {"anthropicApiKey": {"name": "a", "key": "k", "value": "CANARY-2"}}}),
    ("an API key in a service's env", {"modelShim": {"env": {"ANTHROPIC_API_KEY": "CANARY-3"}}}),
    ("a secret in the env of a service that is coming", {"gateway": {"enabled": True, "env": {"SESSION_SECRET": "CANARY-11"}}}),
    ("a token in vLLM's env", {"vllm": {"enabled": True, "env": {"HF_TOKEN": "CANARY-4"}}}),
    ("credentials inside a URL in env", {"registry": {"env": {"UPSTREAM_URL": "https://u:CANARY-5@api.example"}}}),
    ("a password in redis.url", {"redis": {"url": "redis://:CANARY-6@redis.example:6379"}}),
    ("credentials in the OpenAI base URL", {"modelShim": {"openaiBaseUrl": "https://k:CANARY-7@llm.example/v1"}}),
    ("a secret in a consumer's env", {"toolConsumers": [{"name": "crm", "env": {"CRM_CLIENT_SECRET": "CANARY-8"}}]}),
    ("a JWT signing key next to its reference", {"global": {"auth": {"jwtSecret": {"name": "j", "key": "k", "value": "CANARY-9"}}}}),
    ("a registry token in a consumer's env", {"toolConsumers": [{"name": "crm", "env": {"REGISTRY_TOKEN": "CANARY-10"}}]}),
    ("an audit key beside its id", {"orchestrator": {"auditLedger": {"keyId": "k1", "key": "CANARY-12"}}}),
]


def check_canaries(chart: str, kube_version: str) -> manifests.Checks:
    c = manifests.Checks()
    print("policy: canary secret values")
    for what, values in CANARIES:
        canary = re.search(r"CANARY-\d+", yaml.safe_dump(values)).group(0)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            r = subprocess.run(
                ["helm", "template", "canary", chart, "--kube-version", kube_version, "-f", f.name],
                capture_output=True,
                text=True,
            )
        problems = []
        if r.returncode == 0:
            problems.append("rendered without error")
        if canary in r.stdout:
            problems.append(f"{canary} appears in the rendered output")
        c.check(f"canary: {what} is refused and never rendered", problems)
    return c


def main() -> int:
    mode = sys.argv[1]
    if mode == "render":
        checks = check_render(Path(sys.argv[2]), "--no-network-policies" not in sys.argv[3:])
    elif mode == "canary":
        checks = check_canaries(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
    print(f"checks: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
