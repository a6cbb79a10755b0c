"""The visitor's language: `?lang=` when it is one of the tenant's locales, else the best
match of the browser's Accept-Language, else the tenant's own locale. And the links that
switch it, keeping the page's other query parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from admin_ui.hosted.texts import LOCALES, language_name

MAX_ACCEPTED = 20  # Accept-Language entries looked at (the header is the visitor's to send)


@dataclass(frozen=True)
class LangLink:
    locale: str
    name: str
    href: str
    current: bool


def accepted(header: str) -> list[str]:
    """The header's language tags, best first (by q, then order); q=0 and '*' left out."""
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:MAX_ACCEPTED]):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().lower().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and 0 < q <= 1:
            weighted.append((-q, i, tag))
    return [tag for _, _, tag in sorted(weighted)]


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
