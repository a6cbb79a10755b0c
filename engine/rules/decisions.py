"""Decision-log rows: which rule changed what on a record, under which config version, and why.

Pure builders: the plan makes them, storage writes them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.rules.compiled import CompiledConfig
from engine.rules.derived import Derivation
from engine.rules.pools import Move


def decision(
    cfg: CompiledConfig,
    entity: str,
    record_id: str,
    kind: str,
    rule: str,
    at: datetime,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    trace: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One decision-log row (a stored trace or explanation says why)."""
    return {
        "tenant_id": cfg.tenant,
        "entity": entity,
        "record_id": record_id,
        "kind": kind,
        "rule": rule,
        "config_version": cfg.version,
        "at": at,
        "before": dict(before),
        "after": dict(after),
        "trace": None if trace is None else dict(trace),
    }


def move_row(
    cfg: CompiledConfig,
    entity: str,
    record_id: str,
    owner: str | None,
    move: Move,
    at: datetime,
) -> dict[str, Any]:
    """The row of one pool move (`owner`: who held the record before it)."""
    pool_set = cfg.pools[entity].definition.name
    before: dict[str, Any] = {"pool": move.before}
    after: dict[str, Any] = {"pool": move.after}
    if move.unassign:
        before["owner"] = owner
        after["owner"] = None
    rule = f"{pool_set}.{move.rule}"
    trace = move.trace.as_dict()
    return decision(cfg, entity, record_id, "pool_move", rule, at, before, after, trace)


def derivation_row(
    cfg: CompiledConfig, entity: str, record_id: str, item: Derivation, at: datetime
) -> dict[str, Any]:
    """The row of a score or grade that changed."""
    before, after = {item.field: item.before}, {item.field: item.after}
    trace = item.trace.as_dict()
    return decision(cfg, entity, record_id, item.kind, item.name, at, before, after, trace)
