"""Semantic checks of a schema-valid bundle: references, field definitions, forms.

Each check yields ConfigErrors; the loader gathers them all so a consultant sees every problem
at once, each at its line with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.config.errors import ConfigError, did_you_mean
from engine.config.model import RESERVED_FIELDS, EntityDef, FieldDef, FormDef, Label, Loc, TenantDef
from engine.config.yamlload import SourceFile, join_pointer
from engine.fields.errors import FieldValueError
from engine.fields.types import COMMON_KEYS, FIELD_TYPES
from engine.i18n import choices_hint


def zone_of(name: str) -> tzinfo:
    """The tenant's zone, or UTC while its name is wrong (that error is reported anyway)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class Sources:
    """Resolves a Loc (+ sub-pointer) to a located ConfigError."""

    def __init__(self, files: Mapping[str, SourceFile]) -> None:
        self.files = files

    def error(
        self,
        loc: Loc,
        sub: str,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        code: str = "invalid",
        severity: str = "error",
    ) -> ConfigError:
        pointer = loc.pointer + sub
        source = self.files.get(loc.file)
        if source is None:
            return ConfigError(loc.file, 1, 1, pointer, message, hint, code, severity)
        return source.error(pointer, message, hint, key=key, code=code, severity=severity)

    def raw(self, loc: Loc) -> Any:
        """The raw YAML data at a Loc (dict for fields/forms)."""
        return self.files[loc.file].data_at(loc.pointer)

    def unknown_entity(self, loc: Loc, name: str, entities: Mapping[str, EntityDef]) -> ConfigError:
        """The error for an item whose `entity:` names no entity of the bundle."""
        hint = str(choices_hint(name, entities, "entities"))
        return self.error(loc, "/entity", f"unknown entity '{name}'", hint, code="reference")


def check_tenant(tenant: TenantDef, src: Sources) -> Iterator[ConfigError]:
    if tenant.timezone not in available_timezones():
        try:
            ZoneInfo(tenant.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield src.error(
                tenant.loc,
                "/timezone",
                f"unknown time zone '{tenant.timezone}'",
                did_you_mean(tenant.timezone, available_timezones())
                or "use an IANA time zone name such as Asia/Shanghai or America/New_York",
                code="timezone",
            )
    if tenant.locale not in tenant.locales:
        yield src.error(
            tenant.loc,
            "/locale",
            f"default locale '{tenant.locale}' is not in locales",
            f"add it: locales: [{', '.join((*tenant.locales, tenant.locale))}]",
        )
    yield from _check_users(tenant, src)


def _check_users(tenant: TenantDef, src: Sources) -> Iterator[ConfigError]:
    seen: dict[str, Loc] = {}
    for i, raw in enumerate(src.raw(tenant.loc).get("users", [])):
        loc = Loc(tenant.loc.file, f"/users/{i}")
        yield from _refs(src, loc, "/teams", tuple(raw.get("teams", ())), tenant.teams, "team")
        yield from _refs(src, loc, "/roles", tuple(raw.get("roles", ())), tenant.roles, "role")
        if raw["id"] in seen:
            first = src.error(seen[raw["id"]], "/id", "")
            yield src.error(
                loc,
                "/id",
                f"duplicate user id '{raw['id']}'",
                f"the user at line {first.line} already has it; user ids must be unique",
                code="duplicate",
            )
        seen.setdefault(raw["id"], loc)
        yield from _check_leave(raw.get("out_of_office", ()), loc, src)
        yield from _check_hours(raw.get("working_hours"), loc, src)
        manager = raw.get("manager")
        if manager is not None and manager not in tenant.users:
            hint = str(choices_hint(manager, tenant.users, "users"))
            yield src.error(loc, "/manager", f"unknown user '{manager}'", hint, code="reference")
    yield from _check_org_chart(tenant, src)
    yield from _check_hours(src.raw(tenant.loc).get("working_hours"), tenant.loc, src)
    yield from check_labels(tenant.name, tenant.locales, src, tenant.loc, "/name")
    for group in (tenant.teams, tenant.roles):
        for item in group.values():
            yield from check_labels(item.label, tenant.locales, src, item.loc, "/label")


def _check_org_chart(tenant: TenantDef, src: Sources) -> Iterator[ConfigError]:
    """Managers form a tree: a chain of `manager:` that comes back to a user is a cycle,
    reported once, at the first user of it in the file."""
    reported: set[str] = set()
    for user in tenant.users.values():
        chain: list[str] = []
        at: str | None = user.id
        while at is not None and at in tenant.users and at not in chain:
            chain.append(at)
            at = tenant.users[at].manager
        if at is None or at not in chain:
            continue
        cycle = chain[chain.index(at) :]
        if reported & set(cycle):
            continue
        reported |= set(cycle)
        first = min(
            (tenant.users[u] for u in cycle), key=lambda u: int(u.loc.pointer.split("/")[-1])
        )
        path = " → ".join([*cycle[cycle.index(first.id) :], *cycle[: cycle.index(first.id)]])
        yield src.error(
            first.loc,
            "/manager",
            f"the org chart has a cycle: {path} → {first.id}",
            "a user cannot be (indirectly) their own manager: remove one manager: of the cycle",
            code="cycle",
        )


def _check_leave(periods: Any, loc: Loc, src: Sources) -> Iterator[ConfigError]:
    for i, period in enumerate(periods):
        days = []
        for key in ("from", "to"):
            try:
                days.append(date.fromisoformat(str(period[key])))
            except ValueError:
                message = f"'{period[key]}' is not a date"
                sub = f"/out_of_office/{i}/{key}"
                yield src.error(loc, sub, message, "write it as 2026-01-31", code="type")
        if len(days) == 2 and days[0] > days[1]:
            yield src.error(
                loc, f"/out_of_office/{i}/to", "the leave ends before it starts", code="invalid"
            )


def _check_hours(raw: Any, loc: Loc, src: Sources) -> Iterator[ConfigError]:
    if isinstance(raw, dict) and str(raw.get("start", "")) >= str(raw.get("end", "~")):
        yield src.error(
            loc,
            "/working_hours/end",
            f"working hours end ({raw.get('end')}) at or before they start ({raw.get('start')})",
            "hours run within one day, e.g. start: '09:00', end: '18:00'",
            code="invalid",
        )


def _refs(
    src: Sources, loc: Loc, sub: str, names: tuple[str, ...], known: Mapping[str, Any], noun: str
) -> Iterator[ConfigError]:
    for i, name in enumerate(names):
        if name not in known:
            hint = (
                str(choices_hint(name, known, f"{noun}s")) if known else f"no {noun}s are declared"
            )
            yield src.error(loc, f"{sub}/{i}", f"unknown {noun} '{name}'", hint, code="reference")


def check_roles(
    tenant: TenantDef, entities: Mapping[str, EntityDef], src: Sources
) -> Iterator[ConfigError]:
    all_fields = {f for e in entities.values() for f in e.fields}
    for role in tenant.roles.values():
        for name in role.entities:
            if name not in entities:
                sub = join_pointer("/entities", name)
                hint = str(choices_hint(name, entities, "entities"))
                yield src.error(role.loc, sub, f"unknown entity '{name}'", hint, code="reference")
        for i, name in enumerate(role.see_masked):
            if name not in all_fields:
                yield src.error(
                    role.loc,
                    f"/see_masked/{i}",
                    f"unknown field '{name}'",
                    str(choices_hint(name, all_fields, "fields"))
                    if all_fields
                    else "no entity has fields yet: declare them in entities.yaml",
                    code="reference",
                )


def check_labels(
    label: Label | None, locales: tuple[str, ...], src: Sources, loc: Loc, sub: str
) -> Iterator[ConfigError]:
    if label is None or "*" in label.texts:
        return
    missing = [loc_ for loc_ in locales if loc_ not in label.texts]
    if missing:
        yield src.error(
            loc,
            sub,
            f"missing the {' and '.join(missing)} text",
            f"the tenant's locales are {', '.join(locales)}: add '{missing[0]}: …', or people "
            "using it see another language",
            code="label",
            severity="warning",
        )


def check_entities(
    entities: Mapping[str, EntityDef], tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    for entity in entities.values():
        yield from check_labels(entity.label, tenant.locales, src, entity.loc, "/label")
        if entity.title_field and entity.title_field not in entity.fields:
            yield src.error(
                entity.loc,
                "/title_field",
                f"unknown field '{entity.title_field}'",
                str(choices_hint(entity.title_field, entity.fields, "fields")),
                code="reference",
            )
        for f in entity.fields.values():
            yield from check_field(f, entities, tenant, src)
        yield from _check_visible_via(entity, entities, src)


def _check_visible_via(
    entity: EntityDef, entities: Mapping[str, EntityDef], src: Sources
) -> Iterator[ConfigError]:
    """`visible_via` names a reference field; following it never comes back to the entity."""
    via = entity.visible_via
    if via is None:
        return
    refs = [n for n, f in entity.fields.items() if f.type == "reference"]
    found = entity.fields.get(via)
    if found is None or found.type != "reference":
        message = f"unknown field '{via}'" if found is None else f"'{via}' is not a reference"
        hint = str(choices_hint(via, refs, "reference fields")) if refs else "add a reference field"
        yield src.error(entity.loc, "/visible_via", message, hint, code="reference")
        return
    chain, at = [entity.name], found.ref_entity
    while at is not None and at in entities and at not in chain:
        chain.append(at)
        parent = entities[at]
        ref = parent.fields.get(parent.visible_via or "")
        at = ref.ref_entity if ref is not None else None
    if at == entity.name:
        yield src.error(
            entity.loc,
            "/visible_via",
            f"visibility goes round in a circle: {' → '.join([*chain, at])}",
            "one entity of the circle must not say visible_via",
            code="cycle",
        )


def check_field(
    f: FieldDef, entities: Mapping[str, EntityDef], tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    field_type = FIELD_TYPES[f.type]
    raw = src.raw(f.loc)
    if f.name in RESERVED_FIELDS:
        yield src.error(
            f.loc,
            "",
            f"'{f.name}' is a reserved name",
            f"every record already has: {', '.join(sorted(RESERVED_FIELDS))}",
            key=True,
            code="reserved",
        )
    for key in raw:
        if key not in COMMON_KEYS and key not in field_type.keys:
            yield src.error(
                f.loc,
                f"/{key}",
                f"'{key}' does not apply to a field of type {f.type}",
                _applies_hint(key),
                key=True,
                code="not_applicable",
            )
    for key, message, hint in field_type.check(f):
        yield src.error(f.loc, f"/{key}", message, hint, code="field")
    yield from _check_bounds(f, raw, src)
    if f.unique and not field_type.unique_allowed:
        yield src.error(
            f.loc, "/unique", f"a field of type {f.type} cannot be unique", code="field"
        )
    if f.ref_entity and f.ref_entity not in entities:
        yield src.error(
            f.loc,
            "/entity",
            f"unknown entity '{f.ref_entity}'",
            str(choices_hint(f.ref_entity, entities, "entities")),
            code="reference",
        )
    if f.default is not None:
        yield from _check_value(f, f.default, tenant, src, f.loc, "/default")
    yield from check_labels(f.label, tenant.locales, src, f.loc, "/label")
    yield from check_labels(f.help, tenant.locales, src, f.loc, "/help")
    for option in f.options:
        sub = join_pointer("/options", option.value)
        yield from check_labels(option.label, tenant.locales, src, f.loc, sub)


def _applies_hint(key: str) -> str:
    kinds = sorted(t.name for t in FIELD_TYPES.values() if key in t.keys)
    return f"'{key}' applies to: {', '.join(kinds)}" if kinds else "remove it"


def _check_bounds(f: FieldDef, raw: dict[str, Any], src: Sources) -> Iterator[ConfigError]:
    field_type = FIELD_TYPES[f.type]
    for key in ("min", "max"):
        if key in raw and key in field_type.keys:
            try:
                field_type.parse_bound(raw[key])
            except (ValueError, FieldValueError) as exc:
                yield src.error(
                    f.loc,
                    f"/{key}",
                    f"{key} {raw[key]!r} is not valid for a {f.type} field: {exc}",
                    code="field",
                )


def _check_value(
    f: FieldDef, value: Any, tenant: TenantDef, src: Sources, loc: Loc, sub: str
) -> Iterator[ConfigError]:
    try:
        coerce = FIELD_TYPES[f.type].coercer(f, zone_of(tenant.timezone))
    except (re.error, ValueError):
        return  # the field's bad pattern is reported with the field
    try:
        coerce(value)
    except FieldValueError as exc:
        yield src.error(
            loc, sub, f"{value!r} is not a valid value for {f.name}: {exc}", code="value"
        )


def check_forms(
    forms: Mapping[str, FormDef], entities: Mapping[str, EntityDef], tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    for form in forms.values():
        entity = entities.get(form.entity)
        if entity is None:
            yield src.unknown_entity(form.loc, form.entity, entities)
            continue
        yield from check_labels(form.label, tenant.locales, src, form.loc, "/label")
        yield from check_labels(form.description, tenant.locales, src, form.loc, "/description")
        yield from check_labels(form.thank_you, tenant.locales, src, form.loc, "/thank_you")
        yield from _check_form_fields(form, entity, tenant, src)
        yield from _check_form_logic(form, entity, tenant, src)
        yield from _check_form_sections(form, src)
        yield from _check_form_duplicates(form, entity, src)
        if form.embed_origins and not form.public:
            yield src.error(
                form.loc,
                "/embed",
                f"form '{form.name}' is embedded but not public",
                "add public: true (only a public form has a page to embed)",
                code="form",
            )
        for name, value in form.defaults.items():
            sub = join_pointer("/defaults", name)
            if name not in entity.fields:
                yield src.error(
                    form.loc,
                    sub,
                    f"entity '{entity.name}' has no field '{name}'",
                    str(choices_hint(name, entity.fields, "fields")),
                    key=True,
                    code="reference",
                )
            elif value is not None:
                yield from _check_value(entity.fields[name], value, tenant, src, form.loc, sub)


def _check_form_logic(
    form: FormDef, entity: EntityDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    """visible_when/required_when conditions, hidden fields filled from the URL, and
    entity-required fields a condition could hide."""
    # engine.config.conditions imports this module: import it when the checks run.
    from engine.conditions import entity_scope
    from engine.config.conditions import check_condition

    scope = entity_scope(entity, zone_of(tenant.timezone))
    params: dict[str, str] = {}
    for ff in form.fields:
        for key in ("visible_when", "required_when"):
            raw = getattr(ff, key)
            if raw is not None:
                yield from check_condition(src, ff.loc, f"/{key}", raw, scope)
        if ff.from_url is not None and not ff.hidden:
            yield src.error(
                ff.loc,
                "/from_url",
                f"'{ff.name}' is filled from the URL but is not hidden",
                "add 'hidden: true' (a field the visitor fills in takes no URL value)",
                code="form",
            )
        elif ff.hidden and ff.from_url is None:
            yield src.error(
                ff.loc,
                "/hidden",
                f"hidden field '{ff.name}' says nowhere where its value comes from",
                "add 'from_url: <query parameter>'; for a fixed value use the form's defaults",
                code="form",
            )
        if ff.from_url is not None:
            other = params.setdefault(ff.from_url, ff.name)
            if other != ff.name:
                yield src.error(
                    ff.loc,
                    "/from_url",
                    f"URL parameter '{ff.from_url}' already fills '{other}'",
                    "give each hidden field its own parameter",
                    code="duplicate",
                )
        f = entity.fields.get(ff.name)
        if (
            f is not None
            and ff.visible_when is not None
            and f.required
            and f.default is None
            and ff.name not in form.defaults
        ):
            yield src.error(
                ff.loc,
                "/visible_when",
                f"{entity.name} requires '{ff.name}', so it cannot be hidden by a condition",
                f"remove visible_when, or give '{ff.name}' a default (in the form's defaults "
                "or on the field) — otherwise a submission that hides it always fails",
                code="required",
            )


def _check_form_duplicates(form: FormDef, entity: EntityDef, src: Sources) -> Iterator[ConfigError]:
    """Duplicates are told apart by fields the form takes."""
    rule = form.duplicates
    if rule is None or rule.loc is None:
        return
    on_form = form.field_names
    for i, name in enumerate(rule.by):
        if name not in on_form:
            yield src.error(
                rule.loc,
                f"/by/{i}",
                f"'{name}' is not a field of form '{form.name}'",
                f"add '{name}' to the form's fields"
                if name in entity.fields
                else str(choices_hint(name, on_form, "fields")),
                code="reference",
            )


def _check_form_sections(form: FormDef, src: Sources) -> Iterator[ConfigError]:
    """Sections group fields of this form, each at most once; hidden fields are not shown."""
    on_form = {ff.name: ff for ff in form.fields}
    placed: set[str] = set()
    for section in form.sections:
        for i, name in enumerate(section.fields):
            sub = f"/fields/{i}"
            ff = on_form.get(name)
            if ff is None:
                yield src.error(
                    section.loc,
                    sub,
                    f"'{name}' is not a field of form '{form.name}'",
                    str(choices_hint(name, on_form, "fields")),
                    code="reference",
                )
            elif name in placed:
                yield src.error(
                    section.loc,
                    sub,
                    f"'{name}' is in more than one section",
                    "put each field in one section",
                    code="duplicate",
                )
            elif ff.hidden:
                yield src.error(
                    section.loc,
                    sub,
                    f"'{name}' is hidden: the page does not show it",
                    "leave hidden fields out of the sections",
                    code="form",
                )
            placed.add(name)
    if form.sections:
        missing = [ff.name for ff in form.fields if not ff.hidden and ff.name not in placed]
        if missing:
            yield src.error(
                form.loc,
                "/sections",
                f"no section shows {', '.join(repr(m) for m in missing)}",
                "add them to a section (the page shows only the fields of its sections)",
                code="form",
            )


def _check_form_fields(
    form: FormDef, entity: EntityDef, tenant: TenantDef, src: Sources
) -> Iterator[ConfigError]:
    seen: set[str] = set()
    for ff in form.fields:
        yield from check_labels(ff.label, tenant.locales, src, ff.loc, "/label")
        yield from check_labels(ff.help, tenant.locales, src, ff.loc, "/help")
        if ff.name not in entity.fields:
            yield src.error(
                ff.loc,
                "/field" if isinstance(src.raw(ff.loc), dict) else "",
                f"entity '{entity.name}' has no field '{ff.name}'",
                str(choices_hint(ff.name, entity.fields, "fields")),
                code="reference",
            )
        elif ff.name in seen:
            yield src.error(
                ff.loc,
                "",
                f"field '{ff.name}' is on the form twice",
                "list each field once",
                code="duplicate",
            )
        seen.add(ff.name)
    for name, f in entity.fields.items():
        if f.required and f.default is None and name not in seen and name not in form.defaults:
            yield src.error(
                form.loc,
                "/fields",
                f"the form leaves out '{name}', which {entity.name} requires",
                f"add '{name}' to the form's fields, or give it a default (in the form's "
                "defaults or on the field) — otherwise no submission can succeed",
                code="required",
            )
