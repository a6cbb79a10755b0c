"""Tokens of a condition expression, each with its offset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from engine.conditions.errors import ConditionError
from engine.conditions.messages import msg

MAX_LENGTH = 4000
KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "true",
        "false",
        "between",
        "contains",
        "starts_with",
        "ends_with",
        "matches",
    }
)
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
_RULES = [
    ("ws", r"\s+"),
    ("datetime", _DATETIME + r"(?![\w:.])"),
    ("date", r"\d{4}-\d{2}-\d{2}(?![\w:.-])"),
    ("duration", r"\d+(?:w|d|h|m|s)(?:\s*\d+(?:w|d|h|m|s))*(?!\w)"),
    ("number", r"\d+(?:\.\d+)?(?![\w.])"),
    ("name", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("string", r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""),
    ("op", r"==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,"),
]
_SCANNER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _RULES))
_MISTAKES = {
    "=": "condition.hint.double_equals",
    "&&": "condition.hint.use_and",
    "||": "condition.hint.use_or",
    "!": "condition.hint.use_not",
    "<>": "condition.hint.use_not_equal",
    "'": "condition.hint.close_quote",
    '"': "condition.hint.close_quote",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, keyword, string, number, date, datetime, duration, op, eof
    text: str
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


def tokenize(source: str) -> Iterator[Token]:
    if len(source) > MAX_LENGTH:
        raise ConditionError(
            msg("condition.too_long", n=MAX_LENGTH), MAX_LENGTH, hint=msg("condition.hint.split")
        )
    pos = 0
    while pos < len(source):
        match = _SCANNER.match(source, pos)
        if match is None or match.end() == pos:
            raise _bad_char(source, pos)
        kind, text = match.lastgroup or "", match.group()
        if kind == "name" and text.lower() in KEYWORDS:
            kind, text = "keyword", text.lower()
        if kind != "ws":
            yield Token(kind, text, pos)
        pos = match.end()
    yield Token("eof", "", len(source))


def _bad_char(source: str, pos: int) -> ConditionError:
    two = source[pos : pos + 2]
    for mistake in sorted(_MISTAKES, key=len, reverse=True):
        if two.startswith(mistake):
            hint = msg(_MISTAKES[mistake])
            if mistake in "'\"":
                return ConditionError(msg("condition.text_not_closed"), pos, len(source), hint)
            message = msg("condition.unexpected", text=mistake)
            return ConditionError(message, pos, pos + len(mistake), hint)
    return ConditionError(msg("condition.unexpected_char", char=repr(source[pos])), pos)


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


def unquote(token: Token) -> str:
    """The value of a string token. \\n \\t \\\\ \\' \\\" are escapes; any other backslash is
    kept as written, so regex patterns such as '^1[3-9]\\d{9}$' need no doubling."""
    body = token.text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)
