"""Type checking: an untyped AST plus the entity's fields → a typed AST, or a located error.

Everything a rule could get wrong is caught here, when the bundle loads: unknown fields and
functions, wrong arity, type mismatches, enum values that are not options, unsafe regexes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions.errors import ConditionError
from engine.conditions.functions import FUNCTIONS
from engine.conditions.messages import msg, type_name
from engine.conditions.printer import to_text
from engine.conditions.regex import PatternError, portable_regex
from engine.conditions.stored import storable
from engine.i18n import Message, choices_hint

MAX_DIGITS = 15  # decimals compare exactly on every backend up to here (see docs/conditions.md)
_ORDERED = frozenset({"integer", "decimal", "date", "datetime", "duration", "text"})


@dataclass(frozen=True, slots=True)
class Scope:
    """What a condition may refer to."""

    fields: Mapping[str, T.Type]
    tz: tzinfo
    update: bool = False  # changed()/old() allowed (rules that run on writes)


def check(node: n.Node, scope: Scope) -> n.Node:
    """The typed tree of a condition (which must be true/false)."""
    typed = _Checker(scope).visit(node)
    if typed.type != T.BOOLEAN:
        raise ConditionError(
            msg("condition.not_condition", type=type_name(typed.type)),
            typed.pos,
            typed.end,
            msg("condition.hint.compare_it"),
        )
    return typed


def check_value(node: n.Node, scope: Scope) -> n.Node:
    """The typed tree of any expression (for computed values)."""
    return _Checker(scope).visit(node)


def _typed(node: n.Node, kind: T.Type, **changes: object) -> n.Node:
    return dataclasses.replace(node, type=kind, **changes)  # type: ignore[arg-type]


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def visit(self, node: n.Node) -> n.Node:
        method = getattr(self, f"visit_{type(node).__name__}")
        result: n.Node = method(node)
        return result

    def fail(self, node: n.Node, message: Message, hint: Message | None = None) -> ConditionError:
        return ConditionError(message, node.pos, node.end, hint)

    # leaves --------------------------------------------------------------------------------
    def visit_Literal(self, node: n.Literal) -> n.Node:
        if isinstance(node.value, Decimal) and len(node.value.as_tuple().digits) > MAX_DIGITS:
            raise self.fail(node, msg("condition.too_many_digits", n=MAX_DIGITS))
        if (
            isinstance(node.value, int)
            and not isinstance(node.value, bool)
            and abs(node.value) > 2**53
        ):
            raise self.fail(node, msg("condition.number_too_large"))
        if isinstance(node.value, str) and not storable(node.value):
            raise self.fail(
                node, msg("condition.unstorable_text"), msg("condition.hint.unstorable")
            )
        if isinstance(node.value, datetime):
            # Times are to the second everywhere (stored values, now(), SQL text).
            moment = node.value.replace(microsecond=0)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.scope.tz)
            return _typed(node, T.DATETIME, value=self._in_range(node, moment))
        return node

    def _in_range(self, node: n.Node, moment: datetime) -> datetime:
        try:
            moment.astimezone(UTC)
        except OverflowError:
            raise self.fail(node, msg("condition.out_of_calendar")) from None
        return moment

    def visit_FieldRef(self, node: n.FieldRef) -> n.Node:
        kind = self.scope.fields.get(node.name)
        if kind is None:
            raise self.fail(
                node,
                msg("condition.unknown_field", name=node.name),
                choices_hint(node.name, self.scope.fields, "fields"),
            )
        return _typed(node, kind)

    def visit_ListLit(self, node: n.ListLit) -> n.Node:
        items = tuple(self.visit(i) for i in node.items)
        kinds = [i.type for i in items if i.type not in (None, T.NULL)]
        item = kinds[0] if kinds else T.NULL
        for child in items:
            if child.type and not T.comparable(child.type, item):
                raise self.fail(child, msg("condition.mixed_list", item=item, type=child.type))
            if child.type and child.type.name == "list":
                raise self.fail(child, msg("condition.nested_list"))
        if any(k.name == "decimal" for k in kinds):
            item = T.DECIMAL
        return _typed(node, T.list_of(item.base), items=items)

    # calls and arithmetic ------------------------------------------------------------------
    def visit_Call(self, node: n.Call) -> n.Node:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            raise self.fail(
                node,
                msg("condition.unknown_function", name=node.name),
                choices_hint(node.name, FUNCTIONS, "functions"),
            )
        if fn.update_only and not self.scope.update:
            raise self.fail(
                node, msg("condition.update_only", name=node.name), msg("condition.hint.write_time")
            )
        args = tuple(self.visit(a) for a in node.args)
        if fn.field_args and any(not isinstance(a, n.FieldRef) for a in args):
            hint = msg("condition.hint.e_g", example=fn.example)
            raise self.fail(node, msg("condition.field_args", name=node.name), hint)
        kind = fn.result([a.type or T.NULL for a in args])
        if kind is None:
            got = [type_name(a.type) for a in args] or msg("condition.word.nothing")
            hint = msg("condition.hint.use_as", example=fn.example)
            raise self.fail(node, msg("condition.bad_arguments", name=node.name, got=got), hint)
        return _typed(node, kind, args=args)

    def visit_Neg(self, node: n.Neg) -> n.Node:
        operand = self.visit(node.operand)
        kind = operand.type or T.NULL
        if kind.name not in ("integer", "decimal", "duration"):
            raise self.fail(node, msg("condition.cannot_negate", type=kind))
        return _typed(node, kind, operand=operand)

    def visit_Arith(self, node: n.Arith) -> n.Node:
        left, right = self.visit(node.left), self.visit(node.right)
        kind = _arith_type(node.op, left.type or T.NULL, right.type or T.NULL)
        if kind is None:
            message = msg(
                "condition.cannot_compute",
                left=type_name(left.type),
                op=node.op,
                right=type_name(right.type),
            )
            raise self.fail(node, message, msg("condition.hint.arithmetic"))
        if kind == T.DATE and right.type == T.DURATION:
            self._whole_days(right)
        return _typed(node, kind, left=left, right=right)

    def _whole_days(self, node: n.Node) -> None:
        if not isinstance(node, n.Literal) or node.value % 86400:
            raise self.fail(node, msg("condition.whole_days"), msg("condition.hint.whole_days"))

    # tests ---------------------------------------------------------------------------------
    def visit_Compare(self, node: n.Compare) -> n.Node:
        left, right = self.visit(node.left), self.visit(node.right)
        left, right = self._align_dates(left, right)
        checker = _COMPARE_CHECKS.get(node.op, _Checker._check_order)
        right = checker(self, node, left, right)
        return _typed(node, T.BOOLEAN, left=left, right=right)

    def _align_dates(self, left: n.Node, right: n.Node) -> tuple[n.Node, n.Node]:
        """A date literal next to a datetime means midnight of that day, tenant time."""
        return self._midnight(left, right.type), self._midnight(right, left.type)

    def _midnight(self, node: n.Node, other: T.Type | None) -> n.Node:
        if other != T.DATETIME or not isinstance(node, n.Literal) or node.type != T.DATE:
            return node
        assert isinstance(node.value, date)
        moment = datetime.combine(node.value, time(0), self.scope.tz)
        return _typed(node, T.DATETIME, value=self._in_range(node, moment))

    def _check_equal(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        if T.NULL in (left.type, right.type):
            raise self.fail(node, msg("condition.null_compare"), msg("condition.hint.is_null"))
        if left.type is not None and left.type.name == "list":
            hint = msg("condition.hint.list_items", name=_name(left))
            raise self.fail(node, msg("condition.list_compare"), hint)
        self._comparable(node, left, right)
        self._options(left, right)
        self._options(right, left)
        return right

    def _check_order(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        self._check_equal(node, left, right)
        kind = left.type or T.NULL
        if kind.name not in _ORDERED:
            raise self.fail(
                node, msg("condition.no_order", type=kind), msg("condition.hint.equality_only")
            )
        return right

    def _comparable(self, node: n.Node, left: n.Node, right: n.Node) -> None:
        if left.type and right.type and not T.comparable(left.type, right.type):
            message = msg("condition.cannot_compare", left=_describe(left), right=_describe(right))
            raise self.fail(node, message, _mismatch_hint(left, right))

    def _options(self, node: n.Node, literal: n.Node) -> None:
        options = node.type.options if node.type else None
        if options is None:
            return
        values = literal.items if isinstance(literal, n.ListLit) else (literal,)
        for value in values:
            if (
                isinstance(value, n.Literal)
                and isinstance(value.value, str)
                and value.value not in options
            ):
                name = getattr(node, "name", None)
                where = msg("condition.word.this_field") if name is None else name
                raise self.fail(
                    value,
                    msg("condition.not_option", value=value.value, field=where),
                    choices_hint(value.value, options, "options"),
                )

    def _check_in(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        kind = right.type or T.NULL
        if kind.name != "list":
            message = msg("condition.in_needs_list", op=node.op, type=kind)
            raise self.fail(right, message, msg("condition.hint.in_example"))
        if left.type and left.type.name == "list":
            raise self.fail(
                left, msg("condition.in_one_value", op=node.op), msg("condition.hint.list_field")
            )
        item = kind.item or T.NULL
        if item != T.NULL and left.type and not T.comparable(left.type, item):
            raise self.fail(node, msg("condition.in_mismatch", type=left.type, list=kind))
        self._options(left, right)
        if isinstance(right, n.FieldRef):
            self._options(right, left)
        return right

    def _check_contains(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        kind = left.type or T.NULL
        if kind.name == "list":
            item = kind.item or T.NULL
            if right.type and not T.comparable(item, right.type):
                raise self.fail(
                    node, msg("condition.contains_mismatch", list=kind, type=right.type)
                )
            if item.options is not None:
                self._options(n.FieldRef(left.pos, left.end, "", type=item), right)
            return right
        return self._check_text(node, left, right)

    def _check_text(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        for side in (left, right):
            if side.type not in (T.STRING,) and (side.type or T.NULL).base != T.STRING:
                raise self.fail(
                    side, msg("condition.text_only", op=node.op, type=type_name(side.type))
                )
        return right

    def _check_matches(self, node: n.Compare, left: n.Node, right: n.Node) -> n.Node:
        self._check_text(node, left, right)
        if not isinstance(right, n.Literal) or not isinstance(right.value, str):
            raise self.fail(right, msg("condition.pattern_not_text"))
        try:
            pattern = portable_regex(right.value)
        except PatternError as exc:
            raise self.fail(right, msg("condition.pattern_refused", reason=exc.msg)) from None
        return _typed(right, T.STRING, value=pattern)

    def visit_Between(self, node: n.Between) -> n.Node:
        value, low, high = self.visit(node.value), self.visit(node.low), self.visit(node.high)
        low, value = self._align_dates(low, value)
        high, value = self._align_dates(high, value)
        for bound in (low, high):
            probe = n.Compare(node.pos, node.end, "<=", value, bound)
            self._check_order(probe, value, bound)
        return _typed(node, T.BOOLEAN, value=value, low=low, high=high)

    def visit_IsNull(self, node: n.IsNull) -> n.Node:
        return _typed(node, T.BOOLEAN, value=self.visit(node.value))

    def visit_And(self, node: n.And) -> n.Node:
        return _typed(node, T.BOOLEAN, items=tuple(self._boolean(i) for i in node.items))

    def visit_Or(self, node: n.Or) -> n.Node:
        return _typed(node, T.BOOLEAN, items=tuple(self._boolean(i) for i in node.items))

    def visit_Not(self, node: n.Not) -> n.Node:
        return _typed(node, T.BOOLEAN, operand=self._boolean(node.operand))

    def _boolean(self, node: n.Node) -> n.Node:
        typed = self.visit(node)
        if typed.type != T.BOOLEAN:
            message = msg("condition.expected_condition", type=type_name(typed.type))
            raise self.fail(typed, message, msg("condition.hint.compare_it"))
        return typed


_COMPARE_CHECKS = {
    "==": _Checker._check_equal,
    "!=": _Checker._check_equal,
    "in": _Checker._check_in,
    "not in": _Checker._check_in,
    "contains": _Checker._check_contains,
    "starts_with": _Checker._check_text,
    "ends_with": _Checker._check_text,
    "matches": _Checker._check_matches,
}


def _arith_type(op: str, a: T.Type, b: T.Type) -> T.Type | None:
    """The result type of a op b, or None when it means nothing."""
    if a.name in T.NUMERIC and b.name in T.NUMERIC:
        return T.INTEGER if a == b == T.INTEGER and op != "/" else T.DECIMAL
    table = {
        ("+", "datetime", "duration"): T.DATETIME,
        ("-", "datetime", "duration"): T.DATETIME,
        ("+", "duration", "datetime"): T.DATETIME,
        ("+", "date", "duration"): T.DATE,
        ("-", "date", "duration"): T.DATE,
        ("-", "datetime", "datetime"): T.DURATION,
        ("-", "date", "date"): T.DURATION,
        ("+", "duration", "duration"): T.DURATION,
        ("-", "duration", "duration"): T.DURATION,
    }
    return table.get((op, a.name, b.name))


def _describe(node: n.Node) -> Message:
    """How a side of a comparison is named in messages: 'budget (decimal)', 'text 'abc''."""
    kind = type_name(node.type)
    if isinstance(node, n.FieldRef):
        return msg("condition.side.field", name=node.name, type=kind)
    if isinstance(node, n.Literal):
        return msg("condition.side.literal", type=kind, text=node.text)
    if isinstance(node, n.Call):
        return msg("condition.side.call", call=to_text(node), type=kind)
    article = "an" if str(node.type)[:1] in "aeiou" else "a"
    return msg("condition.side.value", article=msg(f"condition.article.{article}"), type=kind)


def _mismatch_hint(left: n.Node, right: n.Node) -> Message | None:
    for a, b in ((left, right), (right, left)):
        if not isinstance(b, n.Literal) or a.type is None:
            continue
        if a.type.name in ("date", "datetime") and isinstance(b.value, str):
            return msg("condition.hint.unquote_time")
        if a.type.name in T.NUMERIC and isinstance(b.value, str):
            if b.value.replace(".", "", 1).lstrip("-").isdigit():
                return msg("condition.hint.unquote_number", value=b.value)
            name = getattr(a, "name", None)
            return msg(
                "condition.hint.holds_numbers",
                name=msg("condition.word.it") if name is None else name,
            )
        if a.type.base == T.STRING and b.type is not None and b.type.name in T.NUMERIC:
            return msg("condition.hint.quote_text", text=b.text)
    return None


def _name(node: n.Node) -> str:
    return node.name if isinstance(node, n.FieldRef) else "…"
