#!/usr/bin/env python3
"""The dashboard and the alerts query what the code exports: every metric name and label in
the Grafana dashboard's queries and the PrometheusRule's expressions is one the code registers.

    metrics-check.py <metrics.json> <dashboard.json> <scenario>=<rendered.yaml> ...

<metrics.json> is what scripts/charts/metric-names.mjs prints from the code's prom-client
registrations ({name: {type, labels}}). A query may use:

  - a counter or gauge by its registered name (prom-client counters are registered with their
    `_total`); a histogram only as `<name>_bucket`, `<name>_sum` or `<name>_count`;
  - in a selector's matchers, the metric's own labels, `le` on a `_bucket` series, and the
    labels Prometheus adds when it scrapes (TARGET_LABELS, and every `targetLabel` of the
    rendered ServiceMonitors' relabelings);
  - in `by`/`without`/`on`/`ignoring` and in an alert's `$labels.<x>`, a label one of the
    expression's metrics carries.

Checked: the dashboard file itself (every panel), and in each scenario its rendered dashboard
ConfigMap and PrometheusRule, whose runbook links must also land on a heading of the runbook
they name. One counted check per source; the last line is `checks: N passed, M failed`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifests  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# Labels Prometheus (through the operator's ServiceMonitor) puts on every scraped series.
TARGET_LABELS = {"namespace", "pod", "service", "container", "endpoint", "job", "instance"}
# Series Prometheus makes itself, not the code.
PROMETHEUS_SERIES = {"up": set()}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
# Aggregations may put their clause first (`sum by (x) (...)`): never a metric name.
AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group", "limitk", "limit_ratio"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
    | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
    | (?P<range>\[[^\]]*\])
    | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^=<>{}(),])
    | (?P<var>\$\w+)
    )""",
    re.X,
)



def tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {expr[pos:pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Query:
    """The metrics of one PromQL expression, with the labels each selector matches on, and
    the labels its grouping clauses name."""

    def __init__(self, expr: str) -> None:
        self.selectors: list[tuple[str, list[str]]] = []
        self.grouping: list[str] = []
        toks = tokens(expr)
        i = 0
        while i < len(toks):
            kind, text = toks[i]
            nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
            if kind == "ident" and text in GROUPING and nxt == "(":
                i += 2
                while i < len(toks) and toks[i][1] != ")":
                    if toks[i][0] == "ident":
                        self.grouping.append(toks[i][1])
                    i += 1
            elif kind == "ident" and nxt == "(":
                pass  # a function or an aggregation
            elif kind == "ident" and (text.lower() in KEYWORDS or text in AGGREGATIONS):
                pass
            elif kind == "ident" or (kind == "op" and text == "{"):
                name = text if kind == "ident" else ""
                matchers: list[str] = []
                if kind == "ident" and nxt == "{":
                    i += 1
                if toks[i][1] == "{":
                    i += 1
                    while i < len(toks) and toks[i][1] != "}":
                        if toks[i][0] == "ident" and i + 1 < len(toks) and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
                            matchers.append(toks[i][1])
                        i += 1
                self.selectors.append((name, matchers))
            i += 1


def series_labels(name: str, metrics: dict) -> tuple[set[str] | None, str | None]:
    """The labels a series of this name carries, or None and why it is not exported."""
    if name in PROMETHEUS_SERIES:
        return set(PROMETHEUS_SERIES[name]), None
    m = metrics.get(name)
    if m:
        if m["type"] == "histogram":
            return None, f"{name} is a histogram: query {name}_bucket, {name}_sum or {name}_count"
        return set(m["labels"]), None
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and base in metrics and metrics[base]["type"] == "histogram":
            return set(metrics[base]["labels"]) | ({"le"} if suffix == "_bucket" else set()), None
    hint = ""
    if name.endswith("_total") and name[: -len("_total")] in metrics:
        hint = f" ({name[: -len('_total')]} is, without _total)"
    elif f"{name}_total" in metrics:
        hint = f" ({name}_total is: prom-client counters carry their _total)"
    return None, f"{name} is not a metric any code registers{hint}"


def check_expr(where: str, expr: str, metrics: dict, scraped: set[str], annotations: dict | None = None) -> list[str]:
    try:
        q = Query(expr)
    except ValueError as e:
        return [f"{where}: {e}"]
    problems: list[str] = []
    carried: set[str] = set()
    if not q.selectors:
        problems.append(f"{where}: queries no metric")
    for name, matchers in q.selectors:
        if not name:
            problems.append(f"{where}: a selector without a metric name")
            continue
        labels, why = series_labels(name, metrics)
        if labels is None:
            problems.append(f"{where}: {why}")
            continue
        labels |= scraped
        carried |= labels
        for label in matchers:
            if label not in labels and label != "__name__":
                problems.append(f"{where}: {name} has no label {label} (its labels: {', '.join(sorted(labels - scraped)) or 'none'})")
    if carried:
        for label in q.grouping:
            if label not in carried:
                problems.append(f"{where}: groups by {label}, which none of its metrics carries")
        for key, text in (annotations or {}).items():
            for label in re.findall(r"\$labels\.(\w+)", str(text)):
                if label not in carried:
                    problems.append(f"{where}: annotation {key} shows $labels.{label}, which none of its metrics carries")
    return problems


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_problems(where: str, url: str) -> list[str]:
    m = re.search(r"/blob/[^/]+/([^#]+)#(.+)$", url)
    if not m:
        return [f"{where}: runbook_url {url} names no file and anchor of this repository"]
    path, anchor = ROOT / m.group(1), m.group(2)
    if not path.is_file():
        return [f"{where}: runbook_url {url}: {m.group(1)} does not exist"]
    anchors = {slug(line.lstrip("#")) for line in path.read_text().splitlines() if re.match(r"#{1,6} ", line)}
    return [] if anchor in anchors else [f"{where}: runbook_url {url}: {m.group(1)} has no heading #{anchor}"]


def dashboard_problems(where: str, dashboard: dict, metrics: dict, scraped: set[str]) -> tuple[list[str], int]:
    problems: list[str] = []
    count = 0
    for panel in dashboard.get("panels", []):
        for t, target in enumerate(panel.get("targets", [])):
            if "expr" in target:
                count += 1
                problems += check_expr(f"{where}: panel {panel.get('title')!r} query {t + 1}", target["expr"], metrics, scraped)
    return problems, count


def scraped_labels(docs: list[dict]) -> set[str]:
    labels = set(TARGET_LABELS)
    for d in docs:
        if d.get("kind") == "ServiceMonitor":
            for ep in d["spec"].get("endpoints", []):
                labels |= {r["targetLabel"] for r in ep.get("relabelings", []) if r.get("targetLabel")}
    return labels


def main() -> int:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    metrics = json.loads(Path(sys.argv[1]).read_text())
    c = manifests.Checks()
    # The file itself, every panel, with the orchestrator's too (a render drops those while it is off).
    dashboard = json.loads(Path(sys.argv[2]).read_text())
    problems, n = dashboard_problems(Path(sys.argv[2]).name, dashboard, metrics, TARGET_LABELS | {"tier"})
    c.check(f"dashboard file: {n} queries, each on metrics and labels the code registers", problems)
    for arg in sys.argv[3:]:
        scenario, _, path = arg.partition("=")
        docs = manifests.load(Path(path))
        scraped = scraped_labels(docs)
        for d in docs:
            kind, name = d.get("kind"), d["metadata"]["name"]
            if kind == "PrometheusRule":
                problems, n = [], 0
                for group in d["spec"]["groups"]:
                    for rule in group["rules"]:
                        n += 1
                        where = f"{scenario}: {rule.get('alert') or rule.get('record')}"
                        problems += check_expr(where, rule["expr"], metrics, scraped, rule.get("annotations"))
                        url = (rule.get("annotations") or {}).get("runbook_url")
                        if url:
                            problems += runbook_problems(where, url)
                c.check(f"{scenario}: PrometheusRule {name}: {n} rules on registered metrics, runbook links resolve", problems)
            elif kind == "ConfigMap" and any(k.endswith(".json") for k in d.get("data") or {}) and name.endswith("-dashboard"):
                for key, text in d["data"].items():
                    problems, n = dashboard_problems(f"{scenario}: {key}", json.loads(text), metrics, scraped)
                    c.check(f"{scenario}: dashboard {name}: {n} queries on registered metrics", problems)
    print(f"checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
