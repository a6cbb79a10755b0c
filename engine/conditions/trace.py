"""Traces: every sub-expression of a condition with its value — the answer to "why?".

The trace interpreter is separate from the compiled closures so the hot path never pays for
it; it reuses their per-node code, so both compute the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.conditions import nodes as n
from engine.conditions import values as V
from engine.conditions.compile_py import compile_node
from engine.conditions.printer import to_text
from engine.i18n import EN, text


@dataclass(frozen=True, slots=True)
class Trace:
    """One evaluated node: its text, its value, and the traces of its parts."""

    text: str
    value: Any
    parts: tuple[Trace, ...] = ()
    constant: bool = False  # no record field inside: not worth a line of its own

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expr": self.text,
            "value": plain(self.value),
            "parts": [p.as_dict() for p in self.parts],
        }
        if self.value is not None and not isinstance(self.value, bool):
            out["shown"] = show(self.value, EN)  # as rendered, for stored traces
        if self.constant:
            out["constant"] = True
        return out

    def render(self, locale: str = EN) -> str:
        """Readable lines: ✓/✗ for conditions, `= value` for values, indented by depth."""
        lines: list[str] = []
        self._render(lines, 0, locale)
        return "\n".join(lines)

    def _render(self, lines: list[str], depth: int, locale: str) -> None:
        pad = "  " * depth
        if isinstance(self.value, bool):
            mark = "✓" if self.value else "✗"
            lines.append(f"{pad}{mark} {self.text}")
        else:
            lines.append(f"{pad}{self.text} = {show(self.value, locale)}")
        for part in self.parts:
            if not part.constant or part.parts:
                part._render(lines, depth + 1, locale)


def trace_from_dict(raw: dict[str, Any]) -> Trace:
    """A trace back from its stored form (values as JSON: texts, numbers as text, booleans)."""
    parts = tuple(trace_from_dict(p) for p in raw.get("parts", ()))
    value = _Shown(raw["shown"]) if "shown" in raw else raw.get("value")
    return Trace(str(raw.get("expr", "")), value, parts, bool(raw.get("constant")))


class _Shown(str):
    """A value already rendered when the trace was stored: shown as it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def show(value: Any, locale: str) -> str:
    """A value as a trace line shows it in a locale."""
    if value is None:
        return text("trace.null", locale)
    if isinstance(value, bool):
        return text("trace.true" if value else "trace.false", locale)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return repr(value) if isinstance(value, str) else str(plain(value))


def plain(value: Any) -> Any:
    """JSON-friendly form of a runtime value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def trace(node: n.Node, env: V.Env) -> Trace:
    """Evaluate a typed tree, recording each node (and short-circuiting like the closures)."""
    return Tracer(node).trace(env)


_VERDICTS = (n.And, n.Or, n.Not, n.Compare, n.Between, n.IsNull)


class Tracer:
    """Traces of one tree: each node's text, closure and constness are worked out once, so
    tracing many records (a sweep writes one trace per move) only evaluates."""

    def __init__(self, root: n.Node) -> None:
        self.root = root  # keeps the nodes alive: they are known by id() below
        self._text: dict[int, str] = {}
        self._run: dict[int, Callable[[V.Env], Any]] = {}
        self._constant: dict[int, bool] = {}
        self._children: dict[int, tuple[n.Node, ...]] = {}
        self._verdict: dict[int, bool] = {}  # shows true/false rather than a value
        self._learn(root)

    def _learn(self, node: n.Node) -> None:
        key = id(node)
        self._text[key] = to_text(node)
        self._run[key] = compile_node(node)
        self._constant[key] = not n.has_fields(node) and not isinstance(node, n.Call)
        self._children[key] = n.children(node)
        self._verdict[key] = isinstance(node, _VERDICTS)
        for child in self._children[key]:
            self._learn(child)

    def trace(self, env: V.Env, node: n.Node | None = None) -> Trace:
        node = self.root if node is None else node
        key = id(node)
        constant = self._constant[key]
        shown = () if constant else self._evaluated(node, env)
        parts = tuple(self.trace(env, child) for child in shown)
        value = self._run[key](env)
        if self._verdict[key]:
            value = value is True
        if isinstance(value, datetime):
            value = value.astimezone(env.tz)  # the same instant, shown in the tenant's time
        return Trace(self._text[key], value, parts, constant)

    def _evaluated(self, node: n.Node, env: V.Env) -> tuple[n.Node, ...]:
        """Children worth showing: for and/or, up to the one that decided."""
        children = self._children[id(node)]
        if isinstance(node, n.And | n.Or):
            stop = node.__class__ is n.Or
            shown = []
            for child in children:
                shown.append(child)
                if (self._run[id(child)](env) is True) == stop:
                    break
            return tuple(shown)
        return children
