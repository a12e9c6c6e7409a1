"""Reads the `# --` documentation comments of a Helm values.yaml (the helm-docs convention).

helm-docs is not available here, so this is the small part of it the chart needs:

    # -- Description, possibly continued
    # on following comment lines.
    # @default -- text shown instead of the literal default
    key: value

Keys are addressed by dotted paths (`global.probes.startup`). Entries of lists are data, not
documented one by one (the list key carries the description).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/\"']+):(?:\s|$)")

# Keys whose contents are data (Kubernetes objects, label maps, free-form env...), not settings
# to document one by one: the key itself is documented, its children need not be.
DATA_KEYS = {
    "resources",
    "namespaceSelector",
    "podSelector",
    "ports",
    "labels",
    "annotations",
    "podAnnotations",
    "podLabels",
    "nodeSelector",
    "tolerations",
    "affinity",
    "env",
    "secretEnv",
    "parentRefs",
    "remoteRefs",
    "paths",
    "partitions",
    "imagePullSecrets",
    "topologyKeys",
    "cidrs",
    "extraArgs",
    "hostnames",
    "migrationCommand",
}


@dataclass
class Doc:
    description: str = ""
    default: str | None = None  # from `# @default --`


@dataclass
class ValuesDoc:
    docs: dict[str, Doc] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # every mapping key outside lists, in file order


def parse(path: Path) -> ValuesDoc:
    out = ValuesDoc()
    stack: list[tuple[int, str]] = []
    pending: Doc | None = None
    in_desc = False
    list_indent: int | None = None  # indent of the `- ` items being skipped
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not stripped:
            in_desc = False
            continue
        if stripped.startswith("#"):
            text = stripped[1:].strip()
            if text.startswith("-- "):
                pending, in_desc = Doc(text[3:].strip()), True
            elif text.startswith("@default -- ") and pending is not None:
                pending.default, in_desc = text[len("@default -- ") :].strip(), False
            elif in_desc and pending is not None:
                pending.description += " " + text
            continue
        in_desc = False
        if list_indent is not None:
            if indent > list_indent or (indent == list_indent and stripped.startswith("-")):
                continue
            list_indent = None
        if stripped.startswith("-"):
            list_indent = indent
            pending = None
            continue
        m = KEY_LINE.match(raw)
        if not m:
            pending = None
            continue
        key = m.group("key").strip("\"'")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        out.keys.append(dotted)
        if pending is not None:
            out.docs[dotted] = pending
            pending = None
        stack.append((indent, key))
    return out


def undocumented(vd: ValuesDoc) -> list[str]:
    """Keys that need a `# --` comment and lack one (keys below a data key are exempt)."""
    missing = []
    for key in vd.keys:
        parts = key.split(".")
        if any(p in DATA_KEYS for p in parts[:-1]):
            continue
        if key not in vd.docs:
            missing.append(key)
    return missing


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def prettier(text: str, filename: str) -> str:
    """Formats generated files the way the repository's `prettier --check .` expects.

    Generated files live in the repository, so they must pass its format check; running
    prettier here (rather than reproducing its table padding by hand) keeps the generators
    small. Without node_modules (before `make setup`) the text is returned unformatted.
    """
    binary = repo_root() / "node_modules" / ".bin" / "prettier"
    if not binary.exists() or not shutil.which("node"):
        print(f"warning: prettier not installed; {filename} left unformatted", file=sys.stderr)
        return text
    result = subprocess.run(
        [str(binary), "--stdin-filepath", filename],
        input=text,
        capture_output=True,
        text=True,
        cwd=repo_root(),
        env=os.environ,
    )
    if result.returncode != 0:
        raise SystemExit(f"prettier failed on {filename}:\n{result.stderr}")
    return result.stdout


def write_or_check(target: Path, text: str, check: bool, regenerate_hint: str) -> int:
    """Writes the generated text, or with check=True reports whether the file is current."""
    current = target.read_text() if target.exists() else None
    if check:
        if current != text:
            print(f"{target} is out of date: run {regenerate_hint}", file=sys.stderr)
            return 1
        print(f"{target.name} is current")
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0
