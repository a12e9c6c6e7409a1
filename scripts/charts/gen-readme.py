#!/usr/bin/env python3
"""Generates charts/toolbus/README.md from README.md.gotmpl and the `# --` comments of
values.yaml (what helm-docs would do; helm-docs is not available here).

    gen-readme.py           write the README
    gen-readme.py --check   exit 1 when the README is not current, or when a value lacks its
                            `# --` comment

The template's placeholders: {{ values_table }}, {{ chart_version }}, {{ app_version }}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valuesdoc  # noqa: E402

CHART = valuesdoc.repo_root() / "charts" / "toolbus"


def lookup(values: dict, dotted: str):
    node = values
    for part in dotted.split("."):
        node = node[part]
    return node


def type_of(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def values_table(vd: valuesdoc.ValuesDoc, values: dict) -> str:
    documented = list(vd.docs)
    out: list[str] = []
    for top in [k for k in documented if "." not in k]:
        out += ["", f"### `{top}`", "", vd.docs[top].description, ""]
        rows = [k for k in documented if k.startswith(top + ".")]
        if not rows:
            rows = [top]
        out += ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
        for key in rows:
            doc = vd.docs[key]
            value = lookup(values, key)
            has_children = any(k.startswith(key + ".") for k in documented)
            if doc.default is not None:
                default = doc.default
            elif has_children:
                default = "see below"
            else:
                default = f"`{json.dumps(value, separators=(',', ':'), ensure_ascii=False)}`"
            out.append(f"| `{key}` | {type_of(value)} | {cell(default)} | {cell(doc.description)} |")
    return "\n".join(out).strip()


def main() -> int:
    check = "--check" in sys.argv[1:]
    vd = valuesdoc.parse(CHART / "values.yaml")
    missing = valuesdoc.undocumented(vd)
    if missing:
        print("values without a `# --` comment: " + ", ".join(missing), file=sys.stderr)
        return 1
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    text = (CHART / "README.md.gotmpl").read_text()
    text = (
        text.replace("{{ values_table }}", values_table(vd, values))
        .replace("{{ chart_version }}", str(chart["version"]))
        .replace("{{ app_version }}", str(chart["appVersion"]))
    )
    text = valuesdoc.prettier(text, str(CHART / "README.md"))
    return valuesdoc.write_or_check(CHART / "README.md", text, check, "scripts/charts/gen-readme.py")


if __name__ == "__main__":
    sys.exit(main())
