"""Condition errors in English and Chinese: every raising site on a known code of the catalogue
(engine/i18n/conditions.py), the English text exactly as printed before. The catalogue's own
checks (both languages, same placeholders) are tests/i18n's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from engine.conditions import ConditionError, Scope, compile_any, compile_text
from engine.conditions.messages import RAW, type_name
from engine.conditions.types import DECIMAL, STRING, list_of
from engine.i18n import CATALOGUE, Message, choices_hint, render
from tests.conditions.test_errors import cases

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Codes no condition reaches today: the fallback for plain text; the name of a node without
# one (every node that carries enum options is a field or a call, both named); '<>' (the
# lexer reads it as '<' then '>'); a list type without its item type; a hint shown with its
# message (engine.rules.compiled, not the language); the words of traces.
UNREACHED = {
    RAW,
    "condition.word.this_field",
    "condition.hint.use_not_equal",
    "condition.type.list",
    "condition.with_hint",
    "trace.true",
    "trace.false",
    "trace.null",
}
CODES = {code for code in CATALOGUE if code.startswith(("condition.", "trace."))}
SHARED = {"choices.did_you_mean", "choices.known", "choices.noun.fields"}  # engine/i18n/common.py
SHARED |= {"choices.noun.functions", "choices.noun.options", "choices.none_yet"}

EXTRA = [
    "a" * 4001,
    "",
    "(" * 41 + "vip" + ")" * 41,
    "[" * 1990 + "]" * 1990,
    "budget in [" + ", ".join(["1"] * 1001) + "]",
    "name == '\x00'",
    "last_followup_at > 0001-01-01T00:00",
    "last_followup_at > 2026-02-30T10:00",
    "[[1]] contains 1",
    "changed(name)",
    "-name == 'a'",
    "-tags == 'a'",
    "name + 1 > 2",
    "null + 1 > 1",
    "vip > true",
    "1d > 1",
    "budget in ['a']",
    "tags contains 1",
    "and budget",
    "budget + 1 > 'abc'",
    "len(name) > 'a'",
    "len(name) + 1 > 'a'",
    "zzzzzzzz > 1",
    "!vip",
    "budget <> 1",
    "budget not 1",
    "len(name > 1",
    "budget in [1 2]",
    "name matches '" + "a" * 301 + "'",
    "name matches 'a\\\\'",
    "name matches 'a{'",
    "name matches '[[:alpha:]]'",
    "name matches '[abc'",
    "name matches 'a)'",
    "name matches '(a'",
]
UPDATE = ["changed('a')", "old(budget + 1) > 1"]
STRUCTURED: list[Any] = [{"field": "budget", "op": "eq", "value": {"a": 1}}]


def raised(scope: Scope, update_scope: Scope) -> Iterator[tuple[str, ConditionError]]:
    """Every error of the corpus and the extra cases, with its condition."""
    for condition, runs in [(c, scope) for c, _ in cases()] + [
        *((c, scope) for c in EXTRA),
        *((c, update_scope) for c in UPDATE),
    ]:
        try:
            compile_text(condition, runs)
        except ConditionError as exc:
            yield condition, exc
        else:
            raise AssertionError(f"no error: {condition!r}")
    for raw in STRUCTURED:
        with pytest.raises(ConditionError) as info:
            compile_any(raw, scope)
        yield repr(raw), info.value


def codes_in(msg: Message | dict[str, Any] | None) -> Iterator[str]:
    if msg is None:
        return
    code, params = (
        (msg.code, msg.params) if isinstance(msg, Message) else (msg["code"], msg["params"])
    )
    yield code
    for value in params.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Message) or (isinstance(item, dict) and "code" in item):
                yield from codes_in(item)


def test_every_error_renders_in_both_languages(scope: Scope, update_scope: Scope) -> None:
    seen: set[str] = set()
    for condition, exc in raised(scope, update_scope):
        where = f"condition: {condition[:60]!r}"
        assert exc.code in CATALOGUE and exc.code != RAW, where
        assert exc.text("en") == exc.message == exc.text(None) == exc.text("fr"), where
        assert exc.hint_text("en") == exc.hint, where
        zh, zh_hint = exc.text("zh-CN"), exc.hint_text("zh-CN")
        assert CJK.search(zh), f"{where}: {zh}"
        assert exc.text("zh") == zh, where
        if exc.hint is not None:
            assert exc.hint_msg is not None and exc.hint_msg.code != RAW, where
            assert zh_hint is not None and CJK.search(zh_hint), f"{where}: {zh_hint}"
        else:
            assert zh_hint is None, where
        english = re.search(r"\b(the|cannot|expected|found|unknown|must|did you)\b", zh)
        assert not english, f"{where}: {zh}"
        seen.update(codes_in(exc.msg), codes_in(exc.hint_msg))
    assert CODES - seen == UNREACHED
    assert seen - CODES <= SHARED, seen - CODES


def test_choices_hint_in_both_languages() -> None:
    assert str(choices_hint("budjet", ["budget", "name"], "fields")) == "did you mean 'budget'?"
    assert str(choices_hint("x", ["a", "b"], "fields")) == "known fields: a, b"
    assert render(choices_hint("x", [], "fields"), "zh-CN") == "还没有字段"
    assert render(choices_hint("x", ["a", "b"], "options"), "zh-CN") == "已有选项：a, b"


def test_type_names() -> None:
    assert [str(type_name(t)) for t in (STRING, DECIMAL, list_of(STRING))] == [
        "text",
        "decimal",
        "list of text",
    ]
    assert render(type_name(list_of(STRING)), "zh-CN") == "文本列表"
    assert render(type_name(None), "zh-CN") == "None"


def test_the_common_errors_in_chinese(scope: Scope) -> None:
    def zh(condition: str) -> str:
        with pytest.raises(ConditionError) as info:
            compile_text(condition, scope)
        exc = info.value
        return exc.text("zh-CN") + (f" — {exc.hint_text('zh-CN')}" if exc.hint else "")

    assert zh("budjet > 1") == "未知字段“budjet” — 您是不是要写“budget”？"
    assert zh("foo(1) > 1").startswith("未知函数“foo” — 已有函数：abs, ")
    assert zh("name > 3") == "无法比较 name（文本） 与 整数 3 — 与文本比较请加引号：'3'"
    assert zh("(budget > 1") == "此处应为 ')'，实际是条件结尾"
    assert zh("name == 'abc") == "文本缺少结束引号 — 请用相同的引号结束文本"
    assert zh("round(budget, 'x') > 1").startswith("round() 不接受（小数、文本）")


def test_params_are_plain_json(scope: Scope) -> None:
    import json

    with pytest.raises(ConditionError) as info:
        compile_text("round(budget, 'x') > 1", scope)
    data = json.loads(json.dumps(info.value.msg.as_json()))
    assert render(Message.from_json(data), "zh-CN") == info.value.text("zh-CN")
    assert info.value.params["name"] == "round"
