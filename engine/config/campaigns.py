"""Building segments and campaigns from campaigns.yaml (already schema-valid) into the model.

What the schema cannot say (references, conditions, templates) is checked in
engine/config/campaign_checks.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from engine.config.model import (
    ActionDef,
    CampaignDef,
    GoalDef,
    Label,
    LimitsDef,
    Loc,
    SegmentDef,
    StepDef,
    TriggerDef,
)

ACTION_KINDS = ("set", "move", "assign", "create_task", "notify", "webhook")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_PART = re.compile(r"([0-9]+)([wdhm])")


def parse_duration(text: str) -> timedelta:
    """'1d12h' -> 36 hours (the schema has checked the form)."""
    total = timedelta(0)
    for number, unit in _PART.findall(text):
        total += int(number) * _UNITS.get(unit, timedelta(minutes=1))
    return total


def build_segments(data: dict[str, Any], file: str) -> dict[str, SegmentDef]:
    return {
        name: SegmentDef(
            name,
            raw["entity"],
            raw["when"],
            Loc(file, f"/segments/{name}"),
            Label.of(raw.get("label"), name),
        )
        for name, raw in (data.get("segments") or {}).items()
    }


def build_campaigns(
    data: dict[str, Any], file: str, segments: dict[str, SegmentDef]
) -> tuple[CampaignDef, ...]:
    return tuple(
        _campaign(raw, Loc(file, f"/campaigns/{i}"), segments)
        for i, raw in enumerate(data.get("campaigns") or [])
    )


def _campaign(raw: dict[str, Any], loc: Loc, segments: dict[str, SegmentDef]) -> CampaignDef:
    trigger = _trigger(raw["trigger"])
    entity = raw.get("entity")
    if entity is None and trigger.segment in segments:
        entity = segments[trigger.segment].entity
    first = StepDef(timedelta(0), _actions(raw.get("actions") or [], "/actions"), None, "")
    later = [_step(step, f"/steps/{i}") for i, step in enumerate(raw.get("steps") or [])]
    goal = raw.get("goal")
    return CampaignDef(
        id=raw["id"],
        entity=entity or "",  # none given nor found: the checks say so
        trigger=trigger,
        steps=(first, *later),
        loc=loc,
        label=Label.of(raw.get("label"), raw["id"]),
        when=raw.get("when"),
        limits=_limits(raw.get("limits") or {}),
        split=tuple((str(k), int(v)) for k, v in (raw.get("split") or {}).items()),
        goal=GoalDef(goal["when"], parse_duration(goal["within"])) if goal else None,
        enabled=raw.get("enabled", True),
    )


def _trigger(raw: dict[str, Any]) -> TriggerDef:
    ((kind, value),) = raw.items()
    if kind == "field_changed":
        return TriggerDef(
            kind,
            field=value["field"],
            from_values=_values(value, "from"),
            to_values=_values(value, "to"),
        )
    if kind in ("pool_entered", "pool_left"):
        return TriggerDef(kind, pool=value)
    if kind in ("segment_enter", "segment_leave"):
        return TriggerDef(kind, segment=value)
    if kind == "schedule":
        return TriggerDef(kind, cron=value)
    if kind == "relative":
        before = value.get("before")
        offset = -parse_duration(before) if before else parse_duration(value.get("after", "0m"))
        return TriggerDef(kind, field=value["field"], offset=offset)
    return TriggerDef(kind)


def _values(raw: dict[str, Any], key: str) -> tuple[Any, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    return tuple(value) if isinstance(value, list) else (value,)


def _actions(raw: list[dict[str, Any]], pointer: str) -> tuple[ActionDef, ...]:
    out = []
    for i, item in enumerate(raw):
        kinds = [k for k in item if k in ACTION_KINDS]
        kind = kinds[0] if len(kinds) == 1 else ""  # none or several: the checks say so
        params = item.get(kind) if kind else None
        out.append(ActionDef(kind, params, f"{pointer}/{i}", item.get("variant")))
    return tuple(out)


def _step(raw: dict[str, Any], pointer: str) -> StepDef:
    actions = _actions(raw.get("actions") or [], f"{pointer}/actions")
    return StepDef(parse_duration(raw["wait"]), actions, raw.get("when"), pointer)


def _limits(raw: dict[str, Any]) -> LimitsDef:
    quiet = raw.get("quiet_hours")
    return LimitsDef(
        once_per_record=bool(raw.get("once_per_record", False)),
        cooldown=parse_duration(raw["cooldown"]) if "cooldown" in raw else None,
        max_per_day=raw.get("max_per_day"),
        quiet_hours=_quiet(quiet) if quiet else None,
    )


def _quiet(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    return _minutes(start), _minutes(end)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
