"""Build the frozen model from schema-valid data (no checking here beyond shape)."""

from __future__ import annotations

from datetime import UTC, date, tzinfo
from types import MappingProxyType
from typing import Any

from engine.config.model import (
    AssignmentRuleDef,
    Candidates,
    Capacity,
    Claimers,
    DerivedDef,
    DerivedRule,
    DuplicateRule,
    EntityDef,
    FieldDef,
    FormDef,
    FormField,
    FormLimits,
    FormSection,
    Hours,
    Label,
    Loc,
    Option,
    PoolDef,
    PoolSetDef,
    PromotionDef,
    ProtectionDef,
    PublicPoolDef,
    RecordScopes,
    RoleDef,
    RollupDef,
    TeamDef,
    TenantDef,
    UserDef,
    ViewDef,
)
from engine.config.yamlload import join_pointer
from engine.fields.errors import FieldValueError
from engine.fields.types import FIELD_TYPES


def _label(raw: Any) -> Label | None:
    return Label.of(raw, "") if raw is not None else None


def build_tenant(data: dict[str, Any], file: str) -> TenantDef:
    locale = data.get("locale", "en")
    locales = tuple(data.get("locales") or (locale,))
    users = {
        u["id"]: _user(u, Loc(file, f"/users/{i}")) for i, u in enumerate(data.get("users", []))
    }
    teams = {
        k: TeamDef(k, Label.of((v or {}).get("label"), k), Loc(file, join_pointer("/teams", k)))
        for k, v in (data.get("teams") or {}).items()
    }
    roles = {
        k: _role(k, v or {}, Loc(file, join_pointer("/roles", k)))
        for k, v in (data.get("roles") or {}).items()
    }
    return TenantDef(
        id=data["tenant"],
        name=Label.of(data["name"], data["tenant"]),
        timezone=data["timezone"],
        locale=locale,
        locales=locales,
        users=MappingProxyType(users),
        teams=MappingProxyType(teams),
        roles=MappingProxyType(roles),
        loc=Loc(file, ""),
        working_hours=_hours(data.get("working_hours")),
        on_deactivate=data.get("on_deactivate", "stay"),
        template_budget_ms=data.get("template_budget_ms", 200),
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(raw: dict[str, Any] | None) -> Hours | None:
    if raw is None:
        return None
    days = tuple(_DAYS.index(d) for d in raw.get("days", _DAYS[:5]))
    return Hours(days, _minutes(raw["start"]), _minutes(raw["end"]))


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _user(raw: dict[str, Any], loc: Loc) -> UserDef:
    cap = raw.get("capacity") or {}
    return UserDef(
        id=raw["id"],
        name=raw["name"],
        loc=loc,
        email=raw.get("email"),
        teams=tuple(raw.get("teams", ())),
        roles=tuple(raw.get("roles", ())),
        active=raw.get("active", True),
        capacity=Capacity(cap.get("open"), cap.get("per_day")),
        working_hours=_hours(raw.get("working_hours")),
        on_deactivate=raw.get("on_deactivate"),
        manager=raw.get("manager"),
        out_of_office=tuple(
            (date.fromisoformat(o["from"]), date.fromisoformat(o["to"]))
            for o in raw.get("out_of_office", ())
            if _is_date(o["from"]) and _is_date(o["to"])
        ),
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False  # reported by the checks
    return True


def build_assignment(data: dict[str, Any], file: str) -> tuple[AssignmentRuleDef, ...]:
    return tuple(
        _assignment_rule(raw, Loc(file, f"/assignment/{i}"))
        for i, raw in enumerate(data.get("assignment") or [])
    )


def build_queues(data: dict[str, Any], file: str) -> dict[str, Label]:
    return {
        name: Label.of((raw or {}).get("label"), name)
        for name, raw in (data.get("queues") or {}).items()
    }


def _candidates(raw: dict[str, Any] | None) -> Candidates | None:
    if raw is None:
        return None
    return Candidates(
        tuple(raw.get("users", ())), tuple(raw.get("teams", ())), tuple(raw.get("roles", ()))
    )


def _assignment_rule(raw: dict[str, Any], loc: Loc) -> AssignmentRuleDef:
    fallback = raw.get("fallback", "next")
    return AssignmentRuleDef(
        id=raw["id"],
        entity=raw["entity"],
        strategy=raw["strategy"],
        loc=loc,
        when=raw.get("when"),
        label=_label(raw.get("label")),
        candidates=_candidates(raw.get("candidates")),
        weights=MappingProxyType(dict(raw.get("weights") or {})),
        open_when=raw.get("open_when"),
        key_field=raw.get("field"),
        map=MappingProxyType(
            {str(k): c for k, v in (raw.get("map") or {}).items() if (c := _candidates(v))}
        ),
        within=raw.get("within", "round_robin"),
        queue=raw.get("queue"),
        respect_capacity=raw.get("respect_capacity", True),
        working_hours=raw.get("working_hours", False),
        sticky_by=tuple(raw.get("sticky_by", ())),
        fallback_queue=None if fallback == "next" else fallback["queue"],
        reassign_when=raw.get("reassign_when"),
    )


def _role(role_id: str, raw: dict[str, Any], loc: Loc) -> RoleDef:
    label = Label.of(raw.get("label"), role_id)
    masked, can = tuple(raw.get("see_masked", ())), frozenset(raw.get("can", ()))
    records = _scopes(raw, RecordScopes())
    entities = {name: _scopes(v or {}, records) for name, v in (raw.get("entities") or {}).items()}
    return RoleDef(role_id, label, loc, masked, can, records, MappingProxyType(entities))


def _scopes(raw: dict[str, Any], base: RecordScopes) -> RecordScopes:
    """A role's scopes: what it says, else `base` (the role's own for an entity's)."""
    return RecordScopes(
        raw.get("see", base.see), raw.get("edit", base.edit), raw.get("delete", base.delete)
    )


def build_entities(data: dict[str, Any], file: str, tz: tzinfo = UTC) -> dict[str, EntityDef]:
    out = {}
    for name, raw in (data.get("entities") or {}).items():
        base = join_pointer("/entities", name)
        fields = {
            fname: _field(fname, fraw, Loc(file, join_pointer(f"{base}/fields", fname)), tz)
            for fname, fraw in raw["fields"].items()
        }
        out[name] = EntityDef(
            name,
            Label.of(raw.get("label"), name),
            MappingProxyType(fields),
            Loc(file, base),
            raw.get("title_field"),
            raw.get("visible_via"),
        )
    return out


def _options(raw: Any) -> tuple[Option, ...]:
    if isinstance(raw, dict):
        return tuple(Option(str(k), Label.of(v, str(k))) for k, v in raw.items())
    return tuple(Option(str(v), Label.of(str(v), str(v))) for v in raw or ())


def _field(name: str, raw: dict[str, Any], loc: Loc, tz: tzinfo) -> FieldDef:
    return FieldDef(
        name=name,
        type=raw["type"],
        label=Label.of(raw.get("label"), name),
        loc=loc,
        help=_label(raw.get("help")),
        required=raw.get("required", False),
        default=raw.get("default"),
        unique=raw.get("unique", False),
        pii=raw.get("pii", False),
        indexed=raw.get("indexed", False),
        min=_bound(raw, "min", tz),
        max=_bound(raw, "max", tz),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        pattern=raw.get("pattern"),
        scale=raw.get("scale"),
        currency=raw.get("currency"),
        max_items=raw.get("max_items"),
        ref_entity=raw.get("entity"),
        options=_options(raw.get("options")),
    )


def _bound(raw: dict[str, Any], key: str, tz: tzinfo) -> Any:
    """A min/max in the type's comparable form; None if absent or unusable (checks report it)."""
    field_type = FIELD_TYPES.get(raw["type"])
    if raw.get(key) is None or field_type is None or key not in field_type.keys:
        return None
    try:
        return field_type.parse_bound(raw[key], tz)
    except (ValueError, FieldValueError):
        return None


def build_views(data: dict[str, Any], file: str) -> dict[str, ViewDef]:
    out = {}
    for name, raw in (data.get("views") or {}).items():
        out[name] = ViewDef(
            name=name,
            entity=raw["entity"],
            label=Label.of(raw.get("label"), name),
            where=raw["where"],
            loc=Loc(file, join_pointer("/views", name)),
            sort=raw.get("sort"),
            description=_label(raw.get("description")),
        )
    return out


def build_pool_sets(data: dict[str, Any], file: str) -> dict[str, PoolSetDef]:
    out = {}
    for name, raw in (data.get("pool_sets") or {}).items():
        base = join_pointer("/pool_sets", name)
        pools = {
            pid: PoolDef(
                pid,
                Label.of((praw or {}).get("label"), pid),
                Loc(file, join_pointer(f"{base}/pools", pid)),
                bool((praw or {}).get("manual", False)),
            )
            for pid, praw in raw["pools"].items()
        }
        promotions = tuple(
            _promotion(p, Loc(file, f"{base}/promotions/{i}"))
            for i, p in enumerate(raw.get("promotions") or [])
        )
        out[name] = PoolSetDef(
            name,
            raw["entity"],
            raw["initial"],
            MappingProxyType(pools),
            promotions,
            Loc(file, base),
            _label(raw.get("label")),
            _public(raw.get("public"), Loc(file, f"{base}/public")),
        )
    return out


def _public(raw: dict[str, Any] | None, loc: Loc) -> PublicPoolDef | None:
    if raw is None:
        return None
    holding = raw.get("holding_pools")
    protection = raw.get("protection")
    claimers = raw.get("claimers")
    return PublicPoolDef(
        pool=raw["pool"],
        loc=loc,
        claim_to=raw.get("claim_to"),
        holding_pools=None if holding is None else tuple(holding),
        daily_claims=raw.get("daily_claims"),
        max_holdings=raw.get("max_holdings"),
        cooldown_days=raw.get("cooldown_days"),
        protection=None if protection is None else ProtectionDef(**protection),
        claimers=None if claimers is None else Claimers(**_tuples(claimers)),
    )


def _tuples(raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v or ()) for k, v in raw.items()}


def build_rollups(data: dict[str, Any], file: str) -> tuple[RollupDef, ...]:
    return tuple(
        RollupDef(
            name=name,
            entity=raw["entity"],
            field=raw["field"],
            source=raw["from"],
            via=raw["via"],
            fn=raw["fn"],
            loc=Loc(file, join_pointer("/rollups", name)),
            of=raw.get("of"),
            where=raw.get("where"),
            order_by=raw.get("order_by"),
            label=_label(raw.get("label")),
        )
        for name, raw in (data.get("rollups") or {}).items()
    )


def _promotion(raw: dict[str, Any], loc: Loc) -> PromotionDef:
    source = raw["from"]
    return PromotionDef(
        id=raw["id"],
        from_pools=None if source == "any" else tuple(source),
        to=raw["to"],
        when=raw["when"],
        loc=loc,
        label=_label(raw.get("label")),
        then=tuple(raw.get("then") or ()),
    )


def build_derived(data: dict[str, Any], file: str) -> tuple[DerivedDef, ...]:
    out = []
    for section, kind, key in (("scoring", "score", "points"), ("grades", "grade", "grade")):
        for name, raw in (data.get(section) or {}).items():
            base = join_pointer(f"/{section}", name)
            rules = tuple(
                DerivedRule(r.get("when"), r[key], Loc(file, f"{base}/rules/{i}"))
                for i, r in enumerate(raw["rules"])
            )
            out.append(DerivedDef(name, kind, raw["entity"], raw["field"], rules, Loc(file, base)))
    return tuple(out)


def build_forms(data: dict[str, Any], file: str) -> dict[str, FormDef]:
    out = {}
    for name, raw in (data.get("forms") or {}).items():
        base = join_pointer("/forms", name)
        fields = tuple(
            _form_field(f, Loc(file, f"{base}/fields/{i}")) for i, f in enumerate(raw["fields"])
        )
        sections = tuple(
            FormSection(
                _label(s.get("label")), tuple(s["fields"]), Loc(file, f"{base}/sections/{i}")
            )
            for i, s in enumerate(raw.get("sections") or ())
        )
        out[name] = FormDef(
            name=name,
            entity=raw["entity"],
            label=Label.of(raw.get("label"), name),
            fields=fields,
            loc=Loc(file, base),
            description=_label(raw.get("description")),
            defaults=MappingProxyType(dict(raw.get("defaults") or {})),
            public=bool(raw.get("public", False)),
            thank_you=_label(raw.get("thank_you")),
            redirect=raw.get("redirect"),
            sections=sections,
            embed_origins=tuple((raw.get("embed") or {}).get("origins") or ()),
            limits=FormLimits(**(raw.get("limits") or {})),
            duplicates=_duplicates(raw.get("duplicates"), Loc(file, f"{base}/duplicates")),
        )
    return out


def _duplicates(raw: Any, loc: Loc) -> DuplicateRule | None:
    if raw is None:
        return None
    return DuplicateRule(tuple(raw["by"]), raw.get("within_minutes", 30), loc)


def _form_field(raw: Any, loc: Loc) -> FormField:
    if isinstance(raw, str):
        return FormField(raw, loc)
    return FormField(
        raw["field"],
        loc,
        _label(raw.get("label")),
        _label(raw.get("help")),
        raw.get("required"),
        visible_when=raw.get("visible_when"),
        required_when=raw.get("required_when"),
        hidden=bool(raw.get("hidden", False)),
        from_url=raw.get("from_url"),
    )
