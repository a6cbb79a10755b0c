"""Checks of rollups: the entities and fields they join, the types they produce, their
conditions, and that no rollup depends on itself through other rollups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.conditions import (
    ConditionError,
    StructuredError,
    compile_any,
    entity_scope,
    reads_clock,
)
from engine.config.checks import Sources, zone_of
from engine.config.conditions import check_condition
from engine.config.errors import ConfigError
from engine.config.model import DerivedDef, EntityDef, FieldDef, Loc, RollupDef, TenantDef
from engine.i18n import choices_hint

NUMERIC = frozenset({"integer", "decimal", "money"})
ORDERED = NUMERIC | {"date", "datetime"}
SYSTEM_ORDER = ("created_at",)  # updated_at changes on writes no rollup sees (claims, moves)


def check_rollups(
    rollups: tuple[RollupDef, ...],
    derived: tuple[DerivedDef, ...],
    entities: Mapping[str, EntityDef],
    tenant: TenantDef,
    src: Sources,
) -> Iterator[ConfigError]:
    owners = {(d.entity, d.field): d.name for d in derived}
    for item in rollups:
        parent, child = entities.get(item.entity), entities.get(item.source)
        if parent is None:
            yield src.unknown_entity(item.loc, item.entity, entities)
        if child is None:
            hint = str(choices_hint(item.source, entities, "entities"))
            yield src.error(
                item.loc, "/from", f"unknown entity '{item.source}'", hint, code="reference"
            )
        if parent is None or child is None:
            continue
        yield from computed_once(owners, (item.entity, item.field), item.name, item.loc, src)
        target = parent.fields.get(item.field)
        if target is not None:
            yield from check_computed_target(target, item.loc, src)
        yield from _check_fields(item, parent, child, src)
        yield from _check_where(item, child, tenant, src)
    yield from _check_cycle(rollups, src)


def computed_once(
    owners: dict[tuple[str, str], str], key: tuple[str, str], name: str, loc: Loc, src: Sources
) -> Iterator[ConfigError]:
    """A field is computed by one rule set: the first that names it keeps it."""
    if key in owners:
        yield src.error(
            loc,
            "/field",
            f"{key[1]} is already computed by '{owners[key]}'",
            "a field has one rule set",
            code="duplicate",
        )
    owners.setdefault(key, name)


def check_computed_target(target: FieldDef, loc: Loc, src: Sources) -> Iterator[ConfigError]:
    """A field that rules compute takes what they compute: no uniqueness, no bounds — a value
    the field refused would make every write that recomputes it fail."""
    limits = [
        name
        for name in ("unique", "min", "max", "min_length", "max_length", "pattern")
        if getattr(target, name) not in (None, False)
    ]
    if limits:
        yield src.error(
            loc,
            "/field",
            f"'{target.name}' is computed by rules, so it cannot have {', '.join(limits)}",
            f"remove {', '.join(limits)} from the field '{target.name}'",
            code="invalid",
        )


def _field(
    item: RollupDef, entity: EntityDef, name: str, sub: str, src: Sources
) -> tuple[FieldDef | None, list[ConfigError]]:
    found = entity.fields.get(name)
    if found is not None:
        return found, []
    hint = str(choices_hint(name, entity.fields, "fields"))
    message = f"entity '{entity.name}' has no field '{name}'"
    return None, [src.error(item.loc, sub, message, hint, code="reference")]


def _check_fields(
    item: RollupDef, parent: EntityDef, child: EntityDef, src: Sources
) -> Iterator[ConfigError]:
    target, errors = _field(item, parent, item.field, "/field", src)
    yield from errors
    via, errors = _field(item, child, item.via, "/via", src)
    yield from errors
    if via is not None and (via.type != "reference" or via.ref_entity != parent.name):
        yield src.error(
            item.loc,
            "/via",
            f"'{item.via}' must be a reference of {child.name} to {parent.name}",
            _via_hint(child, parent.name),
            code="type",
        )
    of = None
    if item.of is not None:
        of, errors = _field(item, child, item.of, "/of", src)
        yield from errors
    if item.fn == "count" and item.of is not None:
        yield src.error(item.loc, "/of", "count takes no 'of'", "remove 'of'", code="invalid")
    if of is not None:
        yield from _check_of(item, of, child, src)
    if target is not None and (of is not None or item.fn == "count"):
        problem = result_problem(item.fn, target, of)
        if problem:
            message, hint = problem
            yield src.error(item.loc, "/field", message, hint, code="type")
    yield from _check_order(item, child, src)


def _via_hint(child: EntityDef, parent: str) -> str | None:
    names = [f.name for f in child.fields.values() if f.ref_entity == parent]
    return f"references to {parent}: {', '.join(names)}" if names else None


def _check_of(
    item: RollupDef, of: FieldDef, child: EntityDef, src: Sources
) -> Iterator[ConfigError]:
    wanted = NUMERIC if item.fn == "sum" else ORDERED if item.fn in ("min", "max") else None
    if wanted is None or of.type in wanted:
        return
    kinds = "a number" if item.fn == "sum" else "a number, date or datetime"
    fits = [f.name for f in child.fields.values() if f.type in wanted]
    yield src.error(
        item.loc,
        "/of",
        f"{item.fn} needs {kinds} field, '{of.name}' is {of.type}",
        f"fields of {child.name} that fit: {', '.join(fits)}" if fits else "use count or last",
        code="type",
    )


def result_problem(fn: str, target: FieldDef, of: FieldDef | None) -> tuple[str, str] | None:
    """Why a rollup's result cannot be stored in its field (message, hint), or None."""
    if fn == "count":
        if target.type == "integer":
            return None
        return f"a count is written to an integer field, not {target.type}", "use an integer field"
    assert of is not None
    if target.type == "reference" or of.type == "reference":
        return "a rollup cannot write a reference", "roll up a value (a number, date or text)"
    if (fn == "sum" and of.type not in NUMERIC) or (
        fn in ("min", "max") and of.type not in ORDERED
    ):
        return None  # reported on 'of'
    if of.type in NUMERIC and target.type in NUMERIC:
        if target.type == "integer" and of.type != "integer":
            message = f"'{target.name}' is integer but {of.name} is {of.type}"
            return message, f"write it to a {of.type} field"
        return None
    if target.type != of.type:
        message = f"'{target.name}' is {target.type} but {of.name} is {of.type}"
        return message, f"write it to a {of.type} field"
    missing = set(of.option_values) - set(target.option_values)
    if missing:
        message = f"'{target.name}' lacks options of {of.name}: {', '.join(sorted(missing))}"
        return message, f"add them to {target.name}'s options"
    return None


def _check_order(item: RollupDef, child: EntityDef, src: Sources) -> Iterator[ConfigError]:
    if item.order_by is None:
        return
    if item.fn != "last":
        yield src.error(
            item.loc,
            "/order_by",
            "only 'last' takes order_by",
            f"remove order_by: {item.fn} compares the values of '{item.of}' themselves",
            code="invalid",
        )
        return
    if item.order_by in SYSTEM_ORDER:
        return
    if item.order_by == "updated_at":
        yield src.error(
            item.loc,
            "/order_by",
            "a rollup cannot order by updated_at",
            "updated_at also changes on claims, moves and sweeps, which do not recompute "
            "rollups; order by created_at or a date field",
            code="invalid",
        )
        return
    field, errors = _field(item, child, item.order_by, "/order_by", src)
    yield from errors
    if field is not None and field.type not in ORDERED:
        yield src.error(
            item.loc,
            "/order_by",
            f"order_by needs a number, date or datetime field, '{field.name}' is {field.type}",
            "or created_at",
            code="type",
        )


def _check_where(
    item: RollupDef, child: EntityDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    if item.where is None:
        return
    scope = entity_scope(child, zone_of(tenant.timezone))
    errors = list(check_condition(src, item.loc, "/where", item.where, scope))
    yield from errors
    if errors:
        return
    try:
        condition = compile_any(item.where, scope)[0]
    except (ConditionError, StructuredError):  # reported above
        return
    if reads_clock(condition.tree):
        yield src.error(
            item.loc,
            "/where",
            "a rollup's condition cannot depend on the current time",
            "rollups are recomputed when related records change, so a time-based condition "
            "would go stale; compare with fixed values, or use a view or sweep instead",
            code="condition",
        )


def _check_cycle(rollups: tuple[RollupDef, ...], src: Sources) -> Iterator[ConfigError]:
    """A child's write updates its parent, whose write may update its own parent: a loop in
    these entity links (a record rolling up into itself) would never settle."""
    edges: dict[str, list[RollupDef]] = {}
    for item in rollups:
        edges.setdefault(item.source, []).append(item)
    path: list[RollupDef] = []

    def visit(entity: str) -> list[RollupDef]:
        for item in edges.get(entity, ()):
            if any(p.source == item.entity for p in path) or item.entity == item.source:
                start = next((i for i, p in enumerate(path) if p.source == item.entity), 0)
                return [*path[start:], item]
            path.append(item)
            found = visit(item.entity)
            path.pop()
            if found:
                return found
        return []

    for entity in list(edges):
        cycle = visit(entity)
        if cycle:
            chain = " → ".join(f"{r.name} ({r.source} → {r.entity})" for r in cycle)
            yield src.error(
                cycle[0].loc,
                "",
                f"rollups form a loop: {chain}",
                "a record's rollups may not depend on records of its own entity",
                code="cycle",
            )
            return
