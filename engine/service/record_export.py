"""A filtered record list as CSV: the same search as the list (filters, condition, view, sort),
page by page through its cursor, each record as its viewer may see it (masked), only the
records their policy lets them see."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from engine.config.model import EntityDef
from engine.service.listing import MAX_LIMIT, Search
from engine.service.masking import Mask
from engine.service.policy import Policy
from engine.service.records import Page, RecordService
from engine.service.views import instant
from engine.storage.store import Record

COLUMNS = ("id", "pool", "owner", "created_at", "updated_at")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBERS = frozenset({"integer", "decimal", "money"})
BOM = "\ufeff"  # so spreadsheet programs read the file as UTF-8 (Chinese names)


def header(entity: EntityDef) -> list[str]:
    return [*COLUMNS, *entity.fields]


def csv_chunks(
    records: RecordService,
    tenant: str,
    entity: str,
    search: Search,
    mask: Mask,
    policy: Policy | None = None,
) -> Iterator[str]:
    """The CSV text in chunks of a page each (with a `policy`, of the records its caller
    sees). The first page is read before anything is yielded, so a bad query raises here,
    where the caller can still answer with an error."""
    definition = records.configs.active(tenant).entity(entity)
    search = replace(search, limit=MAX_LIMIT, cursor=None)
    first = records.search(tenant, entity, search, mask=mask, policy=policy)
    return _chunks(records, tenant, entity, search, mask, definition, first, policy)


def _chunks(
    records: RecordService,
    tenant: str,
    entity: str,
    search: Search,
    mask: Mask,
    definition: EntityDef,
    page: Page,
    policy: Policy | None = None,
) -> Iterator[str]:
    yield BOM + _lines([header(definition)])
    while True:
        yield _lines([row(definition, mask, r) for r in page.records])
        if page.next_cursor is None:
            return
        following = replace(search, cursor=page.next_cursor)
        page = records.search(tenant, entity, following, mask=mask, policy=policy)


def row(entity: EntityDef, mask: Mask, record: Record) -> list[str]:
    """One record's cells: its columns, then its fields as stored, masked for the viewer."""
    data = mask.data(entity.name, record.data)
    columns: list[Any] = [
        record.id,
        record.pool,
        record.owner,
        instant(record.created_at),
        instant(record.updated_at),
    ]
    cells = [_cell(v) for v in columns]
    for name, field in entity.fields.items():
        value = data.get(name)
        cells.append(_cell(value) if field.type in _NUMBERS else _safe(_cell(value)))
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _safe(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_FORMULA) else text


def _lines(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
