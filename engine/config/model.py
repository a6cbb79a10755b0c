"""The frozen, typed config model: what a validated bundle means.

Everything downstream (field validators, storage, services, later the rule compilers) reads
these objects, never the YAML. Each object keeps `loc` so later checks can point at the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from engine.config.errors import ConfigError

EMPTY: Mapping[str, Any] = MappingProxyType({})

# Columns every record has; no custom field may take these names.
RESERVED_FIELDS = frozenset(
    {
        "id",
        "tenant",
        "entity",
        "owner",
        "pool",
        "version",
        "created_at",
        "updated_at",
        "deleted_at",
        "data",
        "config_version",
    }
)


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a config item came from: file and JSON pointer (line/col resolved on demand)."""

    file: str
    pointer: str


@dataclass(frozen=True, slots=True)
class Label:
    """Text in one or more languages."""

    texts: Mapping[str, str]

    def get(self, locale: str | None = None, default_locale: str = "en") -> str:
        if locale and locale in self.texts:
            return self.texts[locale]
        lang = (locale or "").split("-")[0]
        for key, text in self.texts.items():
            if key.split("-")[0] == lang and lang:
                return text
        return self.texts.get(default_locale) or next(iter(self.texts.values()))

    def as_dict(self) -> dict[str, str]:
        return dict(self.texts)

    @staticmethod
    def of(raw: Any, fallback: str) -> Label:
        if isinstance(raw, dict):
            return Label(MappingProxyType({str(k): str(v) for k, v in raw.items()}))
        return Label(MappingProxyType({"*": str(raw) if raw is not None else fallback}))


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Label


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: str
    label: Label
    loc: Loc
    help: Label | None = None
    required: bool = False
    default: Any = None
    unique: bool = False
    pii: bool = False
    indexed: bool = False
    min: Decimal | str | None = None
    max: Decimal | str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    scale: int | None = None
    currency: str | None = None
    max_items: int | None = None
    ref_entity: str | None = None
    options: tuple[Option, ...] = ()

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True, slots=True)
class EntityDef:
    name: str
    label: Label
    fields: Mapping[str, FieldDef]
    loc: Loc
    title_field: str | None = None
    visible_via: str | None = None  # a reference field: its parent's viewers see the record


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a form. visible_when/required_when are conditions (either form, as
    written) on the submitted values; a hidden field is not shown and is filled from the page
    URL's query parameter from_url."""

    name: str
    loc: Loc
    label: Label | None = None
    help: Label | None = None
    required: bool | None = None
    visible_when: Any = None
    required_when: Any = None
    hidden: bool = False
    from_url: str | None = None


@dataclass(frozen=True, slots=True)
class FormSection:
    """A titled group of the form's fields, in order (for the hosted page)."""

    label: Label | None
    fields: tuple[str, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class FormLimits:
    """The hosted page's abuse limits: submissions per network address and per form within
    a window, and the largest body taken."""

    per_ip: int = 20
    per_form: int = 2000
    window_minutes: int = 60
    max_body_kb: int = 32

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024


@dataclass(frozen=True, slots=True)
class DuplicateRule:
    """Submissions with equal values of `by` within the window make one record."""

    by: tuple[str, ...]
    within_minutes: int = 30
    loc: Loc | None = None


@dataclass(frozen=True, slots=True)
class FormDef:
    name: str
    entity: str
    label: Label
    fields: tuple[FormField, ...]
    loc: Loc
    description: Label | None = None
    defaults: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    public: bool = False  # served as a hosted page
    thank_you: Label | None = None  # shown after a submission on the hosted page
    redirect: str | None = None  # an https URL the hosted page goes to after a submission
    sections: tuple[FormSection, ...] = ()
    embed_origins: tuple[str, ...] = ()  # sites that may frame the page or post to it (CORS)
    limits: FormLimits = FormLimits()
    duplicates: DuplicateRule | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def url_params(self) -> dict[str, str]:
        """The hidden fields filled from the URL: {query parameter: field}."""
        return {f.from_url: f.name for f in self.fields if f.hidden and f.from_url}


@dataclass(frozen=True, slots=True)
class ViewDef:
    """A saved list: a condition (either form, as written) and an order over one entity."""

    name: str
    entity: str
    label: Label
    where: Any
    loc: Loc
    sort: str | None = None
    description: Label | None = None


@dataclass(frozen=True, slots=True)
class PromotionDef:
    """Moves a record from some pools to another when a condition holds."""

    id: str
    from_pools: tuple[str, ...] | None  # None: from any pool
    to: str
    when: Any  # a condition, either form, as written
    loc: Loc
    label: Label | None = None
    then: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PoolDef:
    id: str
    label: Label
    loc: Loc
    manual: bool = False  # records may be moved into it by hand


@dataclass(frozen=True, slots=True)
class ProtectionDef:
    """How long an owner keeps a record before it returns to the public pool."""

    days: int
    extend_on: str | None = None  # a date/datetime field: a later value extends protection
    extend_days: int | None = None
    max_days: int | None = None
    remind_days_before: int | None = None


@dataclass(frozen=True, slots=True)
class Claimers:
    """Who may claim from (and so see) a public pool: users in any of the teams or with any
    of the roles (公海 are often per department)."""

    teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublicPoolDef:
    """The public pool (公海): claims, releases and the limits on them."""

    pool: str
    loc: Loc
    claim_to: str | None = None  # None: the initial pool
    holding_pools: tuple[str, ...] | None = None  # None: every pool but the public one
    daily_claims: int | None = None
    max_holdings: int | None = None
    cooldown_days: int | None = None
    protection: ProtectionDef | None = None
    claimers: Claimers | None = None  # None: every active user may claim


@dataclass(frozen=True, slots=True)
class PoolSetDef:
    """The states of one entity's records and the rules that move records between them."""

    name: str
    entity: str
    initial: str
    pools: Mapping[str, PoolDef]
    promotions: tuple[PromotionDef, ...]
    loc: Loc
    label: Label | None = None
    public: PublicPoolDef | None = None

    def holding_pools(self) -> tuple[str, ...]:
        """Pools whose owned records are someone's holdings (all but the public pool)."""
        if self.public is None:
            return tuple(self.pools)
        if self.public.holding_pools is not None:
            return self.public.holding_pools
        return tuple(p for p in self.pools if p != self.public.pool)


@dataclass(frozen=True, slots=True)
class RollupDef:
    """A field computed from related records: fn over `from` records whose `via` is the id."""

    name: str
    entity: str
    field: str
    source: str  # the related records' entity ('from' in YAML)
    via: str
    fn: str  # count | sum | min | max | last
    loc: Loc
    of: str | None = None
    where: Any = None
    order_by: str | None = None
    label: Label | None = None


@dataclass(frozen=True, slots=True)
class Candidates:
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssignmentRuleDef:
    """One assignment rule: which records (entity, when), who (candidates), how (strategy)."""

    id: str
    entity: str
    strategy: str
    loc: Loc
    when: Any = None
    label: Label | None = None
    candidates: Candidates | None = None
    weights: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    open_when: Any = None
    key_field: str | None = None  # by_field: the field whose value picks the group
    map: Mapping[str, Candidates] = field(default_factory=lambda: EMPTY)
    within: str = "round_robin"
    queue: str | None = None
    respect_capacity: bool = True
    working_hours: bool = False
    sticky_by: tuple[str, ...] = ()
    fallback_queue: str | None = None  # None: the next rule
    reassign_when: Any = None  # sweeps hand the record on when this holds (reads assigned_at)


@dataclass(frozen=True, slots=True)
class SegmentDef:
    """A named condition over an entity's records; entering and leaving it are events."""

    name: str
    entity: str
    when: Any
    loc: Loc
    label: Label | None = None


@dataclass(frozen=True, slots=True)
class TriggerDef:
    """What makes a campaign fire: `kind` is one of TRIGGERS; the other fields as it needs."""

    kind: str
    field: str | None = None  # field_changed, relative
    pool: str | None = None  # pool_entered, pool_left
    segment: str | None = None  # segment_enter, segment_leave
    from_values: tuple[Any, ...] | None = None  # field_changed: None = any
    to_values: tuple[Any, ...] | None = None
    cron: str | None = None  # schedule
    offset: timedelta = timedelta(0)  # relative: negative = before the date


TRIGGERS = (
    "created",
    "updated",
    "field_changed",
    "pool_entered",
    "pool_left",
    "segment_enter",
    "segment_leave",
    "schedule",
    "relative",
)
EVENT_TRIGGERS = frozenset(TRIGGERS[:7])  # matched in the write's transaction


@dataclass(frozen=True, slots=True)
class ActionDef:
    """One action: `kind` (set, move, assign, create_task, notify, webhook) and its
    parameters as written; `pointer` locates it in the file."""

    kind: str
    params: Any
    pointer: str
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class StepDef:
    """Actions after a wait from the step before (0 for the first), if `when` still holds."""

    wait: timedelta
    actions: tuple[ActionDef, ...]
    when: Any = None
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class LimitsDef:
    once_per_record: bool = False
    cooldown: timedelta | None = None
    max_per_day: int | None = None
    quiet_hours: tuple[int, int] | None = None  # minutes of the day: start, end (may wrap)


@dataclass(frozen=True, slots=True)
class GoalDef:
    when: Any
    within: timedelta


@dataclass(frozen=True, slots=True)
class CampaignDef:
    """A trigger, a condition, steps of actions (the first without a wait), limits, an
    optional split (variant -> share; 'holdout' does nothing) and goal."""

    id: str
    entity: str
    trigger: TriggerDef
    steps: tuple[StepDef, ...]
    loc: Loc
    label: Label | None = None
    when: Any = None
    limits: LimitsDef = LimitsDef()
    split: tuple[tuple[str, int], ...] = ()
    goal: GoalDef | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class DerivedRule:
    """One rule of a score (points) or a grade (value); `when` None: always (a default)."""

    when: Any
    value: Any
    loc: Loc


@dataclass(frozen=True, slots=True)
class DerivedDef:
    """A field computed by rules: a score (sum of points) or a grade (first match)."""

    name: str
    kind: str  # "score" | "grade"
    entity: str
    field: str
    rules: tuple[DerivedRule, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class Capacity:
    open: int | None = None
    per_day: int | None = None


@dataclass(frozen=True, slots=True)
class Hours:
    """Working hours in the tenant's zone: weekdays (0 = Monday) and minutes from midnight."""

    days: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class UserDef:
    id: str
    name: str
    loc: Loc
    email: str | None = None
    teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    active: bool = True
    capacity: Capacity = Capacity()
    working_hours: Hours | None = None  # None: the tenant's
    out_of_office: tuple[tuple[date, date], ...] = ()
    on_deactivate: str | None = None  # None: the tenant's
    manager: str | None = None  # the org chart: `subtree` scopes follow it down


@dataclass(frozen=True, slots=True)
class TeamDef:
    id: str
    label: Label
    loc: Loc


# How far a role's reach over records goes, narrowest first: `own` = owned by the user,
# `team` = owned by anyone sharing a team with the user, `subtree` = owned by the user or
# anyone under them in the org chart (`manager:`), `all` = every record.
SCOPES = ("none", "own", "team", "subtree", "all")

# Every privileged action a role may be granted (`can:`). A feature that adds an action adds
# it here first; tests/api/test_permission_table.py fails for an action without its rows.
PERMISSIONS = (
    "assign",  # hand a record to anyone (POST …/assign), see and edit unowned records
    "configure",  # push, activate, roll back and dry-run config versions; jobs; sweeps
    "manage_users",  # switch users off and on, set their passwords from the admin UI
    "export",  # download record lists as files
    "see_all_stats",  # dashboards and stats over every record and user, not only one's own
    "import",  # load records from files
    "import_history",  # keep a file's owner, creator and dates when importing
    "merge",  # merge duplicate records
    "bulk",  # change many records at once
)


@dataclass(frozen=True, slots=True)
class RecordScopes:
    """Which records a role lets its users see, edit and delete (each one of SCOPES)."""

    see: str = "own"
    edit: str = "own"
    delete: str = "none"


@dataclass(frozen=True, slots=True)
class RoleDef:
    id: str
    label: Label
    loc: Loc
    see_masked: tuple[str, ...] = ()
    can: frozenset[str] = frozenset()  # permissions, e.g. "assign"
    records: RecordScopes = RecordScopes()  # every entity's, unless `entities` says otherwise
    entities: Mapping[str, RecordScopes] = field(default_factory=lambda: EMPTY)

    def scopes(self, entity: str) -> RecordScopes:
        return self.entities.get(entity, self.records)


@dataclass(frozen=True, slots=True)
class TenantDef:
    id: str
    name: Label
    timezone: str
    locale: str
    locales: tuple[str, ...]
    users: Mapping[str, UserDef]
    teams: Mapping[str, TeamDef]
    roles: Mapping[str, RoleDef]
    loc: Loc
    working_hours: Hours | None = None
    on_deactivate: str = "stay"  # stay | reassign | public
    template_budget_ms: int = 200  # each template render's time budget


@dataclass(frozen=True, slots=True)
class Bundle:
    """A whole validated tenant bundle."""

    tenant: TenantDef
    entities: Mapping[str, EntityDef]
    forms: Mapping[str, FormDef]
    files: Mapping[str, str]  # file name -> YAML text, exactly as loaded
    digest: str  # sha256 over the files: the identity of this config
    warnings: tuple[ConfigError, ...] = ()  # e.g. a label missing one of the tenant's locales
    views: Mapping[str, ViewDef] = field(default_factory=lambda: EMPTY)
    pool_sets: Mapping[str, PoolSetDef] = field(default_factory=lambda: EMPTY)
    derived: tuple[DerivedDef, ...] = ()  # scores first, then grades, in bundle order
    rollups: tuple[RollupDef, ...] = ()
    assignment: tuple[AssignmentRuleDef, ...] = ()
    queues: Mapping[str, Label] = field(default_factory=lambda: EMPTY)
    segments: Mapping[str, SegmentDef] = field(default_factory=lambda: EMPTY)
    campaigns: tuple[CampaignDef, ...] = ()
    # Each file kind's data as checked: merged over the templates the bundle extends.
    resolved: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def computed(self, entity: str) -> frozenset[str]:
        """Fields of an entity that rules compute (scores, grades, rollups): read-only."""
        fields = [d.field for d in self.derived if d.entity == entity]
        return frozenset(fields + [r.field for r in self.rollups if r.entity == entity])

    def pool_set_of(self, entity: str) -> PoolSetDef | None:
        return next((p for p in self.pool_sets.values() if p.entity == entity), None)

    @property
    def id(self) -> str:
        return self.tenant.id
