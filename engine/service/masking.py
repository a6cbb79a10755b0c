"""Masked fields (数据脱敏): what a user acting through a key or the admin UI sees of PII.

Masking applies to what is shown, never to what is stored. The rules:

- A caller without a user (a tenant-wide integration key) sees every value.
- A user of the bundle with roles sees a field masked when *every* role of theirs that the
  bundle declares lists the field in `see_masked` (a user who is both `sales`, which masks
  `phone`, and `manager`, which does not, sees the phone). A `see_masked` name applies to every
  entity with a field of that name.
- A user of the bundle without any (declared) role sees the entity's `pii: true` fields masked.
- An unknown user, one the bundle marks `active: false`, or one switched off through the API
  sees every `pii: true` field and every field any role's `see_masked` names masked (fail
  closed).

How a value looks masked (`mask_value`): see there. Stored decision traces, live traces (why a
record has not moved), history entries and the decisions and related records a write returns
are masked by the same rules; booleans a condition evaluated to (✓/✗) stay visible, the values
it read from masked fields do not.

What campaigns render for a person is rendered as that person sees the record: a notification
or email with its recipient's mask, a task's title and fields with its assignee's. What leaves
for a machine (a webhook) is rendered as a stranger sees it (`Mask.stranger`: every pii field
and every field a role masks) unless the webhook says `pii: include`.

The service uses a `Mask` (one per viewer and config) rather than the module functions, which
are the same rules for a single call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from engine.conditions.trace import Trace, trace_from_dict
from engine.config.masks import STRANGER, masked_for
from engine.config.model import Bundle, EntityDef
from engine.errors import Forbidden
from engine.fields.validator import FieldError

if TYPE_CHECKING:
    from engine.rules.compiled import CompiledConfig
    from engine.service.listing import Filter

STARS = "***"
_OPAQUE = frozenset({"integer", "decimal", "money", "boolean", "date", "datetime"})
_LISTS = frozenset({"multi_enum", "tags"})
_DIGITS = frozenset("0123456789")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")
_PHONE_LIKE = re.compile(r"\+?\d[\d ()-]{5,}\d")  # 7 characters or more, digits mostly


def _bundle(source: Bundle | CompiledConfig) -> Bundle:
    return source if isinstance(source, Bundle) else source.bundle


def masked_fields(
    source: Bundle | CompiledConfig,
    entity: str,
    user: str | None,
    switched_off: Iterable[str] = (),
) -> frozenset[str]:
    """The fields of `entity` that `user` sees masked (none for a None user; for an unknown
    entity, none: there is nothing of it to show)."""
    bundle = _bundle(source)
    definition = bundle.entities.get(entity)
    if user is None or definition is None:
        return frozenset()
    return masked_for(definition, bundle.tenant, user, switched_off)


def mask_value(field_type: str, value: Any) -> Any:
    """A value as a masked viewer sees it. None stays None (an empty field is shown empty).

    - phone: the stored form (digits, a leading `+` kept; spaces and dashes dropped) with
      its first 3 and last 4 characters kept and `****` between when it has 11 or more
      (`13812345678` → `138****5678`, `+1 415 555 0199` → `+14****0199`); the first 2 and
      last 2 for 7 to 10 (`62345678` → `62****78`); `****` when shorter.
    - email: the first character of the local part, `***@`, the domain
      (`maria@x.example` → `m***@x.example`).
    - other text (string, text, url, enum, reference): the first character and `***`.
    - numbers, money, dates, datetimes, booleans and anything not text: `***`.
    - lists (tags, multi_enum): `["***"]` for a non-empty list, `[]` for an empty one.

    The number of stars never depends on the value: its length is not shown.
    """
    if value is None:
        return None
    if field_type in _LISTS or isinstance(value, list | tuple):
        return [STARS] if value else []
    if not isinstance(value, str) or field_type in _OPAQUE:
        return STARS
    if field_type == "phone":
        return _phone(value)
    if field_type == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}{STARS}@{domain}"
    return f"{value[:1]}{STARS}"


def _phone(value: str) -> str:
    text = value.strip()
    kept = ("+" if text.startswith("+") else "") + "".join(c for c in text if c in _DIGITS)
    if len(kept) >= 11:
        return f"{kept[:3]}****{kept[-4:]}"
    if len(kept) >= 7:
        return f"{kept[:2]}****{kept[-2:]}"
    return "****"


def scrub_text(text: str) -> str:
    """Free text (an error a receiver answered, an exception's message) as a masked viewer
    sees it: e-mail addresses and phone-like numbers in it masked as those fields are. For
    text whose fields are not known; values of known fields are masked by name."""
    text = _EMAIL.sub(lambda m: str(mask_value("email", m.group(0))), text)
    return _PHONE_LIKE.sub(lambda m: _phone(m.group(0)), text)


def _shown(masked: Any) -> str:
    """How a trace shows a masked value (as `trace.show` shows values: text quoted)."""
    if masked == STARS:
        return STARS
    return repr(masked) if isinstance(masked, str) else str(masked)


class Mask:
    """The masking of one viewer (a user id, or None for a tenant-wide key) under one config.

    No method changes its input: each returns a masked copy (or, with nothing to mask, a
    plain copy or the input itself).
    """

    __slots__ = ("_cache", "bundle", "switched_off", "user")

    def __init__(
        self,
        source: Bundle | CompiledConfig,
        user: str | None,
        switched_off: Iterable[str] = (),
    ) -> None:
        self.bundle = _bundle(source)
        self.user = user
        self.switched_off = frozenset(switched_off)
        self._cache: dict[str, frozenset[str]] = {}

    @classmethod
    def stranger(cls, source: Bundle | CompiledConfig) -> Mask:
        """The mask of a viewer the bundle does not know (a webhook's receiver, a task
        nobody is assigned): every pii field and every field a role masks."""
        return cls(source, STRANGER)

    # which fields ---------------------------------------------------------------------------
    def fields(self, entity: str) -> frozenset[str]:
        """The fields of `entity` this viewer sees masked."""
        found = self._cache.get(entity)
        if found is None:
            found = masked_fields(self.bundle, entity, self.user, self.switched_off)
            self._cache[entity] = found
        return found

    @property
    def sees_all(self) -> bool:
        """Whether nothing at all is masked for this viewer."""
        return self.user is None or not any(self.fields(e) for e in self.bundle.entities)

    def _any_entity(self) -> frozenset[str]:
        return frozenset(n for e in self.bundle.entities for n in self.fields(e))

    def _type(self, entity: str, name: str) -> str:
        definition: EntityDef | None = self.bundle.entities.get(entity)
        found = definition.fields.get(name) if definition is not None else None
        return found.type if found is not None else "string"

    # values, records, history -----------------------------------------------------------------
    def value(self, entity: str, name: str, value: Any) -> Any:
        """One field's value as this viewer sees it."""
        if name not in self.fields(entity):
            return value
        return mask_value(self._type(entity, name), value)

    def data(self, entity: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A record's field values as this viewer sees them."""
        masked = self.fields(entity)
        return {k: self.value(entity, k, v) if k in masked else v for k, v in data.items()}

    def record(self, record: Mapping[str, Any], entity: str | None = None) -> dict[str, Any]:
        """A record as the API shows it (`record_json`, `related_json`): its `data`, the
        before/after of its `decisions` and its `related` records masked."""
        entity = entity or str(record.get("entity", ""))
        out = dict(record)
        if self.user is None:
            return out
        if isinstance(record.get("data"), Mapping):
            out["data"] = self.data(entity, record["data"])
        if isinstance(record.get("decisions"), list | tuple):
            out["decisions"] = [self.decision(entity, d) for d in record["decisions"]]
        if isinstance(record.get("related"), list | tuple):
            out["related"] = [self.record(r) for r in record["related"]]
        return out

    def written(self, result: Any, entity: str | None = None) -> Any:
        """A write's JSON answer: a record, or a batch's `{"results": [{"record": …}]}`."""
        if self.user is None or not isinstance(result, Mapping):
            return result
        if "results" in result:
            results = [
                {**r, "record": self.record(r["record"], entity)}
                if isinstance(r, Mapping) and isinstance(r.get("record"), Mapping)
                else r
                for r in result["results"]
            ]
            return {**result, "results": results}
        return self.record(result, entity)

    def decision(self, entity: str, decision: Mapping[str, Any]) -> dict[str, Any]:
        """A decision as a record's `decisions` list it: its before/after values masked."""
        out = dict(decision)
        for side in ("before", "after"):
            if isinstance(decision.get(side), Mapping):
                out[side] = self.data(entity, decision[side])
        return out

    def history_entry(self, entity: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        """One `history` entry: old and new values of masked fields masked."""
        masked = self.fields(entity)
        changes = entry.get("changes")
        if not masked or not isinstance(changes, Mapping):
            return dict(entry)
        shown = {
            name: {side: self.value(entity, name, v) for side, v in change.items()}
            if name in masked and isinstance(change, Mapping)
            else change
            for name, change in changes.items()
        }
        return {**entry, "changes": shown}

    def history(self, entity: str, entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.history_entry(entity, e) for e in entries]

    # traces and decisions -------------------------------------------------------------------
    def trace(
        self, entity: str, trace: Mapping[str, Any], about: Iterable[str] = ()
    ) -> dict[str, Any]:
        """A trace as stored (`Trace.as_dict`): the values read from masked fields, and every
        value computed from them, masked; true/false verdicts stay. `about`: the fields the
        whole trace computes (a rollup's): its top value is masked when one of them is."""
        masked = self.fields(entity)
        if not masked:
            return dict(trace)
        return self._node(entity, trace, masked, bool(masked & set(about)))[0]

    def _node(
        self, entity: str, raw: Mapping[str, Any], masked: frozenset[str], forced: bool
    ) -> tuple[dict[str, Any], bool]:
        expr = str(raw.get("expr", "")).strip()
        name = expr if expr in masked else None
        tainted = forced or name is not None
        out = dict(raw)
        if isinstance(raw.get("parts"), list | tuple):
            parts = []
            for part in raw["parts"]:
                if not isinstance(part, Mapping):
                    parts.append(part)
                    continue
                shown, reads = self._node(entity, part, masked, False)
                parts.append(shown)
                tainted = tainted or reads
            out["parts"] = parts
        value = raw.get("value")
        if not tainted or value is None or (isinstance(value, bool) and name is None):
            return out, tainted
        hidden = mask_value(self._type(entity, name), value) if name else STARS
        out["value"] = hidden
        out["shown"] = _shown(hidden)
        return out, tainted

    def live_trace(self, entity: str, trace: Trace) -> Trace:
        """A trace just evaluated (e.g. why a record has not moved), masked to render."""
        if not self.fields(entity):
            return trace
        return trace_from_dict(self.trace(entity, trace.as_dict()))

    def stored_decision(self, entity: str, row: Any) -> Any:
        """A stored decision row (as `timeline_json` reads it) with its before/after and its
        trace masked: a condition trace, an assignment's explanation (the group a by_field
        rule chose, the trace of why it was handed on) or a campaign's (its condition's trace,
        the messages of a failed action's field errors)."""
        if self.sees_all:
            return row
        values = dict(row._mapping) if hasattr(row, "_mapping") else dict(vars(row))
        about: set[str] = set()
        for side in ("before", "after"):
            if isinstance(values.get(side), Mapping):
                about |= set(values[side])
                values[side] = self.data(entity, values[side])
        trace = values.get("trace")
        if isinstance(trace, Mapping):
            values["trace"] = self._decision_trace(entity, trace, about)
        return SimpleNamespace(**values)

    def _decision_trace(
        self, entity: str, trace: Mapping[str, Any], about: set[str]
    ) -> dict[str, Any]:
        if "expr" in trace:
            return self.trace(entity, trace, about)
        out = dict(trace)
        if isinstance(trace.get("assignment"), Mapping):
            out["assignment"] = self._assignment(entity, trace["assignment"])
        if isinstance(trace.get("when"), Mapping):
            out["when"] = self.trace(entity, trace["when"])
        if isinstance(trace.get("error"), str) and self.fields(entity):
            out["error"] = scrub_text(trace["error"])  # a template's or receiver's words
        if isinstance(trace.get("errors"), list):
            anywhere, scrub = self._any_entity(), bool(self.fields(entity))
            out["errors"] = [self._error(e, anywhere, scrub) for e in trace["errors"]]
        return out

    @staticmethod
    def _error(error: Any, anywhere: frozenset[str], scrub: bool) -> Any:
        """A failed action's error: hidden when about a masked field; otherwise (a template's
        error, which may quote a value it read) scrubbed for a viewer who masks any field."""
        if not isinstance(error, Mapping):
            return error
        if error.get("field") in anywhere:
            return {**error, "message": STARS}
        if not scrub:
            return error
        out = dict(error)
        if isinstance(error.get("message"), str):
            out["message"] = scrub_text(error["message"])
        if isinstance(error.get("params"), Mapping):
            out["params"] = {
                k: scrub_text(v) if isinstance(v, str) else v for k, v in error["params"].items()
            }
        return out

    def _assignment(self, entity: str, explanation: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(explanation)
        if isinstance(explanation.get("because"), Mapping):
            out["because"] = self.trace(entity, explanation["because"])
        if explanation.get("group"):
            rule = next(
                (
                    r
                    for r in self.bundle.assignment
                    if r.id == explanation.get("rule") and r.entity == entity
                ),
                None,
            )
            if rule is not None and rule.key_field in self.fields(entity):
                out["group"] = self.value(entity, rule.key_field, explanation["group"])
        return out

    # what a masked viewer may not do ----------------------------------------------------------
    def refuse_query(
        self,
        entity: str,
        filters: Iterable[Filter] = (),
        where: Iterable[str] = (),
        sort: str | None = None,
    ) -> None:
        """Forbidden (403) when a list query filters, searches or sorts by a field this viewer
        sees masked: its answers would give the value away one question at a time."""
        masked = self.fields(entity)
        if not masked:
            return
        errors: list[FieldError] = []
        for flt in filters:
            if flt.field in masked:
                errors.append(self._refusal(f"{flt.field}__{flt.op}", flt.field, "be filtered by"))
        for name in sorted(set(where) & masked):
            errors.append(self._refusal("where", name, "be used in a condition"))
        sorted_by = (sort or "").removeprefix("-").removeprefix("+")
        if sorted_by in masked:
            errors.append(self._refusal("sort", sorted_by, "be sorted by"))
        if errors:
            names = sorted({str(e.params["name"]) for e in errors})
            raise Forbidden(
                f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} masked for user "
                f"'{self.user}': masked fields cannot be filtered, searched or sorted by",
                errors,
            )

    def _refusal(self, where: str, name: str, verb: str) -> FieldError:
        message = f"'{name}' is masked for user '{self.user}': masked fields cannot {verb}"
        return FieldError(where, "filter", {"message": message, "name": name})

    def without_echoes(self, entity: str, stored: Mapping[str, Any], patch: Any) -> Any:
        """An update's values without masked fields sent back unchanged: a value equal to
        the masked form of the stored one (`138****5678`) keeps the stored value."""
        masked = self.fields(entity)
        if not masked or not isinstance(patch, Mapping):
            return patch
        return {
            k: v
            for k, v in patch.items()
            if not (
                k in masked
                and stored.get(k) is not None
                and v == mask_value(self._type(entity, k), stored[k])
            )
        }


# the same rules, one call at a time ------------------------------------------------------------
def mask_record(
    source: Bundle | CompiledConfig, user: str | None, entity: str, record: Mapping[str, Any]
) -> dict[str, Any]:
    """A record dict (`record_json`) as `user` sees it."""
    return Mask(source, user).record(record, entity)


def mask_history(
    source: Bundle | CompiledConfig,
    user: str | None,
    entity: str,
    entries: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """History entries (`RecordService.history`) as `user` sees them."""
    return Mask(source, user).history(entity, entries)


def mask_trace(
    source: Bundle | CompiledConfig, user: str | None, entity: str, trace: Mapping[str, Any]
) -> dict[str, Any]:
    """A trace dict (`Trace.as_dict`) as `user` sees it."""
    return Mask(source, user).trace(entity, trace)
