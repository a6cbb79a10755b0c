"""The condition language's errors and hints, and the words of its traces."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "condition.raw": {"en": "{message}", "zh-CN": "{message}"},
    "condition.with_hint": {"en": "{message} — {hint}", "zh-CN": "{message} — {hint}"},
    # lexer
    "condition.too_long": {
        "en": "condition is longer than {n} characters",
        "zh-CN": "条件超过 {n} 个字符",
    },
    "condition.text_not_closed": {"en": "text is not closed", "zh-CN": "文本缺少结束引号"},
    "condition.unexpected": {"en": "unexpected '{text}'", "zh-CN": "不能在这里使用“{text}”"},
    "condition.unexpected_char": {
        "en": "unexpected character {char}",
        "zh-CN": "无法识别的字符 {char}",
    },
    # parser ("found" is what stands where something else was expected)
    "condition.too_deep": {"en": "condition is nested too deeply", "zh-CN": "条件嵌套过深"},
    "condition.nested_levels": {
        "en": "condition is nested more than {n} levels deep",
        "zh-CN": "条件嵌套超过 {n} 层",
    },
    "condition.empty": {"en": "condition is empty", "zh-CN": "条件为空"},
    "condition.expected": {
        "en": "expected {what}, found {found}",
        "zh-CN": "此处应为{what}，实际是{found}",
    },
    "condition.two_texts": {
        "en": "two texts in a row, found {found}",
        "zh-CN": "两个文本连在一起：{found}",
    },
    "condition.expected_end": {
        "en": "expected and, or, or the end of the condition, found {found}",
        "zh-CN": "此处应为 and、or 或条件结尾，实际是{found}",
    },
    "condition.chained": {
        "en": "comparisons cannot be chained, found {found}",
        "zh-CN": "比较不能连写，实际遇到{found}",
    },
    "condition.not_without_in": {
        "en": "expected in after not, found {found}",
        "zh-CN": "not 之后应为 in，实际是{found}",
    },
    "condition.expected_value": {
        "en": "expected a value, a field or (, found {found}",
        "zh-CN": "此处应为值、字段或 (，实际是{found}",
    },
    "condition.too_many_items": {
        "en": "more than {n} items, found {found}",
        "zh-CN": "超过 {n} 项，在{found}处",
    },
    "condition.not_real": {
        "en": "'{text}' is not a real {kind}",
        "zh-CN": "“{text}”不是有效的{kind}",
    },
    # checker
    "condition.not_condition": {
        "en": "a condition must be true or false, this is {type}",
        "zh-CN": "条件的结果必须是真或假，这里是{type}",
    },
    "condition.too_many_digits": {
        "en": "a number may have at most {n} digits",
        "zh-CN": "数字最多 {n} 位",
    },
    "condition.number_too_large": {"en": "number is too large", "zh-CN": "数字太大"},
    "condition.unstorable_text": {
        "en": "text contains characters that cannot be stored",
        "zh-CN": "文本包含无法保存的字符",
    },
    "condition.out_of_calendar": {
        "en": "this time is outside the calendar (years 1 to 9999)",
        "zh-CN": "该时间超出日历范围（公元 1 年至 9999 年）",
    },
    "condition.unknown_field": {"en": "unknown field '{name}'", "zh-CN": "未知字段“{name}”"},
    "condition.mixed_list": {
        "en": "a list holds one kind of value: {item}, not {type}",
        "zh-CN": "列表只能放同一类值：应为{item}，不能是{type}",
    },
    "condition.nested_list": {"en": "lists cannot hold lists", "zh-CN": "列表不能包含列表"},
    "condition.unknown_function": {"en": "unknown function '{name}'", "zh-CN": "未知函数“{name}”"},
    "condition.update_only": {
        "en": "{name}() only works in rules that run when a record is written",
        "zh-CN": "{name}() 只能用于记录写入时运行的规则",
    },
    "condition.field_args": {
        "en": "{name}() takes a field name",
        "zh-CN": "{name}() 的参数必须是字段名",
    },
    "condition.bad_arguments": {
        "en": "{name}() does not take ({got})",
        "zh-CN": "{name}() 不接受（{got}）",
    },
    "condition.cannot_negate": {"en": "cannot negate {type}", "zh-CN": "{type}不能取负数"},
    "condition.cannot_compute": {
        "en": "cannot compute {left} {op} {right}",
        "zh-CN": "无法计算 {left} {op} {right}",
    },
    "condition.whole_days": {"en": "a date moves by whole days", "zh-CN": "日期只能按整天加减"},
    "condition.null_compare": {
        "en": "comparing with null is never true",
        "zh-CN": "与 null 比较永远不成立",
    },
    "condition.list_compare": {
        "en": "lists are not compared as a whole",
        "zh-CN": "列表不能整体比较",
    },
    "condition.no_order": {"en": "{type} values have no order", "zh-CN": "{type}没有大小顺序"},
    "condition.cannot_compare": {
        "en": "cannot compare {left} with {right}",
        "zh-CN": "无法比较 {left} 与 {right}",
    },
    "condition.not_option": {
        "en": "'{value}' is not an option of {field}",
        "zh-CN": "“{value}”不是{field}的选项",
    },
    "condition.in_needs_list": {
        "en": "'{op}' needs a list on its right, not {type}",
        "zh-CN": "“{op}”的右边必须是列表，不能是{type}",
    },
    "condition.in_one_value": {"en": "'{op}' tests one value", "zh-CN": "“{op}”只能判断单个值"},
    "condition.in_mismatch": {
        "en": "cannot look for {type} in a {list}",
        "zh-CN": "不能在{list}中查找{type}",
    },
    "condition.contains_mismatch": {
        "en": "a {list} cannot contain {type}",
        "zh-CN": "{list}不能包含{type}",
    },
    "condition.text_only": {
        "en": "'{op}' works on text, not {type}",
        "zh-CN": "“{op}”只能用于文本，不能用于{type}",
    },
    "condition.pattern_not_text": {
        "en": "the pattern of 'matches' must be written out as text",
        "zh-CN": "matches 的模式必须直接写成文本",
    },
    "condition.pattern_refused": {
        "en": "pattern not allowed: {reason}",
        "zh-CN": "不允许的模式：{reason}",
    },
    "condition.expected_condition": {
        "en": "expected a true/false condition, got {type}",
        "zh-CN": "此处应为真/假条件，实际是{type}",
    },
    "condition.value_mapping": {"en": "a value cannot be a mapping", "zh-CN": "值不能是映射"},
    # why a `matches` pattern is refused (regex.py); "re2" is the regex library's own text
    "condition.regex.too_long": {"en": "longer than {n} characters", "zh-CN": "超过 {n} 个字符"},
    "condition.regex.groups": {
        "en": "only (…) and (?:…) groups are allowed",
        "zh-CN": "只允许 (…) 和 (?:…) 分组",
    },
    "condition.regex.trailing_backslash": {
        "en": "pattern ends with a backslash",
        "zh-CN": "模式以反斜杠结尾",
    },
    "condition.regex.escape": {
        "en": "'\\{char}' is not supported; use \\d \\w \\s, or escape punctuation",
        "zh-CN": "不支持“\\{char}”；请用 \\d \\w \\s，或转义标点符号",
    },
    "condition.regex.brace": {
        "en": "'{{' starts a repeat like {{2}} or {{1,3}}; write \\{{ for the sign",
        "zh-CN": "“{{”表示重复次数，如 {{2}} 或 {{1,3}}；要匹配这个符号请写 \\{{",
    },
    "condition.regex.repeat_limit": {
        "en": "repeats are limited to 255",
        "zh-CN": "重复次数最多 255",
    },
    "condition.regex.posix": {
        "en": "[:…:], [.….] and [=…=] are not supported; use \\d \\w \\s",
        "zh-CN": "不支持 [:…:]、[.….] 和 [=…=]；请用 \\d \\w \\s",
    },
    "condition.regex.bracket": {"en": "'[' is not closed", "zh-CN": "“[”没有闭合"},
    "condition.regex.re2": {"en": "{detail}", "zh-CN": "正则表达式有误（{detail}）"},
    # hints
    "condition.hint.split": {
        "en": "split it into named segments or simpler rules",
        "zh-CN": "请拆分成命名片段或更简单的规则",
    },
    "condition.hint.close_quote": {
        "en": "close the text with a matching quote",
        "zh-CN": "请用相同的引号结束文本",
    },
    "condition.hint.double_equals": {"en": "use == to compare", "zh-CN": "比较请用 =="},
    "condition.hint.use_and": {"en": "use and", "zh-CN": "请用 and"},
    "condition.hint.use_or": {"en": "use or", "zh-CN": "请用 or"},
    "condition.hint.use_not": {"en": "use not or !=", "zh-CN": "请用 not 或 !="},
    "condition.hint.use_not_equal": {"en": "use !=", "zh-CN": "请用 !="},
    "condition.hint.simplify": {"en": "simplify it", "zh-CN": "请简化条件"},
    "condition.hint.example": {"en": "write e.g. budget > 0", "zh-CN": "例如写 budget > 0"},
    "condition.hint.quote_in_text": {
        "en": "write a quote inside text as \\'",
        "zh-CN": "文本中的引号请写成 \\'",
    },
    "condition.hint.join_with_and": {"en": "join them with and", "zh-CN": "请用 and 连接"},
    "condition.hint.not_in": {"en": "write: x not in [...]", "zh-CN": "请写：x not in [...]"},
    "condition.hint.keyword": {
        "en": "'{word}' is a keyword; put it between a field and a value",
        "zh-CN": "“{word}”是关键字，应放在字段和值之间",
    },
    "condition.hint.month_day": {"en": "check the month and day", "zh-CN": "请检查月份和日期"},
    "condition.hint.compare_it": {
        "en": "compare it, e.g. budget > 0",
        "zh-CN": "请加上比较，例如 budget > 0",
    },
    "condition.hint.unstorable": {
        "en": "remove NUL bytes and unpaired surrogates",
        "zh-CN": "请删除 NUL 字符和不成对的代理字符",
    },
    "condition.hint.write_time": {
        "en": "it compares with the values before the write",
        "zh-CN": "它与写入前的值比较",
    },
    "condition.hint.e_g": {"en": "e.g. {example}", "zh-CN": "例如 {example}"},
    "condition.hint.use_as": {"en": "use it as {example}", "zh-CN": "用法：{example}"},
    "condition.hint.arithmetic": {
        "en": "+ - * / work on numbers and money; dates and times take +/- a duration such as 3d",
        "zh-CN": "+ - * / 用于数字和金额；日期和时间可以 +/- 时长，如 3d",
    },
    "condition.hint.whole_days": {
        "en": "write e.g. 3d, or use a datetime field",
        "zh-CN": "例如写 3d，或改用日期时间字段",
    },
    "condition.hint.is_null": {
        "en": "use 'is null' or 'is not null'",
        "zh-CN": "请用 is null 或 is not null",
    },
    "condition.hint.list_items": {
        "en": "test items with contains, or the size with len({name})",
        "zh-CN": "用 contains 判断其中的项，或用 len({name}) 判断项数",
    },
    "condition.hint.equality_only": {"en": "use == or !=", "zh-CN": "请用 == 或 !="},
    "condition.hint.in_example": {
        "en": "write e.g. region in ['east', 'north']",
        "zh-CN": "例如写 region in ['east', 'north']",
    },
    "condition.hint.list_field": {
        "en": "to test a list field, write: tags contains 'vip'",
        "zh-CN": "判断列表字段请写：tags contains 'vip'",
    },
    "condition.hint.unquote_time": {
        "en": "write dates and times without quotes, e.g. 2026-01-31 or 2026-01-31T09:00",
        "zh-CN": "日期和时间不加引号，例如 2026-01-31 或 2026-01-31T09:00",
    },
    "condition.hint.unquote_number": {
        "en": "write numbers without quotes: {value}",
        "zh-CN": "数字不加引号：{value}",
    },
    "condition.hint.holds_numbers": {"en": "{name} holds numbers", "zh-CN": "{name} 是数字"},
    "condition.hint.quote_text": {
        "en": "to compare with text, quote it: '{text}'",
        "zh-CN": "与文本比较请加引号：'{text}'",
    },
    # words inside other messages
    "condition.found.end": {"en": "the end", "zh-CN": "条件结尾"},
    "condition.what.close_paren": {"en": "')'", "zh-CN": " ')'"},
    "condition.what.comma_or_paren": {"en": "',' or ')'", "zh-CN": " ',' 或 ')'"},
    "condition.what.comma_or_bracket": {"en": "',' or ']'", "zh-CN": " ',' 或 ']'"},
    "condition.what.between_and": {
        "en": "and (between low and high)",
        "zh-CN": " and（between 下限 and 上限）",
    },
    "condition.what.null": {
        "en": "null (is null / is not null)",
        "zh-CN": " null（is null / is not null）",
    },
    "condition.word.nothing": {"en": "nothing", "zh-CN": "无参数"},
    "condition.word.this_field": {"en": "this field", "zh-CN": "该字段"},
    "condition.word.it": {"en": "it", "zh-CN": "该值"},
    "condition.side.field": {"en": "{name} ({type})", "zh-CN": "{name}（{type}）"},
    "condition.side.literal": {"en": "{type} {text}", "zh-CN": "{type} {text}"},
    "condition.side.call": {"en": "{call} ({type})", "zh-CN": "{call}（{type}）"},
    "condition.side.value": {"en": "{article} {type} value", "zh-CN": "{article}{type}值"},
    "condition.type.list_of": {"en": "list of {item}", "zh-CN": "{item}列表"},
    "condition.type.text": {"en": "text", "zh-CN": "文本"},
    "condition.type.integer": {"en": "integer", "zh-CN": "整数"},
    "condition.type.decimal": {"en": "decimal", "zh-CN": "小数"},
    "condition.type.boolean": {"en": "boolean", "zh-CN": "布尔值"},
    "condition.type.date": {"en": "date", "zh-CN": "日期"},
    "condition.type.datetime": {"en": "datetime", "zh-CN": "日期时间"},
    "condition.type.duration": {"en": "duration", "zh-CN": "时长"},
    "condition.type.null": {"en": "null", "zh-CN": "空值 null"},
    "condition.type.list": {"en": "list", "zh-CN": "列表"},
    # the article of an English type name (Chinese has none)
    "condition.article.a": {"en": "a", "zh-CN": ""},
    "condition.article.an": {"en": "an", "zh-CN": ""},
    # traces: why a condition holds or not
    "trace.true": {"en": "true", "zh-CN": "成立"},
    "trace.false": {"en": "false", "zh-CN": "不成立"},
    "trace.null": {"en": "(no value)", "zh-CN": "（无值）"},
}
