"""Record storage over SQLAlchemy Core: one class per concern would be overkill here, so the
store is a thin transaction wrapper with one small method per statement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from engine.conditions.compile_sql import field_sql
from engine.errors import Signal
from engine.storage import tables as t
from engine.storage.combined import NewRows, bump_upsert, combined, state_update

# Up to this many new records, a write's rows go in one statement (see Tx.write_new); more
# go as executemany, which PostgreSQL's parameter limit and SQLAlchemy's batching prefer.
COMBINED_ROWS = 20


def transient(exc: sa.exc.DBAPIError) -> bool:
    """A failure a retry of the whole transaction cures: PostgreSQL's deadlock victim or
    serialization failure."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


@dataclass(frozen=True, slots=True)
class Record:
    """One stored entity instance."""

    tenant: str
    id: str
    entity: str
    data: Mapping[str, Any]
    owner: str | None
    pool: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    config_version: int | None = None
    created_by: str | None = None
    pool_entered_at: datetime | None = None
    owner_since: datetime | None = None
    protected_until: datetime | None = None
    remind_at: datetime | None = None
    queue: str | None = None
    # Decisions taken by the write that returned this record (not a column of the row).
    decisions: tuple[Mapping[str, Any], ...] = ()
    # Related records the write updated (a parent's rollups), as JSON; not a column either.
    related: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    entity: str
    version: int
    action: str
    actor: str | None
    at: datetime
    changes: Mapping[str, Any]


class UniqueTaken(Signal):
    """A unique value is already held by another record (found by the primary key)."""


def record_from_row(row: sa.Row[Any]) -> Record:
    m = row._mapping
    return Record(
        m["tenant_id"],
        m["id"],
        m["entity"],
        m["data"],
        m["owner"],
        m["pool"],
        m["version"],
        m["created_at"],
        m["updated_at"],
        m["deleted_at"],
        m["config_version"],
        m["created_by"],
        m["pool_entered_at"],
        m["owner_since"],
        m["protected_until"],
        m["remind_at"],
        m["queue"],
    )


class Tx:
    """Statements inside one database transaction."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    # records -------------------------------------------------------------------------------
    def insert_records(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(t.records.insert(), list(rows))

    def get_record(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        *,
        for_update: bool = False,
        deleted: bool = False,
    ) -> Record | None:
        query = sa.select(t.records).where(
            t.records.c.tenant_id == tenant,
            t.records.c.entity == entity,
            t.records.c.id == record_id,
        )
        if not deleted:
            query = query.where(t.records.c.deleted_at.is_(None))
        if for_update and self.dialect == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return record_from_row(row) if row else None

    def parents_of(self, tenant: str) -> Callable[[str, str], Record | None]:
        """Looks up a live record by (entity, id): how the access policy follows a record's
        `visible_via` reference to its parent."""
        return lambda entity, record_id: self.get_record(tenant, entity, record_id)

    def update_record(
        self, tenant: str, record_id: str, expected_version: int, values: Mapping[str, Any]
    ) -> bool:
        """Compare-and-set on the version: False when someone else got there first."""
        result = self.conn.execute(
            t.records.update()
            .where(
                t.records.c.tenant_id == tenant,
                t.records.c.id == record_id,
                t.records.c.version == expected_version,
                t.records.c.deleted_at.is_(None),
            )
            .values(version=expected_version + 1, **values)
        )
        return result.rowcount == 1

    def update_many(
        self, tenant: str, updates: Sequence[tuple[str, int, Mapping[str, Any]]]
    ) -> int:
        """Compare-and-set updates of many records (id, expected version, new values): one
        executemany per set of columns; how many rows changed."""
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record_id, version, values in updates:
            params = {"b_id": record_id, "b_version": version, "b_tenant": tenant}
            params.update({f"b_{k}": v for k, v in values.items()})
            shapes.setdefault(tuple(sorted(values)), []).append(params)
        r = t.records.c
        changed = 0
        for columns, rows in shapes.items():
            statement = (
                t.records.update()
                .where(
                    r.tenant_id == sa.bindparam("b_tenant"),
                    r.id == sa.bindparam("b_id"),
                    r.version == sa.bindparam("b_version"),
                    r.deleted_at.is_(None),
                )
                .values(
                    version=r.version + 1,
                    **{c: sa.bindparam(f"b_{c}", type_=r[c].type) for c in columns},
                )
            )
            changed += self.conn.execute(statement, rows).rowcount
        return changed

    def existing_ids(
        self,
        tenant: str,
        entity: str,
        ids: Iterable[str],
        visible: ColumnElement[bool] | None = None,
    ) -> set[str]:
        """The ids of live records among `ids` (those `visible` allows, when given)."""
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        query = sa.select(t.records.c.id).where(
            t.records.c.tenant_id == tenant,
            t.records.c.entity == entity,
            t.records.c.id.in_(wanted),
            t.records.c.deleted_at.is_(None),
        )
        if visible is not None:
            query = query.where(visible)
        return set(self.conn.execute(query).scalars())

    def select_records(self, query: sa.Select[Any]) -> list[Record]:
        return [record_from_row(row) for row in self.conn.execute(query)]

    # uniqueness ----------------------------------------------------------------------------
    def claim_unique(self, rows: Sequence[Mapping[str, Any]], *, savepoint: bool = True) -> None:
        """Insert unique-value rows; UniqueTaken if any value is held already.

        Without a savepoint the transaction is unusable after a refusal: only for callers
        that give up the whole write then (it saves a round trip)."""
        if not rows:
            return
        try:
            if savepoint:
                with self.conn.begin_nested():
                    self.conn.execute(t.record_unique.insert(), list(rows))
            else:
                self.conn.execute(t.record_unique.insert(), list(rows))
        except sa.exc.IntegrityError:
            raise UniqueTaken from None

    def release_unique(
        self, tenant: str, entity: str, record_id: str, fields: Iterable[str] | None = None
    ) -> None:
        query = t.record_unique.delete().where(
            t.record_unique.c.tenant_id == tenant,
            t.record_unique.c.entity == entity,
            t.record_unique.c.record_id == record_id,
        )
        if fields is not None:
            query = query.where(t.record_unique.c.field.in_(list(fields)))
        self.conn.execute(query)

    def unique_holders(
        self, tenant: str, entity: str, field: str, values: Iterable[str]
    ) -> dict[str, str]:
        """{value: record id} for the values already taken."""
        wanted = sorted(set(values))
        if not wanted:
            return {}
        query = sa.select(t.record_unique.c.value, t.record_unique.c.record_id).where(
            t.record_unique.c.tenant_id == tenant,
            t.record_unique.c.entity == entity,
            t.record_unique.c.field == field,
            t.record_unique.c.value.in_(wanted),
        )
        return {row.value: row.record_id for row in self.conn.execute(query)}

    # decisions -----------------------------------------------------------------------------
    def insert_decisions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(t.decisions.insert(), list(rows))

    def decisions(self, tenant: str, record_id: str) -> list[sa.Row[Any]]:
        query = (
            sa.select(t.decisions)
            .where(t.decisions.c.tenant_id == tenant, t.decisions.c.record_id == record_id)
            .order_by(t.decisions.c.id)
        )
        return list(self.conn.execute(query))

    def decisions_since(self, tenant: str, record_id: str, since: datetime) -> list[sa.Row[Any]]:
        query = sa.select(t.decisions).where(
            t.decisions.c.tenant_id == tenant,
            t.decisions.c.record_id == record_id,
            t.decisions.c.at >= since,
        )
        return list(self.conn.execute(query.order_by(t.decisions.c.id)))

    def records_data(
        self, tenant: str, entity: str, ids: Iterable[str], *, lock: bool = True
    ) -> list[Mapping[str, Any]]:
        """Records' data, locked in id order when asked (PostgreSQL; SQLite needs no lock)."""
        r = t.records.c
        query = (
            sa.select(r.data)
            .where(r.tenant_id == tenant, r.entity == entity, r.id.in_(sorted(ids)))
            .order_by(r.id)
        )
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        return [row.data for row in self.conn.execute(query)]

    def record_ids(self, tenant: str, entity: str, after: str, limit: int) -> list[str]:
        """Ids of an entity's live records in id order, after `after` (a keyset page)."""
        r = t.records.c
        query = (
            sa.select(r.id)
            .where(r.tenant_id == tenant, r.entity == entity, r.deleted_at.is_(None), r.id > after)
            .order_by(r.id)
            .limit(limit)
        )
        return [str(i) for i in self.conn.execute(query).scalars()]

    # per-user counters -----------------------------------------------------------------------
    def lock_counter(self, tenant: str, user: str, kind: str, day: date) -> int:
        """A user's count of `kind` on `day`, its row locked until the transaction ends (so
        one user's concurrent requests take turns at the cap)."""
        c = t.user_counters.c
        key = {"tenant_id": tenant, "user_id": user, "kind": kind, "day": day}
        insert = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(t.user_counters)
        self.conn.execute(insert.values(**key, count=0).on_conflict_do_nothing())
        query = sa.select(c.count).where(*(c[k] == v for k, v in key.items()))
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return int(self.conn.execute(query).scalar_one())

    def add_to_counter(self, tenant: str, user: str, kind: str, day: date) -> None:
        c = t.user_counters.c
        key = {"tenant_id": tenant, "user_id": user, "kind": kind, "day": day}
        update = t.user_counters.update().where(*(c[k] == v for k, v in key.items()))
        self.conn.execute(update.values(count=c.count + 1))

    def lock_state(self, tenant: str, key: str) -> dict[str, Any]:
        """A rule's rotation state, its row locked until the transaction ends."""
        c = t.assignment_state.c
        query = sa.select(c.state).where(c.tenant_id == tenant, c.key == key)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        found = self.conn.execute(query).scalar()
        if found is not None:
            return dict(found)
        insert = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(t.assignment_state)
        row = insert.values(tenant_id=tenant, key=key, state={})
        self.conn.execute(row.on_conflict_do_nothing())  # the first use of a rule
        return dict(self.conn.execute(query).scalar_one())

    def write_new(self, rows: NewRows) -> None:
        """A write's new records and decisions, its rotation states and counter increments.

        On PostgreSQL a small write is one statement (data-modifying CTEs): a rule's rotation
        lock, taken just before, is then held for one round trip and the commit."""
        parts = len(rows.states) + bool(rows.bumps) + bool(rows.decisions) + bool(rows.records)
        small = len(rows.records) <= COMBINED_ROWS and len(rows.decisions) <= 4 * COMBINED_ROWS
        if self.dialect == "postgresql" and small and parts > 1:
            self.conn.execute(*combined(rows))
            return
        self._each(rows)

    def _each(self, rows: NewRows) -> None:
        """write_new's statements one by one, each prepared once (executemany)."""
        tenant = rows.tenant
        if rows.states:
            states = [
                {"tenant": tenant, "s0_key": k, "s0_state": dict(v)} for k, v in rows.states.items()
            ]
            self.conn.execute(state_update(0), states)
        if rows.bumps:
            upsert = bump_upsert(1, pg_insert if self.dialect == "postgresql" else sqlite_insert)
            self.conn.execute(
                upsert,
                [
                    {"tenant": tenant, "b0_user": u, "b0_kind": k, "b0_day": d, "b0_n": n}
                    for (u, k, d), n in sorted(rows.bumps.items())
                ],
            )
        self.insert_decisions(rows.decisions)
        self.insert_records(rows.records)

    def open_counts(
        self, tenant: str, entity: str, owners: Sequence[str], where: Any = None
    ) -> dict[str, int]:
        """Records each owner holds (that `where` calls open)."""
        r = t.records.c
        query = (
            sa.select(r.owner, sa.func.count())
            .where(
                r.tenant_id == tenant,
                r.entity == entity,
                r.owner.in_(list(owners)),
                r.deleted_at.is_(None),
            )
            .group_by(r.owner)
        )
        if where is not None:
            query = query.where(where)
        return {str(owner): int(n) for owner, n in self.conn.execute(query)}

    def counters(self, tenant: str, users: Sequence[str], kind: str, day: date) -> dict[str, int]:
        c = t.user_counters.c
        query = sa.select(c.user_id, c.count).where(
            c.tenant_id == tenant, c.user_id.in_(list(users)), c.kind == kind, c.day == day
        )
        return {str(u): int(n) for u, n in self.conn.execute(query)}

    def newest_owned(
        self, tenant: str, entity: str, field: str, kind: Any, value: Any
    ) -> tuple[str, str] | None:
        """(id, owner) of the newest owned record whose field has this value."""
        r = t.records.c
        expr = field_sql(self.dialect, field, kind, r.data)
        query = (
            sa.select(r.id, r.owner)
            .where(
                r.tenant_id == tenant,
                r.entity == entity,
                r.deleted_at.is_(None),
                r.owner.is_not(None),
                expr == value,
            )
            .order_by(r.created_at.desc())
            .limit(1)
        )
        row = self.conn.execute(query).first()
        return (str(row.id), str(row.owner)) if row else None

    def switched_off(self, tenant: str) -> set[str]:
        """Users deactivated through the API."""
        c = t.user_status.c
        query = sa.select(c.user_id).where(c.tenant_id == tenant, c.active.is_(False))
        return {str(u) for u in self.conn.execute(query).scalars()}

    def set_active(
        self, tenant: str, user: str, active: bool, at: datetime, by: str | None
    ) -> None:
        c = t.user_status.c
        self.conn.execute(t.user_status.delete().where(c.tenant_id == tenant, c.user_id == user))
        self.conn.execute(
            t.user_status.insert().values(
                tenant_id=tenant, user_id=user, active=active, changed_at=at, changed_by=by
            )
        )

    def owned_ids(self, tenant: str, entity: str, owner: str) -> list[str]:
        r = t.records.c
        query = sa.select(r.id).where(
            r.tenant_id == tenant, r.entity == entity, r.owner == owner, r.deleted_at.is_(None)
        )
        return sorted(str(i) for i in self.conn.execute(query).scalars())

    def counter_sums(
        self, tenant: str, users: Sequence[str], kind: str, since: date
    ) -> dict[str, int]:
        """Each user's count of `kind` summed over the days from `since`."""
        c = t.user_counters.c
        query = (
            sa.select(c.user_id, sa.func.sum(c.count))
            .where(
                c.tenant_id == tenant, c.user_id.in_(list(users)), c.kind == kind, c.day >= since
            )
            .group_by(c.user_id)
        )
        return {str(u): int(n) for u, n in self.conn.execute(query)}

    def count_owned(self, tenant: str, entity: str, owner: str, pools: Iterable[str]) -> int:
        r = t.records.c
        # `pool || ''`: not the pool index (a public pool holds thousands) but the owner's
        # (SQLite's planner picks the pool index and reads every row in those pools).
        query = sa.select(sa.func.count()).where(
            r.tenant_id == tenant,
            r.entity == entity,
            r.owner == owner,
            r.pool.concat("").in_(list(pools)),
            r.deleted_at.is_(None),
        )
        return int(self.conn.execute(query).scalar_one())

    # history -------------------------------------------------------------------------------
    def insert_history(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(t.record_history.insert(), list(rows))

    def history(self, tenant: str, record_id: str) -> list[HistoryEntry]:
        query = (
            sa.select(t.record_history)
            .where(
                t.record_history.c.tenant_id == tenant,
                t.record_history.c.record_id == record_id,
            )
            .order_by(t.record_history.c.id)
        )
        return [
            HistoryEntry(r.entity, r.version, r.action, r.actor, r.at, r.changes)
            for r in self.conn.execute(query)
        ]

    # idempotency ---------------------------------------------------------------------------
    def idempotent_result(self, tenant: str, key: str) -> tuple[str, Any] | None:
        query = sa.select(t.idempotency_keys.c.fingerprint, t.idempotency_keys.c.result).where(
            t.idempotency_keys.c.tenant_id == tenant, t.idempotency_keys.c.key == key
        )
        row = self.conn.execute(query).first()
        return (row.fingerprint, row.result) if row else None

    def save_idempotent(
        self, tenant: str, key: str, fingerprint: str, result: Any, at: datetime
    ) -> None:
        self.conn.execute(
            t.idempotency_keys.insert().values(
                tenant_id=tenant, key=key, fingerprint=fingerprint, result=result, created_at=at
            )
        )

    # tenants, config versions, keys --------------------------------------------------------
    def tenant(self, tenant: str) -> sa.Row[Any] | None:
        return self.conn.execute(sa.select(t.tenants).where(t.tenants.c.id == tenant)).first()

    def tenant_ids(self) -> list[str]:
        return list(self.conn.execute(sa.select(t.tenants.c.id).order_by(t.tenants.c.id)).scalars())


class Store:
    """Opens transactions. `write()` takes the write lock up front on SQLite."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect() as conn, conn.begin():
            yield Tx(conn)
