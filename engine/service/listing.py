"""List queries: field filters, sort and keyset (cursor) pagination over the records table.

Field values live in JSON; each field type extracts as the SQL type it compares as. Nulls sort
last in both directions, and the cursor carries (sort value, id) so pages never skip or repeat.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.conditions import types as C
from engine.conditions.compile_sql import SqlCompiler, field_sql
from engine.conditions.stored import storable
from engine.conditions.values import Env
from engine.config.model import EntityDef, FieldDef
from engine.errors import BadQuery
from engine.fields.errors import FieldValueError
from engine.fields.validator import EntityValidator, FieldError, printable_name
from engine.i18n import choices_hint
from engine.service.filters import filter_node, truth
from engine.storage import tables as t

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "isnull")
COLUMNS: dict[str, Any] = {
    "id": t.records.c.id,
    "owner": t.records.c.owner,
    "pool": t.records.c.pool,
    "created_at": t.records.c.created_at,
    "updated_at": t.records.c.updated_at,
}
_NUMERIC = sa.Numeric(38, 10)
_LIST_TYPES = frozenset({"multi_enum", "tags"})


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class ListQuery:
    filters: tuple[Filter, ...] = ()
    sort: str = "-created_at"
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    where: ColumnElement[bool] | None = None  # a compiled condition (see CompiledConfig)


@dataclass(frozen=True, slots=True)
class Search:
    """A list request as a shell receives it: raw filters, a condition text, a saved view."""

    params: Sequence[tuple[str, str]] = ()
    where: str | None = None
    view: str | None = None
    sort: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def field_expr(f: FieldDef, dialect: str) -> ColumnElement[Any]:
    """The SQL of a field's value: the same expression conditions and indexes use."""
    kind = C.field_type(f.type, f.option_values)
    expr: ColumnElement[Any] = field_sql(dialect, f.name, kind, t.records.c.data)
    return expr


def parse_filters(entity: EntityDef, params: Iterable[tuple[str, str]]) -> tuple[Filter, ...]:
    """Query parameters `field=value` or `field__op=value` → filters; every error at once."""
    filters: list[Filter] = []
    errors: list[FieldError] = []
    validator_fields = entity.fields
    for key, raw in params:
        name, _, op = key.partition("__")
        op = op or "eq"
        if not storable(raw) or not storable(key):
            errors.append(FieldError(printable_name(key), "text"))
        elif name not in validator_fields and name not in COLUMNS:
            hint = choices_hint(name, [*validator_fields, *COLUMNS], "fields")
            errors.append(
                FieldError(key, "filter", {"message": f"unknown field '{name}' — {hint}"})
            )
        elif op not in OPS:
            errors.append(
                FieldError(
                    key,
                    "filter",
                    {"message": f"unknown operator '{op}' — {choices_hint(op, OPS, 'operators')}"},
                )
            )
        else:
            filters.append(Filter(name, op, raw))
    if errors:
        raise BadQuery("bad filter", errors)
    return tuple(filters)


class ListCompiler:
    """Turns a ListQuery into a SELECT for one tenant and entity."""

    def __init__(self, entity: EntityDef, validator: EntityValidator, dialect: str) -> None:
        self.entity = entity
        self.validator = validator
        self.dialect = dialect

    def select(self, tenant: str, query: ListQuery) -> sa.Select[Any]:
        limit = max(1, min(query.limit, MAX_LIMIT))
        stmt = sa.select(t.records).where(
            t.records.c.tenant_id == tenant,
            t.records.c.entity == self.entity.name,
            t.records.c.deleted_at.is_(None),
        )
        if query.where is not None:
            stmt = stmt.where(query.where)
        errors: list[FieldError] = []
        for flt in query.filters:
            try:
                stmt = stmt.where(self._condition(flt))
            except FieldValueError as exc:
                errors.append(FieldError(f"{flt.field}__{flt.op}", exc.code, exc.params))
        if errors:
            raise BadQuery("bad filter value", errors)
        expr, descending = self._sort(query.sort)
        if query.cursor:
            stmt = stmt.where(self._after(expr, descending, query.cursor))
        order: list[ColumnElement[Any]] = [
            expr.desc() if descending else expr.asc(),
            t.records.c.id.desc() if descending else t.records.c.id.asc(),
        ]
        if self._nullable:  # empty values last; a NOT NULL column skips it and keeps its index
            order.insert(0, expr.is_(None))
        return stmt.order_by(*order).limit(limit + 1)

    @property
    def _nullable(self) -> bool:
        column = COLUMNS.get(self._sort_name)
        return column is None or bool(column.nullable)

    def _expr(self, name: str) -> ColumnElement[Any]:
        if name in COLUMNS:
            column: ColumnElement[Any] = COLUMNS[name]
            return column
        return field_expr(self.entity.fields[name], self.dialect)

    def _condition(self, flt: Filter) -> ColumnElement[bool]:
        field = self.entity.fields.get(flt.field)
        if field is None:
            return self._column_condition(flt)
        node = filter_node(field, self.validator.coercers[field.name], flt)
        env = Env({}, datetime.now(UTC), UTC)  # filters hold constants only: no clock needed
        return SqlCompiler(self.dialect, env, t.records.c.data).condition(node)

    def _column_condition(self, flt: Filter) -> ColumnElement[bool]:
        expr = COLUMNS[flt.field]
        if flt.op == "isnull":
            wanted = truth(flt.value)
            return expr.is_(None) if wanted else expr.is_not(None)  # type: ignore[no-any-return]
        coerce = _parse_dt if flt.field in ("created_at", "updated_at") else str
        if flt.op == "in":
            return expr.in_([coerce(v) for v in str(flt.value).split(",") if v.strip()])  # type: ignore[no-any-return]
        if flt.op == "contains":
            raise FieldValueError("filter", message="'contains' applies to text fields")
        return _COMPARE[flt.op](expr, coerce(flt.value))

    def _sort(self, sort: str) -> tuple[ColumnElement[Any], bool]:
        descending = sort.startswith("-")
        name = sort.removeprefix("-").removeprefix("+")
        field = self.entity.fields.get(name)
        if field is None and name not in COLUMNS:
            hint = choices_hint(name, [*self.entity.fields, *COLUMNS], "fields")
            raise _bad("sort", f"cannot sort by '{name}' — {hint}")
        if field is not None and field.type in _LIST_TYPES:
            raise _bad("sort", f"cannot sort by '{name}': it holds a list")
        self._sort_name = name
        self._sort_text = sort
        return self._expr(name), descending

    def _after(
        self, expr: ColumnElement[Any], descending: bool, cursor: str
    ) -> ColumnElement[bool]:
        sort, value, last_id = decode_cursor(cursor)
        if sort != self._sort_text:
            raise _bad(
                "cursor", f"this cursor pages a list sorted by '{sort}', not by '{self._sort_text}'"
            )
        if value is None:
            after_id = t.records.c.id < last_id if descending else t.records.c.id > last_id
            return sa.and_(expr.is_(None), after_id)
        typed = self._cursor_value(value)
        beyond = expr < typed if descending else expr > typed
        tie = t.records.c.id < last_id if descending else t.records.c.id > last_id
        if not self._nullable:
            return sa.or_(beyond, sa.and_(expr == typed, tie))
        return sa.or_(beyond, sa.and_(expr == typed, tie), expr.is_(None))

    def _cursor_value(self, value: Any) -> Any:
        """The cursor's sort value in the form the sort expression compares with."""
        field = self.entity.fields.get(self._sort_name)
        kind = field.type if field is not None else self._sort_name
        try:
            if kind in ("created_at", "updated_at"):
                return _parse_dt(value)
            if kind in ("decimal", "money"):
                return Decimal(str(value))
            if kind == "boolean":
                return int(bool(value))
            if isinstance(value, str | int) and not isinstance(value, bool):
                return value
        except (ArithmeticError, ValueError, FieldValueError):
            pass
        raise _bad("cursor", "cursor is not one this API gave out")

    def _is_decimal(self) -> bool:
        field = self.entity.fields.get(self._sort_name)
        return field is not None and field.type in ("decimal", "money")

    def cursor_for(self, record_values: dict[str, Any], record_id: str) -> str:
        name = self._sort_name
        value = record_values.get(name)
        if isinstance(value, datetime):
            value = value.isoformat()
        return encode_cursor(self._sort_text, value, record_id)


def _parse_dt(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FieldValueError("datetime") from None
    if moment.tzinfo is None:
        raise FieldValueError("datetime")
    return moment


_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": lambda e, v: e == v,
    "ne": lambda e, v: e != v,  # null matches neither, as in rules
    "lt": lambda e, v: e < v,
    "lte": lambda e, v: e <= v,
    "gt": lambda e, v: e > v,
    "gte": lambda e, v: e >= v,
}


def _bad(name: str, message: str) -> BadQuery:
    return BadQuery(f"bad {name}", [FieldError(name, "filter", {"message": message})])


def encode_cursor(sort: str, value: Any, record_id: str) -> str:
    raw = json.dumps([sort, value, record_id], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, Any, str]:
    """(sort, last sort value, last id) of a cursor; BadQuery for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, value, record_id = json.loads(raw)
        if not isinstance(sort, str) or not isinstance(record_id, str):
            raise ValueError
        if not storable(record_id) or not storable(value) or isinstance(value, dict | list):
            raise ValueError
    except (ValueError, binascii.Error, TypeError):
        raise _bad("cursor", "cursor is not one this API gave out") from None
    return sort, value, record_id
