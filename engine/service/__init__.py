"""The service layer: one API for every shell; nothing here knows about HTTP."""

from engine.rules.compiled import CompiledConfig
from engine.service.app import Services, bundle_dirs
from engine.service.listing import Filter, ListQuery, parse_filters
from engine.service.records import Idem, Page, RecordService, Written

__all__ = [
    "CompiledConfig",
    "Filter",
    "Idem",
    "ListQuery",
    "Page",
    "RecordService",
    "Services",
    "Written",
    "bundle_dirs",
    "parse_filters",
]
