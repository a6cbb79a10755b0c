"""The sweep half of bench/pools.py: a million customers loaded fast, the due ones found in SQL
and in Python, and moved by the real Sweeper and by raw UPDATEs.

Run alone, `python bench/_pools_sweep.py [--quick] [--no-pg]` measures only the sweeps (it is
`pools.py --part sweep`): a table, then the JSON object of its figures as the last line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from _pools_data import ENTITY, NOW, Customer, customer_batches, dumps

from engine.conditions import Condition
from engine.rules import CompiledPoolSet
from engine.service import Services
from engine.service.sweeps import BATCH as SWEEP_BATCH
from engine.storage import tables as t

RULE = "recycle_unattended"
FETCH_CHUNK = 10_000


@dataclass(frozen=True)
class Loaded:
    """What the generator put in the database: the due customers' ids with their pool and
    owner before the sweep (to check the moves and to undo the raw run)."""

    total: int
    due: dict[str, tuple[str, str | None]]


@dataclass(frozen=True)
class SweepDb:
    label: str  # "sqlite" or "postgresql"
    svc: Services
    tenant: str
    version: int

    @property
    def engine(self) -> sa.Engine:
        return self.svc.store.engine

    @property
    def dialect(self) -> str:
        return self.svc.store.dialect

    def pool_set(self) -> CompiledPoolSet:
        return self.svc.configs.active(self.tenant).pools[ENTITY]

    def rule(self) -> tuple[Condition, frozenset[str]]:
        """recycle_unattended's condition and its `from` pools."""
        for rule in self.pool_set().rules:
            if rule.promotion.id == RULE:
                assert rule.sources is not None
                return rule.condition, rule.sources
        raise LookupError(f"chaotu-demo has no promotion {RULE}")


# loading -----------------------------------------------------------------------------------
_COLUMNS = (
    "tenant_id, id, entity, data, owner, pool, version, config_version, created_at, updated_at"
)


# PostgreSQL: memory to sort a million index keys. SQLite: ANALYZE samples each index (as
# `PRAGMA optimize` does) instead of reading all of it; a setting of the pooled connection,
# put back after.
_PG_BUILD = "SET LOCAL maintenance_work_mem = '512MB'"
_SQLITE_SAMPLE = "PRAGMA analysis_limit = {}"


def _index_ddl(conn: sa.Connection) -> list[tuple[str, str]]:
    """The records table's secondary indexes as (name, CREATE statement): the migrations' and
    the bundle's expression indexes alike."""
    if conn.dialect.name == "sqlite":
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' "
            "AND sql IS NOT NULL"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records' "
            "AND schemaname = current_schema() AND indexname <> 'pk_records'"
        )
    return [(str(name), str(ddl)) for name, ddl in conn.exec_driver_sql(query)]


def _stamp(db: SweepDb) -> Any:
    """NOW as the engine stores it: on SQLite the text SQLAlchemy writes (always with
    microseconds: keyset pages compare the text), else the aware datetime."""
    if db.engine.dialect.name == "sqlite":
        return NOW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return NOW


def load(
    db: SweepDb, batches: Iterable[Sequence[Customer]], texts: Callable[[int], list[str]]
) -> Loaded:
    """Insert the customers as a bulk load goes (untimed): the secondary indexes dropped, the
    rows written in batches (SQLite: the driver's executemany through the SQLAlchemy connection;
    PostgreSQL: COPY on it), the indexes rebuilt, then ANALYZE. `texts(i)` is batch i as stored
    JSON, serialized once for both databases."""
    due: dict[str, tuple[str, str | None]] = {}
    total = 0
    stamp = _stamp(db)
    with db.engine.begin() as conn:
        indexes = _index_ddl(conn)
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        for number, batch in enumerate(batches):
            rows = [
                (db.tenant, c.id, ENTITY, text, c.owner, c.pool, 1, db.version, stamp, stamp)
                for c, text in zip(batch, texts(number), strict=True)
            ]
            _insert(conn, rows)
            due.update((c.id, (c.pool, c.owner)) for c in batch if c.due)
            total += len(batch)
        if db.dialect == "postgresql":
            conn.exec_driver_sql(_PG_BUILD)
        for _, ddl in indexes:
            conn.exec_driver_sql(ddl)
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql(_SQLITE_SAMPLE.format(10_000))
        conn.exec_driver_sql("ANALYZE")
        if db.dialect == "sqlite":
            conn.exec_driver_sql(_SQLITE_SAMPLE.format(0))
    return Loaded(total, due)


def _insert(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * 10)
        conn.exec_driver_sql(f"INSERT INTO records ({_COLUMNS}) VALUES ({marks})", rows)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY records ({_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class StoredBatches:
    """The customers in batches, each serialized to JSON once and kept for the next database."""

    def __init__(self, total: int) -> None:
        self.batches = list(customer_batches(total))
        self._texts: dict[int, list[str]] = {}

    def texts(self, number: int) -> list[str]:
        if number not in self._texts:
            self._texts[number] = [dumps(c.data) for c in self.batches[number]]
        return self._texts[number]

    def serialize_all(self) -> None:
        for number in range(len(self.batches)):
            self.texts(number)


# (a) finding the due records ---------------------------------------------------------------
def select_sql(db: SweepDb) -> set[str]:
    """The due ids as the sweeper finds them: its own query (the condition compiled to SQL at
    NOW, the rule's `from` pools and the tenant's scope), ids only."""
    cfg = db.svc.configs.active(db.tenant)
    pools = db.pool_set()
    rule = next(r for r in pools.rules if r.promotion.id == RULE)
    where = rule.condition.sql(db.dialect, NOW, t.records.c.data)
    due = db.svc.sweeper.due(cfg, ENTITY, pools, rule.promotion, where, NOW)
    with db.engine.connect() as conn:
        return set(conn.execute(due.with_only_columns(t.records.c.id)).scalars())


def select_python(db: SweepDb) -> set[str]:
    """The due ids without SQL conditions: every record of the tenant loaded (streamed), then
    the pool and condition.evaluate(data, now) checked in Python."""
    condition, sources = db.rule()
    initial = db.pool_set().initial
    evaluate = condition.evaluate
    r = t.records.c
    query = sa.select(r.id, r.entity, r.pool, r.deleted_at, r.data).where(r.tenant_id == db.tenant)
    found = set()
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=FETCH_CHUNK).execute(query)
        for row in result:
            if row.entity != ENTITY or row.deleted_at is not None:
                continue
            if (row.pool or initial) in sources and evaluate(row.data, NOW):
                found.add(row.id)
    return found


# (b) applying the moves --------------------------------------------------------------------
def raw_apply(db: SweepDb, ids: Sequence[str]) -> int:
    """The floor for applying the moves: batched Core UPDATEs of the same rows with the same
    column changes (pool, owner, version, clocks), one transaction per sweeper-sized batch; no
    rule evaluated, no history, no decision. Rows updated."""
    r = t.records.c
    statement = (
        t.records.update()
        .where(r.tenant_id == db.tenant, r.id == sa.bindparam("b_id"))
        .values(
            pool="public",
            owner=None,
            version=r.version + 1,
            updated_at=NOW,
            pool_entered_at=NOW,
        )
    )
    updated = 0
    for start in range(0, len(ids), SWEEP_BATCH):
        with db.engine.begin() as conn:
            params = [{"b_id": i} for i in ids[start : start + SWEEP_BATCH]]
            updated += conn.execute(statement, params).rowcount
    return updated


def undo_raw(db: SweepDb, loaded: Loaded) -> None:
    """Put the rows the raw run moved back as they were loaded (untimed), in one UPDATE from a
    temporary table of their first pool and owner."""
    rows = [(k, pool, owner) for k, (pool, owner) in loaded.due.items()]
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE bench_undo (id VARCHAR(36) PRIMARY KEY, pool VARCHAR(63), "
            "owner VARCHAR(63))"
        )
        if db.dialect == "sqlite":
            conn.exec_driver_sql("INSERT INTO bench_undo VALUES (?, ?, ?)", rows)
        else:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy("COPY bench_undo (id, pool, owner) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.execute(
            sa.text(
                "UPDATE records SET pool = u.pool, owner = u.owner, version = 1, "
                "updated_at = records.created_at, pool_entered_at = NULL "
                "FROM bench_undo AS u WHERE records.tenant_id = :tenant AND records.id = u.id"
            ),
            {"tenant": db.tenant},
        )
        conn.exec_driver_sql("DROP TABLE bench_undo")
    tidy(db)


def tidy(db: SweepDb) -> None:
    """Dead rows (PostgreSQL) and the WAL (SQLite) of the last run cleared, statistics fresh, so
    the next run starts from the same state as the first."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE records")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def changed_rows(db: SweepDb) -> dict[str, tuple[str | None, str | None, int]]:
    """Records no longer at version 1: id → (pool, owner, version)."""
    r = t.records.c
    query = sa.select(r.id, r.pool, r.owner, r.version).where(
        r.tenant_id == db.tenant, r.version != 1
    )
    with db.engine.connect() as conn:
        return {row.id: (row.pool, row.owner, row.version) for row in conn.execute(query)}


def check_moved(db: SweepDb, loaded: Loaded, what: str) -> None:
    """Exactly the due records moved, each once, to the public pool and unassigned."""
    changed = changed_rows(db)
    if set(changed) != set(loaded.due):
        extra, missing = len(set(changed) - set(loaded.due)), len(set(loaded.due) - set(changed))
        raise RuntimeError(f"{what}: {extra} records moved that were not due, {missing} not moved")
    wrong = [
        k
        for k, (pool, owner, version) in changed.items()
        if (pool, owner, version) != ("public", None, 2)
    ]
    if wrong:
        raise RuntimeError(
            f"{what}: {len(wrong)} records not moved exactly once"
            f" (first {wrong[0]}: {changed[wrong[0]]})"
        )


def check_log(db: SweepDb, loaded: Loaded) -> dict[str, Any]:
    """One history row and one decision per moved record, all of the due rule."""
    due = len(loaded.due)
    h, d = t.record_history.c, t.decisions.c
    with db.engine.connect() as conn:
        history = conn.execute(
            sa.select(h.action, sa.func.count(), sa.func.count(sa.distinct(h.record_id)))
            .where(h.tenant_id == db.tenant)
            .group_by(h.action)
        ).all()
        decisions = conn.execute(
            sa.select(d.rule, sa.func.count(), sa.func.count(sa.distinct(d.record_id)))
            .where(d.tenant_id == db.tenant)
            .group_by(d.rule)
        ).all()
    rule = f"{db.pool_set().definition.name}.{RULE}"
    if [tuple(row) for row in history] != [("sweep", due, due)]:
        raise RuntimeError(f"history rows {history}, expected one 'sweep' row for each of {due}")
    if [tuple(row) for row in decisions] != [(rule, due, due)]:
        raise RuntimeError(f"decisions {decisions}, expected one {rule} for each of {due}")
    return {"history_rows": due, "decision_rows": due}


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


if __name__ == "__main__":
    import json
    import sys

    from pools import measured

    code, figs = measured(["--part", "sweep", *sys.argv[1:]])
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)  # the last line
    sys.exit(code)
