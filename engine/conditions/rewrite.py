"""Rewrites of a typed tree that keep its meaning and make it cheaper to run.

`days_since(f) > 30` becomes `f <= now() - 31d`: the field is compared as stored (fixed-width
UTC text), the cutoff is computed once per evaluation time, and in SQL the comparison can use
an index on f. Traces keep showing the condition as written; only the compiled code uses this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from engine.conditions import nodes as n
from engine.conditions import types as T

_UNITS = {"days_since": 86400, "hours_since": 3600, "days_until": 86400}
_MAX_SHIFT = 1000 * 366 * 86400
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def optimize(node: n.Node) -> n.Node:
    """The tree with every rewritable comparison rewritten, children first."""
    kids = n.children(node)
    if kids:
        node = _replace_children(node, tuple(optimize(k) for k in kids))
    if isinstance(node, n.Compare):
        return _since(node) or node
    return node


def _replace_children(node: n.Node, kids: tuple[n.Node, ...]) -> n.Node:
    match node:
        case n.And() | n.Or() | n.ListLit():
            return dataclasses.replace(node, items=kids)
        case n.Call():
            return dataclasses.replace(node, args=kids)
        case n.Neg() | n.Not():
            return dataclasses.replace(node, operand=kids[0])
        case n.Arith() | n.Compare():
            return dataclasses.replace(node, left=kids[0], right=kids[1])
        case n.Between():
            return dataclasses.replace(node, value=kids[0], low=kids[1], high=kids[2])
        case n.IsNull():
            return dataclasses.replace(node, value=kids[0])
    return node


def _since(node: n.Compare) -> n.Node | None:
    """days_since/hours_since/days_until(field) OP integer → a comparison on the field."""
    call, const, op = node.left, node.right, node.op
    if isinstance(call, n.Literal):
        call, const, op = node.right, node.left, _FLIP.get(op, op)
    if not (isinstance(call, n.Call) and call.name in _UNITS and isinstance(const, n.Literal)):
        return None
    field = call.args[0]
    if not isinstance(field, n.FieldRef) or op not in _FLIP:
        return None
    if not isinstance(const.value, int) or isinstance(const.value, bool):
        return None
    unit = _UNITS[call.name]
    if field.type == T.DATE and unit != 86400:
        return None
    if abs(const.value) * unit > _MAX_SHIFT:  # the bound would leave the calendar
        return None
    shift = _DATE_FORMS if field.type == T.DATE else _TIME_FORMS
    return shift(field, op, const.value, unit, call.name == "days_until", node)


def _bound(field: n.FieldRef, steps: int, unit: int, node: n.Node) -> n.Node:
    """now() - steps·unit (or today() for dates): where the field's value crosses over."""
    base = n.Call(
        node.pos, node.end, "today" if field.type == T.DATE else "now", (), type=field.type
    )
    seconds = steps * unit
    size = n.Literal(node.pos, node.end, abs(seconds), f"{abs(seconds)}s", type=T.DURATION)
    return n.Arith(node.pos, node.end, "-" if seconds >= 0 else "+", base, size, type=field.type)


def _cmp(op: str, field: n.FieldRef, bound: n.Node, node: n.Node) -> n.Node:
    return n.Compare(node.pos, node.end, op, field, bound, type=T.BOOLEAN)


def _time_forms(
    field: n.FieldRef, op: str, k: int, unit: int, future: bool, node: n.Node
) -> n.Node:
    """floor((now - f)/unit) OP k, with f an instant (or floor((f - now)/unit) if future)."""
    sign = -1 if future else 1

    def at(steps: int) -> n.Node:
        return _bound(field, sign * steps, unit, node)

    if future:  # floor((f - now)/u) >= k  <=>  f >= now + k·u
        table: dict[str, Callable[[], n.Node]] = {
            ">=": lambda: _cmp(">=", field, at(k), node),
            ">": lambda: _cmp(">=", field, at(k + 1), node),
            "<": lambda: _cmp("<", field, at(k), node),
            "<=": lambda: _cmp("<", field, at(k + 1), node),
        }
    else:  # floor((now - f)/u) >= k  <=>  f <= now - k·u
        table = {
            ">=": lambda: _cmp("<=", field, at(k), node),
            ">": lambda: _cmp("<=", field, at(k + 1), node),
            "<": lambda: _cmp(">", field, at(k), node),
            "<=": lambda: _cmp(">", field, at(k + 1), node),
        }
    return _equalities(table, op, node)


def _date_forms(
    field: n.FieldRef, op: str, k: int, unit: int, future: bool, node: n.Node
) -> n.Node:
    """today - d OP k (or d - today OP k): whole calendar days, so d OP today ∓ k."""

    def at(steps: int) -> n.Node:
        return _bound(field, -steps if future else steps, unit, node)

    if future:
        table: dict[str, Callable[[], n.Node]] = {
            ">=": lambda: _cmp(">=", field, at(k), node),
            ">": lambda: _cmp(">", field, at(k), node),
            "<": lambda: _cmp("<", field, at(k), node),
            "<=": lambda: _cmp("<=", field, at(k), node),
            "==": lambda: _cmp("==", field, at(k), node),
        }
    else:
        table = {
            ">=": lambda: _cmp("<=", field, at(k), node),
            ">": lambda: _cmp("<", field, at(k), node),
            "<": lambda: _cmp(">", field, at(k), node),
            "<=": lambda: _cmp(">=", field, at(k), node),
            "==": lambda: _cmp("==", field, at(k), node),
        }
    return _equalities(table, op, node)


def _equalities(table: dict[str, Callable[[], n.Node]], op: str, node: n.Node) -> n.Node:
    if op in table:
        return table[op]()
    both = n.And(node.pos, node.end, (table[">="](), table["<="]()), type=T.BOOLEAN)
    if op == "==":
        return both
    # != : the value is present and outside [k, k]
    return n.Or(node.pos, node.end, (table["<"](), table[">"]()), type=T.BOOLEAN)


_TIME_FORMS = _time_forms
_DATE_FORMS = _date_forms
