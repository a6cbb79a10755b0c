"""The form page (first visit, or again with the answers and what is wrong), the thank-you
page, and a refusal as a page or as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from admin_ui.hosted import pages
from admin_ui.hosted.outcomes import Refusal
from admin_ui.hosted.values import defaults
from admin_ui.hosted.visit import Visit
from admin_ui.hosted.widgets import Page, Section, sections
from engine.service.public_forms import HONEYPOT

NO_STORE = {"Cache-Control": "no-store"}  # answers to a POST hold what the visitor typed


async def form_page(
    visit: Visit,
    raw: Mapping[str, Sequence[str]] | None = None,
    data: Any = None,
    refusal: Refusal | None = None,
) -> Response:
    """The form with the fields shown and required for `data` (the engine's FormState); the
    inputs show `raw` (the answers as typed), or on a first visit the defaults."""
    state = await run_in_threadpool(
        visit.svc.forms.state, visit.tenant, visit.form.name, data or {}, visit.params
    )
    problems = refusal.problems if refusal else ()
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.field, []).append(p.message)
    shown = sections(
        Page(
            visit.found,
            visit.locale,
            state,
            defaults(visit.form.defaults, visit.fields) if raw is None else raw,
            errors,
            (visit.t("hosted.yes"), visit.t("hosted.no")),
            visit.t("hosted.choose"),
        )
    )
    response = pages.html(
        "form.html",
        visit.frame("form"),
        refusal.status if refusal else 200,
        description=visit.label(visit.form.description),
        sections=shown,
        action=visit.url(),
        state_url=visit.url("/state"),
        refusal=refusal,
        summary=[(_anchor(shown, p.field), p.message) for p in problems],
        honeypot=HONEYPOT,
    )
    return visit.secure(_refusal_headers(response, refusal))


def _anchor(shown: list[Section], name: str) -> str:
    """The link from the list of problems to the field, when the page shows it."""
    visible = any(w.name == name and w.visible for s in shown for w in s.widgets)
    return f"#f-{name}" if visible else ""


def _refusal_headers(response: Response, refusal: Refusal | None) -> Response:
    if refusal is not None:
        response.headers.update(NO_STORE)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def refused(visit: Visit, refusal: Refusal, as_json: bool) -> Response:
    """A refusal that does not show the form again: JSON or a page saying what happened."""
    response: Response
    if as_json:
        extra = {"retry_after": refusal.retry_after} if refusal.retry_after is not None else {}
        problems = [p.as_dict() for p in refusal.problems]
        response = pages.problem(refusal.status, refusal.title, refusal.detail, problems, **extra)
    else:
        frame = visit.frame("message", refusal.title)
        response = pages.message(frame, refusal.status, refusal.detail, back=visit.url())
    return visit.secure(_refusal_headers(response, refusal))


def thank_you(visit: Visit) -> str:
    """The form's thank-you message, or the page's own."""
    return visit.label(visit.form.thank_you) or visit.t("hosted.thanks_default")


def thanks_page(visit: Visit, duplicate: bool) -> Response:
    response = pages.html(
        "thanks.html",
        visit.frame("thanks"),
        said=thank_you(visit),
        duplicate=duplicate,
        again=visit.url(dup=None),
    )
    return visit.secure(response)
