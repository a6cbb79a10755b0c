"""The condition AST: frozen nodes that carry their position in the source text.

`pos`/`end` are offsets into the expression string (structured YAML conditions render to a
string first, so every node has one). `type` is None when parsed and set by the checker, which
returns a new, typed tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.conditions.types import Type


@dataclass(frozen=True, slots=True)
class Node:
    pos: int
    end: int
    type: Type | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant; `value` is already the Python value (Decimal, date, datetime, seconds…)."""

    value: Any
    text: str


@dataclass(frozen=True, slots=True)
class FieldRef(Node):
    name: str


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """Binary tests: == != < <= > >= in, not in, contains, starts_with, ends_with, matches."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    value: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes, in source order."""
    match node:
        case ListLit(items=items) | And(items=items) | Or(items=items):
            return items
        case Call(args=args):
            return args
        case Neg(operand=x) | Not(operand=x):
            return (x,)
        case Arith(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case Between(value=v, low=lo, high=hi):
            return (v, lo, hi)
        case IsNull(value=v):
            return (v,)
    return ()


def field_names(node: Node) -> set[str]:
    """The record fields a tree reads."""
    found = {node.name} if isinstance(node, FieldRef) else set()
    for child in children(node):
        found |= field_names(child)
    return found


def has_fields(node: Node) -> bool:
    """Whether a node reads the record (a field, changed(), old()): if not, it is a constant
    of the evaluation time, computed once (folded before SQL, cached by the closures)."""
    if isinstance(node, FieldRef) or (isinstance(node, Call) and node.name in ("changed", "old")):
        return True
    return any(has_fields(c) for c in children(node))
