"""Field types: one class each, registered by name — no if/elif over type strings.

A type knows which definition keys apply to it, checks a definition, and builds a coercer: a
closure that turns one input value into its stored form or raises FieldValueError. Coercers are
built once per config version, so the per-record cost is a few attribute-free calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from engine.conditions.stored import format_instant
from engine.config.model import FieldDef
from engine.fields.errors import FieldValueError

Coercer = Callable[[Any], Any]
Problem = tuple[str, str, str | None]  # (definition key, message, hint)

COMMON_KEYS = frozenset(
    {"type", "label", "help", "required", "default", "unique", "pii", "indexed"}
)
MAX_SAFE_INT = 2**53 - 1
MAX_DIGITS = 15  # decimals compare exactly on every database up to here
_PHONE_SEPARATORS = str.maketrans("", "", " -.()/\u00a0")
_PHONE_RE = re.compile(r"^\+?[0-9]{5,20}$")
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_URL_RE = re.compile(
    r"https?://(?:[^\s/?#@]+@)?(?:[^\s/?#:@\[\]]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FieldType:
    """Base of all field types."""

    name: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()
    unique_allowed: ClassVar[bool] = True
    scalar: ClassVar[bool] = True  # one value: a list or an object is refused, [] too
    expected: ClassVar[str] = "text"  # what a value must be ("type" errors), in English

    def check(self, f: FieldDef) -> Iterator[Problem]:
        """Problems with a field definition beyond what the schema catches."""
        return iter(())

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        raise NotImplementedError

    def parse_bound(self, raw: Any, tz: tzinfo = UTC) -> Decimal | str:
        """Turn a min/max from the bundle into the type's comparable form."""
        raise ValueError("bounds do not apply")


def _length_check(f: FieldDef) -> Iterator[Problem]:
    if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
        yield (
            "min_length",
            f"min_length {f.min_length} is larger than max_length {f.max_length}",
            "swap them or fix one",
        )


def _range_check(f: FieldDef) -> Iterator[Problem]:
    if f.min is not None and f.max is not None and f.min > f.max:  # type: ignore[operator]
        yield ("min", f"min {f.min} is larger than max {f.max}", "swap them or fix one")


def finite(value: Any) -> Any:
    """JSON's NaN and ±Infinity (Python's json reads them) are no value of any field."""
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldValueError("not_finite")
    return value


def _bounded(value: Any, low: Any, high: Any) -> Any:
    if low is not None and value < low:
        raise FieldValueError("too_small", n=low)
    if high is not None and value > high:
        raise FieldValueError("too_large", n=high)
    return value


def field_pattern(pattern: str) -> Any:
    """A field's pattern on RE2: linear time whatever a visitor types (no ReDoS)."""
    from engine.conditions.regex import compiled_field_pattern

    return compiled_field_pattern(pattern)


class StringType(FieldType):
    name = "string"
    keys = frozenset({"min_length", "max_length", "pattern"})
    default_max = 255

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _length_check(f)
        if f.pattern is not None:
            try:
                field_pattern(f.pattern)
            except ValueError as exc:
                yield (
                    "pattern",
                    f"pattern is not a valid regular expression: {exc}",
                    "patterns run on RE2 (no back-references or look-arounds), so no input "
                    "can make them slow",
                )

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        low = f.min_length or 0
        high = f.max_length or self.default_max
        matcher = field_pattern(f.pattern).fullmatch if f.pattern else None

        def coerce(value: Any) -> str:
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                value = str(finite(value))
            if not isinstance(value, str):
                raise FieldValueError("type", expected="text")
            text = value.strip()
            if len(text) < low:
                raise FieldValueError("too_short", n=low)
            if len(text) > high:
                raise FieldValueError("too_long", n=high)
            if matcher is not None and matcher(text) is None:
                raise FieldValueError("pattern")
            return text

        return coerce


class TextType(StringType):
    name = "text"
    default_max = 20_000


class IntegerType(FieldType):
    name = "integer"
    keys = frozenset({"min", "max"})
    expected = "a whole number"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _range_check(f)

    def parse_bound(self, raw: Any, tz: tzinfo = UTC) -> Decimal:
        number = _to_decimal(raw)
        if number != number.to_integral_value():
            raise ValueError("a bound of an integer field must be a whole number")
        return number

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        low = int(f.min) if f.min is not None else -MAX_SAFE_INT
        high = int(f.max) if f.max is not None else MAX_SAFE_INT

        def coerce(value: Any) -> int:
            if isinstance(value, bool):
                raise FieldValueError("type", expected="a whole number")
            if not isinstance(value, int):
                value = _to_int(value)
            return int(_bounded(value, low, high))

        return coerce


def _to_int(value: Any) -> int:
    if isinstance(finite(value), float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]{1,16}\s*", value):
        return int(value)
    raise FieldValueError("type", expected="a whole number")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise FieldValueError("type", expected="a number")
    if isinstance(finite(value), float):
        # A float means at most 15 digits; beyond that is binary noise (0.1 + 0.2).
        value = format(value, ".15g")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise FieldValueError("type", expected="a number") from None
    if not number.is_finite():
        raise FieldValueError("not_finite")
    if abs(number.adjusted()) > 15 or len(number.as_tuple().digits) > 28:
        raise FieldValueError("type", expected="a number")
    return number + 0 if number else Decimal(0)  # no negative zero


class DecimalType(FieldType):
    """Exact numbers, stored as canonical decimal text so no float ever rounds them."""

    name = "decimal"
    keys = frozenset({"min", "max", "scale"})
    expected = "a number"
    default_scale: int | None = None

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _range_check(f)

    def parse_bound(self, raw: Any, tz: tzinfo = UTC) -> Decimal:
        return _to_decimal(raw)

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        scale = f.scale if f.scale is not None else self.default_scale
        low, high = f.min, f.max

        def coerce(value: Any) -> str:
            number = _bounded(_to_decimal(value), low, high)
            if scale is not None:
                exponent = number.as_tuple().exponent
                step = Decimal(1).scaleb(-scale)
                if (
                    isinstance(exponent, int)
                    and -exponent > scale
                    and number != number.quantize(step)
                ):
                    raise FieldValueError("scale", n=scale)
                number = number.quantize(Decimal(1).scaleb(-scale))
            if len(number.as_tuple().digits) > MAX_DIGITS:
                raise FieldValueError("digits", n=MAX_DIGITS)
            return _canonical(number, scale)

        return coerce


def _canonical(number: Decimal, scale: int | None) -> str:
    if scale is not None:
        return f"{number:.{scale}f}"
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


class MoneyType(DecimalType):
    name = "money"
    keys = frozenset({"min", "max", "scale", "currency"})
    default_scale = 2


_TRUE = {"true", "1", "yes", "on", "是"}
_FALSE = {"false", "0", "no", "off", "否"}


class BooleanType(FieldType):
    name = "boolean"
    unique_allowed = False
    expected = "true or false"

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        def coerce(value: Any) -> bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise FieldValueError("type", expected="true or false")

        return coerce


class DateType(FieldType):
    name = "date"
    keys = frozenset({"min", "max"})
    expected = "a date"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _range_check(f)

    def parse_bound(self, raw: Any, tz: tzinfo = UTC) -> str:
        return _parse_date(raw)

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        low, high = f.min, f.max

        def coerce(value: Any) -> str:
            return str(_bounded(_parse_date(value), low, high))

        return coerce


def _parse_date(value: Any) -> str:
    if isinstance(value, datetime):
        raise FieldValueError("date")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise FieldValueError("date")


def parse_instant(value: Any, tz: tzinfo) -> datetime:
    """An aware datetime from ISO text; naive input is read in the tenant's time zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and 10 <= len(value.strip()) <= 40:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
        except ValueError:
            raise FieldValueError("datetime") from None
    else:
        raise FieldValueError("datetime")
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    try:
        moment.astimezone(UTC)
    except OverflowError:  # at the very ends of the calendar
        raise FieldValueError("datetime") from None
    return moment


class DateTimeType(FieldType):
    name = "datetime"
    keys = frozenset({"min", "max"})
    expected = "a date and time"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _range_check(f)

    def parse_bound(self, raw: Any, tz: tzinfo = UTC) -> str:
        return format_instant(parse_instant(raw, tz))

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        low, high = f.min, f.max

        def coerce(value: Any) -> str:
            if isinstance(value, date) and not isinstance(value, datetime):
                raise FieldValueError("datetime")
            return str(_bounded(format_instant(parse_instant(value, tz)), low, high))

        return coerce


def _option_check(f: FieldDef) -> Iterator[Problem]:
    if not f.options:
        yield (
            "options",
            f"a field of type {f.type} needs options",
            "list the allowed values, e.g. options: [east, north]",
        )


class EnumType(FieldType):
    name = "enum"
    keys = frozenset({"options"})
    expected = "a single option"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _option_check(f)

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        allowed = frozenset(f.option_values)
        listed = ", ".join(f.option_values)

        def coerce(value: Any) -> str:
            if not isinstance(value, str) or value.strip() not in allowed:
                raise FieldValueError("option", options=listed)
            return value.strip()

        return coerce


def _string_list(value: Any, limit: int) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise FieldValueError("type", expected="a list")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > 64:
            raise FieldValueError("type", expected="a list")
        if item.strip() not in items:
            items.append(item.strip())
    if len(items) > limit:
        raise FieldValueError("too_many", n=limit)
    return items


class MultiEnumType(FieldType):
    name = "multi_enum"
    keys = frozenset({"options", "max_items"})
    unique_allowed = False
    scalar = False
    expected = "a list"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        yield from _option_check(f)

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        allowed = frozenset(f.option_values)
        listed = ", ".join(f.option_values)
        limit = f.max_items or len(allowed)

        def coerce(value: Any) -> list[str]:
            items = _string_list(value, limit)
            if not allowed.issuperset(items):
                raise FieldValueError("option", options=listed)
            return items

        return coerce


class TagsType(FieldType):
    name = "tags"
    keys = frozenset({"max_items"})
    unique_allowed = False
    scalar = False
    expected = "a list"

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        limit = f.max_items or 50

        def coerce(value: Any) -> list[str]:
            return _string_list(value, limit)

        return coerce


class PhoneType(FieldType):
    """Phone numbers, stored without separators so '138 0013 8000' equals '13800138000'."""

    name = "phone"
    keys = frozenset({"pattern"})
    expected = "a phone number"

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        matcher = field_pattern(f.pattern).fullmatch if f.pattern else None

        def coerce(value: Any) -> str:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise FieldValueError("phone")
            number = value.translate(_PHONE_SEPARATORS)
            if number.startswith("00"):
                number = "+" + number[2:]
            if _PHONE_RE.fullmatch(number) is None or (matcher and matcher(number) is None):
                raise FieldValueError("phone")
            return number

        return coerce

    check = StringType.check


class EmailType(FieldType):
    name = "email"
    expected = "an email address"

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        def coerce(value: Any) -> str:
            if not isinstance(value, str) or len(value.strip()) > 254:
                raise FieldValueError("email")
            text = value.strip()
            if _EMAIL_RE.fullmatch(text) is None:
                raise FieldValueError("email")
            local, _, domain = text.rpartition("@")
            return f"{local}@{domain.lower()}"

        return coerce


class UrlType(FieldType):
    name = "url"
    expected = "a URL"

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        def coerce(value: Any) -> str:
            if not isinstance(value, str) or len(value.strip()) > 2048:
                raise FieldValueError("url")
            text = value.strip()
            if _URL_RE.fullmatch(text) is None:
                raise FieldValueError("url")
            return text

        return coerce


class ReferenceType(FieldType):
    """The id of another record; the service checks that it exists in the same tenant."""

    name = "reference"
    keys = frozenset({"entity"})
    unique_allowed = True
    expected = "a record id"

    def check(self, f: FieldDef) -> Iterator[Problem]:
        if f.ref_entity is None:
            yield (
                "entity",
                "a reference field needs 'entity'",
                "name the entity it points to, e.g. entity: customer",
            )

    def coercer(self, f: FieldDef, tz: tzinfo) -> Coercer:
        def coerce(value: Any) -> str:
            if not isinstance(value, str) or _ID_RE.fullmatch(value.strip()) is None:
                raise FieldValueError("type", expected="a record id")
            return value.strip()

        return coerce


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        StringType(),
        TextType(),
        IntegerType(),
        DecimalType(),
        MoneyType(),
        BooleanType(),
        DateType(),
        DateTimeType(),
        EnumType(),
        MultiEnumType(),
        TagsType(),
        PhoneType(),
        EmailType(),
        UrlType(),
        ReferenceType(),
    )
}
