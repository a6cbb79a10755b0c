"""Assignment: per user the open load, the capacity left and today's assignments; fairness at
a glance per rule (figures from engine.service.assignment_board). A viewer who cannot
`see_all_stats` gets the users whose records they see and the queued records they see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin_ui.access import all_stats, policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
from engine.config.model import AssignmentRuleDef
from engine.i18n import text
from engine.service.assignment_board import (
    AssignmentBoard,
    GroupFairness,
    UserLoad,
    assignment_board,
)

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)


@router.get("/assignment")
def assignment_page(request: Request, who: Who, svc: Svc) -> Response:
    policy = policy_of(svc, who)
    board = assignment_board(svc.store, who.cfg, svc.clock.now(), policy)
    view = board_view(who, board)
    return render(request, who, "assignment.html", everything=all_stats(policy), **view)


def board_view(who: Viewer, board: AssignmentBoard) -> dict[str, Any]:
    bundle = who.cfg.bundle
    entities = sorted({u.entity for u in board.users}, key=list(bundle.entities).index)
    return {
        "day": board.day.isoformat(),
        "monday": board.week_from.isoformat(),
        "entities": [entity_view(who, e, board) for e in entities],
        "rules": rules_view(who, board.fairness),
        "queues": [
            (
                who.label(bundle.entities[q.entity].label, q.entity),
                who.label(bundle.queues.get(q.queue), q.queue),
                q.count,
            )
            for q in board.queues
        ],
    }


def entity_view(who: Viewer, entity: str, board: AssignmentBoard) -> dict[str, Any]:
    rows = [user_view(who, u) for u in board.users if u.entity == entity]
    bars = [(r["name"], r["open"], r["open_note"]) for r in rows if r["open"] or r["cap_open"]]
    label = who.cfg.bundle.entities[entity].label
    return {"id": entity, "label": who.label(label, entity), "rows": rows, "bars": bars}


def user_view(who: Viewer, load: UserLoad) -> dict[str, Any]:
    name = who.cfg.bundle.tenant.users[load.user].name
    full = load.open_left == 0 or load.per_day_left == 0
    note = "" if load.cap_open is None else text("asg.of_cap", who.locale, cap=load.cap_open)
    return {
        "user": load.user,
        "name": name,
        "active": load.active,
        "open": load.open,
        "cap_open": load.cap_open,
        "open_left": load.open_left,
        "open_used": _used(load.open, load.cap_open),
        "today": load.today,
        "cap_day": load.cap_per_day,
        "day_left": load.per_day_left,
        "day_used": _used(load.today, load.cap_per_day),
        "week": load.week,
        "full": full,
        "open_note": note,
    }


def _used(value: int, cap: int | None) -> int | None:
    """Percent of a capacity used (for the meter), None without a capacity."""
    if cap is None:
        return None
    return 100 if cap <= 0 else min(100, round(value * 100 / cap))


def rules_view(who: Viewer, groups: tuple[GroupFairness, ...]) -> list[dict[str, Any]]:
    """One entry per rule with candidates, each with its groups' charts."""
    defs = {(r.entity, r.id): r for r in who.cfg.bundle.assignment}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for g in groups:
        rule = defs[(g.entity, g.rule)]
        entry = out.setdefault(
            (g.entity, g.rule),
            {"id": f"{g.entity}-{g.rule}", "label": who.label(rule.label, rule.id), "groups": []},
        )
        entry["groups"].append(group_view(who, rule, g))
    return list(out.values())


def group_view(who: Viewer, rule: AssignmentRuleDef, group: GroupFairness) -> dict[str, Any]:
    users = who.cfg.bundle.tenant.users
    inactive = text("asg.inactive", who.locale)
    bars = [(users[u].name, n, "" if u in group.active else inactive) for u, n in group.today]
    return {
        "label": group_label(who, rule, group.group),
        "bars": bars,
        "spread": group.spread,
    }


def group_label(who: Viewer, rule: AssignmentRuleDef, value: str) -> str:
    """A by_field group by its value's label in the bundle (an enum option's), else the value."""
    if not value:
        return text("asg.group_all", who.locale)
    entity = who.cfg.bundle.entities[rule.entity]
    field = entity.fields.get(rule.key_field or "")
    option = next((o for o in field.options if o.value == value), None) if field else None
    prefix = who.label(field.label, field.name) if field else ""
    shown = who.label(option.label, value) if option else value
    return f"{prefix}: {shown}" if prefix else shown
