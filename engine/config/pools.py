"""Checks of pool sets: pools, initial pool, promotions (targets, conditions, cycles)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.conditions import Scope, entity_scope
from engine.config.checks import Sources, check_labels, zone_of
from engine.config.conditions import check_condition
from engine.config.errors import ConfigError
from engine.config.model import (
    DerivedDef,
    EntityDef,
    Loc,
    PoolSetDef,
    PromotionDef,
    ProtectionDef,
    TenantDef,
)
from engine.config.rollups import check_computed_target, computed_once
from engine.i18n import choices_hint

# Decisions the public pool writes under the pool set's name: promotions may not take them.
RESERVED_RULES = frozenset({"claim", "release", "protection_expired", "protection_reminder"})


def check_pool_sets(
    pool_sets: Mapping[str, PoolSetDef],
    entities: Mapping[str, EntityDef],
    tenant: TenantDef,
    src: Sources,
) -> Iterator[ConfigError]:
    owners: dict[str, str] = {}
    for pool_set in pool_sets.values():
        entity = entities.get(pool_set.entity)
        if entity is None:
            yield src.unknown_entity(pool_set.loc, pool_set.entity, entities)
            continue
        if pool_set.entity in owners:
            yield src.error(
                pool_set.loc,
                "/entity",
                f"{pool_set.entity} already has the pool set '{owners[pool_set.entity]}'",
                "an entity has at most one pool set; use grades or segments for other dimensions",
                code="duplicate",
            )
        owners.setdefault(pool_set.entity, pool_set.name)
        yield from _check_pools(pool_set, tenant, src)
        scope = entity_scope(entity, zone_of(tenant.timezone), update=True)
        yield from _check_promotions(pool_set, scope, src)
        yield from _check_cycles(pool_set, src)
        yield from _check_public(pool_set, entity, src)
        yield from _check_claimers(pool_set, tenant, src)


def _check_claimers(pool_set: PoolSetDef, tenant: TenantDef, src: Sources) -> Iterator[ConfigError]:
    claimers = pool_set.public.claimers if pool_set.public is not None else None
    if claimers is None or pool_set.public is None:
        return
    loc = pool_set.public.loc
    for sub, names, known, noun in (
        ("/claimers/teams", claimers.teams, tenant.teams, "team"),
        ("/claimers/roles", claimers.roles, tenant.roles, "role"),
    ):
        for i, name in enumerate(names):
            if name not in known:
                hint = (
                    str(choices_hint(name, known, f"{noun}s"))
                    if known
                    else f"no {noun}s are declared"
                )
                yield src.error(
                    loc, f"{sub}/{i}", f"unknown {noun} '{name}'", hint, code="reference"
                )


def _check_pools(pool_set: PoolSetDef, tenant: TenantDef, src: Sources) -> Iterator[ConfigError]:
    if pool_set.initial not in pool_set.pools:
        yield src.error(
            pool_set.loc,
            "/initial",
            f"unknown pool '{pool_set.initial}'",
            str(choices_hint(pool_set.initial, pool_set.pools, "pools")),
            code="reference",
        )
    for pool in pool_set.pools.values():
        yield from check_labels(pool.label, tenant.locales, src, pool.loc, "/label")


def _check_promotions(pool_set: PoolSetDef, scope: Scope, src: Sources) -> Iterator[ConfigError]:
    seen: set[str] = set()
    for rule in pool_set.promotions:
        if rule.id in seen:
            yield src.error(
                rule.loc,
                "/id",
                f"duplicate promotion id '{rule.id}'",
                "ids name rules in decisions and explanations: keep them unique",
                code="duplicate",
            )
        seen.add(rule.id)
        if rule.id in RESERVED_RULES:
            yield src.error(
                rule.loc,
                "/id",
                f"'{rule.id}' names the public pool's own decisions",
                "choose another id",
                code="invalid",
            )
        for i, pool in enumerate(rule.from_pools or ()):
            if pool not in pool_set.pools:
                yield src.error(
                    rule.loc,
                    f"/from/{i}",
                    f"unknown pool '{pool}'",
                    str(choices_hint(pool, pool_set.pools, "pools")),
                    code="reference",
                )
        if rule.to not in pool_set.pools:
            yield src.error(
                rule.loc,
                "/to",
                f"unknown pool '{rule.to}'",
                str(choices_hint(rule.to, pool_set.pools, "pools")),
                code="reference",
            )
        elif rule.from_pools is not None and rule.to in rule.from_pools:
            yield src.error(
                rule.loc,
                "/to",
                f"'{rule.to}' is also in from",
                "a promotion moves a record to another pool",
                code="invalid",
            )
        yield from check_condition(src, rule.loc, "/when", rule.when, scope)


def _check_public(pool_set: PoolSetDef, entity: EntityDef, src: Sources) -> Iterator[ConfigError]:
    public = pool_set.public
    if public is None:
        return
    named = [("/pool", public.pool), ("/claim_to", public.claim_to)]
    named += [(f"/holding_pools/{i}", p) for i, p in enumerate(public.holding_pools or ())]
    for sub, pool in named:
        if pool is not None and pool not in pool_set.pools:
            hint = str(choices_hint(pool, pool_set.pools, "pools"))
            yield src.error(public.loc, sub, f"unknown pool '{pool}'", hint, code="reference")
    claim_to = public.claim_to or pool_set.initial
    sub = "/claim_to" if public.claim_to else "/pool"
    if claim_to == public.pool:
        hint = (
            "set claim_to to the pool a claimed record goes to"
            if public.claim_to is None
            else "name the pool a claimed record goes to, or leave claim_to out to use "
            f"the initial pool ({pool_set.initial})"
        )
        yield src.error(
            public.loc,
            sub,
            f"claimed records would stay in the public pool '{public.pool}'",
            hint,
            code="invalid",
        )
    elif (
        claim_to in pool_set.pools and _known(pool_set) and claim_to not in pool_set.holding_pools()
    ):
        yield src.error(
            public.loc,
            sub,
            f"claimed records go to '{claim_to}', which is not one of the holding pools",
            f"add '{claim_to}' to holding_pools, or claim into one of them",
            code="invalid",
        )
    if public.pool in (public.holding_pools or ()):
        i = (public.holding_pools or ()).index(public.pool)
        yield src.error(
            public.loc,
            f"/holding_pools/{i}",
            "records in the public pool are nobody's holdings",
            f"remove '{public.pool}' from holding_pools",
            code="invalid",
        )
    if public.protection is not None:
        yield from _check_protection(public.protection, public.loc, entity, src)


def _known(pool_set: PoolSetDef) -> bool:
    """Whether every holding pool exists (if not, that error is reported on its own)."""
    return all(p in pool_set.pools for p in pool_set.holding_pools())


def _check_protection(
    protection: ProtectionDef, loc: Loc, entity: EntityDef, src: Sources
) -> Iterator[ConfigError]:
    if protection.extend_on is not None:
        field = entity.fields.get(protection.extend_on)
        if field is None:
            yield src.error(
                loc,
                "/protection/extend_on",
                f"entity '{entity.name}' has no field '{protection.extend_on}'",
                str(choices_hint(protection.extend_on, entity.fields, "fields")),
                code="reference",
            )
        elif field.type not in ("date", "datetime"):
            fits = [f.name for f in entity.fields.values() if f.type in ("date", "datetime")]
            yield src.error(
                loc,
                "/protection/extend_on",
                f"extend_on needs a date or datetime field, '{field.name}' is {field.type}",
                f"date fields of {entity.name}: {', '.join(fits)}" if fits else None,
                code="type",
            )
    if protection.max_days is not None and protection.max_days < protection.days:
        yield src.error(
            loc,
            "/protection/max_days",
            f"max_days ({protection.max_days}) is shorter than days ({protection.days})",
            f"raise max_days to at least {protection.days}, or remove it",
            code="invalid",
        )
    before = protection.remind_days_before
    if before is not None and before >= protection.days:
        yield src.error(
            loc,
            "/protection/remind_days_before",
            f"a reminder {before} days before the end would come when the protection "
            "starts or earlier",
            f"use fewer than {protection.days} days",
            code="invalid",
        )


def _check_cycles(pool_set: PoolSetDef, src: Sources) -> Iterator[ConfigError]:
    """Promotions whose from/to pools form a loop could move a record round for ever."""
    cycle = find_cycle(pool_set)
    if cycle:
        path = " → ".join(f"{r.id} ({_from_text(r)} → {r.to})" for r in cycle)
        yield src.error(
            cycle[0].loc,
            "",
            f"promotions can move a record in a circle: {path}",
            "make one of them leave the circle, e.g. narrow its 'from' — records "
            "go back by hand, by claims or by sweeps instead",
            code="cycle",
        )


def _from_text(rule: PromotionDef) -> str:
    return "any" if rule.from_pools is None else ", ".join(rule.from_pools)


def find_cycle(pool_set: PoolSetDef) -> list[PromotionDef]:
    """One loop of promotions (as the rules taken), or [] when the graph has none."""
    edges: dict[str, list[PromotionDef]] = {p: [] for p in pool_set.pools}
    for rule in pool_set.promotions:
        for pool in rule.from_pools or tuple(pool_set.pools):
            if pool != rule.to and pool in edges and rule.to in edges:
                edges[pool].append(rule)
    done: set[str] = set()
    pools: list[str] = []  # the current path of pools; rules[i] leads from pools[i]
    rules: list[PromotionDef] = []

    def visit(pool: str) -> list[PromotionDef]:
        pools.append(pool)
        for rule in edges[pool]:
            if rule.to in pools:
                return [*rules[pools.index(rule.to) :], rule]
            if rule.to not in done:
                rules.append(rule)
                found = visit(rule.to)
                if found:
                    return found
                rules.pop()
        pools.pop()
        done.add(pool)
        return []

    for pool in edges:
        if pool not in done:
            found = visit(pool)
            if found:
                return found
    return []


def check_derived(
    derived: tuple[DerivedDef, ...],
    entities: Mapping[str, EntityDef],
    tenant: TenantDef,
    src: Sources,
) -> Iterator[ConfigError]:
    """Scores and grades: their entity, their field (of the right type), their conditions."""
    owners: dict[tuple[str, str], str] = {}
    for item in derived:
        entity = entities.get(item.entity)
        if entity is None:
            yield src.unknown_entity(item.loc, item.entity, entities)
            continue
        field = entity.fields.get(item.field)
        if field is None:
            yield src.error(
                item.loc,
                "/field",
                f"entity '{entity.name}' has no field '{item.field}'",
                str(choices_hint(item.field, entity.fields, "fields")),
                code="reference",
            )
            continue
        yield from computed_once(owners, (item.entity, item.field), item.name, item.loc, src)
        yield from check_computed_target(field, item.loc, src)
        yield from _check_target(item, field.type, field.option_values, src)
        scope = entity_scope(entity, zone_of(tenant.timezone), update=True)
        for i, rule in enumerate(item.rules):
            if rule.when is None:
                if item.kind == "score":
                    continue
                if i != len(item.rules) - 1:
                    yield src.error(
                        rule.loc,
                        "",
                        "a rule without 'when' always matches: the rules after it can never apply",
                        "put it last",
                        code="unreachable",
                    )
                continue
            yield from check_condition(src, rule.loc, "/when", rule.when, scope)


def _check_target(
    item: DerivedDef, kind: str, options: tuple[str, ...], src: Sources
) -> Iterator[ConfigError]:
    if item.kind == "score" and kind != "integer":
        yield src.error(
            item.loc,
            "/field",
            f"a score is written to an integer field, '{item.field}' is {kind}",
            "add an integer field for the score (type: integer)",
            code="type",
        )
    if item.kind == "grade" and kind not in ("enum", "string"):
        yield src.error(
            item.loc,
            "/field",
            f"a grade is written to an enum or string field, '{item.field}' is {kind}",
            code="type",
        )
    if item.kind == "grade" and kind == "enum":
        for rule in item.rules:
            if str(rule.value) not in options:
                yield src.error(
                    rule.loc,
                    "/grade",
                    f"'{rule.value}' is not an option of {item.field}",
                    str(choices_hint(str(rule.value), options, "options")),
                    code="reference",
                )
