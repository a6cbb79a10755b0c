"""A dry run's report as people read it, in Chinese or English: a few header lines and one
table per kind of change and entity (plain rows; the CLI draws them). Labels come from the
bundle in the same locale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.i18n import CATALOGUE, text
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


@dataclass(frozen=True)
class Section:
    """One table: a title, its column headings and its rows of text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def header(report: SimulationReport, locale: str) -> list[str]:
    """The lines above the tables: what was compared, the totals, the bundle's changes."""
    n = report.candidate_version
    candidate = (
        text("simulate.given", locale) if n is None else text("simulate.version", locale, n=n)
    )
    lines = [
        text(
            "simulate.title",
            locale,
            candidate=candidate,
            tenant=report.tenant,
            active=report.active_version,
            now=report.now.isoformat(timespec="seconds"),
        ),
        text(
            "simulate.summary",
            locale,
            scanned=report.scanned,
            changed=report.changed,
            errors=sum(e.errors for e in report.entities),
            seconds=report.seconds,
        ),
    ]
    if report.changes:
        lines.append(text("simulate.changes", locale, n=len(report.changes)))
        signs = {"added": "+", "removed": "-", "changed": "~"}
        for c in report.changes:
            keys = f"  ({', '.join(c['keys'])})" if c.get("keys") else ""
            lines.append(f"  {signs.get(c['change'], '?')} {c['kind']} {c['id']}{keys}")
    return lines


def entity_line(entity: EntityReport, locale: str) -> str:
    line = text(
        "simulate.entity",
        locale,
        label=pick(entity.label, locale, entity.entity),
        entity=entity.entity,
        scanned=entity.scanned,
        total=entity.total,
        changed=entity.changed,
    )
    if entity.changed or entity.errors:
        return line
    return f"{line} — {text('simulate.nothing', locale)}"


def sections(entity: EntityReport, locale: str) -> list[Section]:
    """The entity's tables that have rows."""

    def w(word: str) -> str:
        return text(f"simulate.{word}", locale)

    found = [
        Section(
            w("pool_moves"),
            (w("from"), w("to"), w("records"), w("rules"), w("examples")),
            tuple(_move_row(m, locale) for m in entity.pool_moves),
        ),
        Section(
            w("owner_changes"),
            (w("reason"), w("rule"), w("records"), w("examples")),
            tuple(_owner_row(o, locale) for o in entity.owner_changes),
        ),
        Section(
            w("field_changes"),
            (w("field"), w("rule_set"), w("records"), w("changes_to"), w("examples")),
            tuple(_field_row(f, locale) for f in entity.field_changes),
        ),
        Section(
            w("campaigns"),
            (w("campaign"), w("trigger"), w("records"), w("limited"), w("detail"), w("examples")),
            tuple(_campaign_row(c, locale) for c in entity.campaigns),
        ),
        Section(
            w("errors"),
            (w("record"), w("code"), w("message")),
            tuple((_who(e.id, e.title), e.code, e.message) for e in entity.error_examples),
        ),
    ]
    return [s for s in found if s.rows]


def notes(report: SimulationReport, locale: str) -> list[str]:
    return [_note(n, locale) for n in report.notes]


def _note(note: Note, locale: str) -> str:
    params = {"message": note.code, **note.params}  # an unknown note shows its code
    return text(f"simulate.note.{note.code}", locale, **params)


# rows ------------------------------------------------------------------------------------------
def _labelled(label: Texts | None, ident: str, locale: str) -> str:
    text = pick(label, locale, ident)
    return ident if text == ident else f"{text} ({ident})"


def _move_row(move: PoolMove, locale: str) -> tuple[str, ...]:
    before = (
        text("simulate.none_pool", locale)
        if move.before is None
        else _labelled(move.before_label, move.before, locale)
    )
    rules = text("list.sep", locale).join(
        f"{_rule_word(r.rule, r.label, locale)} ×{r.count}" for r in move.rules
    )
    return (
        before,
        _labelled(move.after_label, move.after, locale),
        str(move.count),
        rules,
        _examples(move.examples, locale),
    )


def _rule_word(rule: str, label: Texts | None, locale: str) -> str:
    """A move's rule: the bundle's label, or the report's word for a move no rule makes."""
    code = f"simulate.pseudo.{rule}"
    return text(code, locale) if code in CATALOGUE else pick(label, locale, rule)


def _owner_row(change: OwnerChange, locale: str) -> tuple[str, ...]:
    handed_on = change.reason in ("reassigned", "deactivated_reassign")
    after = f" → {text('simulate.someone' if handed_on else 'simulate.nobody', locale)}"
    if change.reason == "outside_rule":
        after = ""  # the owner stays
    shown = [f"{_who(e.id, e.title)}: {e.before}{after}" for e in change.examples[:SHOWN]]
    return (
        text(f"simulate.reason.{change.reason}", locale, message=change.reason),
        _labelled(change.label, change.rule, locale),
        str(change.count),
        text("list.sep", locale).join(shown),
    )


def _field_row(change: FieldChange, locale: str) -> tuple[str, ...]:
    sep = text("list.sep", locale)
    common = sep.join(f"{_value(a)} → {_value(b)} ×{n}" for a, b, n in change.transitions[:SHOWN])
    shown = [
        f"{_who(e.id, e.title)}: {_value(e.before)} → {_value(e.after)}"
        for e in change.examples[:SHOWN]
    ]
    return (
        _labelled(change.label, change.field, locale),
        change.rule,
        str(change.count),
        common,
        sep.join(shown),
    )


def _campaign_row(hit: CampaignHit, locale: str) -> tuple[str, ...]:
    sep = text("list.sep", locale)
    names = {"segment": "", "pool": "", "field": "", **hit.detail}
    trigger = text(f"simulate.trigger.{hit.trigger}", locale, **{"message": hit.trigger, **names})
    limited = sep.join(
        f"{text(f'simulate.limit.{k}', locale, message=k)} {n}" for k, n in hit.limited.items()
    )
    details = []
    if "next_at" in hit.detail:
        details.append(text("simulate.detail.next_at", locale, **hit.detail))
    elif "planned" in hit.detail:
        details.append(text("simulate.detail.planned", locale, **hit.detail))
    if hit.variants and set(hit.variants) != {"-"}:  # a split: its shares
        split = sep.join(f"{name} {n}" for name, n in hit.variants.items())
        details.append(text("simulate.detail.split", locale, split=split))
    detail = "; ".join(details)
    return (
        _labelled(hit.label, hit.campaign, locale),
        trigger,
        str(hit.count),
        limited,
        detail,
        _examples(hit.examples, locale),
    )


def _examples(examples: Sequence[Example], locale: str) -> str:
    return text("list.sep", locale).join(_who(e.id, e.title) for e in examples[:SHOWN])


def _who(record_id: str, title: str | None) -> str:
    """A record as a table shows it: its title, else its id (--json has both)."""
    if title:
        return title if len(title) <= TITLE else title[: TITLE - 1] + "…"
    return record_id if len(record_id) <= 12 else record_id[:8]


def _value(value: Any) -> str:
    return "∅" if value is None else str(value)
