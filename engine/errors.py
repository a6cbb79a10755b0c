"""Errors the service layer raises; shells map them to HTTP statuses or exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.fields.validator import FieldError


class ServiceError(Exception):
    """Base: a request that cannot be carried out as asked. Nothing was changed."""

    title = "Request failed"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)

    def extra(self) -> dict[str, Any]:
        return {}


class NotFound(ServiceError):
    title = "Not found"


class Invalid(ServiceError):
    title = "Invalid input"


class BadQuery(Invalid):
    """A list query (filter, sort, cursor) that cannot be run."""

    title = "Bad query"


class DuplicateValue(ServiceError):
    title = "Duplicate value"


class Refused(ServiceError):
    """A well-formed request the bundle's rules do not allow (e.g. a move by hand)."""

    title = "Not allowed"


class Forbidden(ServiceError):
    """The caller's roles do not allow this (e.g. assigning records by hand)."""

    title = "Forbidden"


class VersionConflict(ServiceError):
    title = "Version conflict"

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version}


class IdempotencyMismatch(ServiceError):
    title = "Idempotency key reused with another request"


class TooLarge(ServiceError):
    title = "Request too large"
