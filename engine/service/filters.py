"""Query-string filters (`budget__gte=1000`) as condition-language nodes.

Filters and `where=` conditions then share one meaning (a missing value never matches, text
compares by code point, money exactly) and one SQL (so the same indexes serve both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions import values as V
from engine.config.model import FieldDef
from engine.fields.errors import FieldValueError

if TYPE_CHECKING:
    from engine.service.listing import Filter

_OPS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_TEXT_ONLY = frozenset({"text"})


def filter_node(field: FieldDef, coerce: Callable[[Any], Any], flt: Filter) -> n.Node:
    """The typed condition of one filter; FieldValueError for a value the field refuses."""
    kind = T.field_type(field.type, field.option_values)
    ref = n.FieldRef(0, 0, field.name, type=kind)
    if flt.op == "isnull":
        wanted = truth(flt.value)
        return n.IsNull(0, 0, ref, not wanted, type=T.BOOLEAN)
    if kind.name == "list":
        return _list_filter(ref, kind, coerce, flt)
    if flt.op == "in":
        items = tuple(_literal(kind, coerce(v)) for v in str(flt.value).split(",") if v.strip())
        return n.Compare(
            0, 0, "in", ref, n.ListLit(0, 0, items, type=T.list_of(kind.base)), type=T.BOOLEAN
        )
    if flt.op == "contains":
        if kind.base.name not in _TEXT_ONLY:
            raise FieldValueError("filter", message="'contains' applies to text fields")
        return n.Compare(0, 0, "contains", ref, _literal(T.STRING, str(flt.value)), type=T.BOOLEAN)
    return n.Compare(0, 0, _OPS[flt.op], ref, _literal(kind, coerce(flt.value)), type=T.BOOLEAN)


def _list_filter(
    ref: n.FieldRef, kind: T.Type, coerce: Callable[[Any], Any], flt: Filter
) -> n.Node:
    if flt.op not in ("eq", "contains", "in"):
        raise FieldValueError("filter", message=f"'{flt.op}' does not apply to a list field")
    items = coerce(str(flt.value))
    tests = tuple(
        n.Compare(0, 0, "contains", ref, _literal(T.STRING, item), type=T.BOOLEAN) for item in items
    )
    if not tests:
        return n.Literal(0, 0, False, "false", type=T.BOOLEAN)
    return tests[0] if len(tests) == 1 else n.Or(0, 0, tests, type=T.BOOLEAN)


def _literal(kind: T.Type, stored: Any) -> n.Literal:
    """A constant from a stored value (what the field's coercer returned)."""
    value = V.READERS[kind.name](stored)
    return n.Literal(0, 0, value, str(stored), type=kind.base)


def truth(value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("1", "true", "yes", "0", "false", "no"):
        raise FieldValueError("filter", message="isnull takes true or false")
    return text in ("1", "true", "yes")
