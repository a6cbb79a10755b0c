"""A campaign decision as people read it, in Chinese or English: what triggered it, the
condition's trace, the variant, a limit that said no, an action that failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.conditions.trace import trace_from_dict
from engine.templating import error_text

CAMPAIGN_KINDS = frozenset(
    {"campaign", "campaign_limited", "campaign_error", "campaign_step", "campaign_step_skipped"}
)

_WORDS = {
    "en": {
        "campaign": "campaign {campaign} fired ({trigger})",
        "campaign_limited": "campaign {campaign} did not fire: {limit}",
        "campaign_error": "campaign {campaign}: action {action} failed: {error}",
        "campaign_step": "campaign {campaign}: step {step} ran",
        "campaign_step_skipped": "campaign {campaign}: step {step} skipped, its condition fails",
        "variant": "variant {variant}",
        "deferred": "quiet hours: deferred until {until}",
        "when": "because:",
    },
    "zh-CN": {
        "campaign": "营销活动 {campaign} 已触发（{trigger}）",
        "campaign_limited": "营销活动 {campaign} 未触发：{limit}",
        "campaign_error": "营销活动 {campaign}：动作 {action} 失败：{error}",
        "campaign_step": "营销活动 {campaign}：第 {step} 步已执行",
        "campaign_step_skipped": "营销活动 {campaign}：第 {step} 步跳过，条件已不满足",
        "variant": "分组 {variant}",
        "deferred": "免打扰时段：推迟到 {until}",
        "when": "原因：",
    },
}
_TRIGGERS = {
    "en": {
        "created": "created",
        "updated": "updated",
        "field_changed": "{field} changed",
        "pool_entered": "entered pool {pool}",
        "pool_left": "left pool {pool}",
        "segment_enter": "entered segment {segment}",
        "segment_leave": "left segment {segment}",
        "schedule": "scheduled at {at}",
        "relative": "{field} came due",
    },
    "zh-CN": {
        "created": "新建",
        "updated": "更新",
        "field_changed": "{field} 变化",
        "pool_entered": "进入 {pool}",
        "pool_left": "离开 {pool}",
        "segment_enter": "进入客群 {segment}",
        "segment_leave": "离开客群 {segment}",
        "schedule": "定时 {at}",
        "relative": "{field} 到期",
    },
}
_LIMITS = {
    "en": {
        "once_per_record": "it fires once per record",
        "cooldown": "still in its cooldown",
        "max_per_day": "today's cap is reached",
    },
    "zh-CN": {
        "once_per_record": "每条记录只触发一次",
        "cooldown": "仍在冷却期内",
        "max_per_day": "已达今日上限",
    },
}


def render_campaign(
    kind: str, rule: str, after: Mapping[str, Any], trace: Mapping[str, Any] | None, locale: str
) -> str:
    lang = "zh-CN" if locale.startswith("zh") else "en"
    words, trace = _WORDS[lang], trace or {}
    values = {
        "campaign": rule.removeprefix("campaign."),
        "trigger": _trigger(trace.get("trigger") or {}, lang),
        "limit": _LIMITS[lang].get(str(after.get("limit")), str(after.get("limit"))),
        "action": trace.get("kind", ""),
        "error": _error(trace, lang),
        "step": after.get("step", trace.get("step", 0)),
    }
    lines = [words[kind].format(**values)]
    if after.get("variant"):
        lines.append(words["variant"].format(variant=after["variant"]))
    if after.get("deferred_until"):
        lines.append(words["deferred"].format(until=after["deferred_until"]))
    if isinstance(trace.get("when"), dict):
        lines.append(words["when"])
        lines += [
            "  " + line for line in trace_from_dict(trace["when"]).render(locale).splitlines()
        ]
    return "\n".join(lines)


def _trigger(raw: Mapping[str, Any], lang: str) -> str:
    template = _TRIGGERS[lang].get(str(raw.get("kind")), str(raw.get("kind", "")))
    names = {k: raw.get(k, "") for k in ("field", "pool", "segment", "at")}
    return template.format(**names)


def _error(trace: Mapping[str, Any], lang: str) -> str:
    """A failed action's reason; a template's is stored with its code, so it reads in
    either language."""
    for item in trace.get("errors") or []:
        if isinstance(item, Mapping) and str(item.get("code", "")).startswith("template"):
            return error_text(item, lang)
    return str(trace.get("error", ""))
