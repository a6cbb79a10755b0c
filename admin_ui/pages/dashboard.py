"""The dashboard: records per pool, the funnel between stages with its bottleneck, the last
24 hours' decisions and the failed jobs (figures from engine.service.dashboard). A viewer who
cannot `see_all_stats` gets the figures of the records they see, and the failed jobs only
when they may `configure`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin_ui.access import policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
from engine.i18n import CATALOGUE, text
from engine.service.dashboard import (
    DECISIONS_SCANNED,
    FailedJobs,
    PoolSetFigures,
    RecentDecisions,
    dashboard,
    rule_label,
)

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)
TOP_DECISIONS = 12  # bars in the decisions chart; the rest are in the table below it


@router.get("/dashboard")
def dashboard_page(request: Request, who: Who, svc: Svc) -> Response:
    figures = dashboard(svc.store, who.cfg, svc.clock.now(), policy_of(svc, who))
    return render(
        request,
        who,
        "dashboard.html",
        pool_sets=[pool_set_view(who, f) for f in figures.pool_sets],
        decisions=decisions_view(who, figures.decisions),
        failed=failed_view(who, figures.failed) if figures.failed is not None else None,
        decisions_scanned=f"{DECISIONS_SCANNED:,}",
        everything=figures.everything,
    )


def word(prefix: str, kind: str, locale: str) -> str:
    """The UI's word for a kind of decision or job; the kind itself for one it does not know."""
    key = f"{prefix}.{kind}"
    return text(key, locale) if key in CATALOGUE else kind


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def pool_set_view(who: Viewer, figures: PoolSetFigures) -> dict[str, Any]:
    pool_set = figures.pool_set
    pools = pool_set.pools
    bars: list[tuple[str, int, str]] = [
        (who.label(pools[p].label, p), n, _share(n, figures.total))
        for p, n in figures.counts.items()
    ]
    if figures.other:
        other = text("dash.other", who.locale)
        bars.append((other, figures.other, _share(figures.other, figures.total)))
    entity = who.cfg.bundle.entities[pool_set.entity]
    return {
        "id": pool_set.name,
        "title": who.label(pool_set.label, pool_set.name),
        "entity": who.label(entity.label, entity.name),
        "total": figures.total,
        "bars": bars,
        "funnel": funnel_view(who, figures),
    }


def _share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else ""


def funnel_view(who: Viewer, figures: PoolSetFigures) -> dict[str, Any]:
    funnel = figures.funnel
    pools = figures.pool_set.pools
    stages = [
        {
            "pool": s.pool,
            "label": who.label(pools[s.pool].label, s.pool),
            "reached": s.reached,
            "conversion": s.conversion,
            "pct": percent(s.conversion),
            "hot": s.pool == funnel.bottleneck,
        }
        for s in funnel.stages
    ]
    hot = next((s for s in stages if s["hot"]), None)
    exits = [(who.label(pools[p].label, p), n) for p, n in funnel.exits]
    return {"stages": stages, "bottleneck": hot, "exits": exits}


def decisions_view(who: Viewer, recent: RecentDecisions) -> dict[str, Any]:
    rows = [
        {
            "kind": word("dash.kind", c.kind, who.locale),
            "rule": who.label(rule_label(who.cfg.bundle, c.kind, c.rule), c.rule),
            "count": c.count,
        }
        for c in recent.counts
    ]
    return {
        "total": recent.total,
        "partial": recent.partial,
        "rows": rows,
        "bars": [(f"{r['kind']} · {r['rule']}", r["count"], "") for r in rows[:TOP_DECISIONS]],
        "kinds": [(word("dash.kind", k, who.locale), n) for k, n in recent.by_kind()],
    }


def failed_view(who: Viewer, failed: FailedJobs) -> dict[str, Any]:
    campaigns = {c.id: c for c in who.cfg.bundle.campaigns}
    jobs = [
        {
            "id": j.id,
            "kind": word("dash.job", j.kind, who.locale),
            "campaign": (
                who.label(campaigns[j.campaign].label, j.campaign)
                if j.campaign in campaigns
                else (j.campaign or "")
            ),
            "attempts": j.attempts,
            "at": local_time(who, j.at),
            "error": j.error,
        }
        for j in failed.latest
    ]
    return {"total": failed.total, "jobs": jobs}


def local_time(who: Viewer, moment: datetime | None) -> str:
    """An instant in the tenant's time zone, to the minute."""
    return "" if moment is None else moment.astimezone(who.cfg.tz).strftime("%Y-%m-%d %H:%M")
