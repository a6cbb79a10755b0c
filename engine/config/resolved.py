"""The resolved bundle as a consultant reads it: each file merged over its templates, every
item marked with the file (and line) it was written in — YAML with comments, or JSON."""

from __future__ import annotations

from typing import Any

import yaml

from engine.config.overlay import CONTAINERS, MAP, MergedSource, Pattern
from engine.config.yamlload import SourceFile, join_pointer

INDENT = "  "


def resolved_yaml(sources: dict[str, SourceFile]) -> str:
    """Every file kind, merged, as one YAML text with a `# from file:line` per item."""
    parts = []
    for kind, source in sources.items():
        head = f"# ─── {kind}.yaml " + "─" * max(3, 60 - len(kind))
        writer = _Writer(source, CONTAINERS.get(kind, {}))
        writer.mapping(source.data if isinstance(source.data, dict) else {}, "", (), 0)
        parts.append("\n".join([head, *writer.lines]))
    return "\n\n".join(parts) + "\n"


def resolved_json(sources: dict[str, SourceFile]) -> dict[str, Any]:
    """{kind: {"data": merged data, "items": {pointer: [{"file", "line"}…]}}}."""
    return {kind: {"data": s.data, "items": _items(s)} for kind, s in sources.items()}


def _items(source: SourceFile) -> dict[str, list[dict[str, Any]]]:
    found = source.items if isinstance(source, MergedSource) else {}
    return {p: [{"file": f, "line": line} for f, line in where] for p, where in found.items() if p}


class _Writer:
    def __init__(self, source: SourceFile, containers: dict[Pattern, str]) -> None:
        self.source = source
        self.containers = containers
        self.lines: list[str] = []

    def mapping(self, data: dict[str, Any], pointer: str, pattern: Pattern, depth: int) -> None:
        for key, value in data.items():
            self.value(key, value, join_pointer(pointer, key), (*pattern, key), depth)

    def value(self, key: str, value: Any, pointer: str, pattern: Pattern, depth: int) -> None:
        kind = self.containers.get(pattern)
        if kind == MAP and isinstance(value, dict) and value:
            self.lines.append(f"{INDENT * depth}{_key(key)}:")
            for name, item in value.items():
                self.item(name, item, join_pointer(pointer, name), (*pattern, "*"), depth + 1)
        elif kind and kind != MAP and isinstance(value, list) and value:
            self.lines.append(f"{INDENT * depth}{_key(key)}:")
            for i, item in enumerate(value):
                self.list_item(item, join_pointer(pointer, i), (*pattern, "*"), depth + 1)
        else:
            self.lines += _dump(key, value, depth)

    def item(self, key: str, value: Any, pointer: str, pattern: Pattern, depth: int) -> None:
        if not isinstance(value, dict):
            self.lines += _dump(key, value, depth, self._whence(pointer))
            return
        self.lines.append(f"{INDENT * depth}{_key(key)}:{self._whence(pointer)}")
        self.mapping(value, pointer, pattern, depth + 1)

    def list_item(self, value: Any, pointer: str, pattern: Pattern, depth: int) -> None:
        start = len(self.lines)
        if isinstance(value, dict) and value:
            self.mapping(value, pointer, pattern, depth + 1)
        else:
            self.lines.append(f"{INDENT * depth}- {_flow(value)}")
            return
        first = self.lines[start]
        self.lines[start] = f"{INDENT * depth}- {first.lstrip()}{self._whence(pointer)}"

    def _whence(self, pointer: str) -> str:
        where = self.source.items.get(pointer) if isinstance(self.source, MergedSource) else None
        if not where:
            file, _ = self.source.origin(pointer)
            return f"  # {file}:{self.source.locate(pointer, key=True)[0]}"
        shown = [f"{file}:{line}" for file, line in reversed(where)]
        return "  # " + shown[0] + (f" (over {', '.join(shown[1:])})" if shown[1:] else "")


def _key(key: str) -> str:
    return yaml.safe_dump(key, allow_unicode=True, default_style=None).split("\n")[0]


def _dump(key: str, value: Any, depth: int, comment: str = "") -> list[str]:
    """`key: value` — small values on one line in flow style, as a consultant writes them."""
    if _flat(value):
        return [f"{INDENT * depth}{_key(key)}: {_flow(value)}{comment}"]
    text = yaml.safe_dump(
        {key: value}, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    lines = [INDENT * depth + line for line in text.rstrip("\n").split("\n")]
    lines[0] += comment
    return lines


def _flat(value: Any) -> bool:
    if isinstance(value, dict):
        return not any(isinstance(v, dict | list) for v in value.values())
    if isinstance(value, list):
        return not any(isinstance(v, dict | list) for v in value)
    return True


def _flow(value: Any) -> str:
    text = yaml.safe_dump(
        [value], allow_unicode=True, default_flow_style=True, width=10_000, sort_keys=False
    )
    return text.strip()[1:-1]
