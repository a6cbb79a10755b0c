"""The admin assignment page."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "asg.title": {"en": "Assignment", "zh-CN": "分配"},
    "asg.yours": {
        "en": "Shown: the users whose records you may see.",
        "zh-CN": "仅显示您有权查看其记录的用户。",
    },
    "asg.day": {
        "en": "Today is {day} in the tenant's time zone; the week began on {monday}.",
        "zh-CN": "租户时区的今天：{day}；本周从 {monday} 开始。",
    },
    "asg.none": {
        "en": "This tenant's bundle has no assignment rules.",
        "zh-CN": "该租户的配置没有分配规则。",
    },
    "asg.load": {"en": "Load per user", "zh-CN": "各用户负载"},
    "asg.user": {"en": "User", "zh-CN": "用户"},
    "asg.open": {"en": "Open load", "zh-CN": "当前持有"},
    "asg.cap_open": {"en": "Open capacity", "zh-CN": "持有上限"},
    "asg.open_left": {"en": "Open left", "zh-CN": "可再持有"},
    "asg.today": {"en": "Assigned today", "zh-CN": "今日分配"},
    "asg.cap_day": {"en": "Per day", "zh-CN": "每日上限"},
    "asg.day_left": {"en": "Left today", "zh-CN": "今日剩余"},
    "asg.week": {"en": "This week", "zh-CN": "本周分配"},
    "asg.no_cap": {"en": "no limit", "zh-CN": "不限"},
    "asg.inactive": {"en": "inactive", "zh-CN": "已停用"},
    "asg.full": {"en": "full", "zh-CN": "已满"},
    "asg.of_cap": {"en": "of {cap}", "zh-CN": "上限 {cap}"},
    "asg.load_chart": {"en": "Open load", "zh-CN": "当前持有"},
    "asg.fairness": {"en": "Fairness today", "zh-CN": "今日分配公平性"},
    "asg.fairness_how": {
        "en": (
            "Assigned today per candidate of each rule, from the day counters the engine balances "
            "with (all rules of the entity together); spread = most − fewest among active "
            "candidates."
        ),
        "zh-CN": (
            "每条规则的候选人今日分配数，取自分配引擎用于均衡的每日计数（同一实体的所有规则合计）；"
            "差距 = 在岗候选人中最多与最少之差。"
        ),
    },
    "asg.spread": {"en": "Spread today: {spread}", "zh-CN": "今日差距：{spread}"},
    "asg.group_all": {"en": "All candidates", "zh-CN": "全部候选人"},
    "asg.queues": {"en": "Waiting in queues", "zh-CN": "待分配队列"},
    "asg.queue": {"en": "Queue", "zh-CN": "队列"},
    "asg.waiting": {"en": "Records", "zh-CN": "记录数"},
    "asg.no_queued": {
        "en": "No record is waiting in a queue.",
        "zh-CN": "队列中没有等待分配的记录。",
    },
}
