"""Records endpoints under /api/v1/{tenant}: thin translations to the record service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from engine.api.auth import Acting, Svc, Who, acting
from engine.api.problems import asked_locale
from engine.errors import Invalid
from engine.fields.validator import FieldError
from engine.service import Idem
from engine.service.listing import DEFAULT_LIMIT, MAX_LIMIT, Search
from engine.service.policy import Policy
from engine.service.records import DUPLICATE_OF
from engine.service.views import record_json
from engine.storage.store import Record

router = APIRouter(prefix="/api/v1/{tenant}", tags=["records"], dependencies=[Depends(acting)])

IdemKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry-safe key: same key + body → same answer",
    ),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="Expected record version")]
RESERVED_QUERY = {"sort", "limit", "cursor", "where", "view"}


def _written(result: Any, replayed: bool, status: int) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(result, status_code=status, headers=headers)


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _shown(policy: Policy, record: Record) -> JSONResponse:
    """A record as the caller may see it (masked: engine/service/masking.py), with its
    version as the ETag."""
    shown = policy.mask.record(record_json(record))
    return JSONResponse(shown, headers=_etag(record.version))


def _expected_version(if_match: str | None, body: dict[str, Any]) -> int | None:
    raw = body.pop("version", None) if "version" in body else if_match
    if raw is None:
        return None
    text = str(raw).strip().removeprefix("W/").strip('"')
    if text == "*":  # If-Match: * — any current version will do
        return None
    if not text.isdigit():
        raise Invalid(
            "the expected version must be a whole number",
            [FieldError("version", "type", {"expected": "a whole number"})],
        )
    return int(text)


@router.post("/records/{entity}", status_code=201, summary="Create a record")
def create_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    request: Request,
    data: Annotated[dict[str, Any], Body()],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    idem = Idem.of(idempotency_key, "create", entity, data) if idempotency_key else None
    written = svc.records.create(
        who.tenant, entity, data, actor=who.actor, idem=idem, policy=policy
    )
    return _written(policy.mask.written(written.result), written.replayed, 201)


@router.post("/forms/{form}/submit", status_code=201, summary="Submit a record through a form")
def submit_form(
    who: Who,
    svc: Svc,
    policy: Acting,
    form: str,
    request: Request,
    data: Annotated[dict[str, Any], Body()],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The body holds the entered values by field name. The query string is the form page's
    URL parameters (`?source=qr_scan&activity=2026-expo`): they fill the form's hidden
    `from_url` fields, so a page posts to this URL with its own query. Fields whose
    `visible_when` does not hold are dropped; `required_when` fields are required when their
    condition holds (422 otherwise). With the form's `duplicates` rule, a repeat within the
    window answers 200 with the earlier record and `duplicate_of` (no new record)."""
    params = dict(request.query_params)
    parts = (form, data, params) if params else (form, data)
    idem = Idem.of(idempotency_key, "form", *parts) if idempotency_key else None
    written = svc.records.submit_form(
        who.tenant, form, data, params=params, idem=idem, policy=policy
    )
    status = 200 if DUPLICATE_OF in written.result else 201
    return _written(policy.mask.written(written.result), written.replayed, status)


@router.post("/records/{entity}/batch", summary="Create up to 1,000 records; one result each")
def create_batch(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    request: Request,
    body: Annotated[dict[str, Any], Body(examples=[{"records": [{"name": "x"}]}])],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    items = body.get("records")
    idem = Idem.of(idempotency_key, "batch", entity, items) if idempotency_key else None
    written = svc.records.create_many(
        who.tenant,
        entity,
        items,
        actor=who.actor,
        idem=idem,
        locale=asked_locale(request),
        policy=policy,
    )
    return _written(policy.mask.written(written.result, entity), written.replayed, 200)


@router.get("/records/{entity}", summary="List records with filters, sort and cursor")
def list_records(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    request: Request,
    sort: Annotated[
        str | None,
        Query(
            description="Field to sort by, '-' first for "
            "descending (default: the view's, else -created_at)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    where: Annotated[
        str | None, Query(description="A condition, e.g. budget > 1000 and region in ['east']")
    ] = None,
    view: Annotated[str | None, Query(description="A saved view of the bundle")] = None,
) -> dict[str, Any]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in RESERVED_QUERY]
    search = Search(params, where, view, sort, limit, cursor)
    mask = policy.mask  # a masked field cannot be filtered or sorted by (403)
    page = svc.records.search(who.tenant, entity, search, mask=mask, policy=policy)
    records = [mask.record(record_json(r)) for r in page.records]
    return {"records": records, "next_cursor": page.next_cursor}


@router.get("/records/{entity}/{record_id}", summary="Read a record")
def get_record(who: Who, svc: Svc, policy: Acting, entity: str, record_id: str) -> JSONResponse:
    return _shown(policy, svc.records.get(who.tenant, entity, record_id, policy))


@router.patch("/records/{entity}/{record_id}", summary="Change some fields of a record")
def update_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    patch: Annotated[dict[str, Any], Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    expected = _expected_version(if_match, patch)
    mask = policy.mask  # a masked value sent back unchanged keeps the stored one
    record = svc.records.update(
        who.tenant,
        entity,
        record_id,
        patch,
        expected_version=expected,
        actor=who.actor,
        mask=mask,
        policy=policy,
    )
    return JSONResponse(mask.record(record_json(record)), headers=_etag(record.version))


@router.delete("/records/{entity}/{record_id}", status_code=204, summary="Delete (soft)")
def delete_record(
    who: Who, svc: Svc, policy: Acting, entity: str, record_id: str, if_match: IfMatch = None
) -> Response:
    svc.records.delete(
        who.tenant,
        entity,
        record_id,
        expected_version=_expected_version(if_match, {}),
        actor=who.actor,
        policy=policy,
    )
    return Response(status_code=204)


@router.get("/records/{entity}/{record_id}/history", summary="Every change of a record")
def record_history(
    who: Who, svc: Svc, policy: Acting, entity: str, record_id: str
) -> dict[str, Any]:
    history = svc.records.history(who.tenant, entity, record_id, policy.mask, policy)
    return {"history": history}


@router.post(
    "/records/{entity}/{record_id}/check",
    summary="Evaluate a condition on a record, with its trace (why / why not)",
)
def check_condition(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    request: Request,
    body: Annotated[dict[str, Any], Body(examples=[{"where": "budget > 1000"}])],
) -> dict[str, Any]:
    where = body.get("where")
    if not isinstance(where, str) or not where.strip():
        raise Invalid('give the condition as {"where": "…"}', [FieldError("where", "required")])
    mask = policy.mask  # a condition on a masked field is refused (403)
    return svc.records.check(
        who.tenant, entity, record_id, where, asked_locale(request), mask, policy
    )


@router.get(
    "/records/{entity}/{record_id}/explain",
    summary="Why is this record where it is: its decisions, and why it has not moved",
)
def explain_record(
    who: Who, svc: Svc, policy: Acting, entity: str, record_id: str, request: Request
) -> dict[str, Any]:
    lang = asked_locale(request)
    return svc.records.explain(who.tenant, entity, record_id, lang, policy.mask, policy)


@router.post("/sweeps", summary="Apply the promotions that became due with time")
def run_sweep(who: Who, svc: Svc, policy: Acting) -> dict[str, Any]:
    policy.require("configure")
    moved = svc.sweep(who.tenant)
    reminded = sum(n for rule, n in moved.items() if rule.endswith(".protection_reminder"))
    return {"moved": sum(moved.values()) - reminded, "reminded": reminded, "by_rule": moved}


@router.post(
    "/records/{entity}/{record_id}/move",
    summary="Move a record by hand into a pool the bundle allows",
)
def move_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    body: Annotated[dict[str, Any], Body(examples=[{"pool": "has_need"}])],
    if_match: IfMatch = None,
) -> JSONResponse:
    expected = _expected_version(if_match, body)
    record = svc.records.move(
        who.tenant,
        entity,
        record_id,
        body.get("pool"),
        expected_version=expected,
        actor=who.actor,
        policy=policy,
    )
    return _shown(policy, record)


@router.post(
    "/records/{entity}/{record_id}/claim",
    summary="Claim a record from the public pool (公海) for a user",
    description="Refused with 409 and the reason when the record is not in the public pool, "
    "the user reached the daily claim cap or the holdings cap, or is still in the cooldown "
    "after giving the record up.",
)
def claim_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    body: Annotated[dict[str, Any], Body(examples=[{"user": "alice"}])],
) -> JSONResponse:
    user = body.get("user", who.user)  # a user's key claims for its user by default
    record = svc.owners.claim(who.tenant, entity, record_id, user, actor=who.actor, by=who.user)
    return _shown(policy, record)


@router.post(
    "/records/{entity}/{record_id}/release",
    summary="Give a record back to the public pool",
    description="With `user`, only that user's record is released (409 otherwise). A key "
    "acting for a user releases that user's records; others' need a role that can assign.",
)
def release_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    body: Annotated[dict[str, Any] | None, Body(examples=[{"user": "alice"}])] = None,
) -> JSONResponse:
    user = (body or {}).get("user", who.user)  # a user's key releases its user's records
    record = svc.owners.release(who.tenant, entity, record_id, user, actor=who.actor, by=who.user)
    return _shown(policy, record)


@router.post(
    "/records/{entity}/{record_id}/assign",
    summary="Give a record to a user by hand (a manager's assignment)",
    description="A key acting for a user (`tidepool keys create --user`) needs a role with "
    "`can: [assign]` (403 otherwise); a tenant-wide key may always.",
)
def assign_record(
    who: Who,
    svc: Svc,
    policy: Acting,
    entity: str,
    record_id: str,
    body: Annotated[dict[str, Any], Body(examples=[{"user": "alice"}])],
) -> JSONResponse:
    user = body.get("user")
    record = svc.owners.assign(who.tenant, entity, record_id, user, actor=who.actor, by=who.user)
    return _shown(policy, record)


@router.get(
    "/assignment/stats",
    summary="Per user and rule: assigned today and this week, open load, capacity left",
)
def assignment_stats(who: Who, svc: Svc, policy: Acting) -> dict[str, Any]:
    return svc.assignment.stats(who.tenant, policy)


@router.post(
    "/users/{user}/deactivate",
    summary="Switch a user off: no new records; theirs go as the bundle's on_deactivate says",
)
def deactivate_user(who: Who, svc: Svc, user: str) -> dict[str, Any]:
    return svc.owners.set_active(who.tenant, user, False, actor=who.actor, by=who.user)


@router.post("/users/{user}/activate", summary="Switch a user on again")
def activate_user(who: Who, svc: Svc, user: str) -> dict[str, Any]:
    return svc.owners.set_active(who.tenant, user, True, actor=who.actor, by=who.user)
