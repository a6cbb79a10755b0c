"""The hosted form pages' own words (the form's labels and texts come from the bundle)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # key: (English, 中文)
    "hosted.submit": {"en": "Submit", "zh-CN": "提交"},
    "hosted.sending": {"en": "Sending…", "zh-CN": "正在提交…"},
    "hosted.required": {"en": "required", "zh-CN": "必填"},
    "hosted.required_hint": {"en": "Fields marked * are required.", "zh-CN": "标 * 的为必填项。"},
    "hosted.choose": {"en": "Please choose", "zh-CN": "请选择"},
    "hosted.yes": {"en": "Yes", "zh-CN": "是"},
    "hosted.no": {"en": "No", "zh-CN": "否"},
    "hosted.tags_hint": {"en": "Separate several with commas.", "zh-CN": "多个请用逗号分隔。"},
    "hosted.language": {"en": "Language", "zh-CN": "语言"},
    "hosted.honeypot": {"en": "Leave this field empty", "zh-CN": "此项请留空"},
    "hosted.field_error": {"en": "{label} {message}", "zh-CN": "{label}{message}"},
    "hosted.unique": {
        "en": "We already have a sign-up with this {label}: no need to send it again.",
        "zh-CN": "该{label}已登记过，无需重复提交。",
    },
    "hosted.invalid": {
        "en": "Please check the fields marked below.",
        "zh-CN": "请检查下方标出的项目。",
    },
    "hosted.thanks_default": {
        "en": "Thank you! We have received your details.",
        "zh-CN": "感谢提交！我们已收到您的信息。",
    },
    "hosted.duplicate_note": {
        "en": "We already received your details a moment ago, so this was not saved twice.",
        "zh-CN": "我们刚刚已收到您的信息，本次不会重复登记。",
    },
    "hosted.again": {"en": "Fill in the form again", "zh-CN": "再填写一份"},
    "hosted.rate_limited_address": {
        "en": "Too many submissions from your network.",
        "zh-CN": "您所在网络的提交次数过多。",
    },
    "hosted.rate_limited_form": {
        "en": "This form is receiving too many submissions right now.",
        "zh-CN": "此表单当前提交过于频繁。",
    },
    "hosted.try_again_minutes": {
        "en": "Please try again in {n} minutes.",
        "zh-CN": "请 {n} 分钟后再试。",
    },
    "hosted.try_again_minute": {
        "en": "Please try again in a minute.",
        "zh-CN": "请 1 分钟后再试。",
    },
    "hosted.kept": {
        "en": "Your answers are kept below; nothing was saved yet.",
        "zh-CN": "您填写的内容保留在下方，尚未保存。",
    },
    "hosted.spam_title": {"en": "Submission refused", "zh-CN": "提交未被接受"},
    "hosted.spam": {
        "en": (
            "Your submission looked automated, so it was not saved. Please reload the page and try "
            "again."
        ),
        "zh-CN": "您的提交看起来像是自动程序发出的，因此未被保存。请刷新页面后重试。",
    },
    "hosted.too_large_title": {"en": "Submission too large", "zh-CN": "提交内容过大"},
    "hosted.too_large": {
        "en": (
            "The submission is larger than this form accepts ({kb} KB), so nothing was saved. "
            "Please shorten your answers and try again."
        ),
        "zh-CN": "提交的内容超过了此表单允许的大小（{kb} KB），未保存任何内容。请精简后重试。",
    },
    "hosted.unreadable_title": {"en": "Submission not readable", "zh-CN": "无法读取提交内容"},
    "hosted.unreadable": {
        "en": (
            "The submission could not be read, so nothing was saved. Please reload the page and "
            "try again."
        ),
        "zh-CN": "无法读取提交的内容，未保存任何内容。请刷新页面后重试。",
    },
    "hosted.not_object": {
        "en": "The body must be a JSON object of field values.",
        "zh-CN": "提交内容必须是字段值组成的 JSON 对象。",
    },
    "hosted.unsupported_title": {"en": "Unsupported format", "zh-CN": "不支持的格式"},
    "hosted.unsupported": {
        "en": (
            "Send the form as application/x-www-form-urlencoded, multipart/form-data or "
            "application/json."
        ),
        "zh-CN": (
            "请以 application/x-www-form-urlencoded、multipart/form-data 或 application/json "
            "格式提交。"
        ),
    },
    "hosted.cross_site_title": {
        "en": "Not accepted from this website",
        "zh-CN": "不接受来自该网站的提交",
    },
    "hosted.cross_site": {
        "en": "This form cannot be submitted from {origin}.",
        "zh-CN": "此表单不接受来自 {origin} 的提交。",
    },
    "hosted.not_found_title": {"en": "Form not found", "zh-CN": "未找到表单"},
    "hosted.not_found": {
        "en": "This form does not exist or is no longer open. Please check the link.",
        "zh-CN": "该表单不存在或已停止收集。请检查链接是否正确。",
    },
    "hosted.failed_title": {"en": "Not saved", "zh-CN": "未能保存"},
    "hosted.failed": {
        "en": "Your submission could not be saved: {detail}",
        "zh-CN": "您的提交未能保存：{detail}",
    },
    "hosted.reload": {"en": "Back to the form", "zh-CN": "返回表单"},
}
