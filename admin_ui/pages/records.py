"""Records: a list per entity with the `where=` condition box (errors shown where they are),
saved views, sort and cursor pages; a CSV export of the same list; a record's page with its
fields, history, decision timeline ("why") and the promotions it has not taken ("why not").

Every value is shown as the viewer may see it: fields their roles see masked stay masked here,
in the export, in the history and in the traces. Lists, exports and record pages hold only the
records the viewer sees (engine/service/policy.py): another's record is a 404 page, as if it did
not exist; the export needs `can: export`; a record page offers the changes they may make.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from admin_ui.access import may, policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
from engine import i18n
from engine.config.model import Bundle, EntityDef, FieldDef, Label
from engine.errors import BadQuery, Forbidden, NotFound
from engine.fields.validator import FieldError
from engine.i18n import Message, text
from engine.service import Services
from engine.service.board import title_field
from engine.service.listing import DEFAULT_LIMIT, Search
from engine.service.masking import Mask
from engine.service.policy import Policy
from engine.service.record_export import csv_chunks
from engine.storage.store import Record

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)

MAX_COLUMNS = 6  # fields shown in the list besides the title, pool and owner
FLASH = "pools.flash"  # what the last move or claim did (set by the pool board's forms)


# showing values --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """How the pages show stored things to one viewer: labels from the bundle in their
    language, times in the tenant's zone, users by name, values masked where they must be."""

    who: Viewer
    mask: Mask

    @property
    def bundle(self) -> Bundle:
        return self.who.cfg.bundle

    def t(self, key: str, **params: Any) -> str:
        return text(key, self.who.locale, **params)

    def word(self, prefix: str, key: str) -> str:
        """A UI word for a code (`kind.pool_move`), or the code itself when there is none."""
        found = self.t(f"{prefix}.{key}")
        return key if found == f"{prefix}.{key}" else found

    def label(self, label: Label | None, default: str) -> str:
        return self.who.label(label, default) if label is not None else default

    def field_label(self, entity: str, name: str) -> str:
        found = (
            self.bundle.entities[entity].fields.get(name)
            if entity in self.bundle.entities
            else None
        )
        if found is None:
            return self.word("records.col", name) if name in ("pool", "owner", "queue") else name
        return self.who.label(found.label, name)

    def pool(self, entity: str, pool: str | None) -> str:
        if pool is None:
            return self.t("none")
        pool_set = self.bundle.pool_set_of(entity)
        found = pool_set.pools.get(pool) if pool_set is not None else None
        return self.who.label(found.label, pool) if found is not None else pool

    def user(self, user: str | None) -> str:
        if user is None:
            return self.t("records.nobody")
        found = self.bundle.tenant.users.get(user)
        return found.name if found is not None else user

    @cached_property
    def rules(self) -> dict[str, Label]:
        return rule_labels(self.bundle)

    def rule(self, rule: str) -> str:
        return self.label(self.rules.get(rule), rule)

    def instant(self, moment: datetime | str | None) -> str:
        """A time as the tenant reads it (minutes); text that is no time stays as it is."""
        if moment is None:
            return self.t("none")
        if isinstance(moment, str):
            try:
                parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
            except ValueError:
                return moment
        else:
            parsed = moment
        if parsed.tzinfo is None:
            return parsed.isoformat(sep=" ", timespec="minutes")
        return parsed.astimezone(self.who.cfg.tz).strftime("%Y-%m-%d %H:%M")

    def value(self, field: FieldDef | None, value: Any) -> str:
        """A (masked) stored value in words: option labels, yes/no, local times."""
        if value is None or value == [] or value == "":
            return self.t("none")
        if field is None:
            return str(value)
        if isinstance(value, bool):
            return self.t("records.yes" if value else "records.no")
        if field.type in ("enum", "multi_enum"):
            labels = {o.value: o.label for o in field.options}
            items = value if isinstance(value, list) else [value]
            return ", ".join(self.label(labels.get(str(v)), str(v)) for v in items)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if field.type == "datetime":
            return self.instant(str(value))
        if field.type == "money" and field.currency:
            return f"{value} {field.currency}"
        return str(value)

    def link(self, field: FieldDef | None, value: Any) -> str | None:
        """Where a reference field's value leads (None for other fields)."""
        if field is None or field.type != "reference" or not isinstance(value, str):
            return None
        if field.ref_entity is None or "*" in value:  # masked: no record to open
            return None
        return f"/admin/records/{field.ref_entity}/{value}"

    def item(self, entity: str, name: str, value: Any) -> str:
        """A field or column (pool, owner) value of a change or decision, in words."""
        if name == "pool":
            return self.pool(entity, value if isinstance(value, str) else None)
        if name == "owner":
            return self.user(value if isinstance(value, str) else None)
        fields = self.bundle.entities[entity].fields if entity in self.bundle.entities else {}
        return self.value(fields.get(name), value)

    def changes(
        self, entity: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> list[str]:
        """'field: old → new' for each name of a decision's before/after."""
        out = []
        for name in [*before, *(n for n in after if n not in before)]:
            label = self.field_label(entity, name)
            new = self.item(entity, name, after.get(name))
            if name in before:
                old = self.item(entity, name, before.get(name))
                out.append(self.t("records.changed", field=label, old=old, new=new))
            else:
                out.append(self.t("records.set", field=label, new=new))
        return out

    def title(self, entity: EntityDef, record_id: str, data: Mapping[str, Any]) -> str:
        name = title_field(entity)
        value = data.get(name) if name else None
        return str(value) if value not in (None, "") else record_id[:8]


def rule_labels(bundle: Bundle) -> dict[str, Label]:
    """Labels of the rules decisions name (`customer_pool.need_confirmed`, `assignment.east`,
    `campaign.wake_up`, rollups, scores and grades by name)."""
    found: dict[str, Label] = {}
    for pool_set in bundle.pool_sets.values():
        for promotion in pool_set.promotions:
            if promotion.label is not None:
                found[f"{pool_set.name}.{promotion.id}"] = promotion.label
                found[promotion.id] = promotion.label  # why-not entries name the id alone
    for rule in bundle.assignment:
        if rule.label is not None:
            found[f"assignment.{rule.id}"] = rule.label
    for campaign in bundle.campaigns:
        if campaign.label is not None:
            found[f"campaign.{campaign.id}"] = campaign.label
    for rollup in bundle.rollups:
        if rollup.label is not None:
            found[rollup.name] = rollup.label
    for derived in bundle.derived:  # a score or grade is known by the field it computes
        field = bundle.entities[derived.entity].fields.get(derived.field)
        if field is not None:
            found.setdefault(derived.name, field.label)
    return found


def pop_flash(request: Request) -> dict[str, str] | None:
    found = request.session.pop(FLASH, None)
    return found if isinstance(found, dict) else None


def set_flash(request: Request, kind: str, text: str) -> None:
    request.session[FLASH] = {"kind": kind, "text": text}


# the list --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """Why the list could not be shown; for a condition, where in it."""

    message: str
    lead: str = ""  # where the error is, in the viewer's language
    start: int | None = None
    end: int | None = None
    caret: str = ""
    hint: str = ""  # how to fix a condition, in the viewer's language


@router.get("/records")
def records_home(who: Who) -> Response:
    entity = next(iter(who.cfg.bundle.entities), None)
    if entity is None:
        raise NotFound("this tenant's bundle has no entities")
    return RedirectResponse(f"/admin/records/{entity}", status_code=303)


@router.get("/records/{entity}")
def record_list(
    request: Request,
    who: Who,
    svc: Svc,
    entity: str,
    where: str = "",
    view: str = "",
    sort: str = "",
    cursor: str = "",
) -> Response:
    definition = who.cfg.entity(entity)
    policy = policy_of(svc, who)
    mask = policy.mask
    shown = Shown(who, mask)
    where = where.strip()  # error positions count in the text as searched
    search = _search(where, view, sort, cursor, DEFAULT_LIMIT)
    records: list[Record] = []
    next_cursor, problems = None, []
    try:
        page = svc.records.search(who.tenant, entity, search, mask=mask, policy=policy)
        records, next_cursor = page.records, page.next_cursor
    except Forbidden as exc:
        problems = [Problem(_masked_query(shown, entity, exc.errors))]
    except BadQuery as exc:
        problems = [_problem(who, e) for e in exc.errors] or [Problem(exc.detail)]
    query = {"where": where, "view": view, "sort": sort}
    return render(
        request,
        who,
        "records.html",
        entity=definition,
        entities=_entities(who),
        columns=_columns(definition),
        rows=[_row(shown, definition, r) for r in records],
        shown=shown,
        where=where,
        view=view,
        sort=sort,
        cursor=cursor,
        views=[(v.name, who.label(v.label, v.name)) for v in _views(who, entity)],
        sorts=_sorts(who, definition, mask, sort),
        problems=problems,
        masked=sorted(shown.field_label(entity, n) for n in mask.fields(entity)),
        next_url=_url(entity, {**query, "cursor": next_cursor}) if next_cursor else None,
        first_url=_url(entity, query) if cursor else None,
        export_url=_url(entity, query, "/export.csv") if policy.may("export") else None,
    )


@router.get("/records/{entity}/export.csv")
def export_csv(
    who: Who, svc: Svc, entity: str, where: str = "", view: str = "", sort: str = ""
) -> Response:
    """The filtered list, every page of it, as the viewer may see it: the records they see,
    masked; only for roles that can `export` (a 403 page naming them otherwise)."""
    who.cfg.entity(entity)
    policy = policy_of(svc, who)
    policy.require("export")
    search = _search(where, view, sort, "", DEFAULT_LIMIT)
    chunks = csv_chunks(svc.records, who.tenant, entity, search, policy.mask, policy)
    disposition = f'attachment; filename="{who.tenant}-{entity}.csv"'
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


def _search(where: str, view: str, sort: str, cursor: str, limit: int) -> Search:
    return Search(
        (),
        where.strip() or None,
        view or None,
        sort or None,
        limit,
        cursor or None,
    )


def _problem(who: Viewer, error: FieldError) -> Problem:
    params = error.params
    if "start" not in params:
        return Problem(error.message(who.locale))
    start, end = int(params["start"]), int(params["end"])
    lead = text("records.bad_condition", who.locale, column=start + 1)
    caret = str(params.get("caret", ""))
    message, hint = params.get("error"), params.get("hint_error")
    if not isinstance(message, dict):  # no code: the text as it came
        return Problem(error.message(who.locale), lead, start, end, caret)
    hint_text = i18n.render(Message.from_json(hint), who.locale) if isinstance(hint, dict) else ""
    shown = i18n.render(Message.from_json(message), who.locale)
    return Problem(shown, lead, start, end, caret, hint_text)


def _masked_query(shown: Shown, entity: str, errors: Iterable[FieldError]) -> str:
    names = sorted({str(e.params.get("name", e.field)) for e in errors})
    labels = ", ".join(shown.field_label(entity, n) for n in names)
    return shown.t("records.masked_query", names=labels)


def _entities(who: Viewer) -> list[tuple[str, str]]:
    return [(e.name, who.label(e.label, e.name)) for e in who.cfg.bundle.entities.values()]


def _views(who: Viewer, entity: str) -> list[Any]:
    return [v for v in who.cfg.bundle.views.values() if v.entity == entity]


def _columns(entity: EntityDef) -> list[FieldDef]:
    """The list's field columns: the first few besides the title, long texts left out."""
    title = title_field(entity)
    fields = [f for f in entity.fields.values() if f.name != title and f.type != "text"]
    return fields[:MAX_COLUMNS]


def _row(shown: Shown, entity: EntityDef, record: Record) -> dict[str, Any]:
    data = shown.mask.data(entity.name, record.data)
    return {
        "id": record.id,
        "title": shown.title(entity, record.id, data),
        "pool": shown.pool(entity.name, record.pool),
        "owner": shown.user(record.owner),
        "created": shown.instant(record.created_at),
        "cells": [
            (shown.value(f, data.get(f.name)), shown.link(f, data.get(f.name)))
            for f in _columns(entity)
        ],
    }


def _sorts(who: Viewer, entity: EntityDef, mask: Mask, current: str) -> list[tuple[str, str]]:
    """Orders the list offers: by time, and by each indexed field the viewer sees (fast)."""
    t = text
    out = [
        ("", t("records.sort.newest", who.locale)),
        ("created_at", t("records.sort.oldest", who.locale)),
        ("-updated_at", t("records.sort.updated", who.locale)),
    ]
    masked = mask.fields(entity.name)
    for field in entity.fields.values():
        if field.indexed and field.name not in masked:
            label = who.label(field.label, field.name)
            out.append((f"-{field.name}", t("records.sort.desc", who.locale, field=label)))
            out.append((field.name, t("records.sort.asc", who.locale, field=label)))
    if current and current not in {value for value, _ in out}:
        out.append((current, current))
    return out


def _url(entity: str, params: Mapping[str, str | None], suffix: str = "") -> str:
    kept = {k: v for k, v in params.items() if v}
    return f"/admin/records/{entity}{suffix}" + (f"?{urlencode(kept)}" if kept else "")


# one record ------------------------------------------------------------------------------------
@router.get("/records/{entity}/{record_id}")
def record_page(request: Request, who: Who, svc: Svc, entity: str, record_id: str) -> Response:
    definition = who.cfg.entity(entity)
    policy = policy_of(svc, who)
    mask = policy.mask
    shown = Shown(who, mask)
    record = svc.records.get(who.tenant, entity, record_id, policy)  # unseen: a 404 page
    explained = svc.records.explain(who.tenant, entity, record_id, who.locale, mask, policy)
    data = mask.data(entity, record.data)
    history = svc.records.history(who.tenant, entity, record_id, mask, policy)
    return render(
        request,
        who,
        "record.html",
        entity=definition,
        record=record,
        title=shown.title(definition, record.id, data),
        shown=shown,
        fields=[
            (
                who.label(f.label, f.name),
                shown.value(f, data.get(f.name)),
                shown.link(f, data.get(f.name)),
            )
            for f in definition.fields.values()
        ],
        history=[_history_entry(shown, entity, e) for e in reversed(history)],
        timeline=[_decision(shown, entity, d) for d in reversed(explained["timeline"])],
        why_not=[_why_not(shown, entity, w) for w in explained["why_not"]],
        actions=_actions(who, svc, policy, record),
        masked=sorted(shown.field_label(entity, n) for n in mask.fields(entity)),
        flash=pop_flash(request),
        here=f"/admin/records/{entity}/{record_id}",
    )


def _history_entry(shown: Shown, entity: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    changes = entry.get("changes") or {}
    before = {k: v.get("old") for k, v in changes.items() if v.get("old") is not None}
    after = {k: v.get("new") for k, v in changes.items()}
    return {
        "at": shown.instant(entry.get("at")),
        "action": shown.word("records.action", str(entry.get("action"))),
        "actor": entry.get("actor"),
        "version": entry.get("version"),
        "changes": shown.changes(entity, before, after),
    }


def _decision(shown: Shown, entity: str, item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "at": shown.instant(item.get("at")),
        "kind": shown.word("records.kind", str(item.get("kind"))),
        "rule": shown.rule(str(item.get("rule"))),
        "rule_id": item.get("rule"),
        "config_version": item.get("config_version"),
        "changes": shown.changes(entity, item.get("before") or {}, item.get("after") or {}),
        "why": item.get("explanation") or "",
    }


def _why_not(shown: Shown, entity: str, item: Mapping[str, Any]) -> dict[str, Any]:
    waits = item.get("waits_until")
    if waits:
        verdict = shown.t("records.why_not.waits", until=shown.instant(str(waits)))
    else:
        verdict = shown.t("records.why_not.holds" if item.get("holds") else "records.why_not.fails")
    return {
        "rule": shown.rule(str(item.get("rule"))),
        "rule_id": item.get("rule"),
        "to": shown.pool(entity, str(item.get("to"))),
        "holds": bool(item.get("holds")),
        "verdict": verdict,
        "why": item.get("explanation") or "",
    }


def _actions(who: Viewer, svc: Services, policy: Policy, record: Record) -> dict[str, Any]:
    """What the viewer can do to the record from its page: claim it from the public pool
    (when they may claim from it), or move it into a pool the bundle lets people move
    records into (when they may edit it). The service checks both again."""
    pool_set = who.cfg.bundle.pool_set_of(record.entity)
    if pool_set is None:
        return {"claim": False, "moves": []}
    public = pool_set.public
    claim = public is not None and record.pool == public.pool
    moves = [
        (p.id, who.label(p.label, p.id))
        for p in pool_set.pools.values()
        if p.manual and p.id != record.pool
    ]
    if moves and not may(svc, policy, record, "edit"):
        moves = []
    return {"claim": claim and policy.may_claim(record.entity), "moves": moves}
