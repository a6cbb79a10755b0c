"""The one error the condition language raises: located inside the expression text."""

from __future__ import annotations

from typing import Any

from engine.conditions.messages import RAW
from engine.errors import Signal
from engine.i18n import EN, Message, render


class ConditionError(Signal):
    """A syntax or type error at [pos, end) of the expression, with an optional hint.

    Message and hint are `Message`s (a stable code and params, see messages.py): `.message`
    and `.hint` are their English texts, `.text(locale)` and `.hint_text(locale)` any locale.
    """

    def __init__(
        self,
        message: str | Message,
        pos: int,
        end: int | None = None,
        hint: str | Message | None = None,
    ) -> None:
        self.msg = message if isinstance(message, Message) else Message(RAW, {"message": message})
        self.hint_msg = Message(RAW, {"message": hint}) if isinstance(hint, str) else hint
        self.message = render(self.msg, EN)
        super().__init__(self.message)
        self.pos = pos
        self.end = end if end is not None else pos + 1
        self.hint = render(self.hint_msg, EN) if self.hint_msg is not None else None

    @property
    def code(self) -> str:
        return self.msg.code

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.msg.params)

    def text(self, locale: str | None = EN) -> str:
        """The message in a locale (en, zh-CN; others read English)."""
        return render(self.msg, locale)

    def hint_text(self, locale: str | None = EN) -> str | None:
        return render(self.hint_msg, locale) if self.hint_msg is not None else None

    def caret(self, source: str) -> str:
        """The expression with a ^~~ line under the faulty part."""
        width = max(1, min(self.end, len(source) + 1) - self.pos)
        return f"{source}\n{' ' * self.pos}^{'~' * (width - 1)}"

    def __str__(self) -> str:
        where = f"at column {self.pos + 1}"
        return f"{self.message} ({where})" + (f" — {self.hint}" if self.hint else "")
