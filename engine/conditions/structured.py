"""The structured YAML form — {all: […]}, {any: […]}, {not: …}, {field, op, value} — as text.

Structured conditions become canonical expression text (so both forms share one parser and
checker) while remembering which text span came from which YAML node: an error found in the
text is reported at that node, or inside an embedded expression string at its column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import types as T
from engine.conditions.errors import ConditionError
from engine.conditions.messages import msg
from engine.conditions.printer import literal_text
from engine.errors import Signal
from engine.i18n import choices_hint

OPS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "matches": "matches",
    "between": "between",
    "is_null": "is null",
    "is_not_null": "is not null",
}
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")


@dataclass
class Span:
    start: int
    end: int
    pointer: str
    is_text: bool  # an expression string: offsets inside map to its columns


@dataclass
class Rendered:
    text: str
    spans: list[Span] = field(default_factory=list)

    def locate(self, offset: int) -> tuple[str, int | None]:
        """(pointer, offset inside an expression string or None) for a text offset."""
        best: Span | None = None
        for span in self.spans:
            inside = span.start <= offset <= span.end
            if inside and (best is None or span.end - span.start <= best.end - best.start):
                best = span
        if best is None:
            return "", None
        return best.pointer, (offset - best.start) if best.is_text else None


class StructuredError(Signal):
    def __init__(self, pointer: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.pointer, self.message, self.hint = pointer, message, hint


def render(raw: Any, fields: Mapping[str, T.Type], pointer: str = "") -> Rendered:
    """Text of a condition in either form; StructuredError for a malformed structure."""
    out = Rendered("")
    _Renderer(out, fields).node(raw, pointer)
    return out


class _Renderer:
    def __init__(self, out: Rendered, fields: Mapping[str, T.Type]) -> None:
        self.out = out
        self.fields = fields

    def emit(self, text: str) -> None:
        self.out.text += text

    def node(self, raw: Any, pointer: str) -> None:
        start = len(self.out.text)
        if isinstance(raw, str):
            self.emit(raw)
            self.out.spans.append(Span(start, len(self.out.text), pointer, True))
            return
        if not isinstance(raw, dict):
            raise StructuredError(
                pointer,
                "a condition is an expression text or a mapping",
                "e.g. {field: budget, op: gt, value: 0}",
            )
        keys = set(raw)
        for group, joiner in (("all", " and "), ("any", " or ")):
            if keys == {group}:
                self._group(raw[group], f"{pointer}/{group}", joiner)
                break
        else:
            if keys == {"not"}:
                self.emit("not ")
                self._paren(raw["not"], f"{pointer}/not")
            else:
                self._leaf(raw, pointer)
        self.out.spans.append(Span(start, len(self.out.text), pointer, False))

    def _group(self, items: Any, pointer: str, joiner: str) -> None:
        if not isinstance(items, list) or not items:
            raise StructuredError(pointer, "expected a non-empty list of conditions")
        for i, item in enumerate(items):
            if i:
                self.emit(joiner)
            self._paren(item, f"{pointer}/{i}")

    def _paren(self, raw: Any, pointer: str) -> None:
        self.emit("(")
        self.node(raw, pointer)
        self.emit(")")

    def _leaf(self, raw: dict[str, Any], pointer: str) -> None:
        unknown = set(raw) - {"field", "op", "value"}
        if unknown or "field" not in raw or "op" not in raw:
            word = sorted(unknown)[0] if unknown else "field"
            raise StructuredError(
                pointer,
                f"unexpected key '{word}'" if unknown else "a test needs 'field' and 'op'",
                "use all, any, not — or field, op, value",
            )
        op = OPS.get(str(raw["op"]))
        if op is None:
            raise StructuredError(
                f"{pointer}/op",
                f"unknown op '{raw['op']}'",
                str(choices_hint(str(raw["op"]), OPS, "ops")),
            )
        name = str(raw["field"])
        start = len(self.out.text)
        self.emit(name)
        self.out.spans.append(Span(start, len(self.out.text), f"{pointer}/field", False))
        self._operator(op, raw, pointer, self.fields.get(name))

    def _operator(self, op: str, raw: dict[str, Any], pointer: str, kind: T.Type | None) -> None:
        if op.startswith("is "):
            self.emit(f" {op}")
            return
        if "value" not in raw:
            raise StructuredError(pointer, f"op '{raw['op']}' needs a value")
        value, where = raw["value"], f"{pointer}/value"
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise StructuredError(where, "between takes [low, high]")
            self.emit(" between ")
            self._value(value[0], kind, f"{where}/0")
            self.emit(" and ")
            self._value(value[1], kind, f"{where}/1")
            return
        self.emit(f" {op} ")
        item = kind.item if kind is not None and kind.item is not None else kind
        self._value(value, item if op == "contains" else kind, where)

    def _value(self, value: Any, kind: T.Type | None, pointer: str) -> None:
        start = len(self.out.text)
        if isinstance(value, list):
            self.emit("[")
            for i, item in enumerate(value):
                if i:
                    self.emit(", ")
                self._value(item, kind, f"{pointer}/{i}")
            self.emit("]")
        else:
            self.emit(_value_text(value, kind))
        self.out.spans.append(Span(start, len(self.out.text), pointer, False))


def _value_text(value: Any, kind: T.Type | None) -> str:
    if isinstance(value, float):
        return repr(value) if "e" not in repr(value) else format(value, "f")
    timed = kind is not None and kind.name in ("date", "datetime")
    if isinstance(value, str) and timed and _ISO.fullmatch(value):
        return value  # written bare, it is a date or datetime literal
    if isinstance(value, dict):
        raise ConditionError(msg("condition.value_mapping"), 0)
    return literal_text(value)
