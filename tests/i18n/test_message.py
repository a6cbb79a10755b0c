"""Rendering: one message type, one render; nested messages, lists and labels by locale."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.i18n import Message, render, text


def test_render_picks_the_language() -> None:
    assert text("required", "en") == "is required"
    assert text("required", "zh-CN") == "必填"
    assert text("required", "zh-TW") == "必填"  # any Chinese tag reads Chinese
    assert text("required", "fr") == text("required", None) == "is required"


def test_params_are_formatted_as_str_format_does() -> None:
    shown = text("simulate.summary", "en", scanned=3, changed=1, errors=0, seconds=Decimal("1.25"))
    assert shown == "3 record(s) scanned, 1 would change, 0 with errors, in 1.2s"
    assert text("condition.regex.brace", "en").startswith("'{' starts a repeat like {2}")


def test_an_unknown_code_shows_its_message_or_itself() -> None:
    assert text("no.such.code", "zh-CN") == "no.such.code"
    assert text("no.such.code", "zh-CN", message="as it came") == "as it came"


def test_nested_messages_render_in_the_same_language() -> None:
    noun = Message("choices.noun.fields")
    message = Message("choices.known", {"noun": noun, "listed": "a, b"})
    assert render(message, "en") == "known fields: a, b"
    assert render(message, "zh-CN") == "已有字段：a, b"
    as_json = json.loads(json.dumps(message.as_json()))  # nested messages travel as JSON
    assert render(Message.from_json(as_json), "zh-CN") == "已有字段：a, b"


def test_lists_join_with_the_language_separator() -> None:
    got = Message(
        "condition.bad_arguments", {"name": "round", "got": ["a", Message("condition.type.text")]}
    )
    assert render(got, "en") == "round() does not take (a, text)"
    assert render(got, "zh-CN") == "round() 不接受（a、文本）"


def test_labels_by_locale_read_in_the_language() -> None:
    labels = [{"en": "Sales", "zh-CN": "销售"}, {"en": "Admin", "zh-CN": "管理员"}]
    params = {"who": "Li", "action": Message("permission.see"), "role_labels": labels}
    message = Message("forbidden", params)
    assert render(message, "en") == "Li may not see this record (roles that can: Sales, Admin)"
    assert render(message, "zh-CN") == "Li无权查看此记录（有此权限的角色：销售、管理员）"


def test_str_is_the_english_text() -> None:
    assert str(Message("choices.did_you_mean", {"guess": "budget"})) == "did you mean 'budget'?"
    assert f"{Message('required')}" == "is required"


def test_a_missing_param_names_itself() -> None:
    with pytest.raises(KeyError, match="guess") as caught:
        text("choices.did_you_mean", "zh-CN")
    assert "choices.did_you_mean" in "".join(caught.value.__notes__)


def test_a_callers_json_in_a_param_is_shown_as_it_is() -> None:
    """Params may hold what a caller sent (an owner that is not a user): never read as a
    message, so it can neither fail nor pick another message."""
    odd = {"code": "choices.did_you_mean", "params": {}}
    shown = text("owner", "zh-CN", value=odd, users="li")
    assert shown == f"“{odd}”不是本租户的用户（用户：li）"
    assert text("owner", "en", value=[1, {"a": 2}], users="li").startswith("'1, {'a': 2}'")
