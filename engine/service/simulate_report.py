"""What a dry run found, as frozen data: per entity, the pool moves, owner changes, derived
values and campaign firings a candidate bundle would cause, with a few example records each.

The tallies here collect while records are scanned; `freeze` turns them into the report.
Labels are kept as the bundle wrote them (texts by locale) so every shell picks its language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.config.model import Label
from engine.service.views import instant

EXAMPLES = 5  # example records kept per item
ERRORS = 20  # records with errors kept per entity
TRANSITIONS = 10  # most frequent before → after pairs kept per score or grade

Texts = Mapping[str, str]  # a label's texts by locale ('*': the same in every language)


def texts(label: Label | None, fallback: str) -> dict[str, str]:
    return dict(label.texts) if label is not None else {"*": fallback}


def pick(label: Texts | None, locale: str, fallback: str = "") -> str:
    """A label's text in the locale (as Label.get picks it)."""
    if not label:
        return fallback
    return Label(dict(label)).get(locale)


@dataclass(frozen=True)
class Example:
    """One record an item applies to: its id, its title, and what changes for it."""

    id: str
    title: str | None
    before: Any = None
    after: Any = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleCount:
    rule: str
    count: int
    label: Texts | None = None


@dataclass(frozen=True)
class PoolMove:
    """Records that would leave pool `before` (None: no pool yet) and settle in `after`."""

    pool_set: str
    before: str | None
    after: str
    count: int
    before_label: Texts | None
    after_label: Texts
    rules: tuple[RuleCount, ...]  # the rules along the way and how many records each moved
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class OwnerChange:
    """Records that would lose their owner (`unassigned`, `protection_expired`,
    `deactivated_public`) or be handed to another candidate (`reassigned`,
    `deactivated_reassign`), by `rule` (a promotion, pool set, user or assignment rule); or
    whose owner stays though the candidate's assignment rule would not pick them any more
    (`outside_rule`: a reassignment would hand the record elsewhere)."""

    reason: str
    rule: str
    count: int
    label: Texts | None
    examples: tuple[Example, ...]  # before: the owner now; after: the owner then (None)


@dataclass(frozen=True)
class FieldChange:
    """A score or grade whose value the candidate computes differently from the stored one."""

    rule: str
    kind: str  # score | grade
    field: str
    count: int
    label: Texts | None
    transitions: tuple[tuple[Any, Any, int], ...]  # the commonest (before, after, n)
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class CampaignHit:
    """A campaign that would fire for existing records without any write by a person."""

    campaign: str
    trigger: str
    count: int  # records it would fire for (limits not counted out)
    label: Texts | None
    limited: Mapping[str, int]  # of those, refused by a limit: once_per_record, cooldown, …
    variants: Mapping[str, int]  # the split's share of them (holdout: tracked, nothing sent)
    detail: Mapping[str, Any]  # by trigger: the next scheduled time, plans due now or later
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class RecordError:
    """A record the candidate cannot evaluate (`failed`), or whose stored values its fields
    refuse (`invalid`: its next write would be refused until they are fixed)."""

    id: str
    title: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Note:
    """Something the reader should know about the figures (rendered per locale)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EntityReport:
    entity: str
    label: Texts
    total: int  # live records of the entity
    scanned: int  # records looked at (fewer with a sample)
    changed: int  # records affected: something changes, or a campaign fires for them
    errors: int
    error_examples: tuple[RecordError, ...]
    pool_moves: tuple[PoolMove, ...]
    owner_changes: tuple[OwnerChange, ...]
    field_changes: tuple[FieldChange, ...]
    campaigns: tuple[CampaignHit, ...]
    seconds: float


@dataclass(frozen=True)
class SimulationReport:
    tenant: str
    active_version: int
    candidate_version: int | None  # a stored version dry-run by number; None: given files
    candidate_digest: str
    now: datetime
    sample: int | None
    locale: str  # the candidate tenant's own locale
    entities: tuple[EntityReport, ...]
    changes: tuple[Mapping[str, Any], ...]  # the semantic diff from the active bundle
    notes: tuple[Note, ...]
    seconds: float
    read_seconds: float  # of which reading rows from the database

    @property
    def scanned(self) -> int:
        return sum(e.scanned for e in self.entities)

    @property
    def changed(self) -> int:
        return sum(e.changed for e in self.entities)

    def entity(self, name: str) -> EntityReport:
        return next(e for e in self.entities if e.entity == name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain(asdict(self))
        out["scanned"], out["changed"] = self.scanned, self.changed
        return out


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes as UTC text, decimals as text, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return instant(value)  # UTC to the second, as the API shows every time
    if isinstance(value, Decimal):
        return str(value)
    return value


# tallies: filled while scanning --------------------------------------------------------------
@dataclass
class Tally:
    """A count with a few examples and how often each rule took part."""

    count: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    examples: list[Example] = field(default_factory=list)
    pairs: Counter[tuple[Any, Any]] = field(default_factory=Counter)
    extra: Counter[str] = field(default_factory=Counter)

    def add(self, example: Example, rules: tuple[str, ...] = (), shown: bool = True) -> None:
        """Count a record; keep it as an example while there is room, if `shown` (a record
        the reader may see)."""
        self.count += 1
        self.rules.update(rules)
        if shown and len(self.examples) < EXAMPLES:
            self.examples.append(example)


def hashable(value: Any) -> Any:
    """A grade's value as a counter key (tags and multi-enums are lists)."""
    return tuple(value) if isinstance(value, list) else value
