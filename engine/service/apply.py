"""Storing a plan: the one way a write that changes an existing record is stored.

The plan (engine/rules/plan.py) says what changes; this writes the record's row at its
version, the decisions and the history entry, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from engine.errors import VersionConflict
from engine.rules.compiled import CompiledConfig
from engine.rules.plan import Plan
from engine.service.rows import decision_json, history_row
from engine.storage.store import Record, Tx


def apply_change(
    tx: Tx,
    cfg: CompiledConfig,
    current: Record,
    made: Plan,
    action: str,
    actor: str | None,
    now: datetime,
    *,
    strict: bool = True,
) -> Record | None:
    """The record as stored after `made`; when it changed meanwhile, VersionConflict (or None
    with `strict=False`: a sweep leaves such a record for its next run)."""
    columns: dict[str, Any] = {
        **made.columns,
        "updated_at": now,
        "config_version": cfg.version,
    }
    if made.values != current.data:
        columns["data"] = dict(made.values)
    if not tx.update_record(cfg.tenant, current.id, current.version, columns):
        if strict:
            raise VersionConflict("record changed meanwhile", current.version + 1)
        return None
    tx.insert_decisions(list(made.decisions))
    after = replace(
        current,
        data=made.values,
        version=current.version + 1,
        updated_at=now,
        config_version=cfg.version,
        decisions=tuple(decision_json(d) for d in made.decisions),
        **made.columns,
    )
    tx.insert_history([history_row(after, action, made.changes, actor, now)])
    return after
