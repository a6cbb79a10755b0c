"""The one error the condition language raises: located inside the expression text."""

from __future__ import annotations


class ConditionError(Exception):
    """A syntax or type error at [pos, end) of the expression, with an optional hint."""

    def __init__(
        self, message: str, pos: int, end: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.end = end if end is not None else pos + 1
        self.hint = hint

    def caret(self, source: str) -> str:
        """The expression with a ^~~ line under the faulty part."""
        width = max(1, min(self.end, len(source) + 1) - self.pos)
        return f"{source}\n{' ' * self.pos}^{'~' * (width - 1)}"

    def __str__(self) -> str:
        where = f"at column {self.pos + 1}"
        return f"{self.message} ({where})" + (f" — {self.hint}" if self.hint else "")
