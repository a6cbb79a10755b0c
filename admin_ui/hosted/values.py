"""From what a browser sends (every value text, a field possibly repeated) to the values the
engine takes, per field type; and back, from a field's value to what its inputs show.

An empty answer is no answer: it is left out, so the form's or the field's default applies.
Checkbox groups are lists; a tag field without options is one text split on commas (Chinese
and Japanese commas and semicolons too); yes/no radios are booleans. Everything else is passed
as typed: the engine checks and converts it, and says what is wrong in the visitor's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from engine.config.model import FieldDef

Raw = Mapping[str, Sequence[str]]  # name → every value sent under it, as text

_SEPARATORS = re.compile(r"[,，、;；]")
_BOOLEANS = {"true": True, "false": False}


def many(field: FieldDef) -> bool:
    """The field is a group of checkboxes: several values, sent under one name."""
    return field.type == "multi_enum" or (field.type == "tags" and bool(field.options))


def split_text(field: FieldDef) -> bool:
    """The field is one text of several values (tags without options)."""
    return field.type == "tags" and not field.options


def split(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def one(field: FieldDef | None, values: Sequence[str]) -> Any:
    """A field's value from what was sent under its name; None for no answer."""
    if field is not None and many(field):
        chosen = [v.strip() for v in values if v.strip()]
        return chosen or None
    text = next((v for v in values if v.strip()), None)
    if text is None:
        return None
    if field is not None and split_text(field):
        return split(text) or None
    if field is not None and field.type == "boolean":
        return _BOOLEANS.get(text.strip().lower(), text)
    return text


def converted(raw: Raw, fields: Mapping[str, FieldDef]) -> dict[str, Any]:
    """The submission as the engine takes it. Names that are not the entity's fields are
    passed on as sent (the engine refuses them with a message saying so)."""
    data: dict[str, Any] = {}
    for name, values in raw.items():
        value = one(fields.get(name), values)
        if value is not None:
            data[name] = value
    return data


def shown(field: FieldDef, value: Any) -> list[str]:
    """What a field's inputs show for a value (a default): the texts a browser would send."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        items = [_text(v) for v in value]
        return [", ".join(items)] if split_text(field) else items
    return [_text(value)]


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def defaults(
    form_defaults: Mapping[str, Any], fields: Mapping[str, FieldDef]
) -> dict[str, list[str]]:
    """The inputs' first values: the form's defaults over the fields' own. A datetime is left
    empty (its default is stored UTC text; the input takes local time)."""
    found: dict[str, list[str]] = {}
    for name, field in fields.items():
        value = form_defaults.get(name, field.default)
        if value is not None and field.type != "datetime":
            found[name] = shown(field, value)
    return found
