"""Plain-JSON views of stored things: what the API returns and what idempotency replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.conditions.stored import format_instant
from engine.storage.store import HistoryEntry, Record


def instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def record_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "entity": record.entity,
        "version": record.version,
        "owner": record.owner,
        "pool": record.pool,
        "owner_since": instant(record.owner_since),
        "protected_until": instant(record.protected_until),
        "queue": record.queue,
        "created_at": instant(record.created_at),
        "updated_at": instant(record.updated_at),
        "config_version": record.config_version,
        "data": dict(record.data),
        "decisions": list(record.decisions),
        "related": list(record.related),
    }


def related_json(record: Record) -> dict[str, Any]:
    """A related record a write updated: what the writer needs to see of it."""
    full = record_json(record)
    return {k: full[k] for k in ("id", "entity", "version", "owner", "pool", "data", "decisions")}


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "version": entry.version,
        "action": entry.action,
        "actor": entry.actor,
        "at": instant(entry.at),
        "changes": {name: {"old": pair[0], "new": pair[1]} for name, pair in entry.changes.items()},
    }
