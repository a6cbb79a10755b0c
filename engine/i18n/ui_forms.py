"""The admin forms page: hosted forms, their links and figures."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "nav.forms": {"en": "Forms", "zh-CN": "表单"},
    "forms.figures_hidden": {
        "en": "Submission figures are shown to roles that can see_all_stats or configure: {roles}.",
        "zh-CN": "提交统计仅对拥有 see_all_stats 或 configure 权限的角色显示：{roles}。",
    },
    "forms.title": {"en": "Forms", "zh-CN": "表单"},
    "forms.value_other": {
        "en": "(all others: beyond the {n} busiest)",
        "zh-CN": "（其余全部：最多的 {n} 个之外）",
    },
    "forms.none": {"en": "This tenant's bundle has no forms.", "zh-CN": "该租户的配置没有表单。"},
    "forms.form": {"en": "Form", "zh-CN": "表单"},
    "forms.entity": {"en": "Entity", "zh-CN": "实体"},
    "forms.kind": {"en": "Hosted page", "zh-CN": "托管页面"},
    "forms.public": {"en": "public", "zh-CN": "公开"},
    "forms.private": {"en": "API only", "zh-CN": "仅 API"},
    "forms.submissions": {"en": "Submissions", "zh-CN": "提交数"},
    "forms.report": {"en": "Report", "zh-CN": "报表"},
    "forms.counted": {"en": "Submissions counted: {period}", "zh-CN": "提交数统计范围：{period}"},
    "forms.period": {"en": "Period", "zh-CN": "时间范围"},
    "forms.period.7": {"en": "Last 7 days", "zh-CN": "最近 7 天"},
    "forms.period.30": {"en": "Last 30 days", "zh-CN": "最近 30 天"},
    "forms.period.90": {"en": "Last 90 days", "zh-CN": "最近 90 天"},
    "forms.period.n": {"en": "Last {days} days", "zh-CN": "最近 {days} 天"},
    "forms.range": {"en": "{first} to {last}", "zh-CN": "{first} 至 {last}"},
    "forms.channel": {"en": "Channel", "zh-CN": "渠道"},
    "forms.channel_is": {"en": "Channel: {field}", "zh-CN": "渠道：{field}"},
    "forms.no_channel": {
        "en": "This form has no hidden URL fields, so its submissions have no channel.",
        "zh-CN": "该表单没有从网址填写的隐藏字段，提交没有渠道之分。",
    },
    "forms.show": {"en": "Show", "zh-CN": "查看"},
    "forms.value_none": {"en": "(none)", "zh-CN": "（无）"},
    "forms.outcomes": {"en": "Outcomes", "zh-CN": "提交结果"},
    "forms.outcome.created": {"en": "Created a record", "zh-CN": "新建记录"},
    "forms.outcome.duplicate": {"en": "Duplicate", "zh-CN": "重复提交"},
    "forms.outcome.invalid": {"en": "Refused: invalid", "zh-CN": "无效（已拒绝）"},
    "forms.outcome.spam": {"en": "Refused: spam", "zh-CN": "垃圾提交（已拒绝）"},
    "forms.total": {"en": "Total", "zh-CN": "合计"},
    "forms.refused_note": {
        "en": "Refused submissions carry no channel: they count under (none).",
        "zh-CN": "被拒绝的提交没有渠道信息，计入“（无）”。",
    },
    "forms.per_day": {"en": "Submissions per day", "zh-CN": "每日提交数"},
    "forms.day": {"en": "Day", "zh-CN": "日期"},
    "forms.per_channel": {"en": "Outcomes per channel", "zh-CN": "各渠道提交结果"},
    "forms.no_submissions": {
        "en": "No submissions in this period.",
        "zh-CN": "该时间范围内没有提交。",
    },
    "forms.days_shown": {
        "en": "Days with submissions; the chart shows every day.",
        "zh-CN": "仅列出有提交的日期；图表显示每一天。",
    },
    "forms.conversion": {"en": "Conversion to later pools", "zh-CN": "转化到后续客户池"},
    "forms.conversion_how": {
        "en": (
            "Of the records this form's submissions created in the period, where they are now: a "
            "record has reached its pool and every stage before it; % of the records created."
        ),
        "zh-CN": (
            "本时间范围内由该表单提交新建的记录目前所处的位置：记录视为已到达当前所在的池及其之前的"
            "每个阶段；百分比为占新建记录数的比例。"
        ),
    },
    "forms.created": {"en": "Records created", "zh-CN": "新建记录"},
    "forms.other_pool": {"en": "In no pool of the set", "zh-CN": "不在本组客户池中"},
    "forms.deleted": {"en": "Deleted since", "zh-CN": "已删除"},
    "forms.no_pool_set": {
        "en": "{entity} records have no pool set: only live and deleted records are counted.",
        "zh-CN": "{entity}没有客户池：只统计现存和已删除的记录。",
    },
    "forms.live": {"en": "Live", "zh-CN": "现存"},
    "forms.all_channels": {"en": "All channels", "zh-CN": "全部渠道"},
    "forms.no_conversion": {
        "en": "No records were created through this form in the period.",
        "zh-CN": "该时间范围内没有通过此表单新建的记录。",
    },
    "forms.funnel": {"en": "Funnel of all channels", "zh-CN": "全部渠道的转化漏斗"},
    "forms.to_next": {"en": "Conversion to next", "zh-CN": "到下一阶段转化率"},
    "forms.links": {"en": "Links, QR code and embedding", "zh-CN": "链接、二维码与嵌入"},
    "forms.not_public": {
        "en": "This form is not public: it has no hosted page (set public: true in the bundle).",
        "zh-CN": "该表单未公开，没有托管页面（在配置中设置 public: true）。",
    },
    "forms.hosted_url": {"en": "Hosted page", "zh-CN": "托管页面"},
    "forms.params": {"en": "Channel values for the links", "zh-CN": "链接中的渠道参数"},
    "forms.params_hint": {
        "en": "Each value fills a hidden field of the form (its URL parameter in brackets).",
        "zh-CN": "每个值填入表单的一个隐藏字段（括号中为网址参数名）。",
    },
    "forms.no_params": {
        "en": "This form takes no URL parameters.",
        "zh-CN": "该表单不接受网址参数。",
    },
    "forms.any": {"en": "(any)", "zh-CN": "（不指定）"},
    "forms.update": {"en": "Update the links", "zh-CN": "更新链接"},
    "forms.bad_params": {
        "en": "These values cannot go in the links:",
        "zh-CN": "以下参数值不能用于链接：",
    },
    "forms.unknown_param": {
        "en": "'{param}' is not a URL parameter of this form (it takes: {accepted}).",
        "zh-CN": "“{param}”不是该表单的网址参数（可用：{accepted}）。",
    },
    "forms.refused_value": {"en": "{param}: {message}", "zh-CN": "{param}：{message}"},
    "forms.qr": {"en": "QR code", "zh-CN": "二维码"},
    "forms.qr_alt": {"en": "QR code of {url}", "zh-CN": "{url} 的二维码"},
    "forms.download_qr": {"en": "Download QR code (PNG)", "zh-CN": "下载二维码（PNG）"},
    "forms.embed": {"en": "Embed in a website", "zh-CN": "嵌入网站"},
    "forms.embed_iframe": {"en": "An iframe:", "zh-CN": "iframe 方式："},
    "forms.embed_script": {
        "en": "Or a script that inserts the iframe where it stands:",
        "zh-CN": "或使用脚本，在其所在位置插入 iframe：",
    },
    "forms.origins": {
        "en": "Sites allowed to embed it: {origins}",
        "zh-CN": "允许嵌入的网站：{origins}",
    },
    "forms.no_origins": {
        "en": (
            "No embed origins are listed in the bundle, so browsers will refuse to show this page "
            "inside another site (add embed: origins: [https://…] to the form)."
        ),
        "zh-CN": (
            "配置中没有列出允许嵌入的网站，浏览器会拒绝在其他网站中显示此页面（在表单中添加 embed: "
            "origins: [https://…]）。"
        ),
    },
    "forms.no_form": {
        "en": "This tenant has no form '{form}'.",
        "zh-CN": "该租户没有表单“{form}”。",
    },
    "forms.no_public_form": {
        "en": (
            "This tenant has no public form '{form}': only a public form has a hosted page and a "
            "QR code."
        ),
        "zh-CN": "该租户没有公开表单“{form}”：只有公开表单才有托管页面和二维码。",
    },
    "forms.bad_request": {
        "en": "The link asks for something this form does not have.",
        "zh-CN": "链接中的参数不适用于该表单。",
    },
    "forms.too_long": {
        "en": "The link is too long for a QR code: use shorter channel values.",
        "zh-CN": "链接太长，无法生成二维码：请使用更短的渠道参数值。",
    },
    "forms.unknown_channel": {
        "en": "'{channel}' is not a hidden URL field of this form (hidden fields: {fields}).",
        "zh-CN": "“{channel}”不是该表单从网址填写的隐藏字段（隐藏字段：{fields}）。",
    },
}
