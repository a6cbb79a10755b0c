"""The admin pool board."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "pools.title": {"en": "Pool board", "zh-CN": "客户池看板"},
    "pools.none": {
        "en": "This tenant's bundle has no pool sets (pools.yaml).",
        "zh-CN": "该租户的配置中没有客户池（pools.yaml）。",
    },
    "pools.count": {"en": "{n} records", "zh-CN": "{n} 条"},
    "pools.newest": {"en": "newest {n} shown", "zh-CN": "显示最新 {n} 条"},
    "pools.empty": {"en": "No records", "zh-CN": "暂无记录"},
    "pools.manual": {"en": "cards may be moved here", "zh-CN": "可手动移入"},
    "pools.public": {"en": "public pool", "zh-CN": "公海"},
    "pools.claim": {"en": "Claim", "zh-CN": "领取"},
    "pools.move": {"en": "Move", "zh-CN": "移动"},
    "pools.move_to": {"en": "Move to", "zh-CN": "移动到"},
    "pools.owner": {"en": "Owner: {name}", "zh-CN": "负责人：{name}"},
    "pools.claims": {
        "en": "Your claims today: {today}{cap} · holding {held}{max}",
        "zh-CN": "您今日已领取 {today}{cap} · 持有 {held}{max}",
    },
    "pools.moved": {"en": "{title} moved to {pool}.", "zh-CN": "{title} 已移至{pool}。"},
    "pools.moved_on": {
        "en": "{title} moved to {pool}; the rules then took it to {now}.",
        "zh-CN": "{title} 已移至{pool}，随后按规则进入{now}。",
    },
    "pools.claimed": {
        "en": "{title} is yours now ({pool}).",
        "zh-CN": "已领取 {title}（{pool}）。",
    },
    "pools.claim_refused": {"en": "Claim refused: {reason}", "zh-CN": "无法领取：{reason}"},
    "pools.move_refused": {"en": "Move refused: {reason}", "zh-CN": "无法移动：{reason}"},
    "pools.not_manual": {
        "en": "the bundle does not let records be moved into {pool} by hand",
        "zh-CN": "配置不允许手动将记录移入{pool}",
    },
    "pools.stale": {
        "en": "the record changed meanwhile; look again and retry",
        "zh-CN": "记录已被修改，请刷新后重试",
    },
    "pools.total": {"en": "{n} records in all", "zh-CN": "共 {n} 条"},
    "pools.gone": {
        "en": "there is no such record, or it is not yours to see",
        "zh-CN": "记录不存在，或您无权查看",
    },
}
