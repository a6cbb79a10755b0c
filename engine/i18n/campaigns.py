"""A campaign decision as people read it."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "campaign.decision.campaign": {
        "en": "campaign {campaign} fired ({trigger})",
        "zh-CN": "营销活动 {campaign} 已触发（{trigger}）",
    },
    "campaign.decision.campaign_limited": {
        "en": "campaign {campaign} did not fire: {limit}",
        "zh-CN": "营销活动 {campaign} 未触发：{limit}",
    },
    "campaign.decision.campaign_error": {
        "en": "campaign {campaign}: action {action} failed: {error}",
        "zh-CN": "营销活动 {campaign}：动作 {action} 失败：{error}",
    },
    "campaign.decision.campaign_step": {
        "en": "campaign {campaign}: step {step} ran",
        "zh-CN": "营销活动 {campaign}：第 {step} 步已执行",
    },
    "campaign.decision.campaign_step_skipped": {
        "en": "campaign {campaign}: step {step} skipped, its condition fails",
        "zh-CN": "营销活动 {campaign}：第 {step} 步跳过，条件已不满足",
    },
    "campaign.variant": {"en": "variant {variant}", "zh-CN": "分组 {variant}"},
    "campaign.deferred": {
        "en": "quiet hours: deferred until {until}",
        "zh-CN": "免打扰时段：推迟到 {until}",
    },
    "campaign.when": {"en": "because:", "zh-CN": "原因："},
    # what triggered it
    "campaign.trigger.created": {"en": "created", "zh-CN": "新建"},
    "campaign.trigger.updated": {"en": "updated", "zh-CN": "更新"},
    "campaign.trigger.field_changed": {"en": "{field} changed", "zh-CN": "{field} 变化"},
    "campaign.trigger.pool_entered": {"en": "entered pool {pool}", "zh-CN": "进入 {pool}"},
    "campaign.trigger.pool_left": {"en": "left pool {pool}", "zh-CN": "离开 {pool}"},
    "campaign.trigger.segment_enter": {
        "en": "entered segment {segment}",
        "zh-CN": "进入客群 {segment}",
    },
    "campaign.trigger.segment_leave": {
        "en": "left segment {segment}",
        "zh-CN": "离开客群 {segment}",
    },
    "campaign.trigger.schedule": {"en": "scheduled at {at}", "zh-CN": "定时 {at}"},
    "campaign.trigger.relative": {"en": "{field} came due", "zh-CN": "{field} 到期"},
    # a limit that said no
    "campaign.limit.once_per_record": {
        "en": "it fires once per record",
        "zh-CN": "每条记录只触发一次",
    },
    "campaign.limit.cooldown": {"en": "still in its cooldown", "zh-CN": "仍在冷却期内"},
    "campaign.limit.max_per_day": {"en": "today's cap is reached", "zh-CN": "已达今日上限"},
}
