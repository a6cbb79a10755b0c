"""An assignment decision as people read it."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "assignment.rule": {"en": "rule {rule} ({strategy})", "zh-CN": "规则 {rule}（{strategy}）"},
    "assignment.group": {"en": "group {group}", "zh-CN": "分组 {group}"},
    "assignment.considered": {"en": "candidates: {users}", "zh-CN": "候选人：{users}"},
    "assignment.skipped": {"en": "skipped: {items}", "zh-CN": "跳过：{items}"},
    "assignment.owner": {"en": "assigned to {owner}", "zh-CN": "分配给 {owner}"},
    "assignment.queue": {"en": "queued in {queue}", "zh-CN": "进入待分配队列 {queue}"},
    "assignment.passed": {
        "en": "rule {rule}: nobody eligible, next rule",
        "zh-CN": "规则 {rule}：没有可分配的人，转下一条规则",
    },
    "assignment.sticky": {
        "en": "same {field} as record {record}: its owner keeps it",
        "zh-CN": "与记录 {record} 的{field}相同：由同一负责人跟进",
    },
    "assignment.because": {"en": "handed on because:", "zh-CN": "重新分配，因为："},
    "assignment.none": {
        "en": "no rule applies: queued in {queue}",
        "zh-CN": "没有适用的规则：进入队列 {queue}",
    },
    "assignment.skip": {"en": "{user} ({reason})", "zh-CN": "{user}（{reason}）"},
    # why a candidate was skipped
    "assignment.reason.inactive": {"en": "inactive", "zh-CN": "已停用"},
    "assignment.reason.on_leave": {"en": "on leave", "zh-CN": "休假中"},
    "assignment.reason.out_of_hours": {"en": "out of working hours", "zh-CN": "非工作时间"},
    "assignment.reason.at_open_capacity": {"en": "at open capacity", "zh-CN": "已达持有上限"},
    "assignment.reason.at_daily_capacity": {"en": "at daily capacity", "zh-CN": "已达当日上限"},
    "assignment.reason.previous_owner": {"en": "had it", "zh-CN": "原负责人"},
    # strategies (in English by their names)
    "assignment.strategy.round_robin": {"en": "round_robin", "zh-CN": "轮询"},
    "assignment.strategy.weighted": {"en": "weighted", "zh-CN": "加权轮询"},
    "assignment.strategy.load_balanced": {"en": "load_balanced", "zh-CN": "负载均衡"},
    "assignment.strategy.by_field": {"en": "by_field", "zh-CN": "按字段"},
    "assignment.strategy.manual_queue": {"en": "manual_queue", "zh-CN": "人工队列"},
    "assignment.strategy.by_hand": {"en": "by_hand", "zh-CN": "人工分配"},
}
