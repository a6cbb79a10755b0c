"""choices_hint: did-you-mean, else the known choices, else that there are none."""

from __future__ import annotations

from engine.i18n import choices_hint, render


def test_a_close_name_is_guessed() -> None:
    hint = choices_hint("budjet", ["name", "budget"], "fields")
    assert (str(hint), render(hint, "zh-CN")) == (
        "did you mean 'budget'?",
        "您是不是要写“budget”？",
    )


def test_otherwise_the_known_ones_are_listed() -> None:
    hint = choices_hint("x", ["b", "a"], "fields")
    assert (str(hint), render(hint, "zh-CN")) == ("known fields: a, b", "已有字段：a, b")
    many = choices_hint("zzz", [f"n{i:02d}" for i in range(25)], "pools")
    assert str(many) == "known pools: " + ", ".join(f"n{i:02d}" for i in range(20)) + ", …"
    assert render(many, "zh-CN").startswith("已有pools：n00")  # a noun the catalogue lacks
    assert str(choices_hint("x", ["a"])) == "expected one of: a"


def test_nothing_to_choose_from() -> None:
    assert str(choices_hint("x", [], "fields")) == "there are no fields yet"
    assert render(choices_hint("x", [], "fields"), "zh-CN") == "还没有字段"
    assert str(choices_hint("x", [])) == "nothing is allowed here"
    assert render(choices_hint("x", []), "zh-CN") == "此处不允许填写任何值"
