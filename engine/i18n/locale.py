"""Which of the two languages a person reads: from a language tag or an Accept-Language header."""

from __future__ import annotations

EN, ZH = "en", "zh-CN"
LOCALES = (EN, ZH)
MAX_ACCEPTED = 20  # Accept-Language entries looked at (the header is the caller's to send)


def is_chinese(tag: str | None) -> bool:
    """Whether a language tag is Chinese: zh, zh-CN, zh-Hans, zh-TW, zh_CN… in any case."""
    if not tag:
        return False
    return tag.strip().lower().replace("_", "-").split("-")[0] == "zh"


def accepted(header: str) -> list[str]:
    """An Accept-Language header's language tags, best first (by q, then order); q=0 and '*'
    left out. A bare tag is a header of one tag."""
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:MAX_ACCEPTED]):
        tag, _, rest = part.strip().partition(";")
        tag, q = tag.strip(), 1.0
        if rest.strip().lower().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and 0 < q <= 1:
            weighted.append((-q, i, tag))
    return [tag for _, _, tag in sorted(weighted)]


def locale_of(accept_language_or_tag: str | None) -> str:
    """zh-CN or en: the first language of the header (or the tag) that is one of the two;
    en when none is."""
    for tag in accepted(accept_language_or_tag or ""):
        if is_chinese(tag):
            return ZH
        if tag.lower().replace("_", "-").split("-")[0] == "en":
            return EN
    return EN
