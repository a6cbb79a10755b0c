"""A message by code and parameters, and its text in a locale.

Parameters are shown as they are (str.format, so `{n:.1f}` works), except:
- a nested `Message`: rendered in the same locale;
- a list or tuple: its items shown and joined by the locale's separator (", " or "、");
- a mapping of locales to texts ({"en": …, "zh-CN": …}, as the bundle gives labels): the
  locale's text.
Any other value (a caller's JSON, say) is shown as str() shows it. A missing parameter raises
KeyError: a message is never shown with a hole in it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.i18n.locale import EN, LOCALES, ZH, is_chinese
from engine.i18n.registry import CATALOGUE


@dataclass(frozen=True, slots=True)
class Message:
    """A message by its stable code; params are plain values or nested messages."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The message as plain JSON, nested messages as {"code", "params"} too."""
        return {"code": self.code, "params": {k: _json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        """A message back from `as_json` (nested messages included)."""
        params = data.get("params")
        given = params if isinstance(params, Mapping) else {}
        return cls(str(data.get("code", "")), {k: _from_json(v) for k, v in given.items()})

    def __str__(self) -> str:
        """The English text (what logs and English-only texts show)."""
        return render(self, EN)


def render(message: Message, locale: str | None = EN) -> str:
    """The message in a locale (zh-CN for any Chinese tag, else en). An unknown code shows
    its `message` param, or the code itself."""
    lang = ZH if is_chinese(locale) else EN
    texts = CATALOGUE.get(message.code)
    if texts is None:
        return str(_Formatter(lang).shown(message.params.get("message", message.code)))
    template = texts[lang]
    if not message.params and "{" not in template:
        return template  # most UI words: nothing to fill in
    try:
        return _Formatter(lang).vformat(template, (), message.params)
    except KeyError as exc:
        exc.add_note(f"rendering message {message.code!r} in {lang}")
        raise


def text(code: str, locale: str | None = EN, **params: Any) -> str:
    """The text of a code in a locale: render(Message(code, params), locale)."""
    return render(Message(code, params), locale)


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> Any:
        return super().format_field(self.shown(value), format_spec)

    def shown(self, value: Any) -> Any:
        if isinstance(value, Message):
            return render(value, self.lang)
        if isinstance(value, list | tuple):
            return CATALOGUE["list.sep"][self.lang].join(str(self.shown(v)) for v in value)
        if _texts(value):
            return value.get(self.lang, value.get(EN, ""))
        return value


def _texts(value: Any) -> bool:
    """Whether a value is texts by locale, as a bundle's label gives them."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(k in LOCALES and isinstance(v, str) for k, v in value.items())
    )


def _json(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"code", "params"}:
        return Message.from_json(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value
