"""SQL functions registered on every SQLite connection, so SQLite computes exactly as Python.

SQLite has no decimal type and no regex; these give it the language's exact arithmetic
(Decimal, shared with the Python backend) and RE2 matching.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from engine.conditions import values as V
from engine.conditions.regex import search


def _num(value: Any) -> Decimal | int | None:
    if value is None or isinstance(value, bytes):
        return None
    if isinstance(value, int):
        return value
    return V.to_decimal(value)


def tp_arith(op: str, a: Any, b: Any) -> str | None:
    result = V.arith(op, _num(a), _num(b))
    return None if result is None else str(result)


def tp_cmp(a: Any, b: Any) -> int | None:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return None
    return (x > y) - (x < y)


def tp_round(value: Any, places: Any) -> str | None:
    from engine.conditions.functions import _round

    number = _num(value)
    if number is None:
        return None
    return str(_round(None, number, places))  # type: ignore[arg-type]


def tp_regexp(pattern: str, text: Any) -> int | None:
    return None if not isinstance(text, str) else int(search(pattern, text))


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("tp_arith", 3, tp_arith, deterministic=True)
    conn.create_function("tp_cmp", 2, tp_cmp, deterministic=True)
    conn.create_function("tp_round", 2, tp_round, deterministic=True)
    conn.create_function("tp_regexp", 2, tp_regexp, deterministic=True)
