"""A config version made ready to run: validators compiled once, looked up by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine.conditions import (
    Condition,
    ConditionError,
    compile_any,
    compile_text,
    entity_scope,
)
from engine.config.model import Bundle, EntityDef
from engine.errors import BadQuery, NotFound
from engine.fields.validator import EntityValidator, FieldError
from engine.i18n import choices_hint
from engine.rules import CompiledDerived, CompiledPoolSet, CompiledRollup
from engine.rules.assignment import CompiledAssignment
from engine.rules.campaigns import CompiledCampaigns, compile_campaigns
from engine.rules.forms import CompiledForm
from engine.rules.ownership import CompiledPublicPool


def _storer(coerce: Callable[[Any], Any], entity: EntityDef, name: str) -> Callable[[Any], Any]:
    """A rollup result in the field's stored form: sums rounded to the field's scale."""
    defined = entity.fields[name]
    scale = defined.scale if defined.scale is not None else (2 if defined.type == "money" else None)
    if scale is None:
        return coerce
    step = Decimal(1).scaleb(-scale)
    return lambda v: coerce(v.quantize(step, ROUND_HALF_UP) if isinstance(v, Decimal) else v)


def _assignment(bundle: Bundle, tz: ZoneInfo) -> dict[str, CompiledAssignment]:
    entities = sorted({r.entity for r in bundle.assignment})
    return {
        e: CompiledAssignment(
            [r for r in bundle.assignment if r.entity == e], bundle.entities[e], bundle.tenant, tz
        )
        for e in entities
    }


def _campaigns(bundle: Bundle, tz: ZoneInfo) -> dict[str, CompiledCampaigns]:
    pools = {p.entity: tuple(p.pools) for p in bundle.pool_sets.values()}
    return compile_campaigns(bundle.campaigns, bundle.segments, bundle.entities, pools, tz)


def _ranks(bundle: Bundle) -> dict[str, int]:
    """Each entity's height in the rollup graph: 0 for records nothing rolls into, else one
    more than the highest entity rolling into it (the loader refuses loops)."""
    sources: dict[str, set[str]] = {}
    for item in bundle.rollups:
        sources.setdefault(item.entity, set()).add(item.source)
    ranks: dict[str, int] = {}

    def rank(entity: str) -> int:
        if entity not in ranks:
            ranks[entity] = 0  # guards a loop, which the loader refuses anyway
            ranks[entity] = max((rank(s) + 1 for s in sources.get(entity, ())), default=0)
        return ranks[entity]

    for entity in bundle.entities:
        rank(entity)
    return ranks


@dataclass(frozen=True)
class CompiledConfig:
    bundle: Bundle
    version: int
    tz: ZoneInfo
    validators: dict[str, EntityValidator] = field(default_factory=dict)
    forms: dict[str, CompiledForm] = field(default_factory=dict)
    pools: dict[str, CompiledPoolSet] = field(default_factory=dict)  # by entity
    derived: dict[str, CompiledDerived] = field(default_factory=dict)  # by entity
    rollups: dict[str, list[CompiledRollup]] = field(default_factory=dict)  # by parent entity
    rolled_from: dict[str, list[CompiledRollup]] = field(default_factory=dict)  # by child
    public: dict[str, CompiledPublicPool] = field(default_factory=dict)  # by entity
    rollup_rank: dict[str, int] = field(default_factory=dict)  # parents rank above children
    assignment: dict[str, CompiledAssignment] = field(default_factory=dict)  # by entity
    campaigns: dict[str, CompiledCampaigns] = field(default_factory=dict)  # by entity
    _conditions: dict[tuple[str, str], Condition] = field(default_factory=dict)

    @staticmethod
    def compile(bundle: Bundle, version: int) -> CompiledConfig:
        tz = ZoneInfo(bundle.tenant.timezone)
        derived = {
            name: CompiledDerived([d for d in bundle.derived if d.entity == name], entity, tz)
            for name, entity in bundle.entities.items()
            if any(d.entity == name for d in bundle.derived)
        }
        validators = {
            n: EntityValidator(e, tz, bundle.computed(n)) for n, e in bundle.entities.items()
        }
        forms = {
            n: CompiledForm.compile(f, bundle.entities[f.entity], validators[f.entity], tz)
            for n, f in bundle.forms.items()
        }
        pools = {
            p.entity: CompiledPoolSet(p, bundle.entities[p.entity], tz)
            for p in bundle.pool_sets.values()
        }
        rollups: dict[str, list[CompiledRollup]] = {}
        rolled_from: dict[str, list[CompiledRollup]] = {}
        for item in bundle.rollups:
            parent = bundle.entities[item.entity]
            store_as = _storer(validators[item.entity].coercers[item.field], parent, item.field)
            rollup = CompiledRollup(item, parent, bundle.entities[item.source], tz, store_as)
            rollups.setdefault(item.entity, []).append(rollup)
            rolled_from.setdefault(item.source, []).append(rollup)
        public = {
            p.entity: CompiledPublicPool(p, tz) for p in bundle.pool_sets.values() if p.public
        }
        return CompiledConfig(
            bundle,
            version,
            tz,
            validators,
            forms,
            pools,
            derived,
            rollups,
            rolled_from,
            public,
            _ranks(bundle),
            _assignment(bundle, tz),
            _campaigns(bundle, tz),
        )

    @property
    def tenant(self) -> str:
        return self.bundle.tenant.id

    def entity(self, name: str) -> EntityDef:
        entity = self.bundle.entities.get(name)
        if entity is None:
            hint = choices_hint(name, self.bundle.entities, "entities")
            raise NotFound(f"unknown entity '{name}' — {hint}")
        return entity

    def validator(self, name: str) -> EntityValidator:
        self.entity(name)
        return self.validators[name]

    def condition(self, entity: str, text: str) -> Condition:
        """A condition on an entity's records, compiled once per config version; BadQuery
        (with the position in the text) when it is wrong."""
        key = (entity, text)
        found = self._conditions.get(key)
        if found is None:
            scope = entity_scope(self.entity(entity), self.tz)
            try:
                found = compile_text(text, scope)
            except ConditionError as exc:
                error = condition_error(exc, text)
                raise BadQuery(f"bad condition: {exc.message}", [error]) from None
            if len(self._conditions) > 500:
                self._conditions.clear()
            self._conditions[key] = found
        return found

    def view(self, entity: str, name: str) -> tuple[Condition, str | None]:
        """A saved view's condition and sort (NotFound for a view of another entity)."""
        view = self.bundle.views.get(name)
        if view is None or view.entity != entity:
            known = [v.name for v in self.bundle.views.values() if v.entity == entity]
            raise NotFound(f"no view '{name}' of {entity} — {choices_hint(name, known, 'views')}")
        key = (entity, f"view:{name}")
        found = self._conditions.get(key)
        if found is None:
            found = compile_any(view.where, entity_scope(self.entity(entity), self.tz))[0]
            self._conditions[key] = found
        return found, view.sort

    def form(self, name: str) -> tuple[str, CompiledForm]:
        form = self.bundle.forms.get(name)
        if form is None:
            hint = choices_hint(name, self.bundle.forms, "forms")
            raise NotFound(f"unknown form '{name}' — {hint}")
        return form.entity, self.forms[name]


def condition_error(exc: ConditionError, text: str, name: str = "where") -> FieldError:
    """A condition error as a field error: message, hint, position and a caret line. The
    message and hint by code ("error", "hint_error") let engine.i18n show them in Chinese."""
    message = exc.message + (f" — {exc.hint}" if exc.hint else "")
    params = {"message": message, "start": exc.pos, "end": exc.end, "caret": exc.caret(text)}
    params["error"] = exc.msg.as_json()
    params["hint_error"] = exc.hint_msg.as_json() if exc.hint_msg is not None else None
    return FieldError(name, "condition", params)
