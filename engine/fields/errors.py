"""The error a field value raises when it cannot be accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.i18n import Message, render


class FieldValueError(Exception):
    """A value was refused: a stable code plus the parameters of its message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(render(field_message(code, params), "en"))

    def message(self, locale: str | None = None) -> str:
        return render(field_message(self.code, self.params), locale)


def field_message(code: str, params: Mapping[str, Any]) -> Message:
    """A field error's message. Its `expected` (a 'type' error's "a whole number", given in
    English by whoever raised it) is shown as the catalogue's word for it in the locale."""
    expected = params.get("expected")
    if isinstance(expected, str):
        word = Message(f"expected.{expected}", {"message": expected})
        params = {**params, "expected": word}
    return Message(code, params)
