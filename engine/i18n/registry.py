"""The one catalogue: every area's messages merged, a code defined twice refused.

Each area module holds MESSAGES, a mapping code -> {"en": …, "zh-CN": …} with str.format
placeholders; both languages take the same placeholders (tests/i18n checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

from engine.i18n import (
    access,
    assignment,
    campaigns,
    common,
    conditions,
    fields,
    hosted,
    simulate,
    templates,
    ui,
    ui_assignment,
    ui_campaigns,
    ui_config,
    ui_dashboard,
    ui_forms,
    ui_pools,
    ui_records,
)

AREAS: tuple[ModuleType, ...] = (
    common,
    fields,
    conditions,
    templates,
    access,
    assignment,
    campaigns,
    simulate,
    ui,
    ui_assignment,
    ui_campaigns,
    ui_config,
    ui_dashboard,
    ui_forms,
    ui_pools,
    ui_records,
    hosted,
)


def merge(areas: tuple[ModuleType, ...]) -> Mapping[str, Mapping[str, str]]:
    """The areas' messages as one read-only mapping; ValueError naming a code defined twice."""
    merged: dict[str, Mapping[str, str]] = {}
    for area in areas:
        messages: Mapping[str, Mapping[str, str]] = area.MESSAGES
        twice = sorted(set(messages) & set(merged))
        if twice:
            raise ValueError(f"message codes defined twice ({area.__name__}): {twice}")
        merged.update((code, MappingProxyType(dict(texts))) for code, texts in messages.items())
    return MappingProxyType(merged)


CATALOGUE = merge(AREAS)
