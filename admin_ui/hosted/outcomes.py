"""What a visitor is told when a submission is not taken, in their language: every field's
problem as a sentence naming the field, a rate limit with the wait, the honeypot, a body the
page cannot read. The same Refusal becomes a page or, for a client's script, JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from admin_ui.hosted.body import BodyRefused
from admin_ui.hosted.language import sentences
from admin_ui.hosted.visit import Visit
from engine.errors import RateLimited, ServiceError, Spam
from engine.fields.validator import FieldError

_BODY = {  # status → (title, text) of a body the page does not take
    400: ("hosted.unreadable_title", "hosted.unreadable"),
    413: ("hosted.too_large_title", "hosted.too_large"),
    415: ("hosted.unsupported_title", "hosted.unsupported"),
}


@dataclass(frozen=True)
class Problem:
    """One refused field, told as a sentence in the visitor's language."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Refusal:
    status: int
    title: str
    detail: str
    problems: tuple[Problem, ...] = ()
    retry_after: int | None = None  # seconds (429)
    keep: bool = False  # the page shows the form again with the answers (a 422 or a 429)


def label(visit: Visit, name: str) -> str:
    """A field's label as the page shows it; an unknown name as sent."""
    on_form = next((ff for ff in visit.form.fields if ff.name == name), None)
    field = visit.fields.get(name)
    return (
        visit.label((on_form.label if on_form else None) or (field.label if field else None))
        or name
    )


def problem(visit: Visit, error: FieldError) -> Problem:
    """The error as a sentence. A required_when reads as "is required" (the page marks the
    field required; the condition's text is for the bundle's authors); a value already used
    does not repeat the value."""
    code = "required" if error.code == "required_when" else error.code
    name = label(visit, error.field) if error.field else ""
    if code == "unique":
        return Problem(error.field, error.code, visit.t("hosted.unique", label=name))
    said = FieldError(error.field, code, error.params).message(visit.locale)
    told = visit.t("hosted.field_error", label=name, message=said) if name else said
    return Problem(error.field, error.code, told)


def in_page_order(visit: Visit, errors: Iterable[FieldError]) -> list[FieldError]:
    """The errors in the order of the form's fields (others, e.g. unknown names, last)."""
    order = {name: i for i, name in enumerate(visit.form.field_names)}
    return sorted(errors, key=lambda e: order.get(e.field, len(order)))


def invalid(visit: Visit, errors: Iterable[FieldError]) -> Refusal:
    problems = tuple(problem(visit, e) for e in in_page_order(visit, errors))
    return Refusal(
        422, visit.t("hosted.failed_title"), visit.t("hosted.invalid"), problems, keep=True
    )


def rate_limited(visit: Visit, exc: RateLimited) -> Refusal:
    minutes = max(1, math.ceil(exc.retry_after / 60))
    wait = (
        visit.t("hosted.try_again_minute")
        if minutes == 1
        else visit.t("hosted.try_again_minutes", n=minutes)
    )
    said = visit.t(
        "hosted.rate_limited_address" if exc.scope == "address" else "hosted.rate_limited_form"
    )
    title = visit.t("hosted.failed_title")
    detail = sentences(visit.locale, said, wait)
    return Refusal(exc.status, title, detail, retry_after=exc.retry_after, keep=True)


def spam(visit: Visit, exc: Spam) -> Refusal:
    return Refusal(exc.status, visit.t("hosted.spam_title"), visit.t("hosted.spam"))


def body_refused(visit: Visit, exc: BodyRefused) -> Refusal:
    title, said = _BODY.get(exc.status, _BODY[400])
    kb = visit.form.limits.max_body_bytes // 1024
    return Refusal(exc.status, visit.t(title), visit.t(said, kb=kb))


def not_object(visit: Visit) -> Refusal:
    only = Problem("", "type", visit.t("hosted.not_object"))
    return Refusal(422, visit.t("hosted.unreadable_title"), visit.t("hosted.not_object"), (only,))


def cross_site(visit: Visit, origin: str) -> Refusal:
    return Refusal(
        403, visit.t("hosted.cross_site_title"), visit.t("hosted.cross_site", origin=origin)
    )


def failed(visit: Visit, exc: ServiceError) -> Refusal:
    """Any other refusal of the engine (nothing was stored): its own words."""
    problems = tuple(problem(visit, e) for e in exc.errors)
    detail = visit.t("hosted.failed", detail=exc.detail)
    return Refusal(422, visit.t("hosted.failed_title"), detail, problems, keep=bool(problems))
