"""Typed or untyped AST → canonical expression text (how the UI shows any condition)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.conditions import nodes as n
from engine.conditions.stored import format_instant

# Binding strength: a child binding less tightly than its parent gets parentheses.
_LEVEL = {n.Or: 1, n.And: 2, n.Not: 3, n.Compare: 4, n.Between: 4, n.IsNull: 4}
_ARITH = {"+": 5, "-": 5, "*": 6, "/": 6}


def level(node: n.Node) -> int:
    if isinstance(node, n.Arith):
        return _ARITH[node.op]
    if isinstance(node, n.Neg):
        return 7
    return _LEVEL.get(type(node), 8)


def literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return (
            "'"
            + value.replace("\\", "\\\\")
            .replace("'", "\\'")
            .replace("\n", "\\n")
            .replace("\t", "\\t")
            + "'"
        )
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def duration_text(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"


def to_text(node: n.Node) -> str:
    return _PRINTERS[type(node)](node)


def _wrap(child: n.Node, parent_level: int, strict: bool = False) -> str:
    text = to_text(child)
    inner = level(child)
    return f"({text})" if inner < parent_level or (strict and inner == parent_level) else text


def _literal(node: n.Node) -> str:
    assert isinstance(node, n.Literal)
    if node.type is not None and node.type.name == "duration":
        return duration_text(int(node.value))
    return literal_text(node.value)


def _compare(node: n.Node) -> str:
    assert isinstance(node, n.Compare)
    return f"{_wrap(node.left, 5)} {node.op} {_wrap(node.right, 5)}"


def _arith(node: n.Node) -> str:
    assert isinstance(node, n.Arith)
    mine = _ARITH[node.op]
    return f"{_wrap(node.left, mine)} {node.op} {_wrap(node.right, mine, strict=True)}"


def _between(node: n.Node) -> str:
    assert isinstance(node, n.Between)
    return f"{_wrap(node.value, 5)} between {_wrap(node.low, 5)} and {_wrap(node.high, 5)}"


def _is_null(node: n.Node) -> str:
    assert isinstance(node, n.IsNull)
    return f"{_wrap(node.value, 5)} is {'not ' if node.negated else ''}null"


def _and(node: n.Node) -> str:
    assert isinstance(node, n.And)
    return " and ".join(_wrap(i, 2, strict=isinstance(i, n.And)) for i in node.items)


def _or(node: n.Node) -> str:
    assert isinstance(node, n.Or)
    return " or ".join(_wrap(i, 1, strict=isinstance(i, n.Or)) for i in node.items)


def _not(node: n.Node) -> str:
    assert isinstance(node, n.Not)
    return f"not {_wrap(node.operand, 8)}"  # not (a > 1): parentheses read better


def _neg(node: n.Node) -> str:
    assert isinstance(node, n.Neg)
    return f"-{_wrap(node.operand, 7)}"


def _call(node: n.Node) -> str:
    assert isinstance(node, n.Call)
    return f"{node.name}({', '.join(_wrap(a, 5) for a in node.args)})"


def _list(node: n.Node) -> str:
    assert isinstance(node, n.ListLit)
    return "[" + ", ".join(_wrap(i, 5) for i in node.items) + "]"


def _field(node: n.Node) -> str:
    assert isinstance(node, n.FieldRef)
    return node.name


_PRINTERS = {
    n.Literal: _literal,
    n.FieldRef: _field,
    n.ListLit: _list,
    n.Call: _call,
    n.Neg: _neg,
    n.Arith: _arith,
    n.Compare: _compare,
    n.Between: _between,
    n.IsNull: _is_null,
    n.And: _and,
    n.Or: _or,
    n.Not: _not,
}
