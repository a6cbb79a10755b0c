"""Types of the condition language, and how field types map onto them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A value type. `item` is set for lists; `options` for enum-valued strings."""

    name: str
    item: Type | None = None
    options: frozenset[str] | None = None

    def __str__(self) -> str:
        return f"list of {self.item}" if self.item else self.name

    @property
    def base(self) -> Type:
        """The type without enum options (for compatibility checks)."""
        return Type(self.name, self.item) if self.options is not None else self


STRING = Type("text")
INTEGER = Type("integer")
DECIMAL = Type("decimal")
BOOLEAN = Type("boolean")
DATE = Type("date")
DATETIME = Type("datetime")
DURATION = Type("duration")
NULL = Type("null")
NUMERIC = frozenset({"integer", "decimal"})


def list_of(item: Type) -> Type:
    return Type("list", item)


def field_type(kind: str, options: tuple[str, ...] = ()) -> Type:
    """The condition type of a bundle field type."""
    if kind in ("enum",):
        return Type("text", options=frozenset(options))
    if kind == "multi_enum":
        return list_of(Type("text", options=frozenset(options)))
    if kind == "tags":
        return list_of(STRING)
    return _FIELD_TYPES[kind]


_FIELD_TYPES = {
    "string": STRING,
    "text": STRING,
    "phone": STRING,
    "email": STRING,
    "url": STRING,
    "reference": STRING,
    "integer": INTEGER,
    "decimal": DECIMAL,
    "money": DECIMAL,
    "boolean": BOOLEAN,
    "date": DATE,
    "datetime": DATETIME,
}


def comparable(a: Type, b: Type) -> bool:
    """Whether == / < between the two types means something."""
    if NULL in (a, b):
        return True
    if a.name in NUMERIC and b.name in NUMERIC:
        return True
    return a.base == b.base
