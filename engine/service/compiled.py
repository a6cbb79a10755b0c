"""A config version made ready to run: validators compiled once, looked up by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from engine.config.errors import choices_hint
from engine.config.model import Bundle, EntityDef
from engine.fields.validator import EntityValidator, FormRules
from engine.service.errors import NotFound


@dataclass(frozen=True)
class CompiledConfig:
    bundle: Bundle
    version: int
    tz: ZoneInfo
    validators: dict[str, EntityValidator] = field(default_factory=dict)
    forms: dict[str, FormRules] = field(default_factory=dict)

    @staticmethod
    def compile(bundle: Bundle, version: int) -> CompiledConfig:
        tz = ZoneInfo(bundle.tenant.timezone)
        validators = {n: EntityValidator(e, tz) for n, e in bundle.entities.items()}
        forms = {n: validators[f.entity].form_rules(f) for n, f in bundle.forms.items()}
        return CompiledConfig(bundle, version, tz, validators, forms)

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

    def form(self, name: str) -> tuple[str, FormRules]:
        form = self.bundle.forms.get(name)
        if form is None:
            hint = choices_hint(name, self.bundle.forms, "forms")
            raise NotFound(f"unknown form '{name}' — {hint}")
        return form.entity, self.forms[name]
