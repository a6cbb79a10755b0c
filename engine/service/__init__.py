"""The service layer: one API for every shell; nothing here knows about HTTP."""

from engine.errors import (
    BadQuery,
    DuplicateValue,
    Forbidden,
    IdempotencyMismatch,
    Invalid,
    NotFound,
    Refused,
    ServiceError,
    TooLarge,
    VersionConflict,
)
from engine.rules.compiled import CompiledConfig
from engine.service.app import Services, bundle_dirs
from engine.service.listing import Filter, ListQuery, parse_filters
from engine.service.records import Idem, Page, RecordService, Written

__all__ = [
    "BadQuery",
    "CompiledConfig",
    "DuplicateValue",
    "Filter",
    "Forbidden",
    "Idem",
    "IdempotencyMismatch",
    "Invalid",
    "ListQuery",
    "NotFound",
    "Page",
    "RecordService",
    "Refused",
    "ServiceError",
    "Services",
    "TooLarge",
    "VersionConflict",
    "Written",
    "bundle_dirs",
    "parse_filters",
]
