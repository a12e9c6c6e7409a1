#!/usr/bin/env python3
"""Validates rendered manifests offline against the Kubernetes JSON schemas, with the
`kubernetes-validate` CLI (strict: unknown fields are errors).

    validate-manifests.py <kubernetes version> <file>...

Custom resources have no schema in kubernetes-validate. Their kinds are listed below and
skipped by name (and reported as skipped); any other kind without a schema fails, so a typo in
`kind` or `apiVersion` cannot slip through as "unknown". The custom resources are checked by
the helm-unittest suites instead.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifests  # noqa: E402

# Custom resources the chart and k8s/ render, by the operator that owns them.
SKIPPED_KINDS = {
    ("monitoring.coreos.com", "ServiceMonitor"),  # Prometheus Operator
    ("monitoring.coreos.com", "PrometheusRule"),  # Prometheus Operator
    ("kafka.strimzi.io", "KafkaTopic"),  # Strimzi
    ("kafka.strimzi.io", "Kafka"),  # Strimzi
    ("kafka.strimzi.io", "KafkaNodePool"),  # Strimzi
    ("kafka.strimzi.io", "KafkaUser"),  # Strimzi
    ("cert-manager.io", "Certificate"),  # cert-manager
    ("external-secrets.io", "ExternalSecret"),  # External Secrets Operator
    ("gateway.networking.k8s.io", "HTTPRoute"),  # Gateway API
}


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def main() -> int:
    version, files = sys.argv[1], sys.argv[2:]
    failed = 0
    for name in files:
        try:
            docs = manifests.load(Path(name))
        except yaml.YAMLError as e:
            failed += 1
            print(f"FAIL {name}: {e}")
            continue
        keep, skipped = [], Counter()
        for d in docs:
            key = (group_of(d.get("apiVersion", "")), d.get("kind", ""))
            if key in SKIPPED_KINDS:
                skipped[key[1]] += 1
            else:
                keep.append(d)
        with tempfile.NamedTemporaryFile("w", prefix=f"{Path(name).stem}-", suffix=".yaml", delete=False) as tmp:
            yaml.safe_dump_all(keep, tmp, sort_keys=False)
        result = subprocess.run(
            ["kubernetes-validate", "--strict", "-k", version, "--quiet", tmp.name],
            capture_output=True,
            text=True,
        )
        Path(tmp.name).unlink()
        out = (result.stdout + result.stderr).strip()
        # A kind without a schema is only a warning for the CLI; here it is an error.
        no_schema = [line for line in out.splitlines() if "Couldn't find schema" in line]
        skipped_text = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items())) or "none"
        if result.returncode != 0 or no_schema:
            failed += 1
            print(f"FAIL {name}: {len(keep)} resources against Kubernetes {version}")
            print("     " + out.replace("\n", "\n     "))
        else:
            print(f"ok   {name}: {len(keep)} resources valid (skipped custom resources: {skipped_text})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
