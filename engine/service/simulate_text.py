"""A dry run's report as people read it, in Chinese or English: a few header lines and one
table per kind of change and entity (plain rows; the CLI draws them). Labels come from the
bundle in the same locale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.service.simulate_report import (
    CampaignHit,
    EntityReport,
    Example,
    FieldChange,
    Note,
    OwnerChange,
    PoolMove,
    SimulationReport,
    Texts,
    pick,
)

SHOWN = 3  # example records per table row
TITLE = 24  # characters of a title shown

_WORDS = {
    "en": {
        "title": "Dry run of {candidate} for {tenant} (active: version {active}), as of {now}",
        "given": "the given bundle",
        "version": "version {n}",
        "summary": "{scanned} record(s) scanned, {changed} would change, {errors} with errors, "
        "in {seconds:.1f}s",
        "changes": "{n} change(s) in the bundle:",
        "entity": "{label} ({entity}): {scanned} of {total} scanned, {changed} would change",
        "nothing": "nothing would change",
        "pool_moves": "Pool moves",
        "owner_changes": "Owner changes",
        "field_changes": "Scores and grades",
        "campaigns": "Campaigns that would fire",
        "errors": "Records the candidate cannot take",
        "from": "from",
        "to": "to",
        "records": "records",
        "rules": "rules",
        "examples": "examples",
        "reason": "what",
        "rule": "because of",
        "field": "field",
        "rule_set": "rule",
        "changes_to": "most common",
        "campaign": "campaign",
        "trigger": "trigger",
        "limited": "limited",
        "detail": "details",
        "id": "id",
        "record": "record",
        "code": "kind",
        "message": "message",
        "none_pool": "(none)",
        "nobody": "nobody",
        "someone": "another candidate",
        "sep": ", ",
    },
    "zh-CN": {
        "title": "试运行 {candidate}，租户 {tenant}（当前生效：版本 {active}），时间 {now}",
        "given": "提交的配置",
        "version": "版本 {n}",
        "summary": "扫描 {scanned} 条记录，{changed} 条会变化，{errors} 条有错误，"
        "用时 {seconds:.1f} 秒",
        "changes": "配置共 {n} 处改动：",
        "entity": "{label}（{entity}）：扫描 {scanned}/{total} 条，{changed} 条会变化",
        "nothing": "没有任何变化",
        "pool_moves": "客户池流转",
        "owner_changes": "负责人变化",
        "field_changes": "评分与等级",
        "campaigns": "会触发的营销活动",
        "errors": "新配置无法处理的记录",
        "from": "从",
        "to": "到",
        "records": "记录数",
        "rules": "规则",
        "examples": "示例",
        "reason": "变化",
        "rule": "原因",
        "field": "字段",
        "rule_set": "规则",
        "changes_to": "主要变化",
        "campaign": "营销活动",
        "trigger": "触发",
        "limited": "被限制",
        "detail": "详情",
        "id": "id",
        "record": "记录",
        "code": "类型",
        "message": "说明",
        "none_pool": "（无）",
        "nobody": "无人",
        "someone": "其他候选人",
        "sep": "、",
    },
}
_REASONS = {
    "en": {
        "unassigned": "unassigned",
        "protection_expired": "protection expired, back to the public pool",
        "deactivated_public": "owner deactivated, back to the public pool",
        "deactivated_reassign": "owner deactivated, reassigned",
        "reassigned": "handed on",
        "outside_rule": "kept, but the rule would now pick someone else",
    },
    "zh-CN": {
        "unassigned": "取消分配",
        "protection_expired": "保护期结束，退回公海",
        "deactivated_public": "负责人停用，退回公海",
        "deactivated_reassign": "负责人停用，重新分配",
        "reassigned": "转交他人",
        "outside_rule": "保持不变，但规则现在会分给别人",
    },
}
_PSEUDO_RULES = {
    "en": {
        "placed": "placed in the initial pool",
        "pool_removed": "its pool is gone",
        "handover": "owner deactivated",
        "protection_expired": "protection expired",
    },
    "zh-CN": {
        "placed": "放入初始池",
        "pool_removed": "原池已删除",
        "handover": "负责人停用",
        "protection_expired": "保护期结束",
    },
}
_TRIGGERS = {
    "en": {
        "segment_enter": "enters {segment}",
        "segment_leave": "leaves {segment}",
        "pool_entered": "enters pool {pool}",
        "pool_left": "leaves pool {pool}",
        "field_changed": "{field} changes",
        "relative": "date came due",
        "schedule": "schedule",
    },
    "zh-CN": {
        "segment_enter": "进入客群 {segment}",
        "segment_leave": "离开客群 {segment}",
        "pool_entered": "进入 {pool}",
        "pool_left": "离开 {pool}",
        "field_changed": "{field} 变化",
        "relative": "日期到期",
        "schedule": "定时",
    },
}
_DETAILS = {
    "en": {
        "next_at": "next at {next_at}",
        "planned": "{planned} planned: {due_now} now, {later} later",
        "split": "split: {split}",
    },
    "zh-CN": {
        "next_at": "下次 {next_at}",
        "planned": "计划 {planned} 条：立即 {due_now}，稍后 {later}",
        "split": "分组：{split}",
    },
}
_LIMITS = {
    "en": {
        "once_per_record": "once per record",
        "cooldown": "cooldown",
        "max_per_day": "daily cap",
    },
    "zh-CN": {"once_per_record": "每条一次", "cooldown": "冷却期", "max_per_day": "每日上限"},
}
_NOTES = {
    "en": {
        "sampled": "only the first {n} records of each entity were scanned",
        "rollup_as_stored": "rollup {rollup} is new or changed: its stored values were read "
        "(`tidepool rollups --tenant T` recomputes them after activation)",
        "derived_on_write": "scores and grades are stored when a record is next written; the "
        "moves that depend on them happen then",
    },
    "zh-CN": {
        "sampled": "每个实体只扫描了前 {n} 条记录",
        "rollup_as_stored": "汇总字段 {rollup} 是新增或修改的：这里读取的是已存的值"
        "（激活后用 `tidepool rollups --tenant T` 重新计算）",
        "derived_on_write": "评分和等级在记录下次写入时保存；依赖它们的流转也在那时发生",
    },
}


@dataclass(frozen=True)
class Section:
    """One table: a title, its column headings and its rows of text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def lang_of(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else "en"


def header(report: SimulationReport, locale: str) -> list[str]:
    """The lines above the tables: what was compared, the totals, the bundle's changes."""
    w = _WORDS[lang_of(locale)]
    n = report.candidate_version
    candidate = w["given"] if n is None else w["version"].format(n=n)
    lines = [
        w["title"].format(
            candidate=candidate,
            tenant=report.tenant,
            active=report.active_version,
            now=report.now.isoformat(timespec="seconds"),
        ),
        w["summary"].format(
            scanned=report.scanned,
            changed=report.changed,
            errors=sum(e.errors for e in report.entities),
            seconds=report.seconds,
        ),
    ]
    if report.changes:
        lines.append(w["changes"].format(n=len(report.changes)))
        signs = {"added": "+", "removed": "-", "changed": "~"}
        for c in report.changes:
            keys = f"  ({', '.join(c['keys'])})" if c.get("keys") else ""
            lines.append(f"  {signs.get(c['change'], '?')} {c['kind']} {c['id']}{keys}")
    return lines


def entity_line(entity: EntityReport, locale: str) -> str:
    w = _WORDS[lang_of(locale)]
    line = w["entity"].format(
        label=pick(entity.label, locale, entity.entity),
        entity=entity.entity,
        scanned=entity.scanned,
        total=entity.total,
        changed=entity.changed,
    )
    return line if entity.changed or entity.errors else f"{line} — {w['nothing']}"


def sections(entity: EntityReport, locale: str) -> list[Section]:
    """The entity's tables that have rows."""
    lang = lang_of(locale)
    w = _WORDS[lang]
    found = [
        Section(
            w["pool_moves"],
            (w["from"], w["to"], w["records"], w["rules"], w["examples"]),
            tuple(_move_row(m, locale) for m in entity.pool_moves),
        ),
        Section(
            w["owner_changes"],
            (w["reason"], w["rule"], w["records"], w["examples"]),
            tuple(_owner_row(o, locale) for o in entity.owner_changes),
        ),
        Section(
            w["field_changes"],
            (w["field"], w["rule_set"], w["records"], w["changes_to"], w["examples"]),
            tuple(_field_row(f, locale) for f in entity.field_changes),
        ),
        Section(
            w["campaigns"],
            (w["campaign"], w["trigger"], w["records"], w["limited"], w["detail"], w["examples"]),
            tuple(_campaign_row(c, locale) for c in entity.campaigns),
        ),
        Section(
            w["errors"],
            (w["record"], w["code"], w["message"]),
            tuple((_who(e.id, e.title), e.code, e.message) for e in entity.error_examples),
        ),
    ]
    return [s for s in found if s.rows]


def notes(report: SimulationReport, locale: str) -> list[str]:
    words = _NOTES[lang_of(locale)]
    return [_note(n, words) for n in report.notes]


def _note(note: Note, words: Mapping[str, str]) -> str:
    template = words.get(note.code)
    return note.code if template is None else template.format(**note.params)


# rows ------------------------------------------------------------------------------------------
def _labelled(label: Texts | None, ident: str, locale: str) -> str:
    text = pick(label, locale, ident)
    return ident if text == ident else f"{text} ({ident})"


def _move_row(move: PoolMove, locale: str) -> tuple[str, ...]:
    lang = lang_of(locale)
    w, pseudo = _WORDS[lang], _PSEUDO_RULES[lang]
    before = (
        w["none_pool"] if move.before is None else _labelled(move.before_label, move.before, locale)
    )
    rules = w["sep"].join(
        f"{pseudo.get(r.rule) or pick(r.label, locale, r.rule)} ×{r.count}" for r in move.rules
    )
    return (
        before,
        _labelled(move.after_label, move.after, locale),
        str(move.count),
        rules,
        _examples(move.examples, w["sep"]),
    )


def _owner_row(change: OwnerChange, locale: str) -> tuple[str, ...]:
    lang = lang_of(locale)
    w = _WORDS[lang]
    handed_on = change.reason in ("reassigned", "deactivated_reassign")
    after = f" → {w['someone'] if handed_on else w['nobody']}"
    if change.reason == "outside_rule":
        after = ""  # the owner stays
    shown = [f"{_who(e.id, e.title)}: {e.before}{after}" for e in change.examples[:SHOWN]]
    return (
        _REASONS[lang].get(change.reason, change.reason),
        _labelled(change.label, change.rule, locale),
        str(change.count),
        w["sep"].join(shown),
    )


def _field_row(change: FieldChange, locale: str) -> tuple[str, ...]:
    w = _WORDS[lang_of(locale)]
    common = w["sep"].join(
        f"{_value(a)} → {_value(b)} ×{n}" for a, b, n in change.transitions[:SHOWN]
    )
    shown = [
        f"{_who(e.id, e.title)}: {_value(e.before)} → {_value(e.after)}"
        for e in change.examples[:SHOWN]
    ]
    return (
        _labelled(change.label, change.field, locale),
        change.rule,
        str(change.count),
        common,
        w["sep"].join(shown),
    )


def _campaign_row(hit: CampaignHit, locale: str) -> tuple[str, ...]:
    lang = lang_of(locale)
    w = _WORDS[lang]
    names = {"segment": "", "pool": "", "field": "", **hit.detail}
    trigger = _TRIGGERS[lang].get(hit.trigger, hit.trigger).format(**names)
    limited = w["sep"].join(f"{_LIMITS[lang].get(k, k)} {n}" for k, n in hit.limited.items())
    details = []
    if "next_at" in hit.detail:
        details.append(_DETAILS[lang]["next_at"].format(**hit.detail))
    elif "planned" in hit.detail:
        details.append(_DETAILS[lang]["planned"].format(**hit.detail))
    if hit.variants and set(hit.variants) != {"-"}:  # a split: its shares
        split = w["sep"].join(f"{name} {n}" for name, n in hit.variants.items())
        details.append(_DETAILS[lang]["split"].format(split=split))
    detail = "; ".join(details)
    return (
        _labelled(hit.label, hit.campaign, locale),
        trigger,
        str(hit.count),
        limited,
        detail,
        _examples(hit.examples, w["sep"]),
    )


def _examples(examples: Sequence[Example], sep: str) -> str:
    return sep.join(_who(e.id, e.title) for e in examples[:SHOWN])


def _who(record_id: str, title: str | None) -> str:
    """A record as a table shows it: its title, else its id (--json has both)."""
    if title:
        return title if len(title) <= TITLE else title[: TITLE - 1] + "…"
    return record_id if len(record_id) <= 12 else record_id[:8]


def _value(value: Any) -> str:
    return "∅" if value is None else str(value)
