"""The visitor's language: `?lang=` when it is one of the tenant's locales, else the best
match of the browser's Accept-Language, else the tenant's own locale. The links that switch
it, keeping the page's other query parameters; sentences joined as the language does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from engine.i18n import LOCALES, accepted, is_chinese, text


@dataclass(frozen=True)
class LangLink:
    locale: str
    name: str
    href: str
    current: bool


def match(tag: str, locales: Sequence[str]) -> str | None:
    """The locale a tag asks for: the same tag (any case), else the same language."""
    lowered = tag.lower()
    for locale in locales:
        if locale.lower() == lowered:
            return locale
    language = lowered.split("-")[0]
    for locale in locales:
        if locale.lower().split("-")[0] == language:
            return locale
    return None


def choose(asked: str | None, header: str, locales: Sequence[str], default: str) -> str:
    """The page's language (see the module's docstring)."""
    if asked:
        exact = next((loc for loc in locales if loc.lower() == asked.lower()), None)
        if exact is not None:
            return exact
    for tag in accepted(header):
        found = match(tag, locales)
        if found is not None:
            return found
    return default


def visitor_locale(query: QueryParams, header: str, locales: Sequence[str], default: str) -> str:
    return choose(query.get("lang"), header, locales or (default,), default)


def without_form_locale(query: QueryParams, header: str) -> str:
    """The language of a page that has no tenant (an unknown form): the UI's own locales."""
    return choose(query.get("lang"), header, LOCALES, "en")


def query_with(query: QueryParams, **changes: str | None) -> str:
    """The query string with some parameters set (or, with None, removed); others kept."""
    kept = [(k, v) for k, v in query.multi_items() if k not in changes]
    kept += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(kept)


def switch_links(
    path: str, query: QueryParams, locales: Sequence[str], current: str
) -> list[LangLink]:
    """One link per locale of the tenant (none when it has only one)."""
    if len(locales) < 2:
        return []
    return [
        LangLink(loc, language_name(loc), f"{path}?{query_with(query, lang=loc)}", loc == current)
        for loc in locales
    ]


def language_name(locale: str) -> str:
    """A language's name in itself ("中文"); a locale the UI has no words for shows its tag."""
    return text("language.name", locale) if locale in LOCALES else locale


def sentences(locale: str | None, *parts: str) -> str:
    """Sentences one after another: with a space in English, none in Chinese."""
    return ("" if is_chinese(locale) else " ").join(p for p in parts if p)
