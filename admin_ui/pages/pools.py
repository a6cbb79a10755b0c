"""The pool board (客户池看板): a column per pool with its count and newest cards; cards move by
hand only into pools the bundle marks `manual`, and the public pool (公海) has a claim button
per card. A refused move or claim says why on the page, in the viewer's language.

The board holds the records the viewer sees (engine/service/policy.py): a card has a move form
only when they may edit it, the public pool's claim buttons only when they may claim from it;
the service refuses a forged move or claim all the same."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from admin_ui.access import policy_of
from admin_ui.pages.records import Shown, pop_flash, set_flash
from admin_ui.session import AdminRoute, Checked, Svc, Viewer, Who
from admin_ui.templating import render
from engine.config.model import PoolSetDef
from engine.errors import NotFound, Refused, ServiceError, VersionConflict
from engine.i18n import text
from engine.service.board import Claims, Column, PoolBoard, pool_set, title_field
from engine.service.policy import Policy
from engine.storage.store import Record

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)


@router.get("/pools")
def board(
    request: Request, who: Who, svc: Svc, chosen: Annotated[str, Query(alias="set")] = ""
) -> Response:
    sets = list(who.cfg.bundle.pool_sets.values())
    if not sets:
        return render(request, who, "pools.html", sets=[], current=None, flash=pop_flash(request))
    current = pool_set(who.cfg, chosen) if chosen else sets[0]
    policy = policy_of(svc, who)
    pools = PoolBoard(svc.store, svc.configs, svc.clock)
    columns = pools.columns(who.tenant, current.name, policy=policy)
    claimer = policy.may_claim(current.entity)
    claims = pools.claims(who.tenant, current.entity, who.user.id) if claimer else None
    shown = Shown(who, policy.mask)
    return render(
        request,
        who,
        "pools.html",
        sets=[(s.name, who.label(s.label, s.name)) for s in sets],
        current=current,
        entity=who.cfg.entity(current.entity),
        columns=[_column(shown, current, c, claimer) for c in columns],
        total=sum(c.count for c in columns),
        claims=_claims_line(who, claims),
        flash=pop_flash(request),
        here=f"/admin/pools?set={current.name}",
    )


def _column(shown: Shown, pools: PoolSetDef, column: Column, claimer: bool) -> dict[str, Any]:
    """A column as the page shows it; `claimer`: whether the viewer may claim from the
    public pool."""
    definition = pools.pools[column.pool]
    public = pools.public is not None and pools.public.pool == column.pool
    name = title_field(shown.bundle.entities[pools.entity])
    manual = [p for p in pools.pools.values() if p.manual]
    cards = []
    for card in column.cards:
        title = shown.mask.value(pools.entity, name, card.title) if name else None
        cards.append(
            {
                "id": card.id,
                "title": str(title) if title not in (None, "") else card.id[:8],
                "owner": shown.user(card.owner) if card.owner else None,
                "version": card.version,
                "created": shown.instant(card.created_at),
                "movable": card.editable,
            }
        )
    return {
        "pool": column.pool,
        "label": shown.who.label(definition.label, column.pool),
        "count": column.count,
        "manual": definition.manual,
        "public": public,
        "claim": public and claimer,
        "cards": cards,
        # the same targets for every card of a column: the pools people may move records into
        "moves": [(p.id, shown.who.label(p.label, p.id)) for p in manual if p.id != column.pool],
    }


def _claims_line(who: Viewer, claims: Claims | None) -> str | None:
    if claims is None:
        return None
    cap = f"/{claims.daily_cap}" if claims.daily_cap is not None else ""
    most = f"/{claims.max_holdings}" if claims.max_holdings is not None else ""
    return text("pools.claims", who.locale, today=claims.today, cap=cap, held=claims.held, max=most)


# moving and claiming ---------------------------------------------------------------------------
@router.post("/pools/move")
async def move(
    request: Request,
    who: Checked,
    svc: Svc,
    entity: Annotated[str, Form()],
    record_id: Annotated[str, Form()],
    pool: Annotated[str, Form()],
    version: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Move a card by hand: the service refuses pools the bundle does not mark manual, and
    records the viewer may not edit (or see: as if there were none)."""
    policy = await run_in_threadpool(policy_of, svc, who)
    try:
        moved = await run_in_threadpool(
            svc.records.move,
            who.tenant,
            entity,
            record_id,
            pool,
            expected_version=int(version) if version.isdigit() else None,
            actor=_actor(who),
            policy=policy,
        )
    except ServiceError as exc:
        reason = _move_reason(who, entity, pool, exc)
        set_flash(request, "error", text("pools.move_refused", who.locale, reason=reason))
    else:
        set_flash(request, "ok", _moved_text(who, policy, moved, pool))
    return _back(next, entity, who)


@router.post("/pools/claim")
async def claim(
    request: Request,
    who: Checked,
    svc: Svc,
    entity: Annotated[str, Form()],
    record_id: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    """The viewer claims a card from the public pool; a refusal (daily cap, holdings cap,
    cooldown…) is shown on the page it came from."""
    user = who.user.id
    try:
        claimed = await run_in_threadpool(
            svc.owners.claim, who.tenant, entity, record_id, user, actor=_actor(who), by=user
        )
    except ServiceError as exc:
        refused = text("pools.claim_refused", who.locale, reason=_reason(who, exc))
        set_flash(request, "error", refused)
    else:
        shown = Shown(who, (await run_in_threadpool(policy_of, svc, who)).mask)
        title = _title(shown, claimed)
        pool = shown.pool(entity, claimed.pool)
        set_flash(request, "ok", text("pools.claimed", who.locale, title=title, pool=pool))
    return _back(next, entity, who)


def _actor(who: Viewer) -> str:
    return f"ui:{who.user.id}"


def _reason(who: Viewer, exc: ServiceError) -> str:
    """The service's reasons in the viewer's language (its detail when it gives none); a
    record that is not there, or not the viewer's to see, in the same words."""
    if isinstance(exc, NotFound):
        return text("pools.gone", who.locale)
    messages = [e.message(who.locale) for e in exc.errors]
    return "; ".join(m for m in messages if m) or exc.detail


def _move_reason(who: Viewer, entity: str, pool: str, exc: ServiceError) -> str:
    if isinstance(exc, VersionConflict):
        return text("pools.stale", who.locale)
    pool_set_def = who.cfg.bundle.pool_set_of(entity)
    target = pool_set_def.pools.get(pool) if pool_set_def is not None else None
    if isinstance(exc, Refused) and target is not None and not target.manual:
        label = who.label(target.label, pool)
        return text("pools.not_manual", who.locale, pool=label)
    return _reason(who, exc)


def _moved_text(who: Viewer, policy: Policy, moved: Record, pool: str) -> str:
    shown = Shown(who, policy.mask)
    title = _title(shown, moved)
    target = shown.pool(moved.entity, pool)
    if moved.pool != pool:  # promotions from the target took it further
        now = shown.pool(moved.entity, moved.pool)
        return text("pools.moved_on", who.locale, title=title, pool=target, now=now)
    return text("pools.moved", who.locale, title=title, pool=target)


def _title(shown: Shown, record: Record) -> str:
    entity = shown.bundle.entities[record.entity]
    return shown.title(entity, record.id, shown.mask.data(record.entity, record.data))


def _back(target: str, entity: str, who: Viewer) -> Response:
    """Back to the page the form was on (only pages of the admin UI), else the board."""
    safe = target.startswith("/admin/") and not target.startswith("//") and "\\" not in target
    if not safe:
        found = who.cfg.bundle.pool_set_of(entity)
        target = f"/admin/pools?set={found.name}" if found is not None else "/admin/pools"
    return RedirectResponse(target, status_code=303)
