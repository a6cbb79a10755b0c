"""Runtime values of the Python backend and the exact arithmetic every backend shares.

Values: text str, integer int, decimal Decimal, boolean bool, date date, datetime aware
datetime (UTC), duration int seconds, lists list. None is null everywhere.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

DIVISION_PLACES = Decimal("1e-10")
EXACT = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = date(1970, 1, 1).toordinal()
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Env:
    """What an evaluation sees: the record's values, the values before a write, the time."""

    __slots__ = ("data", "now", "old", "tz")

    def __init__(
        self,
        data: Mapping[str, Any],
        now: datetime,
        tz: tzinfo,
        old: Mapping[str, Any] | None = None,
    ) -> None:
        self.data = data
        # Times are to the second everywhere (stored, SQL); replace() is slow: only if needed.
        self.now = now.replace(microsecond=0) if now.microsecond else now
        self.tz = tz
        self.old = old

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        return None


def arith(op: str, a: Any, b: Any) -> Any:
    """a op b on numbers, exactly; division rounds half-up to 10 places, x/0 is null."""
    if a is None or b is None:
        return None
    if op == "/":
        if b == 0:
            return None
        quotient = EXACT.divide(Decimal(a), Decimal(b))
        return quotient.quantize(DIVISION_PLACES, context=EXACT)
    if isinstance(a, int) and isinstance(b, int):
        return a + b if op == "+" else a - b if op == "-" else a * b
    x, y = Decimal(a), Decimal(b)
    return (
        EXACT.add(x, y)
        if op == "+"
        else EXACT.subtract(x, y)
        if op == "-"
        else EXACT.multiply(x, y)
    )


def shift(op: str, a: Any, b: Any) -> Any:
    """Time arithmetic: datetime/date ± duration seconds, differences as seconds."""
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, datetime):
        a, b = b, a
    if isinstance(b, int) and isinstance(a, datetime | date):
        try:
            delta = timedelta(seconds=b) if isinstance(a, datetime) else timedelta(days=b // 86400)
            return a + delta if op == "+" else a - delta
        except OverflowError:  # past year 9999 or before year 1: no such time
            return None
    if isinstance(a, datetime) and isinstance(b, datetime):
        return int((a - b).total_seconds())
    if isinstance(a, date) and isinstance(b, date):
        return (a - b).days * 86400
    return a + b if op == "+" else a - b


def epoch(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def floor_div(a: int, b: int) -> int:
    return a // b


# Readers: stored JSON value → runtime value (None when missing or unreadable).
def read_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_decimal(value: Any) -> Decimal | None:
    return to_decimal(value) if isinstance(value, str | int) and value != "" else None


def read_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def read_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


READERS: dict[str, Callable[[Any], Any]] = {
    "text": read_text,
    "integer": read_int,
    "decimal": read_decimal,
    "boolean": read_bool,
    "date": read_date,
    "datetime": read_datetime,
    "list": read_list,
}
