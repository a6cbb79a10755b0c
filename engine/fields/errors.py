"""The error a field value raises when it cannot be accepted."""

from __future__ import annotations

from typing import Any

from engine.errors import Signal
from engine.i18n import render


class FieldValueError(Signal):
    """A value was refused: a stable code plus the parameters of its message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(render(code, "en", params))

    def message(self, locale: str | None = None) -> str:
        return render(self.code, locale, self.params)
