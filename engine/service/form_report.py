"""What the forms page reports: submissions per form, channel and day, their outcomes, and
how far the records they made have come since (the per-activity conversion report).

A submission's channel is the value of one of its form's hidden (URL-filled) fields, e.g.
`source` or `activity`, as the log row keeps it; "(none)" when it has none. Refused
submissions (invalid, spam) are logged without a channel, so they count under "(none)".

Days are the tenant's: a period of N days ends with today in the tenant's time zone. The
database groups the log by form, outcome, channel value and local day when the zone keeps one
UTC offset all period, else by quarter of an hour of UTC (every zone's offset, and every change
of it, falls on a quarter of an hour, so each group lies in one local day): Python sorts a few
hundred or thousand groups into days, however many submissions there are.

Conversion joins the created records by primary key and groups by their current pool: like
the dashboard's funnel, a record counts as having reached its pool's stage and every stage
before it (funnel order from dashboard.funnel_pools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from engine.config.model import FormDef, PoolSetDef
from engine.errors import Invalid, NotFound
from engine.rules.compiled import CompiledConfig
from engine.service.dashboard import funnel_pools
from engine.service.submissions import CREATED, DUPLICATE, INVALID, SPAM
from engine.storage import tables as t
from engine.storage.store import Store, Tx

NONE = "(none)"  # the channel of a submission without a value for the chosen field
OTHER = "(other)"  # the channel values beyond the busiest MAX_CHANNELS, together
MAX_CHANNELS = 20  # a free-text field (activity) takes whatever links visitors are given
OUTCOMES = (CREATED, DUPLICATE, INVALID, SPAM)
MAX_DAYS = 3660
BUCKET = 900  # seconds: a quarter of an hour
DAY = 86_400
EPOCH = date(1970, 1, 1)

S = t.form_submissions.c
R = t.records.c


# the period ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    """Whole days in the tenant's time zone, from `first` to `last` (both included)."""

    first: date
    last: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        """The first day's local midnight (UTC)."""
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day (UTC, not included)."""
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def days(self) -> tuple[date, ...]:
        count = (self.last - self.first).days + 1
        return tuple(self.first + timedelta(days=i) for i in range(count))


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def period(tz: tzinfo, now: datetime, days: int) -> Period:
    """The last `days` days up to and including today in `tz`."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"a period is 1 to {MAX_DAYS} days, not {days}")
    last = now.astimezone(tz).date()
    return Period(last - timedelta(days=days - 1), last, tz)


# channels ------------------------------------------------------------------------------------
def channel_fields(form: FormDef) -> tuple[str, ...]:
    """The hidden fields a form's URL fills: the channels its submissions can be told by."""
    return tuple(form.url_params.values())


def channel_value(channel: Mapping[str, Any] | None, name: str | None) -> str:
    """A submission's channel as text: the named field's value, NONE when it has none."""
    if name is None or not channel:
        return NONE
    return value_text(channel.get(name))


def value_text(value: Any) -> str:
    """A channel field's value as text (NONE for no value)."""
    if value is None or value == "" or value == []:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def ordered(totals: Mapping[str, int]) -> list[str]:
    """Channel values, most first (then by name), NONE last."""
    named = sorted((c for c in totals if c != NONE), key=lambda c: (-totals[c], c))
    return [*named, NONE] if NONE in totals else named


# submissions -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcomes:
    created: int = 0
    duplicate: int = 0
    invalid: int = 0
    spam: int = 0

    @property
    def total(self) -> int:
        return self.created + self.duplicate + self.invalid + self.spam

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(
            self.created + other.created,
            self.duplicate + other.duplicate,
            self.invalid + other.invalid,
            self.spam + other.spam,
        )


@dataclass(frozen=True, slots=True)
class Submissions:
    """Counts per (form, channel value, local day)."""

    period: Period
    channel: str | None  # the hidden field the channel values are of
    cells: Mapping[tuple[str, str, date], Outcomes]

    def total(self) -> Outcomes:
        return _sum(self.cells.values())

    def of_form(self, form: str) -> Submissions:
        cells = {key: o for key, o in self.cells.items() if key[0] == form}
        return Submissions(self.period, self.channel, cells)

    def by_form(self) -> dict[str, Outcomes]:
        return _grouped((form, o) for (form, _, _), o in self.cells.items())

    def by_channel(self) -> dict[str, Outcomes]:
        """Per channel value, most submissions first, NONE last."""
        found = _grouped((channel, o) for (_, channel, _), o in self.cells.items())
        return {c: found[c] for c in ordered({c: o.total for c, o in found.items()})}

    def busiest(self, limit: int = MAX_CHANNELS) -> frozenset[str]:
        """The `limit` channel values with the most submissions (and NONE)."""
        totals = {c: o.total for c, o in self.by_channel().items()}
        named = [c for c in ordered(totals) if c != NONE]
        return frozenset([*named[:limit], NONE])

    def folded(self, keep: frozenset[str]) -> Submissions:
        """The channel values not in `keep` counted together as OTHER."""
        cells: dict[tuple[str, str, date], Outcomes] = {}
        for (form, channel, day), outcomes in self.cells.items():
            key = (form, channel if channel in keep else OTHER, day)
            cells[key] = cells.get(key, Outcomes()) + outcomes
        return Submissions(self.period, self.channel, cells)

    def by_day(self) -> dict[date, dict[str, int]]:
        """Every day of the period (in order): submissions per channel value (those of the
        period, ordered as by_channel; zeros included)."""
        channels = list(self.by_channel())
        days: dict[date, dict[str, int]] = {d: dict.fromkeys(channels, 0) for d in self.period.days}
        for (_, channel, day), outcomes in self.cells.items():
            days[day][channel] += outcomes.total
        return days


def _sum(items: Iterable[Outcomes]) -> Outcomes:
    total = Outcomes()
    for item in items:
        total += item
    return total


def _grouped(pairs: Iterable[tuple[str, Outcomes]]) -> dict[str, Outcomes]:
    found: dict[str, Outcomes] = {}
    for key, outcomes in pairs:
        found[key] = found.get(key, Outcomes()) + outcomes
    return found


def _step(within: Period) -> tuple[int, int]:
    """How the database buckets the period: (seconds per bucket, seconds added first). With
    one UTC offset all period long (no daylight saving change in it), whole local days;
    else quarters of an hour of UTC, each inside one local day whatever the zone."""
    bounds = (*within.days, within.last + timedelta(days=1))
    offsets = {_offset(local_midnight(d, within.tz), within.tz) for d in bounds}
    return (DAY, offsets.pop()) if len(offsets) == 1 else (BUCKET, 0)


def _offset(moment: datetime, tz: tzinfo) -> int:
    found = moment.astimezone(tz).utcoffset()
    return int(found.total_seconds()) if found is not None else 0


def _bucket(tx: Tx, step: int, shift: int) -> sa.ColumnElement[Any]:
    """(seconds since 1970 + shift) // step for a submission's time."""
    if tx.dialect == "postgresql":
        return sa.func.floor((sa.extract("epoch", S.at) + shift) / step)
    # SQLite keeps `at` as UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
    return (sa.cast(sa.func.strftime("%s", S.at), sa.Integer) + shift) // step


def _day(bucket: int, step: int, shift: int, tz: tzinfo) -> date:
    if step == DAY:  # shifted into local time already: the bucket is the local day
        return EPOCH + timedelta(days=bucket)
    return datetime.fromtimestamp(bucket * step - shift, UTC).astimezone(tz).date()


def _value(channel: str | None) -> sa.ColumnElement[Any]:
    """The channel field's value, as JSON (so a number, a list or true reads back the same on
    both databases); NULL without a field."""
    return S.channel[channel] if channel is not None else sa.null()


def submissions(
    tx: Tx, tenant: str, within: Period, *, form: str | None = None, channel: str | None = None
) -> Submissions:
    """The tenant's submissions in the period (of one form, or of all), counted per form,
    value of the `channel` field and local day (ix_form_submissions_form)."""
    step, shift = _step(within)
    value = _value(channel).label("channel_value")
    bucket = _bucket(tx, step, shift).label("bucket")
    query = (
        sa.select(S.form, S.outcome, value, bucket, sa.func.count().label("n"))
        .where(S.tenant_id == tenant, S.at >= within.start, S.at < within.end)
        .group_by(S.form, S.outcome, "bucket", *(["channel_value"] if channel else []))
    )
    if form is not None:
        query = query.where(S.form == form)
    counts: dict[tuple[str, str, date], dict[str, int]] = {}
    days: dict[int, date] = {}
    for row in tx.conn.execute(query):
        number = int(row.bucket)
        day = days.get(number)
        if day is None:
            day = days[number] = _day(number, step, shift, within.tz)
        per_outcome = counts.setdefault((str(row.form), value_text(row.channel_value), day), {})
        per_outcome[row.outcome] = per_outcome.get(row.outcome, 0) + int(row.n)
    cells = {key: Outcomes(*(found.get(o, 0) for o in OUTCOMES)) for key, found in counts.items()}
    return Submissions(within, channel, cells)


# conversion ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reached:
    """Where the records one channel's submissions created are now."""

    channel: str
    created: int  # records the period's submissions created (each once)
    pools: Mapping[str, int]  # live records now in each pool of the set, in bundle order
    other: int  # live records in no pool of the set (or the entity has no pool set)
    deleted: int  # deleted since (or gone)
    stages: Mapping[str, int] = field(default_factory=dict)  # stage: live records at or beyond

    @property
    def live(self) -> int:
        return self.created - self.deleted

    def share(self, count: int) -> float | None:
        """`count` as a share of the created records (None when there are none)."""
        return count / self.created if self.created else None


@dataclass(frozen=True, slots=True)
class Conversion:
    form: str
    entity: str
    pool_set: PoolSetDef | None
    stages: tuple[str, ...]  # the funnel's pools in order (dashboard.funnel_pools)
    exits: tuple[str, ...]  # the set's other pools (lost, invalid, public…)
    rows: tuple[Reached, ...]  # per channel value: most created first, NONE last
    total: Reached

    def folded(self, keep: frozenset[str]) -> Conversion:
        """The rows of channel values not in `keep` as one OTHER row (after the others)."""
        kept = tuple(r for r in self.rows if r.channel in keep)
        rest = [r for r in self.rows if r.channel not in keep]
        if not rest:
            return self
        other = _merged(OTHER, rest, self.stages)
        named = tuple(r for r in kept if r.channel != NONE)
        none = tuple(r for r in kept if r.channel == NONE)
        rows = (*named, other, *none)
        return Conversion(
            self.form, self.entity, self.pool_set, self.stages, self.exits, rows, self.total
        )


def _merged(channel: str, rows: Iterable[Reached], stages: tuple[str, ...]) -> Reached:
    created = other = deleted = 0
    pools: dict[str, int] = {}
    reached: dict[str, int] = dict.fromkeys(stages, 0)
    for row in rows:
        created, other, deleted = created + row.created, other + row.other, deleted + row.deleted
        for pool, n in row.pools.items():
            pools[pool] = pools.get(pool, 0) + n
        for stage, n in row.stages.items():
            reached[stage] += n
    return Reached(channel, created, pools, other, deleted, reached)


def conversion(
    tx: Tx,
    tenant: str,
    within: Period,
    form: FormDef,
    pool_set: PoolSetDef | None,
    channel: str | None,
) -> Conversion:
    """Of the records the form's submissions in the period created, how many are now in each
    pool, per value of the `channel` field. One GROUP BY over the log's index and the
    records' primary key; a record made by a submission is counted once (a duplicate
    submission points at an earlier record and is not counted again)."""
    live = sa.and_(R.id.is_not(None), R.deleted_at.is_(None)).label("live")
    value = _value(channel).label("channel_value")
    query = (
        sa.select(value, R.pool, live, sa.func.count().label("n"))
        .select_from(
            t.form_submissions.outerjoin(
                t.records, sa.and_(R.tenant_id == S.tenant_id, R.id == S.record_id)
            )
        )
        .where(
            S.tenant_id == tenant,
            S.form == form.name,
            S.at >= within.start,
            S.at < within.end,
            S.outcome == CREATED,
            S.record_id.is_not(None),
        )
        .group_by(R.pool, "live", *(["channel_value"] if channel else []))
    )
    pools = tuple(pool_set.pools) if pool_set else ()
    counts: dict[str, dict[str | None, int]] = {}
    deleted: dict[str, int] = {}
    for row in tx.conn.execute(query):
        name, n = value_text(row.channel_value), int(row.n)
        if not row.live:  # deleted, or no such row (NULL from the outer join)
            deleted[name] = deleted.get(name, 0) + n
            continue
        per_pool = counts.setdefault(name, {})
        per_pool[row.pool] = per_pool.get(row.pool, 0) + n
    stages = tuple(funnel_pools(pool_set)) if pool_set else ()
    exits = tuple(p for p in pools if p not in stages)
    created = {v: sum(counts.get(v, {}).values()) + deleted.get(v, 0) for v in {*counts, *deleted}}
    rows = tuple(
        _reached(v, counts.get(v, {}), deleted.get(v, 0), pools, stages) for v in ordered(created)
    )
    every: dict[str | None, int] = {}
    for per_pool in counts.values():
        for pool, n in per_pool.items():
            every[pool] = every.get(pool, 0) + n
    total = _reached("", every, sum(deleted.values()), pools, stages)
    return Conversion(form.name, form.entity, pool_set, stages, exits, rows, total)


def _reached(
    channel: str,
    per_pool: Mapping[str | None, int],
    deleted: int,
    pools: tuple[str, ...],
    stages: tuple[str, ...],
) -> Reached:
    in_pools = {p: per_pool.get(p, 0) for p in pools}
    other = sum(n for p, n in per_pool.items() if p not in in_pools)
    reached: dict[str, int] = {}
    running = 0
    for stage in reversed(stages):
        running += in_pools.get(stage, 0)
        reached[stage] = running
    created = sum(per_pool.values()) + deleted
    return Reached(channel, created, in_pools, other, deleted, {s: reached[s] for s in stages})


# the page's report -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FormReport:
    period: Period
    per_form: Mapping[str, Outcomes]  # every form's submissions in the period
    form: FormDef
    channel: str | None  # the hidden field chosen (None: the form has none)
    submissions: Submissions  # of this form
    conversion: Conversion


def report(
    store: Store,
    cfg: CompiledConfig,
    form: str,
    days: int,
    now: datetime,
    channel: str | None = None,
) -> FormReport:
    """One form's report over the last `days` days, and every form's totals, read in one
    transaction. `channel` is one of the form's hidden fields (default: the first)."""
    found = cfg.bundle.forms.get(form)
    if found is None:
        known = ", ".join(cfg.bundle.forms) or "none"
        raise NotFound(f"no form '{form}' (forms: {known})")
    fields = channel_fields(found)
    if channel is not None and channel not in fields:
        raise NotFound(
            f"form '{form}' has no hidden field '{channel}' (hidden: {', '.join(fields) or 'none'})"
        )
    chosen = channel or (fields[0] if fields else None)
    within = period(cfg.tz, now, days)
    pool_set = cfg.bundle.pool_set_of(found.entity)
    with store.read() as tx:
        every = submissions(tx, cfg.tenant, within, channel=chosen)
        converted = conversion(tx, cfg.tenant, within, found, pool_set, chosen)
    own = every.of_form(form)
    keep = own.busiest()
    return FormReport(
        within, every.by_form(), found, chosen, own.folded(keep), converted.folded(keep)
    )
