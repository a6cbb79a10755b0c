"""Every message a person reads, in English and Chinese, by stable code.

The engine stores codes and parameters (a `Message`); shells render them in the reader's
language: `render(message, locale)` or `text(code, locale, **params)`. The catalogue is one
mapping merged from one module per area (fields, conditions, simulate, ui…), each
code -> {"en": …, "zh-CN": …}; a code defined twice is refused at import. `locale_of` reads a
language tag or an Accept-Language header as "zh-CN" or "en"; `is_chinese` is the one test
of a tag. This package imports nothing else of the engine.
"""

from engine.i18n.hints import choices_hint
from engine.i18n.locale import EN, LOCALES, ZH, accepted, is_chinese, locale_of
from engine.i18n.message import Message, render, text
from engine.i18n.registry import CATALOGUE

__all__ = [
    "CATALOGUE",
    "EN",
    "LOCALES",
    "ZH",
    "Message",
    "accepted",
    "choices_hint",
    "is_chinese",
    "locale_of",
    "render",
    "text",
]
