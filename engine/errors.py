"""Every error Tidepool raises on purpose, in one tree: `except TidepoolError` catches them all.

A `CallerError` is answered to whoever asked: its class says the HTTP `status` and a stable
`code`, and the shells (the API's problem+json, the admin pages) read the status from the
class; no table maps classes to statuses. A `Signal` is internal: caught inside the engine and
turned into a caller error or a fallback there, it has no status (None), and one that escapes
is a bug (a 500).

The tree: name, status and code, and the module of a class that lives next to what it needs.
This module imports nothing from the engine at run time, so any package (engine.conditions
too) may derive from it.

    TidepoolError
    ├── CallerError                  400  bad_request
    │   ├── ServiceError             400  request_failed
    │   │   ├── NotFound             404  not_found
    │   │   ├── Invalid              422  invalid
    │   │   │   ├── BadQuery         400  bad_query
    │   │   │   └── BadParams        422  bad_params              engine.service.qr
    │   │   ├── DuplicateValue       409  duplicate_value
    │   │   ├── Refused              409  refused
    │   │   ├── Forbidden            403  forbidden
    │   │   ├── Unauthorized         401  unauthorized
    │   │   ├── VersionConflict      409  version_conflict
    │   │   ├── IdempotencyMismatch  422  idempotency_mismatch
    │   │   ├── TooLarge             413  too_large
    │   │   ├── RateLimited          429  rate_limited
    │   │   └── Spam                 422  spam
    │   ├── BundleInvalid            422  bundle_invalid          engine.config.errors
    │   ├── SignInNeeded             401  sign_in_needed          admin_ui.session
    │   ├── CsrfFailed               403  csrf_failed             admin_ui.session
    │   └── BodyRefused              400  body_unreadable         admin_ui.hosted.body
    │       ├── BodyTooLarge         413  body_too_large          admin_ui.hosted.body
    │       └── BodyUnsupported      415  unsupported_media_type  admin_ui.hosted.body
    └── Signal
        ├── ConditionError                                        engine.conditions.errors
        ├── StructuredError                                       engine.conditions.structured
        ├── PatternError                                          engine.conditions.regex
        ├── NotCompilable                                         engine.conditions.compile_sql
        ├── FieldValueError                                       engine.fields.errors
        ├── TemplateError                                         engine.templating
        ├── RollupOverflow                                        engine.rules.rollups
        ├── UniqueTaken                                           engine.storage.store
        ├── Retry                                                 engine.service.jobs
        ├── GiveUp                                                engine.service.jobs
        ├── AddressRefused                                        engine.service.outbound
        └── CannotResolve                                         engine.service.outbound

tests/test_errors.py holds this drawing to the classes: a class added and not drawn fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # for the annotation only: at run time this module imports nothing
    from engine.fields.validator import FieldError


class TidepoolError(Exception):
    """The root, never raised itself. `status` stays None on every Signal."""

    status: ClassVar[int | None] = None


class CallerError(TidepoolError):
    """An error the caller is answered with: its HTTP `status` and a stable `code`."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"


class Signal(TidepoolError):
    """An internal signal, caught inside the engine (a value refused, a job to retry, …).

    No `status`; some carry a message `code` of their own on each instance."""


# --- the service layer's refusals: answered as problem+json (or an admin page) ---------------


class ServiceError(CallerError):
    """Base: a request that cannot be carried out as asked. Nothing was changed."""

    status = 400
    code = "request_failed"
    title = "Request failed"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)

    def extra(self) -> dict[str, Any]:
        return {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    title = "Not found"


class Invalid(ServiceError):
    status = 422
    code = "invalid"
    title = "Invalid input"


class BadQuery(Invalid):
    """A list query (filter, sort, cursor) that cannot be run."""

    status = 400
    code = "bad_query"
    title = "Bad query"


class DuplicateValue(ServiceError):
    status = 409
    code = "duplicate_value"
    title = "Duplicate value"


class Refused(ServiceError):
    """A well-formed request the bundle's rules do not allow (e.g. a move by hand)."""

    status = 409
    code = "refused"
    title = "Not allowed"


class Forbidden(ServiceError):
    """The caller's roles do not allow this (e.g. assigning records by hand)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(ServiceError):
    """No API key, or not a valid one (the API answers with WWW-Authenticate: Bearer)."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class VersionConflict(ServiceError):
    status = 409
    code = "version_conflict"
    title = "Version conflict"

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version}


class IdempotencyMismatch(ServiceError):
    status = 422
    code = "idempotency_mismatch"
    title = "Idempotency key reused with another request"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
    title = "Request too large"


class RateLimited(ServiceError):
    """Too many submissions from one address, or to one form, within the window."""

    status = 429
    code = "rate_limited"
    title = "Too many submissions"

    def __init__(self, detail: str, retry_after: int, scope: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # seconds until one more is allowed
        self.scope = scope  # "address" | "form"

    def extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after, "scope": self.scope}


class Spam(ServiceError):
    """The honeypot was filled in: the submission looks automated."""

    status = 422
    code = "spam"
    title = "Submission refused"
