"""Why a message template could not be rendered: the bounds it reached."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "template.budget": {
        "en": "the template took longer than its {ms} ms budget",
        "zh-CN": "模板渲染超过了 {ms} 毫秒的时间预算",
    },
    "template.steps": {
        "en": "the template's loops ran more than {n} steps",
        "zh-CN": "模板中的循环执行超过 {n} 步",
    },
    "template.range": {
        "en": "range() may hold at most {n} numbers",
        "zh-CN": "range() 最多包含 {n} 个数",
    },
    "template.depth": {
        "en": "macros and recursive loops may nest at most {n} deep",
        "zh-CN": "宏调用和递归循环最多嵌套 {n} 层",
    },
    "template.integer": {
        "en": "a number would have more than {n} bits (about {digits} digits)",
        "zh-CN": "数字将超过 {n} 位二进制（约 {digits} 位十进制）",
    },
    "template.exponent": {"en": "exponents above {n} are not allowed", "zh-CN": "指数不能超过 {n}"},
    "template.too_long": {
        "en": "a text or list would hold more than {n} characters or items",
        "zh-CN": "文本或列表将超过 {n} 个字符或元素",
    },
    "template.output": {
        "en": "the text would be longer than {n} characters",
        "zh-CN": "生成的文本将超过 {n} 个字符",
    },
    "template.built": {
        "en": "the template built more than {n} characters or items in all",
        "zh-CN": "模板累计生成的文本和列表超过 {n} 个字符或元素",
    },
    "template.method": {
        "en": "{method}() cannot be called in a template",
        "zh-CN": "模板中不能调用 {method}()",
    },
    "template.line": {"en": "line {line}: {message}", "zh-CN": "第 {line} 行：{message}"},
}
