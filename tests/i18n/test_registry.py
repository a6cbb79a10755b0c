"""The one catalogue: every code in both languages with the same placeholders, no code twice."""

from __future__ import annotations

import re
from string import Formatter
from types import ModuleType

import pytest

from engine.i18n import CATALOGUE, LOCALES, text
from engine.i18n.registry import AREAS, merge

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Words one language has and the other leaves out (English articles).
EMPTY_IN_CHINESE = {"condition.article.a", "condition.article.an"}
KEPT = EMPTY_IN_CHINESE | {"simulate.id", "dash.job.webhook"}  # the same in Chinese


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_every_code_has_both_languages() -> None:
    for code, texts in CATALOGUE.items():
        assert set(texts) == set(LOCALES), code
        assert all(isinstance(t, str) for t in texts.values()), code
        assert texts["en"], code
        assert texts["zh-CN"] or code in EMPTY_IN_CHINESE, code


def test_both_languages_take_the_same_placeholders() -> None:
    for code, texts in CATALOGUE.items():
        assert placeholders(texts["en"]) == placeholders(texts["zh-CN"]), code


def test_the_chinese_is_chinese() -> None:
    """A Chinese text with words in its English has Chinese in it: not a copy left behind."""
    for code, texts in CATALOGUE.items():
        words = re.search(r"[A-Za-z]", re.sub(r"\{[^}]*\}", "", texts["en"]))
        if words and code not in KEPT:
            assert CJK.search(texts["zh-CN"]), code


def test_every_area_holds_its_own_codes() -> None:
    assert sum(len(area.MESSAGES) for area in AREAS) == len(CATALOGUE)
    for area in AREAS:
        assert area.MESSAGES, area.__name__


def test_a_code_defined_twice_is_refused() -> None:
    first = ModuleType("first")
    first.MESSAGES = {"a.b": {"en": "x", "zh-CN": "甲"}}  # type: ignore[attr-defined]
    second = ModuleType("second")
    second.MESSAGES = {"a.b": {"en": "y", "zh-CN": "乙"}}  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"second.*a\.b"):
        merge((first, second))
    assert dict(merge((first,)))["a.b"]["en"] == "x"


def test_the_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE["required"] = {"en": "x", "zh-CN": "x"}  # type: ignore[index]
    with pytest.raises(TypeError):
        CATALOGUE["required"]["en"] = "x"  # type: ignore[index]


def test_every_message_renders_with_its_placeholders_filled() -> None:
    for code, texts in CATALOGUE.items():
        params = {name: 7 for name in placeholders(texts["en"])}
        for locale in LOCALES:
            shown = text(code, locale, **params)
            assert shown == texts[locale].format(**params), code


def test_a_missing_param_fails_loudly() -> None:
    for code, texts in CATALOGUE.items():
        names = sorted(placeholders(texts["en"]))
        if not names:
            continue
        params = {name: 1 for name in names[1:]}
        for locale in LOCALES:
            with pytest.raises(KeyError, match=names[0]):
                text(code, locale, **params)
