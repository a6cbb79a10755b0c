"""Every text of a condition error, in English and Chinese, by stable code.

A ConditionError carries a `Msg` (code + params) for its message and one for its hint. Params
are plain JSON (so they travel in FieldError params to the API): text, numbers, lists, or a
nested message {"code": …, "params": …} — type names, "the end", nouns — rendered in the
same locale. The English templates reproduce the texts the language has always printed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import types as T

EN, ZH = "en", "zh-CN"
RAW = "raw"  # a message given as plain text (English everywhere); no raising site uses it

# code → (English, Chinese). Message codes, then hints, then the words they embed.
MESSAGES: dict[str, tuple[str, str]] = {
    RAW: ("{message}", "{message}"),
    # lexer
    "too_long": ("condition is longer than {n} characters", "条件超过 {n} 个字符"),
    "text_not_closed": ("text is not closed", "文本缺少结束引号"),
    "unexpected": ("unexpected '{text}'", "不能在这里使用“{text}”"),
    "unexpected_char": ("unexpected character {char}", "无法识别的字符 {char}"),
    # parser ("found" is what stands where something else was expected)
    "too_deep": ("condition is nested too deeply", "条件嵌套过深"),
    "nested_levels": (
        "condition is nested more than {n} levels deep",
        "条件嵌套超过 {n} 层",
    ),
    "empty": ("condition is empty", "条件为空"),
    "expected": ("expected {what}, found {found}", "此处应为{what}，实际是{found}"),
    "two_texts": ("two texts in a row, found {found}", "两个文本连在一起：{found}"),
    "expected_end": (
        "expected and, or, or the end of the condition, found {found}",
        "此处应为 and、or 或条件结尾，实际是{found}",
    ),
    "chained": (
        "comparisons cannot be chained, found {found}",
        "比较不能连写，实际遇到{found}",
    ),
    "not_without_in": ("expected in after not, found {found}", "not 之后应为 in，实际是{found}"),
    "expected_value": (
        "expected a value, a field or (, found {found}",
        "此处应为值、字段或 (，实际是{found}",
    ),
    "too_many_items": ("more than {n} items, found {found}", "超过 {n} 项，在{found}处"),
    "not_real": ("'{text}' is not a real {kind}", "“{text}”不是有效的{kind}"),
    # checker
    "not_condition": (
        "a condition must be true or false, this is {type}",
        "条件的结果必须是真或假，这里是{type}",
    ),
    "too_many_digits": (
        "a number may have at most {n} digits",
        "数字最多 {n} 位",
    ),
    "number_too_large": ("number is too large", "数字太大"),
    "unstorable_text": (
        "text contains characters that cannot be stored",
        "文本包含无法保存的字符",
    ),
    "out_of_calendar": (
        "this time is outside the calendar (years 1 to 9999)",
        "该时间超出日历范围（公元 1 年至 9999 年）",
    ),
    "unknown_field": ("unknown field '{name}'", "未知字段“{name}”"),
    "mixed_list": (
        "a list holds one kind of value: {item}, not {type}",
        "列表只能放同一类值：应为{item}，不能是{type}",
    ),
    "nested_list": ("lists cannot hold lists", "列表不能包含列表"),
    "unknown_function": ("unknown function '{name}'", "未知函数“{name}”"),
    "update_only": (
        "{name}() only works in rules that run when a record is written",
        "{name}() 只能用于记录写入时运行的规则",
    ),
    "field_args": ("{name}() takes a field name", "{name}() 的参数必须是字段名"),
    "bad_arguments": ("{name}() does not take ({got})", "{name}() 不接受（{got}）"),
    "cannot_negate": ("cannot negate {type}", "{type}不能取负数"),
    "cannot_compute": (
        "cannot compute {left} {op} {right}",
        "无法计算 {left} {op} {right}",
    ),
    "whole_days": ("a date moves by whole days", "日期只能按整天加减"),
    "null_compare": ("comparing with null is never true", "与 null 比较永远不成立"),
    "list_compare": ("lists are not compared as a whole", "列表不能整体比较"),
    "no_order": ("{type} values have no order", "{type}没有大小顺序"),
    "cannot_compare": ("cannot compare {left} with {right}", "无法比较 {left} 与 {right}"),
    "not_option": ("'{value}' is not an option of {field}", "“{value}”不是{field}的选项"),
    "in_needs_list": (
        "'{op}' needs a list on its right, not {type}",
        "“{op}”的右边必须是列表，不能是{type}",
    ),
    "in_one_value": ("'{op}' tests one value", "“{op}”只能判断单个值"),
    "in_mismatch": ("cannot look for {type} in a {list}", "不能在{list}中查找{type}"),
    "contains_mismatch": ("a {list} cannot contain {type}", "{list}不能包含{type}"),
    "text_only": ("'{op}' works on text, not {type}", "“{op}”只能用于文本，不能用于{type}"),
    "pattern_not_text": (
        "the pattern of 'matches' must be written out as text",
        "matches 的模式必须直接写成文本",
    ),
    "pattern_refused": ("pattern not allowed: {reason}", "不允许的模式：{reason}"),
    "expected_condition": (
        "expected a true/false condition, got {type}",
        "此处应为真/假条件，实际是{type}",
    ),
    "value_mapping": ("a value cannot be a mapping", "值不能是映射"),
    # why a `matches` pattern is refused (regex.py); "re2" is the regex library's own text
    "regex.too_long": ("longer than {n} characters", "超过 {n} 个字符"),
    "regex.groups": (
        "only (…) and (?:…) groups are allowed",
        "只允许 (…) 和 (?:…) 分组",
    ),
    "regex.trailing_backslash": ("pattern ends with a backslash", "模式以反斜杠结尾"),
    "regex.escape": (
        "'\\{char}' is not supported; use \\d \\w \\s, or escape punctuation",
        "不支持“\\{char}”；请用 \\d \\w \\s，或转义标点符号",
    ),
    "regex.brace": (
        "'{{' starts a repeat like {{2}} or {{1,3}}; write \\{{ for the sign",
        "“{{”表示重复次数，如 {{2}} 或 {{1,3}}；要匹配这个符号请写 \\{{",
    ),
    "regex.repeat_limit": ("repeats are limited to 255", "重复次数最多 255"),
    "regex.posix": (
        "[:…:], [.….] and [=…=] are not supported; use \\d \\w \\s",
        "不支持 [:…:]、[.….] 和 [=…=]；请用 \\d \\w \\s",
    ),
    "regex.bracket": ("'[' is not closed", "“[”没有闭合"),
    "regex.re2": ("{detail}", "正则表达式有误（{detail}）"),
    # hints
    "hint.split": (
        "split it into named segments or simpler rules",
        "请拆分成命名片段或更简单的规则",
    ),
    "hint.close_quote": ("close the text with a matching quote", "请用相同的引号结束文本"),
    "hint.double_equals": ("use == to compare", "比较请用 =="),
    "hint.use_and": ("use and", "请用 and"),
    "hint.use_or": ("use or", "请用 or"),
    "hint.use_not": ("use not or !=", "请用 not 或 !="),
    "hint.use_not_equal": ("use !=", "请用 !="),
    "hint.simplify": ("simplify it", "请简化条件"),
    "hint.example": ("write e.g. budget > 0", "例如写 budget > 0"),
    "hint.quote_in_text": ("write a quote inside text as \\'", "文本中的引号请写成 \\'"),
    "hint.join_with_and": ("join them with and", "请用 and 连接"),
    "hint.not_in": ("write: x not in [...]", "请写：x not in [...]"),
    "hint.keyword": (
        "'{word}' is a keyword; put it between a field and a value",
        "“{word}”是关键字，应放在字段和值之间",
    ),
    "hint.month_day": ("check the month and day", "请检查月份和日期"),
    "hint.compare_it": ("compare it, e.g. budget > 0", "请加上比较，例如 budget > 0"),
    "hint.unstorable": (
        "remove NUL bytes and unpaired surrogates",
        "请删除 NUL 字符和不成对的代理字符",
    ),
    "hint.write_time": (
        "it compares with the values before the write",
        "它与写入前的值比较",
    ),
    "hint.e_g": ("e.g. {example}", "例如 {example}"),
    "hint.use_as": ("use it as {example}", "用法：{example}"),
    "hint.arithmetic": (
        "+ - * / work on numbers and money; dates and times take +/- a duration such as 3d",
        "+ - * / 用于数字和金额；日期和时间可以 +/- 时长，如 3d",
    ),
    "hint.whole_days": (
        "write e.g. 3d, or use a datetime field",
        "例如写 3d，或改用日期时间字段",
    ),
    "hint.is_null": ("use 'is null' or 'is not null'", "请用 is null 或 is not null"),
    "hint.list_items": (
        "test items with contains, or the size with len({name})",
        "用 contains 判断其中的项，或用 len({name}) 判断项数",
    ),
    "hint.equality_only": ("use == or !=", "请用 == 或 !="),
    "hint.in_example": (
        "write e.g. region in ['east', 'north']",
        "例如写 region in ['east', 'north']",
    ),
    "hint.list_field": (
        "to test a list field, write: tags contains 'vip'",
        "判断列表字段请写：tags contains 'vip'",
    ),
    "hint.unquote_time": (
        "write dates and times without quotes, e.g. 2026-01-31 or 2026-01-31T09:00",
        "日期和时间不加引号，例如 2026-01-31 或 2026-01-31T09:00",
    ),
    "hint.unquote_number": (
        "write numbers without quotes: {value}",
        "数字不加引号：{value}",
    ),
    "hint.holds_numbers": ("{name} holds numbers", "{name} 是数字"),
    "hint.quote_text": ("to compare with text, quote it: '{text}'", "与文本比较请加引号：'{text}'"),
    "hint.did_you_mean": ("did you mean '{guess}'?", "您是不是要写“{guess}”？"),
    "hint.known": ("known {noun}: {listed}", "已有{noun}：{listed}"),
    "hint.none_yet": ("there are no {noun} yet", "还没有{noun}"),
    # words inside other messages
    "found.end": ("the end", "条件结尾"),
    "what.close_paren": ("')'", " ')'"),
    "what.comma_or_paren": ("',' or ')'", " ',' 或 ')'"),
    "what.comma_or_bracket": ("',' or ']'", " ',' 或 ']'"),
    "what.between_and": ("and (between low and high)", " and（between 下限 and 上限）"),
    "what.null": ("null (is null / is not null)", " null（is null / is not null）"),
    "word.nothing": ("nothing", "无参数"),
    "word.this_field": ("this field", "该字段"),
    "word.it": ("it", "该值"),
    "noun.fields": ("fields", "字段"),
    "noun.functions": ("functions", "函数"),
    "noun.options": ("options", "选项"),
    "side.field": ("{name} ({type})", "{name}（{type}）"),
    "side.literal": ("{type} {text}", "{type} {text}"),
    "side.call": ("{call} ({type})", "{call}（{type}）"),
    "side.value": ("{article} {type} value", "{type}值"),
    "type.list_of": ("list of {item}", "{item}列表"),
    "type.text": ("text", "文本"),
    "type.integer": ("integer", "整数"),
    "type.decimal": ("decimal", "小数"),
    "type.boolean": ("boolean", "布尔值"),
    "type.date": ("date", "日期"),
    "type.datetime": ("datetime", "日期时间"),
    "type.duration": ("duration", "时长"),
    "type.null": ("null", "空值 null"),
    "type.list": ("list", "列表"),
}
_SEPARATOR = {EN: ", ", ZH: "、"}


def locale_of(locale: str | None) -> str:
    """en or zh-CN for a requested locale (zh, zh-Hans, … read Chinese)."""
    return ZH if locale and locale.lower().startswith("zh") else EN


@dataclass(frozen=True, slots=True)
class Msg:
    """A message by code; params are JSON values or nested {"code", "params"} messages."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, **params: Any) -> Msg:
        return cls(code, {k: _json(v) for k, v in params.items()})

    def text(self, locale: str | None = EN) -> str:
        return render(self.code, self.params, locale)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def render(code: str, params: Mapping[str, Any], locale: str | None = EN) -> str:
    """A message in a locale; an unknown code shows its `message` param (or the code)."""
    templates = MESSAGES.get(code)
    if templates is None:
        return str(params.get("message", code))
    lang = locale_of(locale)
    template = templates[1] if lang == ZH else templates[0]
    return template.format(**{k: _text(v, lang) for k, v in params.items()})


def render_json(value: Mapping[str, Any], locale: str | None = EN) -> str:
    """A message given as {"code": …, "params": …}."""
    return render(str(value.get("code", "")), value.get("params") or {}, locale)


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict) and "code" in value:
        return render_json(value, lang)
    if isinstance(value, list):
        return _SEPARATOR[lang].join(_text(v, lang) for v in value)
    return str(value)


def _json(value: Any) -> Any:
    if isinstance(value, Msg):
        return value.as_json()
    if isinstance(value, T.Type):
        return type_name(value).as_json()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def type_name(kind: T.Type | None) -> Msg:
    """A type as its message ("list of text" → 文本列表); None is shown as Python did."""
    if kind is None:
        return Msg(RAW, {"message": "None"})
    if kind.item is not None:
        return Msg("type.list_of", {"item": type_name(kind.item).as_json()})
    if f"type.{kind.name}" in MESSAGES:
        return Msg(f"type.{kind.name}")
    return Msg(RAW, {"message": kind.name})


def choices_hint(word: str, choices: Iterable[str], noun: str) -> Msg:
    """engine.config.errors.choices_hint, by code: did-you-mean, else what is known."""
    options = sorted(choices)
    noun_msg = Msg(f"noun.{noun}")
    if not options:
        return Msg.of("hint.none_yet", noun=noun_msg)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return Msg.of("hint.did_you_mean", guess=close[0])
    listed = ", ".join(options[:20]) + (", …" if len(options) > 20 else "")
    return Msg.of("hint.known", noun=noun_msg, listed=listed)


def error_text(message: Mapping[str, Any], hint: Mapping[str, Any] | None, locale: str) -> str:
    """A condition error's message and hint as one line (how the API shows it)."""
    text = render_json(message, locale)
    return text + (f" — {render_json(hint, locale)}" if hint else "")
