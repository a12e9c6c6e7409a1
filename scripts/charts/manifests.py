"""Loading rendered manifests strictly: duplicate keys are errors.

Two documents glued together by a missing `---` (an easy mistake with `{{-` in a range) load
as one document whose second half silently overwrites the first; refusing duplicate keys
turns that into a clear failure.
"""

from __future__ import annotations

from pathlib import Path

import yaml


class StrictLoader(yaml.SafeLoader):
    pass


def _no_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (a missing --- between documents?)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def load(path: Path) -> list[dict]:
    """The non-empty documents of a multi-document YAML file."""
    return [d for d in yaml.load_all(path.read_text(), Loader=StrictLoader) if d]


class Checks:
    """Counts named checks and prints each as `ok` or `FAIL` with (at most 40 of) its problems."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failed += 1
            print(f"  FAIL {name}")
            for p in problems[:40]:
                print(f"       - {p}")
            if len(problems) > 40:
                print(f"       ... and {len(problems) - 40} more")
        else:
            self.passed += 1
            print(f"  ok   {name}")
