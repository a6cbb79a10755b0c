"""The UI's own words in English and Chinese; labels of fields, pools, rules… come from the
bundle. `text(key, locale, **params)`; an unknown key shows itself (a test catches those)."""

from __future__ import annotations

from typing import Any

LOCALES = ("en", "zh-CN")

TEXTS: dict[str, tuple[str, str]] = {
    # key: (English, 中文)
    "app": ("Tidepool admin", "Tidepool 管理后台"),
    "nav.dashboard": ("Dashboard", "概览"),
    "nav.pools": ("Pool board", "客户池看板"),
    "nav.records": ("Records", "记录"),
    "nav.assignment": ("Assignment", "分配"),
    "nav.campaigns": ("Campaigns", "营销活动"),
    "nav.config": ("Config", "配置"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出登录"),
    "tenant": ("Tenant", "租户"),
    "user": ("User", "用户"),
    "user_hint": ("User id or email", "用户 id 或邮箱"),
    "password": ("Password", "密码"),
    "signed_in_as": ("Signed in as {name}", "当前用户：{name}"),
    "language": ("Language", "语言"),
    "bad_sign_in": (
        "Wrong tenant, user or password.",
        "租户、用户或密码不正确。",
    ),
    "sign_in.wait_user": (
        "Too many failed sign-ins for this user. Try again in {seconds} s.",
        "该用户登录失败次数过多，请 {seconds} 秒后再试。",
    ),
    "sign_in.wait_user.minutes": (
        "Too many failed sign-ins for this user. Try again in {minutes} min.",
        "该用户登录失败次数过多，请 {minutes} 分钟后再试。",
    ),
    "sign_in.wait_address": (
        "Too many failed sign-ins from your network address. Try again in {seconds} s.",
        "您的网络地址登录失败次数过多，请 {seconds} 秒后再试。",
    ),
    "sign_in.wait_address.minutes": (
        "Too many failed sign-ins from your network address. Try again in {minutes} min.",
        "您的网络地址登录失败次数过多，请 {minutes} 分钟后再试。",
    ),
    "no_tenants": (
        "No tenant has a config yet: load a bundle first (tidepool load configs/…).",
        "还没有租户配置：请先加载配置包（tidepool load configs/…）。",
    ),
    "error.title": ("Something is not right", "出了点问题"),
    "error.403": ("You may not open this page.", "您无权访问此页面。"),
    "error.403.roles": (
        "Roles that may: {roles}. Ask an administrator.",
        "有权限的角色：{roles}。请联系管理员。",
    ),
    "error.404": ("Not found.", "未找到。"),
    "error.csrf": (
        "The form was out of date or not sent by this page (CSRF check). Reload the page and "
        "try again.",
        "表单已过期或并非由本页面提交（CSRF 校验失败）。请刷新页面后重试。",
    ),
    "error.back": ("Back", "返回"),
    "none": ("—", "—"),
    "save": ("Save", "保存"),
    "cancel": ("Cancel", "取消"),
}


def text(key: str, locale: str | None, **params: Any) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    chosen = pair[1] if (locale or "").startswith("zh") else pair[0]
    return chosen.format(**params) if params else chosen


def add(more: dict[str, tuple[str, str]]) -> None:
    """Pages add their own words at import (keys prefixed with the page's name)."""
    clash = set(more) & set(TEXTS)
    if clash:
        raise ValueError(f"UI text keys defined twice: {sorted(clash)}")
    TEXTS.update(more)
