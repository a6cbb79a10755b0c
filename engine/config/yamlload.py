"""Safe YAML loading that keeps line and column for every node and refuses duplicate keys.

PyYAML silently keeps the last of two equal keys; a consultant's typo would vanish. We compose
the node graph with the safe loader and build plain data ourselves, recording each node's mark
under its JSON pointer. Only `true`/`false` are booleans and dates stay strings (YAML 1.2 rules),
so `no` or `2026-01-01` mean what they look like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.config.errors import ConfigError

MAX_NODES = 200_000
MAX_DEPTH = 64  # nesting levels; a bundle needs about ten
_Y = "tag:yaml.org,2002:"
_MAP_TAG, _SEQ_TAG, _MERGE_TAG = f"{_Y}map", f"{_Y}seq", f"{_Y}merge"
_BOOL_TAG, _NULL_TAG, _INT_TAG, _FLOAT_TAG = f"{_Y}bool", f"{_Y}null", f"{_Y}int", f"{_Y}float"
_TEXT_TAGS = frozenset({f"{_Y}str", f"{_Y}timestamp", f"{_Y}value"})


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
    styles: dict[str, str | None] = field(default_factory=dict)  # scalar style: None, ' or "

    def locate_in_text(self, pointer: str, offset: int) -> tuple[int, int]:
        """Line and column of a character inside a one-line text scalar (else its start)."""
        line, col = self.locate(pointer)
        style = self.styles.get(pointer, "|")
        if style not in (None, "", "'", '"'):
            return line, col
        value = self.data_at(pointer)
        if not isinstance(value, str) or "\n" in value:
            return line, col
        shift = 1 if style in ("'", '"') else 0
        if style in ("'", '"'):  # quotes inside take two characters: '' or \"
            doubled = value[:offset].count("'" if style == "'" else '"')
            shift += doubled
        return line, col + shift + offset

    def origin(self, pointer: str) -> tuple[str, str]:
        """The file and pointer a value was written at (another file's, for merged data)."""
        return self.path, pointer

    def data_at(self, pointer: str) -> Any:
        node: Any = self.data
        for part in pointer.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                return None
        return node

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

    def error(
        self,
        pointer: str,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        code: str = "invalid",
        severity: str = "error",
    ) -> ConfigError:
        line, col = self.locate(pointer, key=key)
        return ConfigError(self.path, line, col, pointer, message, hint, code, severity)


class _Builder:
    """Walks a composed node graph into plain data, recording marks."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.errors: list[ConfigError] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")
        self.open: list[yaml.Node] = []  # the collections being built, outermost first

    def _tick(self) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self._tick()
        self.source.values[pointer] = _mark(node)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.source.styles[pointer] = getattr(node, "style", None)
            return self._scalar(node, pointer)
        if not self._enter(node, pointer):
            return None
        try:
            if isinstance(node, yaml.MappingNode):
                self._plain_tag(node, pointer, _MAP_TAG)
                return self._mapping(node, pointer)
            self._plain_tag(node, pointer, _SEQ_TAG)
            return [self.build(n, join_pointer(pointer, i)) for i, n in enumerate(node.value)]
        finally:
            self.open.pop()

    def _enter(self, node: yaml.Node, pointer: str) -> bool:
        """Refuse an alias to a collection it is part of (it would never end)."""
        if any(node is outer for outer in self.open):
            message = "an alias refers to a value that contains it: it would never end"
            self.errors.append(self._at(node, pointer, message, "remove the alias", code="yaml"))
            return False
        if len(self.open) >= MAX_DEPTH:
            raise _TooDeep(*_mark(node))
        self.open.append(node)
        return True

    def _plain_tag(self, node: yaml.Node, pointer: str, expected: str) -> None:
        if node.tag != expected:
            self.errors.append(
                self._at(
                    node,
                    pointer,
                    f"YAML tag '{_short(node.tag)}' is not supported",
                    "remove the tag",
                    code="yaml_tag",
                )
            )

    def _mapping(self, node: yaml.MappingNode, pointer: str) -> dict[str, Any]:
        own: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, pointer)
            if key is None:
                continue
            child = join_pointer(pointer, key)
            if key in own:
                first = self.source.keys[child]
                self.errors.append(
                    self._at(
                        key_node,
                        child,
                        f"duplicate key '{key}'",
                        f"'{key}' is already set at line {first[0]}; a later value would silently "
                        "replace it — keep one",
                        code="duplicate_key",
                    )
                )
                continue
            self.source.keys[child] = _mark(key_node)
            own[key] = self.build(value_node, child)
        # Keys merged in with `<<: *base` come first; the mapping's own keys override them.
        merged: dict[str, Any] = {}
        for name, merged_key, merged_value in self._merged(node, pointer):
            if name not in own:
                child = join_pointer(pointer, name)
                self.source.keys[child] = _mark(merged_key)
                merged[name] = self.build(merged_value, child)
        return {**merged, **own} if merged else own

    def _key(self, node: yaml.Node, pointer: str) -> str | None:
        key = self._scalar(node, pointer) if isinstance(node, yaml.ScalarNode) else None
        if key is None or isinstance(key, dict | list):
            self.errors.append(self._at(node, pointer, "a mapping key must be plain text"))
            return None
        return str(key).lower() if isinstance(key, bool) else str(key)

    def _merged(
        self, node: yaml.MappingNode, pointer: str
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The (key, key node, value node) pairs merged into a mapping, first source wins."""
        pairs: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                self._tick()
                if isinstance(source, yaml.MappingNode) and not self._enter(source, pointer):
                    continue
                if not isinstance(source, yaml.MappingNode):
                    self.errors.append(
                        self._at(
                            source,
                            pointer,
                            "'<<' merges a mapping or a list of mappings",
                            "write '<<: *anchor' where the anchor names a mapping",
                            code="yaml",
                        )
                    )
                    continue
                try:
                    pairs += self._merged(source, pointer)
                finally:
                    self.open.pop()
                for key_node_, value_node_ in source.value:
                    if key_node_.tag != _MERGE_TAG:
                        name = self._key(key_node_, pointer)
                        if name is not None:
                            pairs.append((name, key_node_, value_node_))
        # Within the merged sources the first wins; keep each key's first position.
        seen: set[str] = set()
        out = []
        for pair in pairs:
            if pair[0] not in seen:
                seen.add(pair[0])
                out.append(pair)
        return out

    def _scalar(self, node: yaml.Node, pointer: str) -> Any:
        """A scalar by the YAML 1.2 core schema: only true/false are booleans, dates and
        YAML 1.1 number forms (021 octal, 1:30 sexagesimal, 1_000) stay text."""
        tag, text = node.tag, str(node.value)
        if tag in _TEXT_TAGS:
            return text
        if tag == _BOOL_TAG:
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        if tag == _NULL_TAG:
            return None
        if tag == _INT_TAG:
            if re.fullmatch(r"[-+]?[0-9]+", text):
                return int(text)
            return int(text, 16) if re.fullmatch(r"0x[0-9a-fA-F]+", text) else text
        if tag == _FLOAT_TAG:
            if "_" in text or ":" in text:
                return text
            return self.constructor.construct_object(node, deep=True)
        self.errors.append(
            self._at(
                node,
                pointer,
                f"YAML tag '{_short(tag)}' is not supported",
                "remove the tag; write the value as plain text",
                code="yaml_tag",
            )
        )
        return text

    def _at(
        self,
        node: yaml.Node,
        pointer: str,
        message: str,
        hint: str | None = None,
        code: str = "invalid",
    ) -> ConfigError:
        line, col = _mark(node)
        return ConfigError(self.source.path, line, col, pointer, message, hint, code)


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, line: int = 1, col: int = 1) -> None:
        super().__init__(line, col)
        self.line, self.col = line, col


def _too_deep(path: str, where: _TooDeep) -> ConfigError:
    return ConfigError(
        path,
        where.line,
        where.col,
        "",
        f"the document is nested more than {MAX_DEPTH} levels deep",
        "check the indentation and the brackets",
        code="too_deep",
    )


def _short(tag: str) -> str:
    return "!!" + tag[len(_Y) :] if tag.startswith(_Y) else tag


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
    except RecursionError:  # PyYAML composes nested collections recursively
        return source, [_too_deep(path, _TooDeep())]
    if node is None:
        source.data = {}
        return source, []
    builder = _Builder(source)
    try:
        source.data = builder.build(node, "")
    except _TooLarge:
        return source, [
            ConfigError(
                path,
                1,
                1,
                "",
                f"document expands to more than {MAX_NODES} nodes",
                "check anchors and aliases",
                code="too_large",
            )
        ]
    except _TooDeep as exc:
        return source, [_too_deep(path, exc)]
    return source, list(dict.fromkeys(builder.errors))  # a merged source may repeat an error


_SYNTAX_HINTS = {
    "mapping values are not allowed here": "put a value that contains ': ' in quotes, "
    "or check the indentation of this line",
    "found character '\\t' that cannot start any token": "indent with spaces: YAML does not "
    "allow tabs",
    "expected ',' or '}', but got ':'": "put a value that contains ':' in quotes",
    "found undefined alias": "define the anchor (&name) above the place that uses *name",
    "expected <block end>": "check the indentation: this line does not line up with the ones "
    "above it",
    "found a second document": "a bundle file holds one YAML document: remove the '---' line",
}


def _syntax_error(path: str, exc: yaml.MarkedYAMLError) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "syntax error"
    if problem.startswith("but found another document"):
        problem, exc.context = "found a second document", None
    hints = [text for start, text in _SYNTAX_HINTS.items() if problem.startswith(start)]
    if exc.context and exc.context_mark:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        context = re.sub(r"^while (parsing|scanning|constructing) an? ", "", exc.context)
        if context != exc.context:
            hints.append(f"in the {context} that starts at {where}")
        else:
            hints.append(f"{exc.context} (at {where})")
    hint = "; ".join(hints) or None
    return ConfigError(path, line, col, "", f"YAML syntax error: {problem}", hint, code="yaml")
