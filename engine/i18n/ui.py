"""The admin UI's own words: its frame, sign-in and error pages (labels come from the bundle)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # key: (English, 中文)
    "app": {"en": "Tidepool admin", "zh-CN": "Tidepool 管理后台"},
    "nav.dashboard": {"en": "Dashboard", "zh-CN": "概览"},
    "nav.pools": {"en": "Pool board", "zh-CN": "客户池看板"},
    "nav.records": {"en": "Records", "zh-CN": "记录"},
    "nav.assignment": {"en": "Assignment", "zh-CN": "分配"},
    "nav.campaigns": {"en": "Campaigns", "zh-CN": "营销活动"},
    "nav.config": {"en": "Config", "zh-CN": "配置"},
    "sign_in": {"en": "Sign in", "zh-CN": "登录"},
    "sign_out": {"en": "Sign out", "zh-CN": "退出登录"},
    "tenant": {"en": "Tenant", "zh-CN": "租户"},
    "user": {"en": "User", "zh-CN": "用户"},
    "user_hint": {"en": "User id or email", "zh-CN": "用户 id 或邮箱"},
    "password": {"en": "Password", "zh-CN": "密码"},
    "signed_in_as": {"en": "Signed in as {name}", "zh-CN": "当前用户：{name}"},
    "language": {"en": "Language", "zh-CN": "语言"},
    "bad_sign_in": {"en": "Wrong tenant, user or password.", "zh-CN": "租户、用户或密码不正确。"},
    "sign_in.wait_user": {
        "en": "Too many failed sign-ins for this user. Try again in {seconds} s.",
        "zh-CN": "该用户登录失败次数过多，请 {seconds} 秒后再试。",
    },
    "sign_in.wait_user.minutes": {
        "en": "Too many failed sign-ins for this user. Try again in {minutes} min.",
        "zh-CN": "该用户登录失败次数过多，请 {minutes} 分钟后再试。",
    },
    "sign_in.wait_address": {
        "en": "Too many failed sign-ins from your network address. Try again in {seconds} s.",
        "zh-CN": "您的网络地址登录失败次数过多，请 {seconds} 秒后再试。",
    },
    "sign_in.wait_address.minutes": {
        "en": "Too many failed sign-ins from your network address. Try again in {minutes} min.",
        "zh-CN": "您的网络地址登录失败次数过多，请 {minutes} 分钟后再试。",
    },
    "no_tenants": {
        "en": "No tenant has a config yet: load a bundle first (tidepool load configs/…).",
        "zh-CN": "还没有租户配置：请先加载配置包（tidepool load configs/…）。",
    },
    "error.title": {"en": "Something is not right", "zh-CN": "出了点问题"},
    "error.403": {"en": "You may not open this page.", "zh-CN": "您无权访问此页面。"},
    "error.403.roles": {
        "en": "Roles that may: {roles}. Ask an administrator.",
        "zh-CN": "有权限的角色：{roles}。请联系管理员。",
    },
    "error.404": {"en": "Not found.", "zh-CN": "未找到。"},
    "error.csrf": {
        "en": (
            "The form was out of date or not sent by this page (CSRF check). Reload the page and "
            "try again."
        ),
        "zh-CN": "表单已过期或并非由本页面提交（CSRF 校验失败）。请刷新页面后重试。",
    },
    "error.back": {"en": "Back", "zh-CN": "返回"},
    "none": {"en": "—", "zh-CN": "—"},
    "save": {"en": "Save", "zh-CN": "保存"},
    "cancel": {"en": "Cancel", "zh-CN": "取消"},
    "error.request": {
        "en": "A value in this page's address or form cannot be used.",
        "zh-CN": "此页面地址或表单中有无法使用的值。",
    },
    "error.unavailable": {
        "en": "The database cannot be reached just now. Please try again in a moment.",
        "zh-CN": "暂时无法连接数据库，请稍后再试。",
    },
    "error.internal": {
        "en": "Something went wrong on our side; it was logged.",
        "zh-CN": "服务器出错了，已记录下来。",
    },
}
