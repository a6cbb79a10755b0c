"""Why a value was refused: field errors by their stable codes (the API's `code`)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "is required", "zh-CN": "必填"},
    "unknown_field": {"en": "is not a field of {entity}", "zh-CN": "不是{entity}的字段"},
    "not_on_form": {"en": "is not on form {form}", "zh-CN": "不在表单{form}中"},
    "type": {"en": "must be {expected}", "zh-CN": "必须是{expected}"},
    "too_short": {"en": "must be at least {n} characters", "zh-CN": "至少{n}个字符"},
    "too_long": {"en": "must be at most {n} characters", "zh-CN": "最多{n}个字符"},
    "pattern": {"en": "does not match the required format", "zh-CN": "格式不正确"},
    "too_small": {"en": "must be at least {n}", "zh-CN": "不能小于{n}"},
    "too_large": {"en": "must be at most {n}", "zh-CN": "不能大于{n}"},
    "digits": {"en": "must have at most {n} significant digits", "zh-CN": "最多{n}位有效数字"},
    "scale": {"en": "must have at most {n} decimal places", "zh-CN": "最多{n}位小数"},
    "option": {"en": "must be one of: {options}", "zh-CN": "必须是以下之一：{options}"},
    "too_many": {"en": "must have at most {n} items", "zh-CN": "最多{n}项"},
    "phone": {"en": "is not a valid phone number", "zh-CN": "不是有效的电话号码"},
    "email": {"en": "is not a valid email address", "zh-CN": "不是有效的邮箱地址"},
    "url": {"en": "is not a valid http(s) URL", "zh-CN": "不是有效的网址"},
    "date": {"en": "must be a date like 2026-01-31", "zh-CN": "必须是日期，如 2026-01-31"},
    "datetime": {
        "en": "must be a date and time like 2026-01-31T09:30:00+08:00",
        "zh-CN": "必须是日期时间，如 2026-01-31T09:30:00+08:00",
    },
    "reference": {"en": "no {entity} record with id {id}", "zh-CN": "不存在 id 为 {id} 的{entity}"},
    "unique": {
        "en": "{value} is already used by another record",
        "zh-CN": "{value} 已被其他记录使用",
    },
    "text": {
        "en": "contains characters that cannot be stored (NUL or unpaired surrogates)",
        "zh-CN": "包含无法保存的字符（NUL 或不成对的代理字符）",
    },
    "condition": {"en": "{message}", "zh-CN": "{message}"},
    "filter": {"en": "{message}", "zh-CN": "{message}"},
    "test_failed": {"en": "test failed — {message}", "zh-CN": "测试未通过 — {message}"},
    "computed": {
        "en": "is computed by the bundle's rules and cannot be set",
        "zh-CN": "由规则计算，不能直接设置",
    },
    "read_only": {"en": "cannot be set here", "zh-CN": "不能在此设置"},
    "owner": {
        "en": "'{value}' is not a user of this tenant (users: {users})",
        "zh-CN": "“{value}”不是本租户的用户（用户：{users}）",
    },
    "forbidden": {
        "en": "{who} may not {action} (roles that can: {role_labels})",
        "zh-CN": "{who}无权{action}（有此权限的角色：{role_labels}）",
    },
    "user_off": {
        "en": "user '{user}' is switched off or not a user of this tenant",
        "zh-CN": "用户“{user}”已停用或不是本租户的用户",
    },
    "claim_not_claimer": {
        "en": "may not claim from this public pool (it is for other teams or roles)",
        "zh-CN": "无权从此公海领取（仅限其他团队或角色）",
    },
    "claim_not_public": {
        "en": "is not in the public pool (it is in {pool}, held by {owner})",
        "zh-CN": "不在公海中（当前在{pool}，负责人 {owner}）",
    },
    "claim_daily_cap": {
        "en": "cap of {n} claims reached today",
        "zh-CN": "今天已达到领取上限 {n} 个",
    },
    "claim_holdings_cap": {
        "en": "already holds {n} records, the most allowed",
        "zh-CN": "已持有 {n} 个客户，达到持有上限",
    },
    "claim_cooldown": {
        "en": "gave this record up on {since}; may claim it again from {again}",
        "zh-CN": "已于 {since} 放弃或被收回该记录，{again} 之后才能再次领取",
    },
    "claim_instead": {
        "en": "records in the public pool are claimed, not assigned (POST …/claim)",
        "zh-CN": "公海中的记录需要领取，不能直接指定负责人（POST …/claim）",
    },
    "release_held_elsewhere": {
        "en": "only records in {pools} go back to the public pool (it is in {pool})",
        "zh-CN": "只有{pools}中的记录可以退回公海（当前在{pool}）",
    },
    "release_unowned": {
        "en": "the record is not held by anyone",
        "zh-CN": "该记录没有负责人，无需放弃",
    },
    "release_not_owner": {
        "en": "'{user}' does not hold this record ({owner} does)",
        "zh-CN": "“{user}”不是该记录的负责人（负责人是 {owner}）",
    },
    "inactive_owner": {
        "en": "user '{value}' is inactive and cannot own records",
        "zh-CN": "用户“{value}”已停用，不能负责记录",
    },
    # forms: conditional fields (visible_when / required_when)
    "required_when": {"en": "is required when {condition}", "zh-CN": "当 {condition} 时必填"},
    # JSON's NaN / Infinity tokens (Python's json reads them; no field takes them)
    "not_finite": {
        "en": "must be a finite number (not NaN or Infinity)",
        "zh-CN": "必须是有限的数字（不能是 NaN 或 Infinity）",
    },
    # a request's path, query, header or body parameters (engine/api/problems.py)
    "greater_than": {"en": "must be greater than {n}", "zh-CN": "必须大于{n}"},
    "less_than": {"en": "must be less than {n}", "zh-CN": "必须小于{n}"},
    "too_few": {"en": "must have at least {n} items", "zh-CN": "至少{n}项"},
    "json": {"en": "is not valid JSON", "zh-CN": "不是有效的 JSON"},
    "invalid": {"en": "is not valid", "zh-CN": "无效"},
    # what a 'type' error expects (its `expected` param, given in English)
    "expected.text": {"en": "text", "zh-CN": "文本"},
    "expected.a whole number": {"en": "a whole number", "zh-CN": "整数"},
    "expected.a number": {"en": "a number", "zh-CN": "数字"},
    "expected.true or false": {"en": "true or false", "zh-CN": "是或否"},
    "expected.a list": {"en": "a list", "zh-CN": "列表"},
    "expected.a record id": {"en": "a record id", "zh-CN": "记录 id"},
    "expected.an object": {"en": "an object", "zh-CN": "对象（字段名到值）"},
    "expected.a date": {"en": "a date", "zh-CN": "日期"},
    "expected.a date and time": {"en": "a date and time", "zh-CN": "日期时间"},
    "expected.a single option": {"en": "a single option", "zh-CN": "单个选项"},
    "expected.a phone number": {"en": "a phone number", "zh-CN": "电话号码"},
    "expected.an email address": {"en": "an email address", "zh-CN": "邮箱地址"},
    "expected.a URL": {"en": "a URL", "zh-CN": "网址"},
}
