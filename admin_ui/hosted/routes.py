"""The routes of the hosted form page:

    GET     /f/{tenant}/{form}            the form, in the visitor's language
    POST    /f/{tenant}/{form}            a submission (the page's form, or JSON from a script)
    OPTIONS /f/{tenant}/{form}            the CORS preflight (listed origins only)
    POST    /f/{tenant}/{form}/state      the fields shown and required for the values so far
    OPTIONS /f/{tenant}/{form}/state      its preflight
    GET     /f/{tenant}/{form}/thanks     the thank-you page (?dup=1: received before)
    GET     /f/{tenant}/{form}/embed.js   the script a client site includes to embed the page
    GET     /f/_assets/{name}             the page's stylesheet and script
    *       /f/…                          anything else: a 404 in the visitor's language

Every answer carries the form's frame policy (headers.secure). The engine decides everything
about a submission (engine.service.public_forms); these only translate.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from admin_ui.hosted import assets, body, headers, outcomes
from admin_ui.hosted.form_page import NO_STORE, form_page, refused, thank_you, thanks_page
from admin_ui.hosted.values import converted
from admin_ui.hosted.visit import Visit, not_found, visit_of, wants_json
from engine.errors import DuplicateValue, Invalid, NotFound, RateLimited, ServiceError, Spam
from engine.service.public_forms import HONEYPOT, Submitted

router = APIRouter(include_in_schema=False)


@router.api_route("/f/_assets/{name}", methods=["GET", "HEAD"])
async def asset(request: Request, name: str) -> Response:
    found = assets.served(name) if name in assets.PAGE_ASSETS else None
    return headers.secure(found, request, ()) if found else not_found(request)


@router.api_route("/f/{tenant}/{form}", methods=["GET", "HEAD"])
async def page(request: Request, tenant: str, form: str) -> Response:
    visit = await visit_of(request, tenant, form)
    return await form_page(visit) if visit else not_found(request)


@router.post("/f/{tenant}/{form}")
async def submit(request: Request, tenant: str, form: str) -> Response:
    visit = await visit_of(request, tenant, form)
    if visit is None:
        return not_found(request)
    as_json = wants_json(request)
    origin = headers.foreign(request, visit.origins)
    if origin is not None:
        return refused(visit, outcomes.cross_site(visit, origin), as_json)
    try:
        sent = await body.entered(request, visit.form.limits.max_body_bytes)
    except body.BodyRefused as exc:
        return refused(visit, outcomes.body_refused(visit, exc), as_json)
    if sent.is_json:
        return await _submit_json(visit, sent.data)
    return await _submit_page(visit, sent.raw)


async def _submit_page(visit: Visit, raw: dict[str, list[str]]) -> Response:
    """The page's own form: a redirect to the thank-you page (or the form's redirect), or the
    form again with the answers and what is wrong."""
    trap = raw.pop(HONEYPOT, [])
    data = converted(raw, visit.fields)
    outcome = await _submitted(visit, data, next((v for v in trap if v), None))
    if isinstance(outcome, outcomes.Refusal):
        if outcome.keep:
            return await form_page(visit, raw, data, outcome)
        return refused(visit, outcome, as_json=False)
    target = visit.form.redirect or visit.url(
        "/thanks", lang=visit.locale, dup="1" if outcome.duplicate else None
    )
    return visit.secure(RedirectResponse(target, status_code=303, headers=NO_STORE))


async def _submit_json(visit: Visit, data: Any) -> Response:
    """A client site's script: 201 with what to tell the visitor, or a problem."""
    if not isinstance(data, dict):
        return refused(visit, outcomes.not_object(visit), as_json=True)
    trap = data.pop(HONEYPOT, None)
    outcome = await _submitted(visit, data, str(trap) if trap not in (None, "") else None)
    if isinstance(outcome, outcomes.Refusal):
        return refused(visit, outcome, as_json=True)
    said = visit.t("hosted.duplicate_note") if outcome.duplicate else thank_you(visit)
    answer = {
        "status": "duplicate" if outcome.duplicate else "created",
        "message": said,
        "redirect": visit.form.redirect,
    }
    return visit.secure(JSONResponse(answer, status_code=201, headers=NO_STORE))


async def _submitted(
    visit: Visit, data: dict[str, Any], trap: str | None
) -> Submitted | outcomes.Refusal:
    """The engine's answer to a submission, or what to tell the visitor instead."""
    forms = visit.svc.forms
    try:
        return await run_in_threadpool(
            lambda: forms.submit(
                visit.tenant,
                visit.form.name,
                data,
                visit.params,
                address=visit.address,
                honeypot=trap,
            )
        )
    except RateLimited as exc:
        return outcomes.rate_limited(visit, exc)
    except Spam as exc:
        return outcomes.spam(visit, exc)
    except (Invalid, DuplicateValue) as exc:
        return outcomes.invalid(visit, exc.errors)
    except NotFound:  # the form stopped being public a moment ago
        return outcomes.Refusal(404, visit.t("hosted.not_found_title"), visit.t("hosted.not_found"))
    except ServiceError as exc:
        return outcomes.failed(visit, exc)


@router.post("/f/{tenant}/{form}/state")
async def state(request: Request, tenant: str, form: str) -> Response:
    """{"visible": [...], "required": [...]} for a JSON object of the values entered so far
    (the page's query string on the URL): the page asks as the visitor types."""
    visit = await visit_of(request, tenant, form)
    if visit is None:
        return not_found(request)
    origin = headers.foreign(request, visit.origins)
    if origin is not None:
        return refused(visit, outcomes.cross_site(visit, origin), as_json=True)
    try:
        if not body.is_json(request.headers):
            raise body.BodyUnsupported
        data = body.parse_json(await body.read(request, visit.form.limits.max_body_bytes))
    except body.BodyRefused as exc:
        return refused(visit, outcomes.body_refused(visit, exc), as_json=True)
    if not isinstance(data, dict):
        return refused(visit, outcomes.not_object(visit), as_json=True)
    found = await run_in_threadpool(
        visit.svc.forms.state, visit.tenant, visit.form.name, data, visit.params
    )
    answer = {"visible": sorted(found.visible), "required": sorted(found.required)}
    return visit.secure(JSONResponse(answer, headers={"Cache-Control": "no-store"}))


@router.options("/f/{tenant}/{form}")
@router.options("/f/{tenant}/{form}/state")
async def preflight(request: Request, tenant: str, form: str) -> Response:
    visit = await visit_of(request, tenant, form)
    return headers.preflight(request, visit.origins) if visit else not_found(request)


@router.api_route("/f/{tenant}/{form}/thanks", methods=["GET", "HEAD"])
async def thanks(request: Request, tenant: str, form: str) -> Response:
    visit = await visit_of(request, tenant, form)
    if visit is None:
        return not_found(request)
    return thanks_page(visit, request.query_params.get("dup") == "1")


@router.api_route("/f/{tenant}/{form}/embed.js", methods=["GET", "HEAD"])
async def embed(request: Request, tenant: str, form: str) -> Response:
    """The embed script (the same for every form: it reads its own URL)."""
    visit = await visit_of(request, tenant, form)
    found = assets.served(assets.EMBED)
    if visit is None or found is None:
        missing = Response("/* no public form here */\n", 404, media_type="text/javascript")
        return headers.secure(missing, request, ())
    return visit.secure(found)


@router.api_route("/f/{rest:path}", methods=["GET", "HEAD", "POST", "OPTIONS"])
async def elsewhere(request: Request, rest: str) -> Response:
    """Any other address under /f/: a 404 in the visitor's language (a link with a trailing
    slash, as some QR code makers write them, goes to the page without it)."""
    trimmed = rest.rstrip("/")
    if request.method in ("GET", "HEAD") and trimmed != rest and trimmed.count("/") == 1:
        query = f"?{request.url.query}" if request.url.query else ""
        target = f"{request.scope.get('root_path', '')}/f/{quote(trimmed)}{query}"
        return headers.secure(RedirectResponse(target, 308), request, ())
    return not_found(request)
