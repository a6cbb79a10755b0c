"""The event path of bench/pools.py: one write per transaction through the RecordService, with
chaotu-demo's rules active (pools, scores, grades, rollups) and without them (plain).

Run alone, `python bench/_pools_events.py [--quick] [--no-pg]` measures only the event path (it is
`pools.py --part events`): a table, then the JSON object of its figures as the last line.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _pools_data import DEMO_DIR, ENTITY, KINDS, Op

from engine.service import Services
from engine.storage import tables as t

ACTOR = "bench"
SEED_BATCH = 1000


def plain_bundle(folder: Path) -> Path:
    """chaotu-demo without pools.yaml: the same entities, fields and validation, no rules."""
    target = folder / "chaotu-demo-plain"
    if not target.exists():
        shutil.copytree(DEMO_DIR, target, ignore=shutil.ignore_patterns("pools.yaml"))
    return target


@dataclass
class EventDb:
    """A database holding one variant of the bundle and the seeded customers."""

    path: str  # "engine" (rules active) or "plain"
    svc: Services
    tenant: str
    ids: list[str]  # the seeded customers' ids, by index

    def pools(self) -> dict[str, str | None]:
        """Every customer's pool, by id."""
        with self.svc.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.records.c.id, t.records.c.pool).where(
                    t.records.c.tenant_id == self.tenant, t.records.c.entity == ENTITY
                )
            )
            return {row.id: row.pool for row in rows}

    def counts(self) -> dict[str, int]:
        """Live records per entity."""
        r = t.records.c
        with self.svc.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.entity, sa.func.count())
                .where(r.tenant_id == self.tenant, r.deleted_at.is_(None))
                .group_by(r.entity)
            )
            return {str(entity): int(n) for entity, n in rows}


def open_event_db(
    path: str, svc: Services, bundle: Path, base: Sequence[dict[str, Any]]
) -> EventDb:
    """Install the bundle and seed the base customers with create_many (untimed)."""
    [(installed, _, _)] = svc.install_dirs([bundle], actor=ACTOR)
    ids: list[str] = []
    for start in range(0, len(base), SEED_BATCH):
        chunk = list(base[start : start + SEED_BATCH])
        result = svc.records.create_many(installed.id, ENTITY, chunk, actor=ACTOR).result
        refused = [r for r in result["results"] if r["status"] != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} seed customers refused, first: {refused[0]}")
        ids += [r["record"]["id"] for r in result["results"]]
    return EventDb(path, svc, installed.id, ids)


# one write, resolved for a database before any timing ----------------------------------
Write = tuple[str, Callable[[], object]]  # (kind, the call)


def resolve(db: EventDb, ops: Sequence[Op]) -> list[Write]:
    """Each operation as a ready call on this database (its ids filled in)."""
    records, tenant = db.svc.records, db.tenant
    out: list[Write] = []
    for op in ops:
        call: Callable[[], object]
        if op.customer is None:
            payload = dict(op.payload)
            call = _bind(records.create, tenant, ENTITY, payload)
        elif op.kind in ("activity", "order"):
            payload = {**op.payload, "customer_id": db.ids[op.customer]}
            call = _bind(records.create, tenant, op.kind, payload)
        else:
            call = _bind_update(records.update, tenant, db.ids[op.customer], dict(op.payload))
        out.append((op.kind, call))
    return out


def _bind(
    create: Callable[..., object], tenant: str, entity: str, payload: Any
) -> Callable[[], object]:
    return lambda: create(tenant, entity, payload, actor=ACTOR)


def _bind_update(
    update: Callable[..., object], tenant: str, record_id: str, patch: dict[str, Any]
) -> Callable[[], object]:
    return lambda: update(tenant, ENTITY, record_id, patch, actor=ACTOR)


@dataclass(frozen=True)
class Round:
    seconds: float  # wall time of the whole round
    per_kind: dict[str, float]  # seconds spent in each kind of write
    counts: dict[str, int]  # writes of each kind


def run_round(writes: Sequence[Write]) -> Round:
    """Every write once, in order; wall time and the time per kind of write."""
    per_kind = dict.fromkeys(KINDS, 0.0)
    counts: Counter[str] = Counter()
    clock = time.perf_counter
    start = clock()
    for kind, call in writes:
        began = clock()
        call()
        per_kind[kind] += clock() - began
        counts[kind] += 1
    return Round(clock() - start, per_kind, dict(counts))


def rounds(ops: Sequence[Op], size: int, reps: int) -> Iterator[Sequence[Op]]:
    for rep in range(reps):
        yield ops[rep * size : (rep + 1) * size]


# correctness ---------------------------------------------------------------------------
def expected_pools(db: EventDb, ops: Sequence[Op]) -> dict[str, str]:
    """Where the rules must have put each seeded customer after these writes: a paid order
    wins it, a budget of 10,000 or more (without an order) gives it a need, else nurturing."""
    promoted = {op.customer for op in ops if op.kind == "promote"}
    won = {op.customer for op in ops if op.kind == "order"}
    out = {}
    for index, record_id in enumerate(db.ids):
        out[record_id] = "won" if index in won else "has_need" if index in promoted else "nurturing"
    return out


def check(engine_db: EventDb, plain_db: EventDb, ops: Sequence[Op]) -> dict[str, Any]:
    """Both databases hold the same records; the engine's pools are what the rules say."""
    counts = engine_db.counts()
    if counts != plain_db.counts():
        raise RuntimeError(f"record counts differ: {counts} vs {plain_db.counts()}")
    creates = sum(1 for op in ops if op.kind == "create")
    wanted = {
        ENTITY: len(engine_db.ids) + creates,
        "activity": sum(1 for op in ops if op.kind == "activity"),
        "order": sum(1 for op in ops if op.kind == "order"),
    }
    if {k: counts.get(k, 0) for k in wanted} != wanted:
        raise RuntimeError(f"stored {counts}, expected {wanted}")
    pools = engine_db.pools()
    expected = expected_pools(engine_db, ops)
    wrong = {k: (pools.get(k), v) for k, v in expected.items() if pools.get(k) != v}
    created = [pool for k, pool in pools.items() if k not in expected]
    if wrong or any(pool != "nurturing" for pool in created):
        first = next(iter(wrong.items()), None)
        raise RuntimeError(f"{len(wrong)} customers in the wrong pool (first: {first})")
    if any(pool is not None for pool in plain_db.pools().values()):
        raise RuntimeError("the plain bundle put customers in pools")
    return {"records": counts, "pools": dict(sorted(Counter(pools.values()).items()))}


if __name__ == "__main__":
    import json
    import sys

    from pools import measured

    code, figs = measured(["--part", "events", *sys.argv[1:]])
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)  # the last line
    sys.exit(code)
