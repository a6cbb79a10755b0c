"""A dry run's report: its header, its tables and its notes."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "simulate.title": {
        "en": "Dry run of {candidate} for {tenant} (active: version {active}), as of {now}",
        "zh-CN": "试运行 {candidate}，租户 {tenant}（当前生效：版本 {active}），时间 {now}",
    },
    "simulate.given": {"en": "the given bundle", "zh-CN": "提交的配置"},
    "simulate.version": {"en": "version {n}", "zh-CN": "版本 {n}"},
    "simulate.summary": {
        "en": (
            "{scanned} record(s) scanned, {changed} would change, {errors} with errors, in "
            "{seconds:.1f}s"
        ),
        "zh-CN": (
            "扫描 {scanned} 条记录，{changed} 条会变化，{errors} 条有错误，用时 {seconds:.1f} 秒"
        ),
    },
    "simulate.changes": {"en": "{n} change(s) in the bundle:", "zh-CN": "配置共 {n} 处改动："},
    "simulate.entity": {
        "en": "{label} ({entity}): {scanned} of {total} scanned, {changed} would change",
        "zh-CN": "{label}（{entity}）：扫描 {scanned}/{total} 条，{changed} 条会变化",
    },
    "simulate.nothing": {"en": "nothing would change", "zh-CN": "没有任何变化"},
    "simulate.pool_moves": {"en": "Pool moves", "zh-CN": "客户池流转"},
    "simulate.owner_changes": {"en": "Owner changes", "zh-CN": "负责人变化"},
    "simulate.field_changes": {"en": "Scores and grades", "zh-CN": "评分与等级"},
    "simulate.campaigns": {"en": "Campaigns that would fire", "zh-CN": "会触发的营销活动"},
    "simulate.errors": {"en": "Records the candidate cannot take", "zh-CN": "新配置无法处理的记录"},
    "simulate.from": {"en": "from", "zh-CN": "从"},
    "simulate.to": {"en": "to", "zh-CN": "到"},
    "simulate.records": {"en": "records", "zh-CN": "记录数"},
    "simulate.rules": {"en": "rules", "zh-CN": "规则"},
    "simulate.examples": {"en": "examples", "zh-CN": "示例"},
    "simulate.reason": {"en": "what", "zh-CN": "变化"},
    "simulate.rule": {"en": "because of", "zh-CN": "原因"},
    "simulate.field": {"en": "field", "zh-CN": "字段"},
    "simulate.rule_set": {"en": "rule", "zh-CN": "规则"},
    "simulate.changes_to": {"en": "most common", "zh-CN": "主要变化"},
    "simulate.campaign": {"en": "campaign", "zh-CN": "营销活动"},
    "simulate.trigger": {"en": "trigger", "zh-CN": "触发"},
    "simulate.limited": {"en": "limited", "zh-CN": "被限制"},
    "simulate.detail": {"en": "details", "zh-CN": "详情"},
    "simulate.id": {"en": "id", "zh-CN": "id"},
    "simulate.record": {"en": "record", "zh-CN": "记录"},
    "simulate.code": {"en": "kind", "zh-CN": "类型"},
    "simulate.message": {"en": "message", "zh-CN": "说明"},
    "simulate.none_pool": {"en": "(none)", "zh-CN": "（无）"},
    "simulate.nobody": {"en": "nobody", "zh-CN": "无人"},
    "simulate.someone": {"en": "another candidate", "zh-CN": "其他候选人"},
    # why an owner changes
    "simulate.reason.unassigned": {"en": "unassigned", "zh-CN": "取消分配"},
    "simulate.reason.protection_expired": {
        "en": "protection expired, back to the public pool",
        "zh-CN": "保护期结束，退回公海",
    },
    "simulate.reason.deactivated_public": {
        "en": "owner deactivated, back to the public pool",
        "zh-CN": "负责人停用，退回公海",
    },
    "simulate.reason.deactivated_reassign": {
        "en": "owner deactivated, reassigned",
        "zh-CN": "负责人停用，重新分配",
    },
    "simulate.reason.reassigned": {"en": "handed on", "zh-CN": "转交他人"},
    "simulate.reason.outside_rule": {
        "en": "kept, but the rule would now pick someone else",
        "zh-CN": "保持不变，但规则现在会分给别人",
    },
    # moves no rule of the bundle makes
    "simulate.pseudo.placed": {"en": "placed in the initial pool", "zh-CN": "放入初始池"},
    "simulate.pseudo.pool_removed": {"en": "its pool is gone", "zh-CN": "原池已删除"},
    "simulate.pseudo.handover": {"en": "owner deactivated", "zh-CN": "负责人停用"},
    "simulate.pseudo.protection_expired": {"en": "protection expired", "zh-CN": "保护期结束"},
    # campaign triggers
    "simulate.trigger.segment_enter": {"en": "enters {segment}", "zh-CN": "进入客群 {segment}"},
    "simulate.trigger.segment_leave": {"en": "leaves {segment}", "zh-CN": "离开客群 {segment}"},
    "simulate.trigger.pool_entered": {"en": "enters pool {pool}", "zh-CN": "进入 {pool}"},
    "simulate.trigger.pool_left": {"en": "leaves pool {pool}", "zh-CN": "离开 {pool}"},
    "simulate.trigger.field_changed": {"en": "{field} changes", "zh-CN": "{field} 变化"},
    "simulate.trigger.relative": {"en": "date came due", "zh-CN": "日期到期"},
    "simulate.trigger.schedule": {"en": "schedule", "zh-CN": "定时"},
    # campaign details
    "simulate.detail.next_at": {"en": "next at {next_at}", "zh-CN": "下次 {next_at}"},
    "simulate.detail.planned": {
        "en": "{planned} planned: {due_now} now, {later} later",
        "zh-CN": "计划 {planned} 条：立即 {due_now}，稍后 {later}",
    },
    "simulate.detail.split": {"en": "split: {split}", "zh-CN": "分组：{split}"},
    # campaign limits
    "simulate.limit.once_per_record": {"en": "once per record", "zh-CN": "每条一次"},
    "simulate.limit.cooldown": {"en": "cooldown", "zh-CN": "冷却期"},
    "simulate.limit.max_per_day": {"en": "daily cap", "zh-CN": "每日上限"},
    # notes under the report
    "simulate.note.sampled": {
        "en": "only the first {n} records of each entity were scanned",
        "zh-CN": "每个实体只扫描了前 {n} 条记录",
    },
    "simulate.note.rollup_as_stored": {
        "en": (
            "rollup {rollup} is new or changed: its stored values were read (`tidepool rollups "
            "--tenant T` recomputes them after activation)"
        ),
        "zh-CN": (
            "汇总字段 {rollup} 是新增或修改的：这里读取的是已存的值（激活后用 `tidepool rollups "
            "--tenant T` 重新计算）"
        ),
    },
    "simulate.note.derived_on_write": {
        "en": (
            "scores and grades are stored when a record is next written; the moves that depend on "
            "them happen then"
        ),
        "zh-CN": "评分和等级在记录下次写入时保存；依赖它们的流转也在那时发生",
    },
}
