"""Safe YAML loading that keeps line and column for every node and refuses duplicate keys.

PyYAML silently keeps the last of two equal keys; a consultant's typo would vanish. We compose
the node graph with the safe loader and build plain data ourselves, recording each node's mark
under its JSON pointer. Only `true`/`false` are booleans and dates stay strings (YAML 1.2 rules),
so `no` or `2026-01-01` mean what they look like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.config.errors import ConfigError

MAX_NODES = 200_000
_STR_TAG = "tag:yaml.org,2002:str"
_KEEP_AS_TEXT = {"tag:yaml.org,2002:timestamp"}


def escape_pointer(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, part: str | int) -> str:
    return f"{base}/{escape_pointer(part)}"


@dataclass
class SourceFile:
    """A loaded YAML file: its data and where each value (and each key) stands."""

    path: str
    text: str
    data: Any = None
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of a pointer, or of its nearest known ancestor."""
        probe = pointer
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe.rsplit("/", 1)[0]

    def error(self, pointer: str, message: str, hint: str | None = None, *,
              key: bool = False, code: str = "invalid", severity: str = "error") -> ConfigError:
        line, col = self.locate(pointer, key=key)
        return ConfigError(self.path, line, col, pointer, message, hint, code, severity)


class _Builder:
    """Walks a composed node graph into plain data, recording marks."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.errors: list[ConfigError] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.source.values[pointer] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, pointer)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(n, join_pointer(pointer, i)) for i, n in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, pointer: str) -> dict[str, Any]:
        self.constructor.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                self.errors.append(self._at(key_node, pointer, "a mapping key must be a plain text"))
                continue
            key = str(key)
            child = join_pointer(pointer, key)
            if key in out:
                first = self.source.keys[child]
                self.errors.append(self._at(
                    key_node, child, f"duplicate key '{key}'",
                    f"'{key}' is already set at line {first[0]}; a later value would silently "
                    "replace it — keep one", code="duplicate_key"))
                continue
            self.source.keys[child] = _mark(key_node)
            out[key] = self.build(value_node, child)
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag in _KEEP_AS_TEXT:
            return str(node.value)
        if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
            return str(node.value)
        return self.constructor.construct_object(node, deep=True)

    def _at(self, node: yaml.Node, pointer: str, message: str, hint: str | None = None,
            code: str = "invalid") -> ConfigError:
        line, col = _mark(node)
        return ConfigError(self.source.path, line, col, pointer, message, hint, code)


class _TooLarge(Exception):
    pass


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def load_yaml(path: str, text: str) -> tuple[SourceFile, list[ConfigError]]:
    """Parse one YAML document; return the located source and every error found."""
    source = SourceFile(path, text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return source, [_syntax_error(path, exc)]
    except yaml.YAMLError as exc:
        return source, [ConfigError(path, 1, 1, "", f"not valid YAML: {exc}", code="yaml")]
    if node is None:
        source.data = {}
        return source, []
    builder = _Builder(source)
    try:
        source.data = builder.build(node, "")
    except _TooLarge:
        return source, [ConfigError(path, 1, 1, "", f"document expands to more than {MAX_NODES} "
                                    "nodes", "check anchors and aliases", code="too_large")]
    return source, builder.errors


def _syntax_error(path: str, exc: yaml.MarkedYAMLError) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "syntax error"
    hint = f"{exc.context} (line {exc.context_mark.line + 1})" if exc.context and exc.context_mark \
        else None
    return ConfigError(path, line, col, "", f"YAML syntax error: {problem}", hint, code="yaml")
