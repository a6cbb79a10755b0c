"""A form's conditional logic, compiled with the config: visible_when, required_when and
hidden fields filled from the page URL.

Submitting through a form goes: URL parameters fill the hidden fields → the values are coerced
→ the conditions run on those values (with the form's and the entity's defaults) → a field
that is not visible loses any value sent for it and is not required → a field whose
required_when holds must have a value. The hosted page (later) runs the same conditions in the
browser; this is the server's enforcement, so a crafted request gets the same result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from engine.conditions import Condition, compile_any, entity_scope
from engine.config.model import EntityDef, FormDef
from engine.fields.validator import EntityValidator, FieldError, FormRules


@dataclass(frozen=True)
class FormInput:
    """What a submission becomes before the usual create path: the data to validate (values
    of invisible fields dropped, hidden fields filled from the URL), the rules to validate it
    with (invisible fields not required) and the required_when errors."""

    data: Any
    rules: FormRules
    errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True)
class FormState:
    """Which of a form's fields the page shows and requires for the values entered so far."""

    visible: frozenset[str]
    required: frozenset[str]


@dataclass(frozen=True)
class CompiledForm:
    rules: FormRules
    visible_when: tuple[tuple[str, Condition], ...] = ()  # in the form's order
    required_when: tuple[tuple[str, Condition], ...] = ()
    url_params: Mapping[str, str] | None = None  # query parameter → hidden field

    @staticmethod
    def compile(
        form: FormDef, entity: EntityDef, validator: EntityValidator, tz: tzinfo
    ) -> CompiledForm:
        scope = entity_scope(entity, tz)
        visible = tuple(
            (f.name, compile_any(f.visible_when, scope)[0])
            for f in form.fields
            if f.visible_when is not None
        )
        required = tuple(
            (f.name, compile_any(f.required_when, scope)[0])
            for f in form.fields
            if f.required_when is not None
        )
        return CompiledForm(validator.form_rules(form), visible, required, form.url_params)

    def prepare(
        self,
        validator: EntityValidator,
        data: Any,
        params: Mapping[str, str] | None,
        now: datetime,
    ) -> FormInput:
        """The submission with the form's logic applied (see the module's docstring).

        A hidden field takes its URL parameter's value unless the data names the field
        itself; other parameters (utm_*, …) are ignored. The value is checked like any value
        of the field (type, options): a wrong one is a 422 on that field."""
        if not isinstance(data, Mapping):
            return FormInput(data, self.rules)  # for_create reports "an object expected"
        merged = self._with_params(data, params)
        if not self.visible_when and not self.required_when:
            return FormInput(merged, self.rules)
        values, _ = validator.clean(merged, self.rules.allowed, self.rules.name)
        seen, defaults = self._seen(validator, values)
        invisible = self._invisible(seen, defaults, now)
        rules = replace(self.rules, required=self.rules.required - invisible)
        failed = {k for k in merged if k not in values}  # refused values: for_create says why
        errors = tuple(
            FieldError(name, "required_when", {"condition": condition.text})
            for name, condition in self.required_when
            if name not in invisible
            and name not in rules.required  # for_create reports those as "required"
            and name not in failed
            and seen.get(name) is None
            and condition.evaluate(seen, now)
        )
        kept = {k: v for k, v in merged.items() if k not in invisible}
        return FormInput(kept, rules, errors)

    def state(
        self,
        validator: EntityValidator,
        data: Any,
        params: Mapping[str, str] | None,
        now: datetime,
    ) -> FormState:
        """What the hosted page shows and marks required for the values entered so far (the
        page asks this as the visitor types: one implementation of the conditions). Values
        that do not parse yet count as empty."""
        entered = self._with_params(data if isinstance(data, Mapping) else {}, params)
        known = {k: v for k, v in entered.items() if k in self.rules.allowed}
        values, _ = validator.clean(known, self.rules.allowed, self.rules.name)
        seen, defaults = self._seen(validator, values)
        invisible = self._invisible(seen, defaults, now)
        shown = self.rules.allowed - invisible - frozenset((self.url_params or {}).values())
        required = {
            name
            for name, condition in self.required_when
            if name not in invisible and condition.evaluate(seen, now)
        }
        must = (self.rules.required | required) - defaults.keys()  # a default fills it
        return FormState(shown, frozenset(must & shown))

    def _with_params(
        self, data: Mapping[str, Any], params: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """The data with each hidden field's URL value, unless the data names the field."""
        merged = dict(data)
        for param, name in (self.url_params or {}).items():
            value = params.get(param) if params is not None else None
            if value and not value.isspace() and name not in merged:  # `?source=`: default
                merged[name] = value
        return merged

    def _seen(
        self, validator: EntityValidator, values: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What for_create will store — defaults fill fields not sent (sent empty stays
        empty) — and the defaults."""
        defaults = {**validator.defaults, **self.rules.defaults}
        seen = {k: v for k, v in values.items() if v is not None}
        seen.update({k: v for k, v in defaults.items() if k not in values})
        return seen, defaults

    def _invisible(
        self, seen: dict[str, Any], defaults: Mapping[str, Any], now: datetime
    ) -> frozenset[str]:
        """The fields whose visible_when does not hold. A field that is not visible counts as
        empty (or its default) for the others' conditions, so this repeats until nothing more
        hides; a field once hidden stays hidden, so it ends."""
        invisible: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, condition in self.visible_when:
                if name in invisible or condition.evaluate(seen, now):
                    continue
                invisible.add(name)
                changed = True
                if name in defaults:
                    seen[name] = defaults[name]
                else:
                    seen.pop(name, None)
        return frozenset(invisible)
