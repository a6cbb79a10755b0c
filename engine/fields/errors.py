"""The error a field value raises when it cannot be accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import Signal
from engine.i18n import Message, render


class FieldValueError(Signal):
    """A value was refused: a stable code plus the parameters of its message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(render(field_message(code, params), "en"))

    def message(self, locale: str | None = None) -> str:
        return render(field_message(self.code, self.params), locale)


def field_message(code: str, params: Mapping[str, Any]) -> Message:
    """A field error's message. Two params are given in a form the catalogue reads here:
    a 'type' error's `expected` ("a whole number", in English) is shown as the catalogue's
    word for it; a 'condition' error's message and hint, kept by code as JSON ("error",
    "hint_error": engine.rules.compiled.condition_error), are shown in the locale."""
    expected = params.get("expected")
    if isinstance(expected, str):
        params = {**params, "expected": Message(f"expected.{expected}", {"message": expected})}
    error, hint = params.get("error"), params.get("hint_error")
    if code == "condition" and isinstance(error, Mapping):
        shown = Message.from_json(error)
        if isinstance(hint, Mapping):
            both = {"message": shown, "hint": Message.from_json(hint)}
            shown = Message("condition.with_hint", both)
        params = {**params, "message": shown}
    return Message(code, params)
