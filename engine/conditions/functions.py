"""The function registry: each entry has a signature, a Python and a SQL implementation.

Signatures are functions from argument types to a result type (None: not accepted), which
keeps overloading (days_since on a date or a datetime) in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions import values as V

Signature = Callable[[Sequence[T.Type]], T.Type | None]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    result: Signature
    py: Callable[..., Any]  # (env, *values) -> value
    sql: str  # name of the SQL compiler's method that implements it
    example: str
    doc: str
    update_only: bool = False
    field_args: bool = False  # arguments must be plain field names
    constant: bool = False  # no arguments from the record: folded before SQL
    clock: bool = False  # the result depends on the evaluation time


def _time_arg(args: Sequence[T.Type], result: T.Type) -> T.Type | None:
    ok = len(args) == 1 and args[0].name in ("date", "datetime", "null")
    return result if ok else None


def _datetime_arg(args: Sequence[T.Type], result: T.Type) -> T.Type | None:
    return result if len(args) == 1 and args[0].name in ("datetime", "null") else None


def _text_arg(args: Sequence[T.Type]) -> T.Type | None:
    return T.STRING if len(args) == 1 and args[0].base in (T.STRING, T.NULL) else None


def _len_arg(args: Sequence[T.Type]) -> T.Type | None:
    ok = len(args) == 1 and (args[0].base in (T.STRING, T.NULL) or args[0].name == "list")
    return T.INTEGER if ok else None


def _number_arg(args: Sequence[T.Type]) -> T.Type | None:
    return args[0] if len(args) == 1 and args[0].name in T.NUMERIC else None


def _round_args(args: Sequence[T.Type]) -> T.Type | None:
    if not args or args[0].name not in T.NUMERIC or len(args) > 2:
        return None
    if len(args) == 2 and args[1] != T.INTEGER:
        return None
    return T.DECIMAL if len(args) == 2 else T.INTEGER


def _coalesce_args(args: Sequence[T.Type]) -> T.Type | None:
    kinds = [a for a in args if a != T.NULL]
    if len(args) < 2 or not kinds or any(not T.comparable(kinds[0], k) for k in kinds):
        return None
    return T.DECIMAL if any(k.name == "decimal" for k in kinds) else kinds[0].base


def _days_since(env: V.Env, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return V.floor_div(V.epoch(env.now) - V.epoch(value), 86400)
    assert isinstance(value, date)
    return (env.today - value).days


def _days_until(env: V.Env, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return V.floor_div(V.epoch(value) - V.epoch(env.now), 86400)
    assert isinstance(value, date)
    return (value - env.today).days


def _hours_since(env: V.Env, value: Any) -> int | None:
    return None if value is None else V.floor_div(V.epoch(env.now) - V.epoch(value), 3600)


def _round(env: V.Env, value: Any, places: Any = None) -> Any:
    if value is None or (places is None and isinstance(value, int)):
        return value
    digits = 0 if places is None else max(0, min(int(places), 10))
    step = Decimal(1).scaleb(-digits)
    rounded = Decimal(value).quantize(step, rounding=ROUND_HALF_UP, context=V.EXACT)
    return int(rounded) if places is None else rounded


def _len(env: V.Env, value: Any) -> int | None:
    return None if value is None else len(value)


def _coalesce(env: V.Env, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def reads_clock(node: n.Node) -> bool:
    """Whether a condition's value changes with time alone (now(), days_since(), …)."""
    if isinstance(node, n.Call) and (f := FUNCTIONS.get(node.name)) and f.clock:
        return True
    return any(reads_clock(c) for c in n.children(node))


def _changed(env: V.Env, field: Any) -> bool:
    raise AssertionError("compiled specially: changed() needs the field name")


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "now",
            lambda a: T.DATETIME if not a else None,
            lambda env: env.now,
            "fn_now",
            "now()",
            "the current instant",
            constant=True,
            clock=True,
        ),
        Function(
            "today",
            lambda a: T.DATE if not a else None,
            lambda env: env.today,
            "fn_today",
            "today()",
            "today's date in the tenant's time zone",
            constant=True,
            clock=True,
        ),
        Function(
            "days_since",
            lambda a: _time_arg(a, T.INTEGER),
            _days_since,
            "fn_days_since",
            "days_since(last_followup_at) > 30",
            "whole days elapsed since a datetime (24-hour periods) or a date (calendar days "
            "in the tenant's time zone); negative in the future",
            clock=True,
        ),
        Function(
            "hours_since",
            lambda a: _datetime_arg(a, T.INTEGER),
            _hours_since,
            "fn_hours_since",
            "hours_since(assigned_at) > 24",
            "whole hours elapsed",
            clock=True,
        ),
        Function(
            "days_until",
            lambda a: _time_arg(a, T.INTEGER),
            _days_until,
            "fn_days_until",
            "days_until(contract_end) <= 30",
            "whole days left until a date or datetime",
            clock=True,
        ),
        Function(
            "lower",
            _text_arg,
            lambda env, v: None if v is None else v.translate(V.ASCII_LOWER),
            "fn_lower",
            "lower(email) ends_with '@acme.com'",
            "text with A-Z turned into a-z (other letters are kept)",
        ),
        Function(
            "upper",
            _text_arg,
            lambda env, v: None if v is None else v.translate(V.ASCII_UPPER),
            "fn_upper",
            "upper(code) == 'VIP'",
            "text with a-z turned into A-Z",
        ),
        Function(
            "len",
            _len_arg,
            _len,
            "fn_len",
            "len(tags) >= 2",
            "number of characters of a text, or of items of a list",
        ),
        Function(
            "coalesce",
            _coalesce_args,
            _coalesce,
            "fn_coalesce",
            "coalesce(budget, 0) > 1000",
            "the first of its arguments that has a value",
        ),
        Function(
            "abs",
            _number_arg,
            lambda env, v: None if v is None else abs(v),
            "fn_abs",
            "abs(balance) > 100",
            "the number without its sign",
        ),
        Function(
            "round",
            _round_args,
            _round,
            "fn_round",
            "round(budget / 12, 2) > 1000",
            "round half away from zero, to a whole number or to 0-10 decimal places",
        ),
        Function(
            "changed",
            lambda a: T.BOOLEAN if len(a) == 1 else None,
            _changed,
            "",
            "changed(status)",
            "whether this write changed the field",
            update_only=True,
            field_args=True,
        ),
        Function(
            "old",
            lambda a: a[0] if len(a) == 1 else None,
            _changed,
            "",
            "old(status) == 'open' and status == 'won'",
            "the field's value before this write",
            update_only=True,
            field_args=True,
        ),
    )
}
