"""SQL backend: a typed AST becomes a SQLAlchemy boolean over the records table.

It must agree with the Python backend on every input:
- two-valued logic: a comparison with a missing value is false, so NOT wraps its operand in
  COALESCE(…, false) (without NOT, SQL's NULL already behaves as false under AND/OR);
- parts without record fields (now() - 3d) are computed once in Python and bound;
- numbers: PostgreSQL numeric is exact; SQLite compares stored decimals as REAL (exact up to
  15 digits, which the field types enforce) and does arithmetic in tp_arith (Decimal);
- times: stored as fixed-width UTC text, compared as text; arithmetic on epoch seconds or day
  numbers; text order is code-point order (COLLATE "C" on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions import values as V
from engine.conditions.compile_py import compile_node
from engine.conditions.stored import format_instant
from engine.errors import Signal

SqlExpr = ColumnElement[Any]
_ORDER_OPS = {"==", "!=", "<", "<=", ">", ">="}
_WORD_TESTS = {"contains", "starts_with", "ends_with", "matches"}
# Epoch seconds and day numbers of 0001-01-01 and 9999-12-31T23:59:59 (Python's range).
_CALENDAR = {"datetime": (-62135596800, 253402300799), "date": (-719162, 2932896)}
_NUM_RE = r"^-?[0-9]+(\.[0-9]+)?$"
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


class NotCompilable(Signal):
    """A condition that only makes sense on a write (changed/old) was given to SQL."""


@dataclass(frozen=True, slots=True)
class Val:
    """A compiled value: its SQL (or Python constant) and the form it is in.

    forms: text, num, dec (SQLite decimal text), bool01, epoch, days, secs, list (JSON
    array of a field), const (a Python value, converted where used).
    """

    form: str
    expr: Any
    type: T.Type
    field: str | None = None


class SqlCompiler:
    def __init__(self, dialect: str, env: V.Env, data: Any) -> None:
        self.pg = dialect == "postgresql"
        self.env = env
        self.data = data

    # entry points --------------------------------------------------------------------------
    def condition(self, node: n.Node) -> ColumnElement[bool]:
        method: Callable[[n.Node], ColumnElement[bool]] | None = getattr(
            self, f"cond_{type(node).__name__}", None
        )
        if method is not None:
            return method(node)
        value = self.value(node)  # a boolean field or constant
        return self._truthy(value)

    def value(self, node: n.Node) -> Val:
        assert node.type is not None
        if not n.has_fields(node):
            return Val("const", compile_node(node)(self.env), node.type)
        if node.type == T.BOOLEAN and not isinstance(node, n.FieldRef | n.Call):
            held = sa.case((self.condition(node), 1), else_=0)  # a test used as a value
            return Val("bool01", held, T.BOOLEAN)
        method: Callable[[n.Node], Val] = getattr(self, f"val_{type(node).__name__}")
        return method(node)

    # conversions ---------------------------------------------------------------------------
    def _truthy(self, value: Val) -> ColumnElement[bool]:
        if value.form == "const":
            return sa.true() if value.expr is True else sa.false()
        if value.form == "bool01":
            one: ColumnElement[bool] = value.expr == 1
            return one
        return value.expr  # type: ignore[no-any-return]

    def as_form(self, value: Val, form: str) -> Any:
        """The value as SQL in the given form (constants become bound parameters)."""
        if value.form == "const":
            return self._bind(value.expr, form)
        if value.form == form:
            return value.expr
        converter = _CONVERSIONS.get((value.form, form))
        if converter is None:
            raise AssertionError(f"no conversion {value.form} -> {form}")
        return converter(self, value.expr)

    def _bind(self, value: Any, form: str) -> Any:
        if value is None:
            return sa.null()
        if form == "epoch":
            return sa.literal(V.epoch(value), sa.BigInteger)
        if form == "days":
            return sa.literal(value.toordinal() - V.EPOCH_DAY, sa.Integer)
        if form == "bool01":
            return sa.literal(int(value), sa.Integer)
        if isinstance(value, bool):
            return sa.literal(value, sa.Boolean)
        if isinstance(value, datetime):
            return sa.literal(format_instant(value), sa.String)
        if isinstance(value, date):
            return sa.literal(value.isoformat(), sa.String)
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return self._bind_number(value, form)
        return sa.literal(value, sa.String)

    def _bind_number(self, value: Decimal | int, form: str) -> Any:
        if self.pg:
            return sa.literal(value, sa.Numeric)
        if form == "dec":
            return sa.literal(str(value), sa.String)
        if isinstance(value, int):
            return sa.literal(value, sa.BigInteger)
        return sa.literal(float(value), sa.Float)  # exact order up to 15 digits

    def number_form(self, *values: Val) -> str:
        """SQLite: once a side is exact decimal text, compare and compute as decimal text."""
        if not self.pg and any(v.form == "dec" for v in values):
            return "dec"
        return "num"

    # leaves --------------------------------------------------------------------------------
    def val_FieldRef(self, node: n.Node) -> Val:
        assert isinstance(node, n.FieldRef) and node.type is not None
        kind = node.type.name
        reader = getattr(self, f"_field_{kind}")
        expr, form = reader(node.name)
        return Val(form, expr, node.type, node.name)

    def _json(self, name: str) -> Any:
        # Field names are identifiers ([a-z][a-z0-9_]*), so they are written into the SQL:
        # an expression index only serves queries whose expression is the same text.
        if self.pg:
            key: Any = sa.literal_column(f"'{name}'")
            return sa.type_coerce(self.data, JSONB()).op("->", return_type=JSONB())(key)
        return sa.func.json_extract(self.data, sa.literal_column(f"'$.\"{name}\"'"))

    def _text(self, name: str) -> Any:
        if self.pg:
            key: Any = sa.literal_column(f"'{name}'")
            return sa.type_coerce(self.data, JSONB()).op("->>", return_type=sa.Text())(key)
        return self._json(name)

    def _field_text(self, name: str) -> tuple[Any, str]:
        return self._text(name), "text"

    _field_date = _field_text
    _field_datetime = _field_text

    def _field_integer(self, name: str) -> tuple[Any, str]:
        if self.pg:
            guard = sa.func.jsonb_typeof(self._json(name)) == sa.literal_column("'number'")
            return sa.case((guard, sa.cast(self._text(name), sa.Numeric)), else_=None), "num"
        return self._json(name), "num"

    def _field_decimal(self, name: str) -> tuple[Any, str]:
        text = self._text(name)
        if self.pg:
            guard = text.op("~", is_comparison=True)(sa.literal_column(f"'{_NUM_RE}'"))
            return sa.case((guard, sa.cast(text, sa.Numeric)), else_=None), "num"
        return sa.cast(text, sa.Float), "num"

    def _field_boolean(self, name: str) -> tuple[Any, str]:
        true: Any = sa.literal_column("'true'")
        false: Any = sa.literal_column("'false'")
        if self.pg:
            is_bool = sa.func.jsonb_typeof(self._json(name)) == sa.literal_column("'boolean'")
            text = self._text(name)
            cases = ((sa.and_(is_bool, text == true), 1), (sa.and_(is_bool, text == false), 0))
            return sa.case(*cases, else_=None), "bool01"
        kind = sa.func.json_type(self.data, sa.literal_column(f"'$.\"{name}\"'"))
        return sa.case((kind == true, 1), (kind == false, 0), else_=None), "bool01"

    def _field_list(self, name: str) -> tuple[Any, str]:
        return name, "list"

    # arithmetic ----------------------------------------------------------------------------
    def val_Arith(self, node: n.Node) -> Val:
        assert isinstance(node, n.Arith) and node.type is not None
        left, right = self.value(node.left), self.value(node.right)
        if node.type.name in T.NUMERIC:
            return self._numeric(node.op, left, right, node.type)
        return self._time_arith(node.op, left, right, node.type)

    def _numeric(self, op: str, left: Val, right: Val, kind: T.Type) -> Val:
        if not self.pg:
            a, b = self.as_form(left, "dec"), self.as_form(right, "dec")
            return Val("dec", sa.func.tp_arith(op, a, b), kind)
        a = sa.cast(self.as_form(left, "num"), sa.Numeric)  # exact, and no int overflow
        b = sa.cast(self.as_form(right, "num"), sa.Numeric)
        if op == "/":
            return Val("num", _exact_division(a, b), kind)
        return Val("num", {"+": a + b, "-": a - b, "*": a * b}[op], kind)

    def _time_arith(self, op: str, left: Val, right: Val, kind: T.Type) -> Val:
        if left.type == T.DURATION and right.type != T.DURATION:
            left, right = right, left  # duration + datetime
        base = {"datetime": "epoch", "date": "days", "duration": "secs"}[left.type.name]
        a = self.as_form(left, base)
        if right.type == T.DURATION and base == "days":
            b = (
                self.as_form(right, "secs") / 86400
                if right.form != "const"
                else sa.literal(right.expr // 86400, sa.Integer)
            )
        else:
            b = self.as_form(
                right, {"datetime": "epoch", "date": "days"}.get(right.type.name, "secs")
            )
        result = a + b if op == "+" else a - b
        if kind == T.DURATION and base == "days":
            return Val("secs", result * 86400, kind)
        if kind.name in _CALENDAR:  # outside years 1-9999 there is no such time (as in Python)
            low, high = _CALENDAR[kind.name]
            result = sa.case((sa.and_(result >= low, result <= high), result), else_=None)
        return Val(
            {"datetime": "epoch", "date": "days", "duration": "secs"}[kind.name], result, kind
        )

    def val_Neg(self, node: n.Node) -> Val:
        assert isinstance(node, n.Neg) and node.type is not None
        inner = self.value(node.operand)
        if inner.type == T.DURATION:
            return Val("secs", -self.as_form(inner, "secs"), inner.type)
        zero = Val("const", 0, T.INTEGER)
        return self._numeric("-", zero, inner, inner.type)

    # functions -----------------------------------------------------------------------------
    def val_Call(self, node: n.Node) -> Val:
        assert isinstance(node, n.Call) and node.type is not None
        if node.name in ("changed", "old"):
            raise NotCompilable(f"{node.name}() only works when a record is written")
        args = [self.value(a) for a in node.args]
        method: Callable[[list[Val], T.Type], Val] = getattr(self, f"fn_{node.name}")
        return method(args, node.type)

    def _floor_div(self, expr: Any, k: int) -> Any:
        if self.pg:
            return sa.func.floor(sa.cast(expr, sa.Numeric) / k)
        return (expr - ((expr % k) + k) % k) / k

    def _since(self, arg: Val, unit: int, future: bool = False) -> Any:
        if arg.type == T.DATE:
            today = self.env.today.toordinal() - V.EPOCH_DAY
            days = self.as_form(arg, "days")
            return (days - today) if future else (today - days)
        now = V.epoch(self.env.now)
        moment = self.as_form(arg, "epoch")
        return self._floor_div((moment - now) if future else (now - moment), unit)

    def fn_days_since(self, args: list[Val], kind: T.Type) -> Val:
        return Val("num", self._since(args[0], 86400), kind)

    def fn_hours_since(self, args: list[Val], kind: T.Type) -> Val:
        return Val("num", self._since(args[0], 3600), kind)

    def fn_days_until(self, args: list[Val], kind: T.Type) -> Val:
        return Val("num", self._since(args[0], 86400, future=True), kind)

    def fn_lower(self, args: list[Val], kind: T.Type) -> Val:
        text = self.as_form(args[0], "text")
        expr = sa.func.translate(text, _UPPER, _LOWER) if self.pg else sa.func.lower(text)
        return Val("text", expr, kind)

    def fn_upper(self, args: list[Val], kind: T.Type) -> Val:
        text = self.as_form(args[0], "text")
        expr = sa.func.translate(text, _LOWER, _UPPER) if self.pg else sa.func.upper(text)
        return Val("text", expr, kind)

    def fn_len(self, args: list[Val], kind: T.Type) -> Val:
        arg = args[0]
        if arg.form == "list":
            if self.pg:
                return Val("num", sa.func.jsonb_array_length(self._json(arg.expr)), kind)
            return Val("num", sa.func.json_array_length(self.data, f'$."{arg.expr}"'), kind)
        text = self.as_form(arg, "text")
        return Val("num", sa.func.char_length(text) if self.pg else sa.func.length(text), kind)

    def fn_abs(self, args: list[Val], kind: T.Type) -> Val:
        form = self.number_form(*args)
        if form == "dec":
            return Val(
                "dec",
                sa.func.tp_arith(
                    "*",
                    self.as_form(args[0], "dec"),
                    sa.func.tp_cmp(self.as_form(args[0], "dec"), "0"),
                ),
                kind,
            )
        return Val("num", sa.func.abs(self.as_form(args[0], "num")), kind)

    def fn_round(self, args: list[Val], kind: T.Type) -> Val:
        places = self.as_form(args[1], "num") if len(args) > 1 else None
        if not self.pg:
            return Val(
                "dec",
                sa.func.tp_round(
                    self.as_form(args[0], "dec"), places if places is not None else sa.null()
                ),
                kind,
            )
        value = sa.cast(self.as_form(args[0], "num"), sa.Numeric)
        digits = sa.func.least(sa.func.greatest(places, 0), 10) if places is not None else 0
        return Val("num", sa.func.round(value, sa.cast(digits, sa.Integer)), kind)

    def fn_coalesce(self, args: list[Val], kind: T.Type) -> Val:
        form = _canonical_form(kind, self.number_form(*args))
        timed = {"date": "days", "datetime": "epoch"}.get(kind.name)
        if timed is not None and any(a.form == timed for a in args):
            form = timed  # some argument is computed: compare as numbers, not text
        return Val(form, sa.func.coalesce(*[self.as_form(a, form) for a in args]), kind)

    # tests ---------------------------------------------------------------------------------
    def cond_Compare(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.Compare)
        if (
            node.op in ("in", "not in")
            and isinstance(node.right, n.ListLit)
            and n.has_fields(node.right)
        ):
            return self._in_expressions(node)
        left, right = self.value(node.left), self.value(node.right)
        if node.op in _WORD_TESTS and any(
            v.form == "const" and v.expr is None for v in (left, right)
        ):
            return sa.false()  # a test with no value is false (never IS NULL)
        if node.op in _ORDER_OPS:
            return self.compare(node.op, left, right)
        method: Callable[[str, Val, Val], ColumnElement[bool]] = getattr(
            self, _WORD_METHODS[node.op]
        )
        return method(node.op, left, right)

    def _in_expressions(self, node: n.Compare) -> ColumnElement[bool]:
        assert isinstance(node.right, n.ListLit)
        left = self.value(node.left)
        items = [self.value(i) for i in node.right.items]
        equal = sa.or_(sa.false(), *[self.compare("==", left, i) for i in items])
        if node.op == "in":
            return equal
        present = self.compare("==", left, left)  # false when the value is missing
        return sa.and_(present, self._not(equal))

    def compare(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        if left.form == "const" and right.form == "const":
            return self._truthy(Val("const", _py_compare(op, left.expr, right.expr), T.BOOLEAN))
        if (left.form == "const" and left.expr is None) or (
            right.form == "const" and right.expr is None
        ):
            return sa.false()  # a comparison with no value is false (never IS NULL)
        form = self._compare_form(left, right)
        a, b = self.as_form(left, form), self.as_form(right, form)
        if form == "dec":
            a, b = sa.func.tp_cmp(a, b), sa.literal(0)
        elif form == "text" and self.pg:  # code-point order, and the index's collation
            a, b = a.collate("C"), b.collate("C")
        result: ColumnElement[bool] = _SQL_OPS[op](a, b)
        return result

    def _compare_form(self, left: Val, right: Val) -> str:
        kind = left.type if left.type != T.NULL else right.type
        if kind.name in T.NUMERIC:
            return self.number_form(left, right)
        forms = {left.form, right.form} - {"const"}
        for timed in ("epoch", "days", "secs", "bool01"):
            if timed in forms:
                return timed
        return _canonical_form(kind, "num")

    def in_list(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        if right.form == "list":
            contains = self.list_contains(right, left)
            if op == "in":
                return contains
            present = [self._json(right.expr).is_not(None)]
            if left.form != "const":
                present.append(self.as_form(left, "text").is_not(None))
            elif left.expr is None:
                return sa.false()
            return sa.and_(*present, self._not(contains))
        items = right.expr if right.form == "const" else None
        if items is None:
            raise AssertionError("a list literal with fields is folded item by item")
        if left.form == "const":
            return self._truthy(Val("const", _py_in(op, left.expr, items), T.BOOLEAN))
        form = self._compare_form(left, Val("const", None, left.type))
        if form == "dec":
            tests = [self.compare("==", left, Val("const", i, left.type)) for i in items]
            any_equal = sa.or_(sa.false(), *tests)
            return (
                any_equal if op == "in" else sa.and_(left.expr.is_not(None), self._not(any_equal))
            )
        a = self.as_form(left, form)
        if form == "text" and self.pg:
            a = a.collate("C")
        bound = [self._bind(i, form) for i in items if i is not None]
        if not bound:  # x in [] is false; x not in [] holds for any present x
            return sa.false() if op == "in" else a.is_not(None)
        member: ColumnElement[bool] = a.in_(bound) if op == "in" else a.not_in(bound)
        return member

    def list_contains(self, lst: Val, item: Val) -> ColumnElement[bool]:
        name = lst.expr
        if item.form == "const" and item.expr is None:
            return sa.false()
        if self.pg:
            value = self.as_form(item, "text")
            has: ColumnElement[bool] = self._json(name).contains(sa.func.jsonb_build_array(value))
            return has
        each = sa.func.json_each(self.data, f'$."{name}"').table_valued("value", "type")
        value = self.as_form(item, "text")
        return sa.exists(
            sa.select(1).select_from(each).where(each.c.type == "text", each.c.value == value)
        )

    def contains(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        if left.form == "list":
            return self.list_contains(left, right)
        a, b = self.as_form(left, "text"), self.as_form(right, "text")
        position = sa.func.strpos(a, b) if self.pg else sa.func.instr(a, b)
        return position > 0

    def starts_with(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        a, b = self.as_form(left, "text"), self.as_form(right, "text")
        head = (
            sa.func.left(a, sa.func.char_length(b))
            if self.pg
            else sa.func.substr(a, 1, sa.func.length(b))
        )
        same: ColumnElement[bool] = head == b
        return same

    def ends_with(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        a, b = self.as_form(left, "text"), self.as_form(right, "text")
        if self.pg:
            ends: ColumnElement[bool] = sa.func.right(a, sa.func.char_length(b)) == b
            return ends
        tail = sa.func.substr(a, sa.func.length(a) - sa.func.length(b) + 1)
        return sa.and_(a.is_not(None), sa.or_(sa.func.length(b) == 0, tail == b))

    def matches(self, op: str, left: Val, right: Val) -> ColumnElement[bool]:
        a, pattern = self.as_form(left, "text"), self.as_form(right, "text")
        if self.pg:
            return a.op("~", is_comparison=True)(pattern)  # type: ignore[no-any-return]
        return sa.func.tp_regexp(pattern, a) == 1

    def cond_Between(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.Between)
        value, low, high = self.value(node.value), self.value(node.low), self.value(node.high)
        return sa.and_(self.compare(">=", value, low), self.compare("<=", value, high))

    def cond_IsNull(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.IsNull)
        value = self.value(node.value)
        if value.form == "const":
            return sa.true() if (value.expr is None) != node.negated else sa.false()
        expr = self._json(value.expr) if value.form == "list" else value.expr
        return expr.is_not(None) if node.negated else expr.is_(None)  # type: ignore[no-any-return]

    def cond_And(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.And)
        return sa.and_(*[self.condition(i) for i in node.items])

    def cond_Or(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.Or)
        return sa.or_(*[self.condition(i) for i in node.items])

    def cond_Not(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.Not)
        return self._not(self.condition(node.operand))

    def _not(self, inner: ColumnElement[bool]) -> ColumnElement[bool]:
        return sa.not_(sa.func.coalesce(inner, sa.false()))

    def cond_Literal(self, node: n.Node) -> ColumnElement[bool]:
        assert isinstance(node, n.Literal)
        return sa.true() if node.value is True else sa.false()


def _exact_division(a: Any, b: Any) -> Any:
    """a / b rounded half away from zero to 10 places, exactly (no double rounding):
    integer quotient of a·10¹⁰ by b, corrected by the remainder, then scaled back."""
    scaled = a * sa.literal(10**10, sa.Numeric)
    divisor = sa.func.nullif(b, 0)
    quotient = sa.func.div(scaled, divisor)
    remainder = scaled - quotient * divisor
    away = sa.case(
        (
            sa.func.abs(remainder) * 2 >= sa.func.abs(divisor),
            sa.func.sign(scaled) * sa.func.sign(divisor),
        ),
        else_=0,
    )
    return (quotient + away) / sa.literal(10**10, sa.Numeric)


def _canonical_form(kind: T.Type, number_form: str) -> str:
    if kind.name in T.NUMERIC:
        return number_form
    return {"boolean": "bool01", "duration": "secs"}.get(kind.name, "text")


def _py_compare(op: str, a: Any, b: Any) -> bool:
    from engine.conditions.compile_py import _ORDER

    return a is not None and b is not None and bool(_ORDER[op](a, b))


def _py_in(op: str, a: Any, items: list[Any]) -> bool:
    return a is not None and ((a in items) != (op == "not in"))


_SQL_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_WORD_METHODS = {
    "in": "in_list",
    "not in": "in_list",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "matches": "matches",
}


def _epoch_of_text(c: SqlCompiler, expr: Any) -> Any:
    if c.pg:
        moment = sa.cast(expr, sa.DateTime(timezone=True))
        return sa.cast(sa.func.extract("epoch", moment), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", expr), sa.Integer)


def _days_of_text(c: SqlCompiler, expr: Any) -> Any:
    if c.pg:
        days = sa.cast(expr, sa.Date) - sa.cast(sa.literal("1970-01-01"), sa.Date)
        return sa.cast(days, sa.BigInteger)  # int4 would overflow once multiplied
    return sa.cast(sa.func.julianday(expr) - 2440587.5, sa.Integer)


def _num_to_dec(c: SqlCompiler, expr: Any) -> Any:
    return expr  # tp_arith/tp_cmp read REAL and INTEGER values exactly (repr)


_CONVERSIONS: dict[tuple[str, str], Callable[[SqlCompiler, Any], Any]] = {
    ("text", "epoch"): _epoch_of_text,
    ("text", "days"): _days_of_text,
    ("num", "dec"): _num_to_dec,
}


def field_sql(dialect: str, name: str, kind: T.Type, data: Any) -> Any:
    """A field's value as SQL, exactly as conditions use it (for sorting and indexes)."""
    compiler = SqlCompiler(dialect, V.Env({}, V.EPOCH, UTC), data)
    value = compiler.val_FieldRef(n.FieldRef(0, 0, name, type=kind))
    if value.form == "text" and compiler.pg:
        return value.expr.collate("C")
    return value.expr


def compile_sql(node: n.Node, dialect: str, env: V.Env, data: Any) -> ColumnElement[bool]:
    """The WHERE clause for a typed condition, at the time in env."""
    return SqlCompiler(dialect, env, data).condition(node)
