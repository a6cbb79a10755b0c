"""Recursive-descent parser: one method per precedence level, lowest first.

or  →  and  →  not  →  comparison  →  additive  →  multiplicative  →  unary  →  primary
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import NoReturn

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions.errors import ConditionError
from engine.conditions.lexer import Token, tokenize, unquote
from engine.conditions.messages import msg
from engine.i18n import Message

MAX_DEPTH = 40
MAX_ITEMS = 1000
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_WORD_TESTS = {"contains", "starts_with", "ends_with", "matches"}
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse(source: str) -> n.Node:
    """Parse an expression; raises ConditionError (located) and nothing else."""
    try:
        return _Parser(source).parse()
    except RecursionError:
        raise ConditionError(msg("condition.too_deep"), 0, len(source)) from None


def duration_seconds(text: str) -> int:
    return sum(int(num) * _UNITS[unit] for num, unit in re.findall(r"(\d+)([wdhms])", text))


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = list(tokenize(source))
        self.i = 0
        self.depth = 0

    # helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, *texts: str) -> bool:
        return self.tok.kind == kind and (not texts or self.tok.text in texts)

    def expect(self, kind: str, text: str, what: str) -> Token:
        """The next token, which must be `text`; `what` is the code of its description."""
        if not self.at(kind, text):
            self.fail("condition.expected", self.tok, what=msg(f"condition.what.{what}"))
        return self.next()

    def fail(
        self, code: str, token: Token, hint: Message | None = None, **params: object
    ) -> NoReturn:
        """A syntax error at a token; the message (`code`) ends with what was found there."""
        found: Message | str = f"'{token.text}'"
        if token.kind == "eof":
            found = msg("condition.found.end")
        elif token.kind == "string":
            found = token.text
        message = msg(code, **params, found=found)
        raise ConditionError(message, token.pos, max(token.end, token.pos + 1), hint)

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                msg("condition.nested_levels", n=MAX_DEPTH),
                self.tok.pos,
                hint=msg("condition.hint.simplify"),
            )

    # grammar -------------------------------------------------------------------------------
    def parse(self) -> n.Node:
        if self.at("eof"):
            raise ConditionError(msg("condition.empty"), 0, hint=msg("condition.hint.example"))
        node = self.parse_or()
        if self.at("string") and self.tokens[self.i - 1].kind == "string":
            self.fail("condition.two_texts", self.tok, msg("condition.hint.quote_in_text"))
        if not self.at("eof"):
            self.fail("condition.expected_end", self.tok)
        return node

    def parse_or(self) -> n.Node:
        items = [self.parse_and()]
        while self.at("keyword", "or"):
            self.next()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else n.Or(items[0].pos, items[-1].end, tuple(items))

    def parse_and(self) -> n.Node:
        items = [self.parse_not()]
        while self.at("keyword", "and"):
            self.next()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else n.And(items[0].pos, items[-1].end, tuple(items))

    def parse_not(self) -> n.Node:
        if self.at("keyword", "not"):
            start = self.next()
            self.nest()
            operand = self.parse_not()
            self.depth -= 1
            return n.Not(start.pos, operand.end, operand)
        return self.parse_comparison()

    def parse_comparison(self) -> n.Node:
        left = self.parse_additive()
        node = self._test(left)
        if node is not left and (self.at("op", *_COMPARE) or self.at("keyword", "in")):
            self.fail("condition.chained", self.tok, msg("condition.hint.join_with_and"))
        return node

    def _test(self, left: n.Node) -> n.Node:
        tok = self.tok
        if tok.kind == "op" and tok.text in _COMPARE:
            self.next()
            right = self.parse_additive()
            return n.Compare(left.pos, right.end, tok.text, left, right)
        if tok.kind == "keyword" and tok.text in _WORD_TESTS | {"in"}:
            self.next()
            right = self.parse_additive()
            return n.Compare(left.pos, right.end, tok.text, left, right)
        if self.at("keyword", "not"):
            return self._not_in(left)
        if self.at("keyword", "between"):
            return self._between(left)
        if self.at("keyword", "is"):
            return self._is_null(left)
        return left

    def _not_in(self, left: n.Node) -> n.Node:
        self.next()
        if not self.at("keyword", "in"):
            self.fail("condition.not_without_in", self.tok, msg("condition.hint.not_in"))
        self.next()
        right = self.parse_additive()
        return n.Compare(left.pos, right.end, "not in", left, right)

    def _between(self, left: n.Node) -> n.Node:
        self.next()
        low = self.parse_additive()
        self.expect("keyword", "and", "between_and")
        high = self.parse_additive()
        return n.Between(left.pos, high.end, left, low, high)

    def _is_null(self, left: n.Node) -> n.Node:
        self.next()
        negated = self.at("keyword", "not")
        if negated:
            self.next()
        end = self.expect("keyword", "null", "null")
        return n.IsNull(left.pos, end.end, left, negated)

    def parse_additive(self) -> n.Node:
        node = self.parse_multiplicative()
        while self.at("op", "+", "-"):
            op = self.next().text
            right = self.parse_multiplicative()
            node = n.Arith(node.pos, right.end, op, node, right)
        return node

    def parse_multiplicative(self) -> n.Node:
        node = self.parse_unary()
        while self.at("op", "*", "/"):
            op = self.next().text
            right = self.parse_unary()
            node = n.Arith(node.pos, right.end, op, node, right)
        return node

    def parse_unary(self) -> n.Node:
        if self.at("op", "-"):
            start = self.next()
            self.nest()
            operand = self.parse_unary()
            self.depth -= 1
            return n.Neg(start.pos, operand.end, operand)
        return self.parse_primary()

    def parse_primary(self) -> n.Node:
        tok = self.tok
        handler = _PRIMARY.get(tok.kind)
        if handler is None:
            self.fail("condition.expected_value", tok)
        return handler(self, tok)

    def _literal(self, tok: Token) -> n.Node:
        self.next()
        value = _literal_value(tok)
        kind = _LITERAL_TYPES.get(tok.kind) or (T.INTEGER if isinstance(value, int) else T.DECIMAL)
        return n.Literal(tok.pos, tok.end, value, tok.text, type=kind)

    def _keyword(self, tok: Token) -> n.Node:
        if tok.text in ("true", "false", "null"):
            self.next()
            value = {"true": True, "false": False, "null": None}[tok.text]
            kind = T.NULL if value is None else T.BOOLEAN
            return n.Literal(tok.pos, tok.end, value, tok.text, type=kind)
        self.fail("condition.expected_value", tok, msg("condition.hint.keyword", word=tok.text))

    def _name(self, tok: Token) -> n.Node:
        self.next()
        if not self.at("op", "("):
            return n.FieldRef(tok.pos, tok.end, tok.text)
        self.next()
        args = self._items(")", "a function argument")
        end = self.expect("op", ")", "comma_or_paren")
        return n.Call(tok.pos, end.end, tok.text, tuple(args))

    def _op(self, tok: Token) -> n.Node:
        if tok.text == "(":
            self.next()
            self.nest()
            inner = self.parse_or()
            self.depth -= 1
            self.expect("op", ")", "close_paren")
            return inner
        if tok.text == "[":
            self.next()
            items = self._items("]", "a list item")
            end = self.expect("op", "]", "comma_or_bracket")
            return n.ListLit(tok.pos, end.end, tuple(items))
        self.fail("condition.expected_value", tok)

    def _items(self, closing: str, what: str) -> list[n.Node]:
        items: list[n.Node] = []
        while not self.at("op", closing):
            items.append(self.parse_additive())
            if len(items) > MAX_ITEMS:
                self.fail("condition.too_many_items", self.tok, n=MAX_ITEMS)
            if not self.at("op", ","):
                break
            self.next()
        return items


def _literal_value(tok: Token) -> object:
    if tok.kind == "string":
        return unquote(tok)
    if tok.kind == "number":
        return Decimal(tok.text) if "." in tok.text else int(tok.text)
    if tok.kind == "duration":
        return duration_seconds(tok.text)
    try:
        if tok.kind == "date":
            return date.fromisoformat(tok.text)
        return datetime.fromisoformat(tok.text.replace("Z", "+00:00"))
    except ValueError:
        message = msg("condition.not_real", text=tok.text, kind=msg(f"condition.type.{tok.kind}"))
        raise ConditionError(message, tok.pos, tok.end, msg("condition.hint.month_day")) from None


_LITERAL_TYPES = {
    "string": T.STRING,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "duration": T.DURATION,
}
_PRIMARY = {
    "string": _Parser._literal,
    "number": _Parser._literal,
    "date": _Parser._literal,
    "datetime": _Parser._literal,
    "duration": _Parser._literal,
    "keyword": _Parser._keyword,
    "name": _Parser._name,
    "op": _Parser._op,
}
