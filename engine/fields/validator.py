"""Per-entity and per-form record validators, compiled once per config version.

JSON Schema checks bundles; records are checked by closures built from the field definitions,
so a record costs a dict walk and a few calls, not a schema interpretation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from engine.conditions.stored import UNSTORABLE, storable
from engine.config.errors import did_you_mean
from engine.config.model import RESERVED_FIELDS, EntityDef, FormDef
from engine.fields.errors import FieldValueError, field_message
from engine.fields.types import FIELD_TYPES, Coercer
from engine.i18n import render


@dataclass(frozen=True, slots=True)
class FieldError:
    """One refused field of one record."""

    field: str
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def message(self, locale: str | None = None) -> str:
        return render(field_message(self.code, self.params), locale)

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        out = {"field": self.field, "code": self.code, "message": self.message(locale)}
        if "start" in self.params:  # a position inside a condition
            out.update({k: self.params[k] for k in ("start", "end", "caret")})
        return out


@dataclass(frozen=True, slots=True)
class FormRules:
    """What a form changes about validation: allowed fields, extra required ones, defaults."""

    name: str
    allowed: frozenset[str]
    required: frozenset[str]
    defaults: Mapping[str, Any]


def printable_name(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _misfit(name: str, value: Any, single: str | None) -> FieldError | None:
    """A JSON value no field of its type takes, whatever its coercer would make of it: NaN and
    ±Infinity anywhere; a list or an object (even empty) for a field of one value (`single`:
    what that value must be)."""
    if isinstance(value, float) and not math.isfinite(value):
        return FieldError(name, "not_finite")
    if single is not None and isinstance(value, list | tuple | Mapping):
        return FieldError(name, "type", {"expected": single})
    return None


class EntityValidator:
    """Validates whole records and patches for one entity."""

    def __init__(
        self, entity: EntityDef, tz: tzinfo, computed: frozenset[str] = frozenset()
    ) -> None:
        self.entity = entity
        self.computed = computed  # set by scoring/grade rules: not writable
        self.coercers: dict[str, Coercer] = {
            name: FIELD_TYPES[f.type].coercer(f, tz) for name, f in entity.fields.items()
        }
        self.required = frozenset(n for n, f in entity.fields.items() if f.required)
        self.defaults = {
            n: self.coercers[n](f.default)
            for n, f in entity.fields.items()
            if f.default is not None
        }
        self.unique = tuple(n for n, f in entity.fields.items() if f.unique)
        self.folded = frozenset(n for n in self.unique if entity.fields[n].type == "email")
        self.references = {n: f.ref_entity for n, f in entity.fields.items() if f.ref_entity}
        kinds = {n: FIELD_TYPES[f.type] for n, f in entity.fields.items()}
        self.single = {n: t.expected if t.scalar else None for n, t in kinds.items()}

    def form_rules(self, form: FormDef) -> FormRules:
        allowed = frozenset(form.field_names)
        required = frozenset(f.name for f in form.fields if f.required) | (self.required & allowed)
        defaults = {k: self.coercers[k](v) for k, v in form.defaults.items() if v is not None}
        return FormRules(form.name, allowed, required, defaults)

    def clean(
        self, data: Any, allowed: frozenset[str] | None = None, form: str | None = None
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Coerce the given fields; None/'' mean 'no value'. Unknown fields are errors."""
        if not isinstance(data, Mapping):
            return {}, [FieldError("", "type", {"expected": "an object"})]
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        coercers, unstorable = self.coercers, UNSTORABLE.search
        for name, raw in data.items():
            coerce = coercers.get(name)
            if name in self.computed:
                errors.append(FieldError(name, "computed"))
                continue
            if coerce is None or (allowed is not None and name not in allowed):
                errors.append(self._unknown(printable_name(str(name)), allowed, form))
                continue
            if raw.__class__ is str:  # the common case, inlined: this loop is the hot path
                if unstorable(raw) is not None:
                    errors.append(FieldError(name, "text"))
                    continue
                if not raw or raw.isspace():
                    values[name] = None
                    continue
            elif (misfit := _misfit(name, raw, self.single[name])) is not None:
                errors.append(misfit)
                continue
            elif not storable(raw):
                errors.append(FieldError(name, "text"))
                continue
            elif _empty(raw):
                values[name] = None
                continue
            try:
                values[name] = coerce(raw)
            except FieldValueError as exc:
                errors.append(FieldError(name, exc.code, exc.params))
        return values, errors

    def _unknown(self, name: str, allowed: frozenset[str] | None, form: str | None) -> FieldError:
        if name in RESERVED_FIELDS:
            return FieldError(name, "read_only")
        if allowed is not None and name in self.coercers:
            return FieldError(name, "not_on_form", {"form": form})
        choices = allowed if allowed is not None else self.coercers
        hint = did_you_mean(name, choices)
        entity = self.entity.name + (f" ({hint})" if hint else "")
        return FieldError(name, "unknown_field", {"entity": entity})

    def for_create(
        self, data: Any, form: FormRules | None = None
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """A new record's stored values (defaults applied, nulls dropped) and every error."""
        values, errors = self.clean(
            data, form.allowed if form else None, form.name if form else None
        )
        if form is not None:
            for name, value in form.defaults.items():
                values.setdefault(name, value)
        for name, value in self.defaults.items():
            if values.get(name) is None and name not in values:
                values[name] = value
        required = form.required | self.required if form else self.required
        errors += self._missing(values, required, errors)
        return {k: v for k, v in values.items() if v is not None}, errors

    def for_update(
        self, current: Mapping[str, Any], patch: Any
    ) -> tuple[dict[str, Any], dict[str, list[Any]], list[FieldError]]:
        """The record's new values, the changes {field: [old, new]} and every error."""
        values, errors = self.clean(patch)
        merged = dict(current)
        for name, value in values.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        errors += self._missing(merged, self.required, errors)
        changes = {
            n: [current.get(n), merged.get(n)] for n in values if current.get(n) != merged.get(n)
        }
        return merged, changes, errors

    @staticmethod
    def _missing(
        values: Mapping[str, Any], required: frozenset[str], errors: list[FieldError]
    ) -> list[FieldError]:
        failed = {e.field for e in errors}
        return [
            FieldError(n, "required")
            for n in sorted(required)
            if values.get(n) is None and n not in failed
        ]
