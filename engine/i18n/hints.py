"""The hint for a name that is not one of the known ones: did-you-mean, else what is known."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from engine.i18n.message import Message
from engine.i18n.registry import CATALOGUE

SHOWN = 20  # known names listed at most


def choices_hint(word: str, choices: Iterable[str], noun: str = "") -> Message:
    """Did-you-mean when a choice is close, else the known choices (`noun` names them:
    "fields", "pools"…; the catalogue's nouns read in Chinese too)."""
    options = sorted(choices)
    if not options:
        if not noun:
            return Message("choices.nothing_allowed")
        return Message("choices.none_yet", {"noun": _noun(noun)})
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return Message("choices.did_you_mean", {"guess": close[0]})
    listed = ", ".join(options[:SHOWN]) + (", …" if len(options) > SHOWN else "")
    if not noun:
        return Message("choices.expected_one_of", {"listed": listed})
    return Message("choices.known", {"noun": _noun(noun), "listed": listed})


def _noun(noun: str) -> Message | str:
    code = f"choices.noun.{noun}"
    return Message(code) if code in CATALOGUE else noun
