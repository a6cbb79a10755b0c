"""Rollups in the write path: which parents a related record's write touches, and their new
values, computed from the related records as the transaction sees them.

The parent row is locked before its related records are read, so two writers of related
records of one parent take turns and the second one counts the first one's record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.conditions import types as T
from engine.conditions.compile_sql import field_sql
from engine.rules import CompiledRollup, Related, Rolled
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.storage import tables as t
from engine.storage.store import Tx

Pair = tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]  # (before, after) of a write


def touched_parents(cfg: CompiledConfig, entity: str, pairs: Iterable[Pair]) -> dict[str, set[str]]:
    """Parent ids, per parent entity, whose rollups these writes of `entity` may change."""
    out: dict[str, set[str]] = {}
    rollups = cfg.rolled_from.get(entity, ())
    for old, new in pairs:
        for rollup in rollups:
            if not rollup.touches(old, new):
                continue
            for values in (old, new):
                parent = values.get(rollup.via) if values is not None else None
                if parent is not None:
                    out.setdefault(rollup.definition.entity, set()).add(str(parent))
    return out


def lock_parents(tx: Tx, cfg: CompiledConfig, entity: str, pairs: Iterable[Pair]) -> None:
    """Lock every record these writes can reach through rollups — parents, their parents… —
    in one global order (nearest entities first, then by id), so writers that share parents
    wait for each other instead of deadlocking."""
    if tx.dialect != "postgresql":
        return  # SQLite has one writer at a time
    reach: dict[str, set[str]] = {}
    level = touched_parents(cfg, entity, pairs)
    while level:
        found: dict[str, set[str]] = {}
        for parent, ids in level.items():
            new = ids - reach.setdefault(parent, set())
            reach[parent] |= new
            rows = tx.records_data(cfg.tenant, parent, new, lock=False) if new else []
            for up, more in touched_parents(cfg, parent, [(None, d) for d in rows]).items():
                found.setdefault(up, set()).update(more)
        level = found
    for parent in sorted(reach, key=lambda e: (cfg.rollup_rank.get(e, 0), e)):
        tx.records_data(cfg.tenant, parent, reach[parent])


def initial_values(cfg: CompiledConfig, entity: str) -> dict[str, Any]:
    """A new parent's rollups: no related records yet (0 for count and sum)."""
    values = {r.field: r.initial() for r in cfg.rollups.get(entity, ())}
    return {k: v for k, v in values.items() if v is not None}


def recompute(
    tx: Tx,
    cfg: CompiledConfig,
    entity: str,
    parent_id: str,
    now: datetime,
    source: str | None = None,
) -> list[Rolled]:
    """A parent's rollups fed by `source` (None: all of them), from its related records
    (one query per link)."""
    rollups = [r for r in cfg.rollups.get(entity, []) if source in (None, r.source)]
    loaded: dict[tuple[str, str], list[Related]] = {}
    out = []
    for rollup in rollups:
        link = (rollup.source, rollup.via)
        if link not in loaded:
            loaded[link] = _related(tx, cfg.tenant, rollup, parent_id)
        out.append(rollup.compute(loaded[link], now))
    return out


def _related(tx: Tx, tenant: str, rollup: CompiledRollup, parent_id: str) -> list[Related]:
    records = t.records.c
    via = field_sql(tx.conn.dialect.name, rollup.via, T.field_type("reference", ()), records.data)
    query = sa.select(records.id, records.data, records.created_at, records.updated_at).where(
        records.tenant_id == tenant,
        records.entity == rollup.source,
        records.deleted_at.is_(None),
        via == parent_id,
    )
    rows = tx.conn.execute(query)
    return [Related(row.data, row.created_at, row.updated_at, row.id) for row in rows]


def rollup_row(
    cfg: CompiledConfig, entity: str, record_id: str, before: Any, rolled: Rolled, at: datetime
) -> dict[str, Any]:
    """The decision-log row of a rollup that changed."""
    name = next(r.definition.name for r in cfg.rollups[entity] if r.field == rolled.field)
    was, now = {rolled.field: before}, {rolled.field: rolled.value}
    return decision(cfg, entity, record_id, "rollup", name, at, was, now, rolled.trace.as_dict())
