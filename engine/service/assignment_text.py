"""An assignment decision as people read it, in Chinese or English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.conditions.trace import trace_from_dict

_WORDS = {
    "en": {
        "rule": "rule {rule} ({strategy})",
        "group": "group {group}",
        "considered": "candidates: {users}",
        "skipped": "skipped: {items}",
        "owner": "assigned to {owner}",
        "queue": "queued in {queue}",
        "passed": "rule {rule}: nobody eligible, next rule",
        "sticky": "same {field} as record {record}: its owner keeps it",
        "because": "handed on because:",
        "none": "no rule applies: queued in {queue}",
        "sep": ", ",
        "skip": "{user} ({reason})",
    },
    "zh-CN": {
        "rule": "规则 {rule}（{strategy}）",
        "group": "分组 {group}",
        "considered": "候选人：{users}",
        "skipped": "跳过：{items}",
        "owner": "分配给 {owner}",
        "queue": "进入待分配队列 {queue}",
        "passed": "规则 {rule}：没有可分配的人，转下一条规则",
        "sticky": "与记录 {record} 的{field}相同：由同一负责人跟进",
        "because": "重新分配，因为：",
        "none": "没有适用的规则：进入队列 {queue}",
        "sep": "、",
        "skip": "{user}（{reason}）",
    },
}
_REASONS = {
    "en": {
        "inactive": "inactive",
        "on_leave": "on leave",
        "out_of_hours": "out of working hours",
        "at_open_capacity": "at open capacity",
        "at_daily_capacity": "at daily capacity",
        "previous_owner": "had it",
    },
    "zh-CN": {
        "inactive": "已停用",
        "on_leave": "休假中",
        "out_of_hours": "非工作时间",
        "at_open_capacity": "已达持有上限",
        "at_daily_capacity": "已达当日上限",
        "previous_owner": "原负责人",
    },
}
_STRATEGIES = {
    "zh-CN": {
        "round_robin": "轮询",
        "weighted": "加权轮询",
        "load_balanced": "负载均衡",
        "by_field": "按字段",
        "manual_queue": "人工队列",
        "by_hand": "人工分配",
    },
}


def render_assignment(explanation: Mapping[str, Any], locale: str) -> str:
    lang = "zh-CN" if locale.startswith("zh") else "en"
    words, reasons = _WORDS[lang], _REASONS[lang]
    lines = [words["passed"].format(rule=p["rule"]) for p in explanation.get("passed", ())]
    if explanation.get("rule") is None:
        return "\n".join([*lines, words["none"].format(queue=explanation.get("queue"))])
    strategy = explanation.get("strategy", "")
    shown = _STRATEGIES.get(lang, {}).get(strategy, strategy)
    lines.append(words["rule"].format(rule=explanation["rule"], strategy=shown))
    if explanation.get("group"):
        lines.append(words["group"].format(group=explanation["group"]))
    sticky = explanation.get("sticky")
    if sticky:
        lines.append(words["sticky"].format(field=sticky["field"], record=sticky["record"]))
    elif explanation.get("considered"):
        lines.append(words["considered"].format(users=words["sep"].join(explanation["considered"])))
    skipped = [
        words["skip"].format(user=s["user"], reason=reasons.get(s["reason"], s["reason"]))
        for s in explanation.get("skipped", ())
    ]
    if skipped:
        lines.append(words["skipped"].format(items=words["sep"].join(skipped)))
    if explanation.get("because"):
        lines.append(words["because"])
        trace = trace_from_dict(explanation["because"]).render(lang)
        lines += ["  " + line for line in trace.splitlines()]
    if explanation.get("owner"):
        lines.append(words["owner"].format(owner=explanation["owner"]))
    else:
        lines.append(words["queue"].format(queue=explanation.get("queue")))
    return "\n".join(lines)
