"""One test of a language tag, one reading of Accept-Language: zh-CN or en."""

from __future__ import annotations

import pytest

from engine.i18n import EN, ZH, accepted, is_chinese, locale_of


@pytest.mark.parametrize(
    ("tag", "chinese"),
    [
        ("zh", True),
        ("zh-CN", True),
        ("ZH-cn", True),
        ("zh_CN", True),
        ("zh-TW", True),
        ("zh-Hans", True),
        ("zh-Hant-HK", True),
        (" zh ", True),
        ("en", False),
        ("en-US", False),
        ("zha", False),  # Zhuang, not Chinese
        ("", False),
        (None, False),
        ("-", False),
    ],
)
def test_is_chinese(tag: str | None, chinese: bool) -> None:
    assert is_chinese(tag) is chinese


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh", ZH),
        ("zh-CN", ZH),
        ("zh-TW", ZH),
        ("zh-Hans", ZH),
        ("zh_CN", ZH),
        ("en-US", EN),
        ("en", EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
        ("en-US,en;q=0.9,zh-CN;q=0.8", EN),
        ("en;q=0.5, zh;q=0.9", ZH),  # by weight, not by order
        ("fr-FR, zh;q=0.5", ZH),  # the first one of ours
        ("fr-FR, de", EN),  # none of ours
        ("zh;q=0, en", EN),  # q=0: not wanted
        ("*", EN),
        ("zh;q=abc, en;q=0.1", EN),  # an unreadable weight counts as 0
        ("garbage;;;,,", EN),
        ("", EN),
        (None, EN),
    ],
)
def test_locale_of(header: str | None, locale: str) -> None:
    assert locale_of(header) == locale


def test_accepted_orders_by_weight_then_position() -> None:
    assert accepted("a;q=0.5, b, c;q=0.5, d;q=0.9") == ["b", "d", "a", "c"]
    assert accepted("x;q=2, y;q=-1, z;q=0") == []  # weights outside (0, 1] are refused


def test_accepted_reads_only_the_first_entries() -> None:
    header = ", ".join(["fr"] * 20 + ["zh"])
    assert accepted(header) == ["fr"] * 20
    assert locale_of(header) == EN
