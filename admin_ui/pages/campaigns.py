"""Campaigns: per campaign and variant, how many fired, were delivered, failed and converted,
with charts (figures from CampaignService.stats, as GET …/campaigns/{id}/stats gives them).
The figures count every record of the tenant: like that API route, the page is for roles that
can `see_all_stats` (a 403 page naming them for others)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from admin_ui.access import ALL_STATS, policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
from engine.config.model import CampaignDef
from engine.i18n import CATALOGUE, text
from engine.service import Services

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)
PERIODS = (0, 7, 30, 90)  # days back; 0: since the beginning
SERIES = ("fired", "delivered", "failed", "converted")  # the chart's bars per variant
COLOURS = ("s0", "s1", "s3", "s4")  # blue, green, red, violet (admin.css): failed is the red one


@router.get("/campaigns")
def campaigns_page(
    request: Request,
    who: Who,
    svc: Svc,
    days: Annotated[int, Query(ge=0, le=3660)] = 0,
) -> Response:
    policy_of(svc, who).require(ALL_STATS)
    campaigns = [campaign_view(who, svc, c, days) for c in who.cfg.bundle.campaigns]
    overview = [
        (c["label"], [(_word(who, f"camp.{s}"), c["totals"][s]) for s in SERIES]) for c in campaigns
    ]
    return render(
        request,
        who,
        "campaigns.html",
        campaigns=campaigns,
        overview=overview,
        series=[_word(who, f"camp.{s}") for s in SERIES],
        colours=COLOURS,
        periods=[(d, _word(who, f"camp.period.{d}")) for d in PERIODS],
        days=days,
    )


def _word(who: Viewer, key: str) -> str:
    return text(key, who.locale)


def campaign_view(who: Viewer, svc: Services, campaign: CampaignDef, days: int) -> dict[str, Any]:
    today = svc.clock.now().astimezone(who.cfg.tz).date()
    since = today - timedelta(days=days - 1) if days else None
    stats = svc.campaigns.stats(who.tenant, campaign.id, since)
    variants = [
        variant_view(who, name, stats["variants"].get(name))
        for name in variant_order(campaign, stats["variants"])
    ]
    totals = {k: sum(v[k] for v in variants) for k in (*SERIES, "held_out", "pending")}
    return {
        "id": campaign.id,
        "label": who.label(campaign.label, campaign.id),
        "entity": who.label(who.cfg.bundle.entities[campaign.entity].label, campaign.entity),
        "trigger": _trigger_word(who, campaign.trigger.kind),
        "enabled": campaign.enabled,
        "goal_days": campaign.goal.within.days if campaign.goal else None,
        "variants": variants,
        "totals": totals,
        "groups": [
            (v["label"], [(_word(who, f"camp.{s}"), v[s]) for s in SERIES]) for v in variants
        ],
    }


def _trigger_word(who: Viewer, kind: str) -> str:
    key = f"camp.trigger.{kind}"
    return _word(who, key) if key in CATALOGUE else kind


def variant_order(campaign: CampaignDef, found: dict[str, Any]) -> list[str]:
    """The split's variants in the bundle's order (those that have not fired too), then any
    other that fired (a variant a former version had, or "-": no split)."""
    named = [name for name, _ in campaign.split]
    return named + sorted(v for v in found if v not in named)


def variant_view(who: Viewer, name: str, totals: dict[str, float] | None) -> dict[str, Any]:
    counts = {k: int((totals or {}).get(k, 0)) for k in (*SERIES, "held_out")}
    fired = counts["fired"]
    settled = counts["delivered"] + counts["failed"] + counts["held_out"]
    return {
        "name": name,
        "label": _variant_label(who, name),
        **counts,
        "pending": max(0, fired - settled),
        "conversion": f"{counts['converted'] * 100 / fired:.1f}%" if fired else "—",
    }


def _variant_label(who: Viewer, name: str) -> str:
    if name == "-":
        return _word(who, "camp.no_split")
    if name == "holdout":
        return _word(who, "camp.holdout")
    return name
