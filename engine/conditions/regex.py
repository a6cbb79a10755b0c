"""`matches`: a portable, linear-time regex subset.

Patterns run on RE2 in Python and SQLite (no catastrophic backtracking) and on PostgreSQL's
ARE engine, so only constructs that mean the same on both are allowed, and the shorthand
classes are spelt out in ASCII (\\w in PostgreSQL would also match Chinese letters).
"""

from __future__ import annotations

import re as std_re
from functools import lru_cache
from typing import Any

import re2

from engine.conditions.messages import msg
from engine.errors import Signal
from engine.i18n import Message

MAX_PATTERN = 300
_BOUND = std_re.compile(r"\{(\d{1,4})(?:,(\d{0,4}))?\}")
_SHORTHAND = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\t\n\f\r "}
_NEGATED = {"D": "d", "W": "w", "S": "s"}
_PUNCT = set(".^$*+?()[]{}|\\/-")
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.dot_nl = True  # '.' matches a newline, as in PostgreSQL's default mode


class PatternError(Signal):
    """Why a pattern is refused: `msg` by code, str() its English text."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.msg = message


def portable_regex(pattern: str) -> str:
    """The pattern with shorthands expanded; PatternError for anything not portable."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(msg("condition.regex.too_long", n=MAX_PATTERN))
    out = _Translator(pattern).run()
    try:
        re2.compile(out, _OPTIONS)
    except re2.error as exc:
        raise PatternError(msg("condition.regex.re2", detail=str(exc))) from None
    return out


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []

    def run(self) -> str:
        while self.i < len(self.p):
            char = self.p[self.i]
            if char == "\\":
                self.out.append(self._escape(in_class=False))
            elif char == "[":
                self._bracket()
            elif char == "{":
                self._bound()
            elif (
                char == "("
                and self.p.startswith("(?", self.i)
                and not self.p.startswith("(?:", self.i)
            ):
                raise PatternError(msg("condition.regex.groups"))
            else:
                self.out.append(char)
                self.i += 1
        return "".join(self.out)

    def _escape(self, in_class: bool) -> str:
        if self.i + 1 >= len(self.p):
            raise PatternError(msg("condition.regex.trailing_backslash"))
        char = self.p[self.i + 1]
        self.i += 2
        if char in _SHORTHAND:
            return _SHORTHAND[char] if in_class else f"[{_SHORTHAND[char]}]"
        if char in _NEGATED and not in_class:
            return f"[^{_SHORTHAND[_NEGATED[char]]}]"
        if char in _PUNCT:
            return "\\" + char
        if char in "nt":
            return {"n": "\n", "t": "\t"}[char]
        raise PatternError(msg("condition.regex.escape", char=char))

    def _bound(self) -> None:
        match = _BOUND.match(self.p, self.i)
        if match is None:
            raise PatternError(msg("condition.regex.brace"))
        if any(int(n) > 255 for n in match.groups() if n):
            raise PatternError(msg("condition.regex.repeat_limit"))
        self.out.append(match.group())
        self.i = match.end()

    def _bracket(self) -> None:
        self.out.append("[")
        self.i += 1
        if self.p.startswith("^", self.i):
            self.out.append("^")
            self.i += 1
        first = True
        while self.i < len(self.p) and (self.p[self.i] != "]" or first):
            first = False
            if self.p[self.i] == "\\":
                self.out.append(self._escape(in_class=True))
            elif self.p.startswith(("[:", "[.", "[="), self.i):
                # POSIX classes, collating elements and equivalence classes: PostgreSQL reads
                # them, RE2 does not — refuse rather than disagree.
                raise PatternError(msg("condition.regex.posix"))
            else:
                self.out.append(self.p[self.i])
                self.i += 1
        if self.i >= len(self.p):
            raise PatternError(msg("condition.regex.bracket"))
        self.out.append("]")
        self.i += 1


@lru_cache(maxsize=512)
def compiled(pattern: str) -> Any:
    """RE2 program for an already portable pattern."""
    return re2.compile(pattern, _OPTIONS)


def search(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None


_FIELD_OPTIONS = re2.Options()
_FIELD_OPTIONS.log_errors = False


@lru_cache(maxsize=512)
def compiled_field_pattern(pattern: str) -> Any:
    """RE2 program for a field's `pattern` (full RE2 syntax; only Python runs it)."""
    try:
        return re2.compile(pattern, _FIELD_OPTIONS)
    except re2.error as exc:
        message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(message) from None
