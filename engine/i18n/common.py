"""Words many areas share: language names, list separators and the did-you-mean hints."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # each language's name in itself (for links that switch to it)
    "language.name": {"en": "English", "zh-CN": "中文"},
    # between the items of a list
    "list.sep": {"en": ", ", "zh-CN": "、"},
    # choices_hint: a name that is not one of the known ones
    "choices.did_you_mean": {"en": "did you mean '{guess}'?", "zh-CN": "您是不是要写“{guess}”？"},
    "choices.known": {"en": "known {noun}: {listed}", "zh-CN": "已有{noun}：{listed}"},
    "choices.none_yet": {"en": "there are no {noun} yet", "zh-CN": "还没有{noun}"},
    "choices.expected_one_of": {
        "en": "expected one of: {listed}",
        "zh-CN": "应为以下之一：{listed}",
    },
    "choices.nothing_allowed": {"en": "nothing is allowed here", "zh-CN": "此处不允许填写任何值"},
    "choices.noun.fields": {"en": "fields", "zh-CN": "字段"},
    "choices.noun.functions": {"en": "functions", "zh-CN": "函数"},
    "choices.noun.options": {"en": "options", "zh-CN": "选项"},
}
