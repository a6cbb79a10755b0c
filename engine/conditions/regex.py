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

MAX_PATTERN = 300
_BOUND = std_re.compile(r"\{(\d{1,4})(?:,(\d{0,4}))?\}")
_SHORTHAND = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\t\n\f\r "}
_NEGATED = {"D": "d", "W": "w", "S": "s"}
_PUNCT = set(".^$*+?()[]{}|\\/-")
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.dot_nl = True  # '.' matches a newline, as in PostgreSQL's default mode


def portable_regex(pattern: str) -> str:
    """The pattern with shorthands expanded; ValueError for anything not portable."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"longer than {MAX_PATTERN} characters")
    out = _Translator(pattern).run()
    try:
        re2.compile(out, _OPTIONS)
    except re2.error as exc:
        raise ValueError(str(exc)) from None
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
                raise ValueError("only (…) and (?:…) groups are allowed")
            else:
                self.out.append(char)
                self.i += 1
        return "".join(self.out)

    def _escape(self, in_class: bool) -> str:
        if self.i + 1 >= len(self.p):
            raise ValueError("pattern ends with a backslash")
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
        raise ValueError(f"'\\{char}' is not supported; use \\d \\w \\s, or escape punctuation")

    def _bound(self) -> None:
        match = _BOUND.match(self.p, self.i)
        if match is None:
            raise ValueError("'{' starts a repeat like {2} or {1,3}; write \\{ for the sign")
        if any(int(n) > 255 for n in match.groups() if n):
            raise ValueError("repeats are limited to 255")
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
                raise ValueError("[:…:], [.….] and [=…=] are not supported; use \\d \\w \\s")
            else:
                self.out.append(self.p[self.i])
                self.i += 1
        if self.i >= len(self.p):
            raise ValueError("'[' is not closed")
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
