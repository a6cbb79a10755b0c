"""Checks of segments and campaigns: entities, triggers, conditions, actions, splits, limits.

Every problem is reported at once, located in campaigns.yaml, with a hint where one helps.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from cronsim import CronSim, CronSimError
from jinja2 import nodes

from engine.conditions import entity_scope
from engine.config.assignment import check_candidates
from engine.config.checks import Sources, zone_of
from engine.config.conditions import check_condition
from engine.config.errors import ConfigError
from engine.config.masks import masked_for_strangers, viewer_classes
from engine.config.model import (
    ActionDef,
    AssignmentRuleDef,
    CampaignDef,
    Candidates,
    EntityDef,
    Loc,
    PoolSetDef,
    SegmentDef,
    TenantDef,
)
from engine.fields.validator import EntityValidator
from engine.i18n import choices_hint
from engine.templating import TemplateScope, check_value

DATE_TYPES = ("date", "datetime")
HOLDOUT = "holdout"
_EPOCH = datetime(2026, 1, 1)  # any start: cron expressions are checked by parsing
_PARSER = jinja2.Environment()  # to see what a template reads; the sandbox renders
UPDATE_TRIGGERS = ("updated", "field_changed")


@dataclass(frozen=True)
class Context:
    """What campaigns may refer to."""

    entities: Mapping[str, EntityDef]
    tenant: TenantDef
    pool_sets: Mapping[str, PoolSetDef]
    segments: Mapping[str, SegmentDef]
    assignment: tuple[AssignmentRuleDef, ...]
    computed: Mapping[str, frozenset[str]]  # entity -> fields rules compute
    src: Sources
    complete: bool = True  # every file loaded: references to other files can be checked

    def pools_of(self, entity: str) -> PoolSetDef | None:
        return next((p for p in self.pool_sets.values() if p.entity == entity), None)

    def pool_names(self, entity: str) -> tuple[str, ...]:
        found = self.pools_of(entity)
        return tuple(found.pools) if found is not None else ()


def check_segments(ctx: Context) -> Iterator[ConfigError]:
    tz = zone_of(ctx.tenant.timezone)
    for segment in ctx.segments.values():
        entity = ctx.entities.get(segment.entity)
        if entity is None:
            yield ctx.src.unknown_entity(segment.loc, segment.entity, ctx.entities)
            continue
        scope = entity_scope(entity, tz, columns=True, pools=ctx.pool_names(entity.name))
        yield from check_condition(ctx.src, segment.loc, "/when", segment.when, scope)


def check_campaigns(campaigns: tuple[CampaignDef, ...], ctx: Context) -> Iterator[ConfigError]:
    seen: set[str] = set()
    for campaign in campaigns:
        if campaign.id in seen:
            message = f"duplicate campaign id '{campaign.id}'"
            yield ctx.src.error(campaign.loc, "/id", message, code="duplicate")
        seen.add(campaign.id)
        entity = yield from _entity(campaign, ctx)
        if entity is None:
            continue
        yield from _trigger(campaign, entity, ctx)
        yield from _conditions(campaign, entity, ctx)
        yield from _split(campaign, ctx)
        for step in campaign.steps:
            for action in step.actions:
                yield from check_action(campaign, action, entity, ctx)
        yield from _limits(campaign, ctx)


def _entity(campaign: CampaignDef, ctx: Context) -> Generator[ConfigError, None, EntityDef | None]:
    """Yields the errors; returns the campaign's entity when it is known."""
    loc, segment = campaign.loc, ctx.segments.get(campaign.trigger.segment or "")
    if not campaign.entity:
        hint = "name the records it is about, e.g. entity: customer"
        yield ctx.src.error(loc, "", "the campaign has no entity", hint, code="missing")
        return None
    entity = ctx.entities.get(campaign.entity)
    if entity is None:
        yield ctx.src.unknown_entity(loc, campaign.entity, ctx.entities)
        return None
    if segment is not None and segment.entity != campaign.entity:
        message = f"segment '{segment.name}' is about {segment.entity}, not {campaign.entity}"
        yield ctx.src.error(loc, "/entity", message, code="reference")
    return entity


def _trigger(campaign: CampaignDef, entity: EntityDef, ctx: Context) -> Iterator[ConfigError]:
    trigger, loc = campaign.trigger, campaign.loc
    sub = f"/trigger/{trigger.kind}"
    if trigger.field is not None:
        yield from _field_exists(entity, trigger.field, loc, f"{sub}/field", ctx)
        field = entity.fields.get(trigger.field)
        if trigger.kind == "relative" and field is not None and field.type not in DATE_TYPES:
            message = f"'{trigger.field}' is a {field.type} field, not a date"
            hint = str(
                choices_hint(
                    "", [f for f, d in entity.fields.items() if d.type in DATE_TYPES], "date fields"
                )
            )
            yield ctx.src.error(loc, f"{sub}/field", message, hint, code="type")
        if trigger.kind == "field_changed" and field is not None and field.options:
            for key, values in (("from", trigger.from_values), ("to", trigger.to_values)):
                yield from _options(field.option_values, values or (), loc, f"{sub}/{key}", ctx)
    if trigger.pool is not None:
        yield from _pool_exists(campaign.entity, trigger.pool, loc, sub, ctx)
    if trigger.segment is not None and trigger.segment not in ctx.segments:
        hint = str(choices_hint(trigger.segment, ctx.segments, "segments"))
        yield ctx.src.error(
            loc, sub, f"unknown segment '{trigger.segment}'", hint, code="reference"
        )
    if trigger.cron is not None:
        yield from _cron(trigger.cron, loc, sub, ctx)


def _cron(text: str, loc: Loc, sub: str, ctx: Context) -> Iterator[ConfigError]:
    try:
        CronSim(text, _EPOCH)
    except CronSimError as exc:
        hint = "five fields: minute hour day-of-month month day-of-week, e.g. '0 9 * * mon'"
        yield ctx.src.error(loc, sub, f"not a cron expression: {exc}", hint, code="invalid")


def _conditions(campaign: CampaignDef, entity: EntityDef, ctx: Context) -> Iterator[ConfigError]:
    tz = zone_of(ctx.tenant.timezone)
    update = campaign.trigger.kind in UPDATE_TRIGGERS  # changed() and old() make sense
    pools = ctx.pool_names(entity.name)
    scope = entity_scope(entity, tz, columns=True, pools=pools)
    if campaign.when is not None:
        first = entity_scope(entity, tz, update=update, columns=True, pools=pools)
        yield from check_condition(ctx.src, campaign.loc, "/when", campaign.when, first)
    for step in campaign.steps:
        if step.when is not None:
            sub = f"{step.pointer}/when"
            yield from check_condition(ctx.src, campaign.loc, sub, step.when, scope)
    if campaign.goal is not None:
        yield from check_condition(ctx.src, campaign.loc, "/goal/when", campaign.goal.when, scope)


def _split(campaign: CampaignDef, ctx: Context) -> Iterator[ConfigError]:
    names = {name for name, _ in campaign.split}
    if campaign.split and sum(share for _, share in campaign.split) == 0:
        yield ctx.src.error(campaign.loc, "/split", "every share of the split is 0", code="invalid")
    for step in campaign.steps:
        for action in step.actions:
            if action.variant is None:
                continue
            if not campaign.split:
                hint = "add split: {A: 50, B: 50} to the campaign, or drop `variant`"
                message = f"variant '{action.variant}' but the campaign has no split"
                yield ctx.src.error(campaign.loc, f"{action.pointer}/variant", message, hint)
            elif action.variant not in names or action.variant == HOLDOUT:
                hint = str(choices_hint(action.variant, sorted(names - {HOLDOUT}), "variants"))
                message = f"unknown variant '{action.variant}'"
                yield ctx.src.error(campaign.loc, f"{action.pointer}/variant", message, hint)


def _limits(campaign: CampaignDef, ctx: Context) -> Iterator[ConfigError]:
    quiet = campaign.limits.quiet_hours
    if quiet is not None and quiet[0] == quiet[1]:
        hint = "e.g. 22:00-08:00: from 22:00 until 08:00 the next morning"
        message = "quiet hours start and end at the same time"
        yield ctx.src.error(campaign.loc, "/limits/quiet_hours", message, hint)
    if campaign.trigger.kind == "schedule" and campaign.when is None:
        hint = "it fires for every record matching `when`; e.g. when: \"pool == 'new'\""
        yield ctx.src.error(campaign.loc, "/trigger", "a scheduled campaign needs `when`", hint)


# actions -------------------------------------------------------------------------------------
def check_action(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    if not action.kind:
        hint = "one of: set, move, assign, create_task, notify, webhook (one per list item)"
        message = "each action needs exactly one kind"
        yield ctx.src.error(campaign.loc, action.pointer, message, hint, code="invalid")
        return
    check = ACTION_CHECKS.get(action.kind)
    if check is not None:
        yield from check(campaign, action, entity, ctx)
    yield from _templates(campaign, action, entity, ctx)
    yield from _masked_reads(campaign, action, entity, ctx)


def _templates(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    """Every template of the action parses and reads only what exists."""
    scope = TemplateScope({n: f.type for n, f in entity.fields.items()}, entity.name)
    base = f"{action.pointer}/{action.kind}"
    for pointer, problem in check_value(_template_parts(action), scope):
        where = f" (line {problem.line} of the template)" if problem.line > 1 else ""
        message = f"template: {problem.message}{where}"
        yield ctx.src.error(campaign.loc, base + pointer, message, problem.hint, code="template")


def _template_parts(action: ActionDef) -> Any:
    """The parts of an action's parameters that are templates (by pointer below it)."""
    params = action.params
    if action.kind == "webhook":
        return {"body": params.get("body", {})}
    if action.kind in ("create_task", "notify"):
        keys = ("title", "body", "fields")
        return {k: params[k] for k in keys if k in params}
    if action.kind == "set":
        return {k: v for k, v in params.items() if isinstance(v, str)}
    return {}


# personal data carried where it is not masked ---------------------------------------------------
def record_reads(text: str) -> frozenset[str] | None:
    """The fields a template reads as `record.x` / `record['x']`; None when it reads the
    record whole (`record | tojson`, `record[name]`, `{% set r = record %}`)."""
    try:
        tree = _PARSER.parse(text)
    except jinja2.TemplateSyntaxError:
        return frozenset()  # an error of its own (_templates)
    named: set[str] = set()
    bases: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        key: Any
        if isinstance(node, nodes.Getattr):
            base, key = node.node, node.attr
        elif isinstance(node, nodes.Getitem):
            base = node.node
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        else:
            continue
        if not (isinstance(base, nodes.Name) and base.name == "record"):
            continue
        if isinstance(key, str):
            named.add(key)
            bases.add(id(base))
    loads = (n for n in tree.find_all(nodes.Name) if n.name == "record" and n.ctx == "load")
    return None if any(id(n) not in bases for n in loads) else frozenset(named)


def _strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a JSON value, with its pointer."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            part = str(key).replace("~", "~0").replace("/", "~1")
            yield from _strings(item, f"{pointer}/{part}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{i}")


def _reads(text: str, among: frozenset[str]) -> tuple[list[str], str]:
    """Which of `among` the template reads (all of them when it reads the record whole),
    and how to say so."""
    found = record_reads(text)
    names = sorted(among if found is None else among & found)
    listed = ", ".join(names)
    return names, listed if found is not None else f"the whole record, with {listed}"


def _masked_reads(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    """Warnings, so that no payload changes silently: a webhook whose body reads a field
    people may see masked, without saying `pii:`; a `set` copying such a field into one
    that some viewer sees unmasked."""
    if action.kind == "webhook" and isinstance(action.params, Mapping):
        yield from _webhook_pii(campaign, action, entity, ctx)
    elif action.kind == "set" and isinstance(action.params, Mapping):
        yield from _copied_pii(campaign, action, entity, ctx)


def _webhook_pii(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    if "pii" in action.params:
        return
    hidden = masked_for_strangers(entity, ctx.tenant)
    base = f"{action.pointer}/webhook/body"
    for pointer, text in _strings(action.params.get("body")):
        names, listed = _reads(text, hidden)
        if not names:
            continue
        them = "it" if len(names) == 1 else "them"
        message = (
            f"the webhook body reads {listed} (personal data) and does not say pii: "
            f"the receiver gets {them} masked"
        )
        hint = "say pii: include if the receiver needs the real values, or pii: mask"
        yield ctx.src.error(
            campaign.loc, base + pointer, message, hint, code="pii", severity="warning"
        )


def _copied_pii(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    classes = list(viewer_classes(entity, ctx.tenant))
    for name, value in action.params.items():
        if not isinstance(value, str) or name not in entity.fields:
            continue
        every = frozenset(f for hidden in classes for f in hidden)
        read, _ = _reads(value, every)
        leaked = sorted({f for f in read for h in classes if f in h and name not in h})
        if not leaked:
            continue
        listed = ", ".join(leaked)
        message = (
            f"copies {listed} into '{name}', which some users see unmasked while they "
            f"see {listed} masked"
        )
        hint = f"mask '{name}' for the same roles (see_masked), or copy something else"
        yield ctx.src.error(
            campaign.loc,
            f"{action.pointer}/set/{name}",
            message,
            hint,
            code="pii",
            severity="warning",
        )


def _check_set(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    loc, sub = campaign.loc, f"{action.pointer}/set"
    computed = ctx.computed.get(entity.name, frozenset())
    for name, value in action.params.items():
        field = entity.fields.get(name)
        if field is None:
            yield from _field_exists(entity, name, loc, f"{sub}/{name}", ctx)
            continue
        if name in computed:
            message = f"'{name}' is computed by the bundle's rules and cannot be set"
            yield ctx.src.error(loc, f"{sub}/{name}", message, code="computed")
        if isinstance(value, dict) and field.type != "tags":
            message = f"add/remove is for tags fields; '{name}' is a {field.type} field"
            yield ctx.src.error(loc, f"{sub}/{name}", message, code="type")
        elif not isinstance(value, dict):
            yield from _constant(entity, name, value, loc, f"{sub}/{name}", ctx)


def _check_move(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    pool = action.params if isinstance(action.params, str) else action.params["pool"]
    yield from _pool_exists(entity.name, pool, campaign.loc, f"{action.pointer}/move", ctx)


def _check_assign(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    rule = action.params if isinstance(action.params, str) else action.params["rule"]
    known = [r.id for r in ctx.assignment if r.entity == entity.name]
    if rule not in known and ctx.complete:
        hint = str(choices_hint(rule, known, f"assignment rules of {entity.name}"))
        message = f"no assignment rule '{rule}' for {entity.name}"
        yield ctx.src.error(
            campaign.loc, f"{action.pointer}/assign", message, hint, code="reference"
        )


def _check_task(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    params, loc, sub = action.params, campaign.loc, f"{action.pointer}/create_task"
    task = ctx.entities.get(params.get("entity", "task"))
    if task is None:
        hint = str(choices_hint(params.get("entity", "task"), ctx.entities, "entities"))
        message = f"no entity '{params.get('entity', 'task')}' to create tasks in"
        yield ctx.src.error(loc, sub, message, hint, code="reference")
        return
    for name in ("title", *(["due_at"] if "due_in" in params else []), *params.get("fields", {})):
        yield from _field_exists(task, name, loc, sub, ctx)
    for name, value in (params.get("fields") or {}).items():
        if name in task.fields:
            yield from _constant(task, name, value, loc, f"{sub}/fields/{name}", ctx)
    if "link" in params:
        link = task.fields.get(params["link"])
        if link is None or link.ref_entity != entity.name:
            message = f"'{params['link']}' of {task.name} is not a reference to {entity.name}"
            yield ctx.src.error(loc, f"{sub}/link", message, code="reference")
    yield from _who(params.get("assignee", "owner"), loc, f"{sub}/assignee", ctx)


def _check_notify(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    yield from _who(action.params["to"], campaign.loc, f"{action.pointer}/notify/to", ctx)


def _check_webhook(
    campaign: CampaignDef, action: ActionDef, entity: EntityDef, ctx: Context
) -> Iterator[ConfigError]:
    return iter(())  # the schema checks the URL and pii; templates with the others


ACTION_CHECKS = {
    "set": _check_set,
    "move": _check_move,
    "assign": _check_assign,
    "create_task": _check_task,
    "notify": _check_notify,
    "webhook": _check_webhook,
}


# shared --------------------------------------------------------------------------------------
def _who(raw: Any, loc: Loc, sub: str, ctx: Context) -> Iterator[ConfigError]:
    if raw == "owner" or not isinstance(raw, dict):
        return
    candidates = Candidates(
        tuple(filter(None, [raw.get("user")])),
        tuple(filter(None, [raw.get("team")])),
        tuple(filter(None, [raw.get("role")])),
    )
    for error in check_candidates(candidates, ctx.tenant, loc, "", ctx.src):
        yield ctx.src.error(loc, sub, error.message, error.hint, code="reference")


def _field_exists(
    entity: EntityDef, name: str, loc: Loc, sub: str, ctx: Context
) -> Iterator[ConfigError]:
    if name not in entity.fields:
        hint = str(choices_hint(name, entity.fields, "fields"))
        message = f"entity '{entity.name}' has no field '{name}'"
        yield ctx.src.error(loc, sub, message, hint, code="reference")


def _pool_exists(entity: str, pool: str, loc: Loc, sub: str, ctx: Context) -> Iterator[ConfigError]:
    pools = ctx.pools_of(entity)
    if pools is None and not ctx.complete:
        return  # pools.yaml failed itself: its errors say why
    if pools is None:
        message = f"entity '{entity}' has no pool set"
        yield ctx.src.error(loc, sub, message, "declare one in pools.yaml", code="reference")
    elif pool not in pools.pools:
        hint = str(choices_hint(pool, pools.pools, "pools"))
        yield ctx.src.error(loc, sub, f"unknown pool '{pool}'", hint, code="reference")


def _constant(
    entity: EntityDef, name: str, value: Any, loc: Loc, sub: str, ctx: Context
) -> Iterator[ConfigError]:
    """A value written as it is (not a template) must suit the field, as a write would."""
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return
    validator = EntityValidator(entity, zone_of(ctx.tenant.timezone))
    for error in (e for e in validator.for_update({}, {name: value})[2] if e.field == name):
        hint = str(choices_hint(str(value), entity.fields[name].option_values, "options"))
        message = f"'{value}' does not suit {name}: {error.message('en')}"
        yield ctx.src.error(
            loc, sub, message, hint if entity.fields[name].options else None, code="type"
        )


def _options(
    options: tuple[str, ...], values: tuple[Any, ...], loc: Loc, sub: str, ctx: Context
) -> Iterator[ConfigError]:
    for value in values:
        if value is not None and str(value) not in options:
            hint = str(choices_hint(str(value), options, "options"))
            yield ctx.src.error(loc, sub, f"'{value}' is not an option", hint, code="reference")
