"""The admin config pages: versions, diffs, dry runs, editing."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "config.title": {"en": "Config", "zh-CN": "配置"},
    "config.active": {"en": "Active version: {n}", "zh-CN": "当前生效版本：{n}"},
    "config.version_n": {"en": "Version {n}", "zh-CN": "版本 {n}"},
    "config.digest": {"en": "Digest", "zh-CN": "摘要"},
    "config.stored": {"en": "Stored", "zh-CN": "保存于"},
    "config.activated_at": {"en": "Activated", "zh-CN": "激活于"},
    "config.files": {"en": "Files", "zh-CN": "文件"},
    "config.own_files": {"en": "The bundle's files", "zh-CN": "配置包文件"},
    "config.template_files": {"en": "Template files", "zh-CN": "模板文件"},
    "config.template_named": {"en": "Template {name}", "zh-CN": "模板 {name}"},
    "config.template_note": {
        "en": (
            "This file comes from the template {name}: a change here is stored in this tenant's "
            "versions only, never in the template folder."
        ),
        "zh-CN": "此文件来自模板 {name}：在这里的修改只保存在本租户的版本中，不会改动模板目录。",
    },
    "config.versions": {"en": "Versions", "zh-CN": "版本"},
    "config.number": {"en": "Version", "zh-CN": "版本"},
    "config.created": {"en": "Stored", "zh-CN": "保存时间"},
    "config.created_by": {"en": "Stored by", "zh-CN": "保存人"},
    "config.status": {"en": "Status", "zh-CN": "状态"},
    "config.is_active": {"en": "active", "zh-CN": "生效中"},
    "config.details": {"en": "Details, diff and dry run", "zh-CN": "详情、差异与试运行"},
    "config.activate": {"en": "Activate", "zh-CN": "激活"},
    "config.activate_confirm": {
        "en": "Activate version {n}? Its tests run first; then every write follows its rules.",
        "zh-CN": "激活版本 {n}？会先运行它的测试；之后所有写入都按它的规则执行。",
    },
    "config.rollback": {"en": "Roll back to version {n}", "zh-CN": "回滚到版本 {n}"},
    "config.rollback_confirm": {
        "en": "Go back to version {n}, the version active before?",
        "zh-CN": "回到之前生效的版本 {n}？",
    },
    "config.no_rollback": {
        "en": "There is no earlier active version to go back to.",
        "zh-CN": "没有可以回滚到的更早生效版本。",
    },
    "config.history": {"en": "Activations", "zh-CN": "激活记录"},
    "config.when": {"en": "When", "zh-CN": "时间"},
    "config.who": {"en": "By", "zh-CN": "操作人"},
    "config.from": {"en": "From", "zh-CN": "从"},
    "config.to": {"en": "To", "zh-CN": "到"},
    "config.compare": {"en": "Compare", "zh-CN": "比较"},
    "config.compare_help": {
        "en": (
            "The semantic diff of two versions: fields, pools, rules and campaigns added, removed "
            "or changed."
        ),
        "zh-CN": "两个版本的语义差异：新增、删除或修改的字段、客户池、规则和营销活动。",
    },
    "config.flash.activated": {"en": "Version {n} is now active.", "zh-CN": "版本 {n} 已生效。"},
    "config.flash.already": {
        "en": "Version {n} was active already.",
        "zh-CN": "版本 {n} 本来就在生效。",
    },
    "config.flash.rolled_back": {"en": "Back to version {n}.", "zh-CN": "已回滚到版本 {n}。"},
    "config.flash.saved": {
        "en": "Stored as version {n}, not active yet: dry-run it, then activate it.",
        "zh-CN": "已保存为版本 {n}，尚未生效：先试运行，再激活。",
    },
    "config.flash.same": {
        "en": "Nothing new: these files are version {n}.",
        "zh-CN": "没有新内容：这些文件就是版本 {n}。",
    },
    # diffs
    "config.diff_title": {
        "en": "From version {a} to version {b}",
        "zh-CN": "从版本 {a} 到版本 {b}",
    },
    "config.diff_vs_active": {
        "en": "What activating it changes (from the active version {a})",
        "zh-CN": "激活后的改动（相对当前生效版本 {a}）",
    },
    "config.diff_of_edit": {
        "en": "What these files change (from the active version {a})",
        "zh-CN": "这些文件带来的改动（相对当前生效版本 {a}）",
    },
    "config.no_changes": {
        "en": "No change to fields, pools, rules or campaigns.",
        "zh-CN": "字段、客户池、规则和营销活动都没有改动。",
    },
    "config.this_is_active": {"en": "This is the active version.", "zh-CN": "这是当前生效的版本。"},
    "config.kind": {"en": "What", "zh-CN": "类型"},
    "config.item": {"en": "Item", "zh-CN": "项目"},
    "config.change": {"en": "Change", "zh-CN": "改动"},
    "config.keys": {"en": "Keys that differ", "zh-CN": "改动的键"},
    "config.change.added": {"en": "added", "zh-CN": "新增"},
    "config.change.removed": {"en": "removed", "zh-CN": "删除"},
    "config.change.changed": {"en": "changed", "zh-CN": "修改"},
    "config.kind.user": {"en": "user", "zh-CN": "用户"},
    "config.kind.team": {"en": "team", "zh-CN": "团队"},
    "config.kind.role": {"en": "role", "zh-CN": "角色"},
    "config.kind.entity": {"en": "entity", "zh-CN": "实体"},
    "config.kind.field": {"en": "field", "zh-CN": "字段"},
    "config.kind.form": {"en": "form", "zh-CN": "表单"},
    "config.kind.view": {"en": "view", "zh-CN": "视图"},
    "config.kind.pool set": {"en": "pool set", "zh-CN": "客户池组"},
    "config.kind.pool": {"en": "pool", "zh-CN": "客户池"},
    "config.kind.promotion": {"en": "promotion", "zh-CN": "流转规则"},
    "config.kind.score": {"en": "score", "zh-CN": "评分"},
    "config.kind.grade": {"en": "grade", "zh-CN": "等级"},
    "config.kind.rollup": {"en": "rollup", "zh-CN": "汇总字段"},
    "config.kind.assignment rule": {"en": "assignment rule", "zh-CN": "分配规则"},
    "config.kind.queue": {"en": "queue", "zh-CN": "队列"},
    "config.kind.segment": {"en": "segment", "zh-CN": "客群"},
    "config.kind.campaign": {"en": "campaign", "zh-CN": "营销活动"},
    "config.kind.tenant": {"en": "tenant", "zh-CN": "租户"},
    # the editor
    "config.edit": {"en": "Edit", "zh-CN": "编辑"},
    "config.editing": {"en": "Edit {file}", "zh-CN": "编辑 {file}"},
    "config.based_on": {"en": "Based on version {n}", "zh-CN": "基于版本 {n}"},
    "config.based_on_active": {
        "en": "Based on version {n}, the active one",
        "zh-CN": "基于版本 {n}（当前生效）",
    },
    "config.editor_help": {
        "en": (
            "Every check runs on the whole bundle with this file as written. Saving stores a new "
            "version; it is not active until you activate it."
        ),
        "zh-CN": "每次校验都会用这里的内容检查整个配置包。保存会生成新版本，激活之前不会生效。",
    },
    "config.validate": {"en": "Validate", "zh-CN": "校验"},
    "config.save": {"en": "Save as new version", "zh-CN": "保存为新版本"},
    "config.valid": {"en": "No errors: the bundle is valid.", "zh-CN": "没有错误：配置包有效。"},
    "config.counts": {
        "en": "{errors} error(s), {warnings} warning(s)",
        "zh-CN": "{errors} 个错误，{warnings} 个警告",
    },
    "config.not_saved": {
        "en": "Nothing was stored: fix the errors and try again.",
        "zh-CN": "未保存任何内容：请修正错误后重试。",
    },
    "config.other_files": {"en": "In other files", "zh-CN": "其他文件中"},
    "config.other_files_help": {
        "en": "These come from other files of the bundle, checked together with this one.",
        "zh-CN": "这些问题出现在配置包的其他文件中（与本文件一起校验）。",
    },
    "config.severity.error": {"en": "error", "zh-CN": "错误"},
    "config.severity.warning": {"en": "warning", "zh-CN": "警告"},
    "config.hint": {"en": "hint: {hint}", "zh-CN": "提示：{hint}"},
    "config.back": {"en": "Back to config", "zh-CN": "返回配置"},
    "config.stale": {
        "en": "Edited since the last check: validate again to update the marks.",
        "zh-CN": "上次校验后已修改：请重新校验以更新标记。",
    },
    # a version
    "config.version_title": {"en": "Version {n}", "zh-CN": "版本 {n}"},
    "config.version_files": {"en": "Files of this version", "zh-CN": "此版本的文件"},
    "config.dry_run": {"en": "Dry run", "zh-CN": "试运行"},
    "config.dry_run_help": {
        "en": (
            "Applies this version's rules to every stored record without writing anything and "
            "reports what would change. With many records it takes a few seconds."
        ),
        "zh-CN": (
            "用此版本的规则处理所有已存记录（不写入任何数据），报告会发生哪些变化。记录多时需要几秒"
            "钟。"
        ),
    },
    "config.running": {"en": "Running…", "zh-CN": "运行中…"},
    "config.sample": {
        "en": "Only the first N records of each entity",
        "zh-CN": "每个实体只扫描前 N 条",
    },
    "config.as_of": {
        "en": "As of (optional, the tenant's time)",
        "zh-CN": "时间点（可选，租户时区）",
    },
    "config.report": {"en": "Dry run report", "zh-CN": "试运行报告"},
    "config.notes": {"en": "Notes", "zh-CN": "说明"},
    "config.bad_sample": {
        "en": "The number of records must be a whole number of at least 1.",
        "zh-CN": "记录数必须是不小于 1 的整数。",
    },
    "config.bad_now": {
        "en": "The time must look like 2026-12-01T09:00.",
        "zh-CN": "时间格式应为 2026-12-01T09:00。",
    },
    "config.refused": {
        "en": "Version {n} was not activated: {failed} of its tests fail.",
        "zh-CN": "版本 {n} 未激活：有 {failed} 个测试未通过。",
    },
    "config.refused_help": {
        "en": (
            "The version's own tests (tests.yaml) must pass before it can be activated. Fix the "
            "rules or the tests, save a new version and activate that."
        ),
        "zh-CN": (
            "版本自带的测试（tests.yaml）全部通过后才能激活。请修正规则或测试，保存为新版本后再激活"
            "。"
        ),
    },
    "config.case": {"en": "Test", "zh-CN": "测试用例"},
    "config.failures": {"en": "What differs", "zh-CN": "差异"},
    "config.why": {"en": "The record's decisions", "zh-CN": "记录的决策"},
}
