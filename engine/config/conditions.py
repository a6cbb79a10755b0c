"""Conditions inside a bundle: compiled when the bundle loads, errors located in the YAML.

An error inside an expression string points at its column in that string; an error in a
structured condition points at the YAML node it came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.conditions import ConditionError, Scope, StructuredError, compile_text, entity_scope
from engine.conditions.structured import render
from engine.config.checks import Sources, zone_of
from engine.config.errors import ConfigError
from engine.config.model import EntityDef, Loc, TenantDef, ViewDef
from engine.i18n import choices_hint


def check_condition(
    src: Sources, loc: Loc, sub: str, raw: Any, scope: Scope
) -> Iterator[ConfigError]:
    """Errors of one condition written at loc.pointer + sub (either form)."""
    base = loc.pointer + sub
    try:
        rendered = render(raw, scope.fields)
    except StructuredError as exc:
        yield src.error(Loc(loc.file, base), exc.pointer, exc.message, exc.hint, code="condition")
        return
    except ConditionError as exc:
        yield src.error(Loc(loc.file, base), "", exc.message, exc.hint, code="condition")
        return
    try:
        compile_text(rendered.text, scope)
    except ConditionError as exc:
        yield _located(src, loc.file, base, rendered.locate(exc.pos), exc)


def _located(
    src: Sources, file: str, base: str, where: tuple[str, int | None], exc: ConditionError
) -> ConfigError:
    pointer = base + where[0]
    source = src.files.get(file)
    if source is None or where[1] is None:
        return src.error(Loc(file, pointer), "", exc.message, exc.hint, code="condition")
    line, col = source.locate_in_text(pointer, where[1])
    shown, inner = source.origin(pointer)
    return ConfigError(shown, line, col, inner, exc.message, exc.hint, "condition")


def check_views(
    views: Mapping[str, ViewDef], entities: Mapping[str, EntityDef], tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    tz = zone_of(tenant.timezone)
    for view in views.values():
        entity = entities.get(view.entity)
        if entity is None:
            yield src.unknown_entity(view.loc, view.entity, entities)
            continue
        yield from check_condition(src, view.loc, "/where", view.where, entity_scope(entity, tz))
        sort = (view.sort or "").lstrip("-")
        columns = {*entity.fields, "created_at", "updated_at", "id", "owner", "pool"}
        if sort and sort not in columns:
            yield src.error(
                view.loc,
                "/sort",
                f"cannot sort by '{sort}'",
                str(choices_hint(sort, columns, "fields")),
                code="reference",
            )
