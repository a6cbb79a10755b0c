"""The admin dashboard."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "dash.title": {"en": "Dashboard", "zh-CN": "概览"},
    "dash.yours": {
        "en": "The figures count the records you may see.",
        "zh-CN": "以下数字仅统计您有权查看的记录。",
    },
    "dash.pools": {"en": "Records per pool", "zh-CN": "各客户池记录数"},
    "dash.records": {"en": "{count} records", "zh-CN": "共 {count} 条记录"},
    "dash.other": {"en": "In no pool of this set", "zh-CN": "不在本组客户池中"},
    "dash.no_pools": {
        "en": "This tenant's bundle has no pool sets yet.",
        "zh-CN": "该租户的配置还没有客户池。",
    },
    "dash.funnel": {"en": "Funnel", "zh-CN": "转化漏斗"},
    "dash.funnel_how": {
        "en": (
            "A record has reached its current pool and every stage before it; conversion = records "
            "that reached the next stage ÷ records that reached this one."
        ),
        "zh-CN": (
            "记录视为已到达当前所在的池及其之前的每个阶段；转化率 = 到达下一阶段的记录数 ÷ "
            "到达本阶段的记录数。"
        ),
    },
    "dash.stage": {"en": "Stage", "zh-CN": "阶段"},
    "dash.reached": {"en": "Reached", "zh-CN": "到达"},
    "dash.conversion": {"en": "Conversion to next", "zh-CN": "到下一阶段转化率"},
    "dash.bottleneck": {"en": "Bottleneck", "zh-CN": "瓶颈"},
    "dash.bottleneck_is": {
        "en": "Bottleneck: {stage} ({pct} go on to the next stage)",
        "zh-CN": "瓶颈阶段：{stage}（{pct} 进入下一阶段）",
    },
    "dash.no_bottleneck": {"en": "No records in the funnel yet.", "zh-CN": "漏斗中还没有记录。"},
    "dash.exits": {"en": "Out of the funnel", "zh-CN": "已离开漏斗"},
    "dash.decisions": {"en": "Decisions in the last 24 hours", "zh-CN": "最近 24 小时的自动决策"},
    "dash.decisions_total": {"en": "{count} decisions", "zh-CN": "共 {count} 条决策"},
    "dash.decisions_partial": {
        "en": "Counted among the newest {count} decisions: the figures are lower bounds.",
        "zh-CN": "仅统计最近的 {count} 条决策：实际数量不少于所示。",
    },
    "dash.no_decisions": {
        "en": "No decisions in the last 24 hours.",
        "zh-CN": "最近 24 小时没有自动决策。",
    },
    "dash.kind": {"en": "Kind", "zh-CN": "类型"},
    "dash.rule": {"en": "Rule", "zh-CN": "规则"},
    "dash.count": {"en": "Count", "zh-CN": "数量"},
    "dash.all_decisions": {"en": "All rules ({count})", "zh-CN": "全部规则（{count}）"},
    "dash.failed": {"en": "Failed jobs", "zh-CN": "失败的任务"},
    "dash.failed_total": {
        "en": "Gave up after every retry: {count}",
        "zh-CN": "已放弃重试：{count}",
    },
    "dash.no_failed": {"en": "No failed jobs.", "zh-CN": "没有失败的任务。"},
    "dash.job": {"en": "Job", "zh-CN": "任务"},
    "dash.campaign": {"en": "Campaign", "zh-CN": "营销活动"},
    "dash.attempts": {"en": "Attempts", "zh-CN": "尝试次数"},
    "dash.failed_at": {"en": "Given up at", "zh-CN": "放弃时间"},
    "dash.error": {"en": "Last error", "zh-CN": "最后一次错误"},
    "dash.kind.pool_move": {"en": "Pool move", "zh-CN": "客户池移动"},
    "dash.kind.manual_move": {"en": "Moved by hand", "zh-CN": "手动移动"},
    "dash.kind.campaign_move": {"en": "Moved by a campaign", "zh-CN": "营销活动移动"},
    "dash.kind.assignment": {"en": "Assignment", "zh-CN": "分配"},
    "dash.kind.score": {"en": "Score", "zh-CN": "评分"},
    "dash.kind.grade": {"en": "Grade", "zh-CN": "等级"},
    "dash.kind.rollup": {"en": "Rollup", "zh-CN": "汇总"},
    "dash.kind.claim": {"en": "Claim", "zh-CN": "领取"},
    "dash.kind.release": {"en": "Release", "zh-CN": "放弃"},
    "dash.kind.reminder": {"en": "Reminder", "zh-CN": "提醒"},
    "dash.kind.campaign": {"en": "Campaign fired", "zh-CN": "营销活动触发"},
    "dash.kind.campaign_limited": {"en": "Campaign limited", "zh-CN": "营销活动受限"},
    "dash.kind.campaign_error": {"en": "Campaign error", "zh-CN": "营销活动出错"},
    "dash.kind.campaign_step": {"en": "Campaign step", "zh-CN": "营销活动步骤"},
    "dash.kind.campaign_step_skipped": {"en": "Campaign step skipped", "zh-CN": "营销活动步骤跳过"},
    "dash.job.webhook": {"en": "Webhook", "zh-CN": "Webhook"},
    "dash.job.email": {"en": "E-mail", "zh-CN": "邮件"},
    "dash.job.campaign_step": {"en": "Campaign step", "zh-CN": "营销活动步骤"},
    "dash.job.campaign_fire": {"en": "Planned campaign firing", "zh-CN": "计划的营销活动触发"},
}
