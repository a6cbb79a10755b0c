"""Checks of assignment rules: entities, conditions, candidates, maps, queues, shadowed rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.conditions import entity_scope
from engine.config.checks import Sources, zone_of
from engine.config.conditions import check_condition
from engine.config.errors import ConfigError
from engine.config.model import AssignmentRuleDef, Candidates, EntityDef, Label, Loc, TenantDef
from engine.i18n import choices_hint


def check_assignment(
    rules: tuple[AssignmentRuleDef, ...],
    queues: Mapping[str, Label],
    entities: Mapping[str, EntityDef],
    tenant: TenantDef,
    src: Sources,
) -> Iterator[ConfigError]:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            yield src.error(rule.loc, "/id", f"duplicate rule id '{rule.id}'", code="duplicate")
        seen.add(rule.id)
        entity = entities.get(rule.entity)
        if entity is None:
            yield src.unknown_entity(rule.loc, rule.entity, entities)
            continue
        yield from _check_conditions(rule, entity, tenant, src)
        if rule.candidates is not None:
            yield from check_candidates(rule.candidates, tenant, rule.loc, "/candidates", src)
        yield from _check_weights(rule, tenant, src)
        yield from _check_by_field(rule, entity, tenant, src)
        yield from _check_queues(rule, queues, src)
        for i, name in enumerate(rule.sticky_by):
            if name not in entity.fields:
                hint = str(choices_hint(name, entity.fields, "fields"))
                message = f"entity '{entity.name}' has no field '{name}'"
                yield src.error(rule.loc, f"/sticky_by/{i}", message, hint, code="reference")
    yield from _check_shadowed(rules, src)


def _check_conditions(
    rule: AssignmentRuleDef, entity: EntityDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    scope = entity_scope(entity, zone_of(tenant.timezone))
    if rule.when is not None:
        yield from check_condition(src, rule.loc, "/when", rule.when, scope)
    if rule.open_when is not None:
        yield from check_condition(src, rule.loc, "/open_when", rule.open_when, scope)
    if rule.reassign_when is not None:
        timed = entity_scope(entity, zone_of(tenant.timezone), assigned_at=True)
        yield from check_condition(src, rule.loc, "/reassign_when", rule.reassign_when, timed)


def check_candidates(
    candidates: Candidates, tenant: TenantDef, loc: Loc, sub: str, src: Sources
) -> Iterator[ConfigError]:
    """Users, teams and roles named must exist."""
    kinds = (
        ("users", candidates.users, tenant.users),
        ("teams", candidates.teams, tenant.teams),
        ("roles", candidates.roles, tenant.roles),
    )
    for kind, names, known in kinds:
        for i, name in enumerate(names):
            if name not in known:
                hint = str(choices_hint(name, known, kind))
                message = f"unknown {kind[:-1]} '{name}'"
                yield src.error(loc, f"{sub}/{kind}/{i}", message, hint, code="reference")


def _check_weights(
    rule: AssignmentRuleDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    for user in rule.weights:
        if user not in tenant.users:
            hint = str(choices_hint(user, tenant.users, "users"))
            message = f"unknown user '{user}'"
            yield src.error(rule.loc, f"/weights/{user}", message, hint, key=True, code="reference")
    if rule.weights and rule.strategy not in ("weighted", "by_field"):
        yield src.error(
            rule.loc,
            "/weights",
            f"weights only apply to the weighted strategy, not {rule.strategy}",
            "remove weights or use strategy: weighted",
            key=True,
            code="invalid",
        )


def _check_by_field(
    rule: AssignmentRuleDef, entity: EntityDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    if rule.strategy != "by_field" or rule.key_field is None:
        return
    field = entity.fields.get(rule.key_field)
    if field is None:
        hint = str(choices_hint(rule.key_field, entity.fields, "fields"))
        message = f"entity '{entity.name}' has no field '{rule.key_field}'"
        yield src.error(rule.loc, "/field", message, hint, code="reference")
        return
    for value, candidates in rule.map.items():
        yield from check_candidates(candidates, tenant, rule.loc, f"/map/{value}", src)
    options = field.option_values
    if not options:
        return
    for value in rule.map:
        if value not in options:
            hint = str(choices_hint(value, options, "options"))
            message = f"'{value}' is not an option of {field.name}"
            yield src.error(rule.loc, f"/map/{value}", message, hint, key=True, code="reference")
    missing = [o for o in options if o not in rule.map]
    if missing:
        yield src.error(
            rule.loc,
            "/map",
            f"no candidates for {field.name} {', '.join(missing)}",
            "records with these values go to the fallback; map them if that is not meant",
            code="incomplete",
            severity="warning",
        )


def _check_queues(
    rule: AssignmentRuleDef, queues: Mapping[str, Label], src: Sources
) -> Iterator[ConfigError]:
    for sub, queue in (("/queue", rule.queue), ("/fallback/queue", rule.fallback_queue)):
        if queue is not None and queue not in queues:
            hint = str(choices_hint(queue, queues, "queues")) if queues else None
            yield src.error(
                rule.loc,
                sub,
                f"unknown queue '{queue}'",
                hint or "declare it under queues: at the top of assignment.yaml",
                code="reference",
            )


def _check_shadowed(rules: tuple[AssignmentRuleDef, ...], src: Sources) -> Iterator[ConfigError]:
    """A rule that takes every record of its entity and never passes one on hides the rules
    after it."""
    final: dict[str, AssignmentRuleDef] = {}
    for rule in rules:
        earlier = final.get(rule.entity)
        if earlier is not None:
            yield src.error(
                rule.loc,
                "",
                f"rule '{rule.id}' can never apply: '{earlier.id}' before it takes every "
                f"{rule.entity} record",
                f"give '{earlier.id}' a when, or move '{rule.id}' above it",
                code="unreachable",
                severity="warning",
            )
            continue
        keeps_all = rule.strategy == "manual_queue" or rule.fallback_queue is not None
        if rule.when is None and keeps_all:
            final[rule.entity] = rule
