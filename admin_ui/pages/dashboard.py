"""The dashboard: records per pool, the funnel between stages with its bottleneck, the last
24 hours' decisions and the failed jobs (figures from engine.service.dashboard). A viewer who
cannot `see_all_stats` gets the figures of the records they see, and the failed jobs only
when they may `configure`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin_ui import texts
from admin_ui.access import policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
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

texts.add(
    {
        "dash.title": ("Dashboard", "概览"),
        "dash.yours": (
            "The figures count the records you may see.",
            "以下数字仅统计您有权查看的记录。",
        ),
        "dash.pools": ("Records per pool", "各客户池记录数"),
        "dash.records": ("{count} records", "共 {count} 条记录"),
        "dash.other": ("In no pool of this set", "不在本组客户池中"),
        "dash.no_pools": (
            "This tenant's bundle has no pool sets yet.",
            "该租户的配置还没有客户池。",
        ),
        "dash.funnel": ("Funnel", "转化漏斗"),
        "dash.funnel_how": (
            "A record has reached its current pool and every stage before it; conversion = "
            "records that reached the next stage ÷ records that reached this one.",
            "记录视为已到达当前所在的池及其之前的每个阶段；转化率 = 到达下一阶段的记录数 ÷ "
            "到达本阶段的记录数。",
        ),
        "dash.stage": ("Stage", "阶段"),
        "dash.reached": ("Reached", "到达"),
        "dash.conversion": ("Conversion to next", "到下一阶段转化率"),
        "dash.bottleneck": ("Bottleneck", "瓶颈"),
        "dash.bottleneck_is": (
            "Bottleneck: {stage} ({pct} go on to the next stage)",
            "瓶颈阶段：{stage}（{pct} 进入下一阶段）",
        ),
        "dash.no_bottleneck": ("No records in the funnel yet.", "漏斗中还没有记录。"),
        "dash.exits": ("Out of the funnel", "已离开漏斗"),
        "dash.decisions": ("Decisions in the last 24 hours", "最近 24 小时的自动决策"),
        "dash.decisions_total": ("{count} decisions", "共 {count} 条决策"),
        "dash.decisions_partial": (
            "Counted among the newest {count} decisions: the figures are lower bounds.",
            "仅统计最近的 {count} 条决策：实际数量不少于所示。",
        ),
        "dash.no_decisions": ("No decisions in the last 24 hours.", "最近 24 小时没有自动决策。"),
        "dash.kind": ("Kind", "类型"),
        "dash.rule": ("Rule", "规则"),
        "dash.count": ("Count", "数量"),
        "dash.all_decisions": ("All rules ({count})", "全部规则（{count}）"),
        "dash.failed": ("Failed jobs", "失败的任务"),
        "dash.failed_total": ("Gave up after every retry: {count}", "已放弃重试：{count}"),
        "dash.no_failed": ("No failed jobs.", "没有失败的任务。"),
        "dash.job": ("Job", "任务"),
        "dash.campaign": ("Campaign", "营销活动"),
        "dash.attempts": ("Attempts", "尝试次数"),
        "dash.failed_at": ("Given up at", "放弃时间"),
        "dash.error": ("Last error", "最后一次错误"),
        "dash.kind.pool_move": ("Pool move", "客户池移动"),
        "dash.kind.manual_move": ("Moved by hand", "手动移动"),
        "dash.kind.campaign_move": ("Moved by a campaign", "营销活动移动"),
        "dash.kind.assignment": ("Assignment", "分配"),
        "dash.kind.score": ("Score", "评分"),
        "dash.kind.grade": ("Grade", "等级"),
        "dash.kind.rollup": ("Rollup", "汇总"),
        "dash.kind.claim": ("Claim", "领取"),
        "dash.kind.release": ("Release", "放弃"),
        "dash.kind.reminder": ("Reminder", "提醒"),
        "dash.kind.campaign": ("Campaign fired", "营销活动触发"),
        "dash.kind.campaign_limited": ("Campaign limited", "营销活动受限"),
        "dash.kind.campaign_error": ("Campaign error", "营销活动出错"),
        "dash.kind.campaign_step": ("Campaign step", "营销活动步骤"),
        "dash.kind.campaign_step_skipped": ("Campaign step skipped", "营销活动步骤跳过"),
        "dash.job.webhook": ("Webhook", "Webhook"),
        "dash.job.email": ("E-mail", "邮件"),
        "dash.job.campaign_step": ("Campaign step", "营销活动步骤"),
        "dash.job.campaign_fire": ("Planned campaign firing", "计划的营销活动触发"),
    }
)


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
    return texts.text(key, locale) if key in texts.TEXTS else kind


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
        other = texts.text("dash.other", who.locale)
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
