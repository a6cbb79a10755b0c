"""The hosted page's own words in English and Chinese (the form's labels, help texts, options
and thank-you message come from the bundle). `text(key, locale, **params)`."""

from __future__ import annotations

from typing import Any

LOCALES = ("zh-CN", "en")

# The name of each language in itself, for the language links (others show their tag).
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}

TEXTS: dict[str, tuple[str, str]] = {
    # key: (English, 中文)
    "submit": ("Submit", "提交"),
    "sending": ("Sending…", "正在提交…"),
    "required": ("required", "必填"),
    "required_hint": ("Fields marked * are required.", "标 * 的为必填项。"),
    "choose": ("Please choose", "请选择"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
    "tags_hint": ("Separate several with commas.", "多个请用逗号分隔。"),
    "language": ("Language", "语言"),
    "honeypot": ("Leave this field empty", "此项请留空"),
    "field_error": ("{label} {message}", "{label}{message}"),
    "unique": (
        "We already have a sign-up with this {label}: no need to send it again.",
        "该{label}已登记过，无需重复提交。",
    ),
    "invalid": (
        "Please check the fields marked below.",
        "请检查下方标出的项目。",
    ),
    "thanks_default": (
        "Thank you! We have received your details.",
        "感谢提交！我们已收到您的信息。",
    ),
    "duplicate_note": (
        "We already received your details a moment ago, so this was not saved twice.",
        "我们刚刚已收到您的信息，本次不会重复登记。",
    ),
    "again": ("Fill in the form again", "再填写一份"),
    "rate_limited_address": (
        "Too many submissions from your network.",
        "您所在网络的提交次数过多。",
    ),
    "rate_limited_form": (
        "This form is receiving too many submissions right now.",
        "此表单当前提交过于频繁。",
    ),
    "try_again_minutes": (
        "Please try again in {n} minutes.",
        "请 {n} 分钟后再试。",
    ),
    "try_again_minute": ("Please try again in a minute.", "请 1 分钟后再试。"),
    "kept": (
        "Your answers are kept below; nothing was saved yet.",
        "您填写的内容保留在下方，尚未保存。",
    ),
    "spam_title": ("Submission refused", "提交未被接受"),
    "spam": (
        "Your submission looked automated, so it was not saved. Please reload the page and "
        "try again.",
        "您的提交看起来像是自动程序发出的，因此未被保存。请刷新页面后重试。",
    ),
    "too_large_title": ("Submission too large", "提交内容过大"),
    "too_large": (
        "The submission is larger than this form accepts ({kb} KB), so nothing was saved. "
        "Please shorten your answers and try again.",
        "提交的内容超过了此表单允许的大小（{kb} KB），未保存任何内容。请精简后重试。",
    ),
    "unreadable_title": ("Submission not readable", "无法读取提交内容"),
    "unreadable": (
        "The submission could not be read, so nothing was saved. Please reload the page and "
        "try again.",
        "无法读取提交的内容，未保存任何内容。请刷新页面后重试。",
    ),
    "not_object": (
        "The body must be a JSON object of field values.",
        "提交内容必须是字段值组成的 JSON 对象。",
    ),
    "unsupported_title": ("Unsupported format", "不支持的格式"),
    "unsupported": (
        "Send the form as application/x-www-form-urlencoded, multipart/form-data or "
        "application/json.",
        "请以 application/x-www-form-urlencoded、multipart/form-data 或 application/json "
        "格式提交。",
    ),
    "cross_site_title": ("Not accepted from this website", "不接受来自该网站的提交"),
    "cross_site": (
        "This form cannot be submitted from {origin}.",
        "此表单不接受来自 {origin} 的提交。",
    ),
    "not_found_title": ("Form not found", "未找到表单"),
    "not_found": (
        "This form does not exist or is no longer open. Please check the link.",
        "该表单不存在或已停止收集。请检查链接是否正确。",
    ),
    "failed_title": ("Not saved", "未能保存"),
    "failed": (
        "Your submission could not be saved: {detail}",
        "您的提交未能保存：{detail}",
    ),
    "reload": ("Back to the form", "返回表单"),
}


def pick(locale: str | None) -> int:
    """Which of the pair a locale reads: Chinese for any zh-*, else English."""
    return 1 if (locale or "").lower().startswith("zh") else 0


def text(key: str, locale: str | None, **params: Any) -> str:
    """The text in the visitor's language; an unknown key shows itself (a test catches it)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    chosen = pair[pick(locale)]
    return chosen.format(**params) if params else chosen


def sentences(locale: str | None, *parts: str) -> str:
    """Sentences one after another: with a space in English, none in Chinese."""
    return ("" if pick(locale) else " ").join(p for p in parts if p)


def language_name(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale, locale)
