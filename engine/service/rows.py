"""Rows the write path stores beside a record — its own row, history entries and decisions —
and the JSON the API shows of stored decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.conditions.trace import trace_from_dict
from engine.service.assignment_text import render_assignment
from engine.service.campaign_text import CAMPAIGN_KINDS, render_campaign
from engine.service.views import instant
from engine.storage.store import Record


def record_row(r: Record) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant,
        "id": r.id,
        "entity": r.entity,
        "data": dict(r.data),
        "owner": r.owner,
        "pool": r.pool,
        "version": r.version,
        "config_version": r.config_version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "deleted_at": r.deleted_at,
        "created_by": r.created_by,
        "pool_entered_at": r.pool_entered_at,
        "owner_since": r.owner_since,
        "protected_until": r.protected_until,
        "remind_at": r.remind_at,
        "queue": r.queue,
    }


def history_row(
    r: Record, action: str, changes: Mapping[str, Any], actor: str | None, at: datetime
) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant,
        "entity": r.entity,
        "record_id": r.id,
        "version": r.version,
        "action": action,
        "actor": actor,
        "at": at,
        "changes": dict(changes),
    }


def decision_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "rule": row["rule"],
        "before": row["before"],
        "after": row["after"],
        "at": instant(row["at"]),
        "config_version": row["config_version"],
    }


def timeline_json(row: Any, locale: str) -> dict[str, Any]:
    """A stored decision as the explain endpoint shows it, its trace rendered in the locale."""
    if row.kind in CAMPAIGN_KINDS:
        explanation: str | None = render_campaign(
            row.kind, row.rule, row.after or {}, row.trace, locale
        )
    elif row.trace and "assignment" in row.trace:
        explanation = render_assignment(row.trace["assignment"], locale)
    else:
        trace = trace_from_dict(row.trace) if row.trace else None
        explanation = trace.render(locale) if trace else None
    out = {
        "at": instant(row.at),
        "kind": row.kind,
        "rule": row.rule,
        "config_version": row.config_version,
        "before": row.before,
        "after": row.after,
        "explanation": explanation,
    }
    if row.trace and "assignment" in row.trace:
        out["assignment"] = row.trace["assignment"]  # candidates, skips, state: for programs
    if row.kind in CAMPAIGN_KINDS and row.trace:
        out["campaign"] = row.trace  # trigger, condition trace, failed action: for programs
    return out
