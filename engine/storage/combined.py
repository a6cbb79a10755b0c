"""A write's new rows as one PostgreSQL statement: data-modifying CTEs for the rotation
states, the counter increments and the decisions, then the records' insert.

The statement is built once for each shape of write (how many rows of which columns) and
kept as text with typed parameters: SQLAlchemy does not cache the compiled form of
multi-row inserts and DML CTEs, and compiling one on every write costs more than the round
trips it saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql import psycopg2

from engine.storage import tables as t

Columns = tuple[str, ...]
COUNTER_KEY = ["tenant_id", "user_id", "kind", "day"]
# SQL with :name parameters, as text() takes
NAMED: sa.Dialect = psycopg2.dialect(paramstyle="named")  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class NewRows:
    """What one write adds: records, decisions, rotation states (by key) and counter
    increments (by user, kind and day)."""

    tenant: str
    records: Sequence[Mapping[str, Any]] = ()
    decisions: Sequence[Mapping[str, Any]] = ()
    states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    bumps: Mapping[tuple[str, str, date], int] = field(default_factory=dict)


def combined(rows: NewRows) -> tuple[sa.TextClause, dict[str, Any]]:
    """The statement and its parameters."""
    shape = (
        len(rows.states),
        len(rows.bumps),
        tuple(tuple(row) for row in rows.decisions),
        tuple(tuple(row) for row in rows.records),
    )
    return _statement(*shape), _params(rows)


def _params(rows: NewRows) -> dict[str, Any]:
    params: dict[str, Any] = {"tenant": rows.tenant} if rows.states or rows.bumps else {}
    for i, (key, state) in enumerate(rows.states.items()):
        params.update({f"s{i}_key": key, f"s{i}_state": dict(state)})
    for i, ((user, kind, day), n) in enumerate(sorted(rows.bumps.items())):
        params.update({f"b{i}_user": user, f"b{i}_kind": kind, f"b{i}_day": day, f"b{i}_n": n})
    for prefix, table in (("d", rows.decisions), ("r", rows.records)):
        for i, row in enumerate(table):
            params.update({f"{prefix}{i}_{name}": value for name, value in row.items()})
    return params


@lru_cache(maxsize=256)
def _statement(
    states: int, bumps: int, decisions: tuple[Columns, ...], records: tuple[Columns, ...]
) -> sa.TextClause:
    compiled = _construct(states, bumps, decisions, records).compile(dialect=NAMED)
    # the parameters' types say how to send them; PostgreSQL infers the columns' types
    sql = compiled.string.replace("::JSONB", "")
    types = _types(states, bumps, decisions, records)
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=types[name]) for name in types))


def _types(
    states: int, bumps: int, decisions: tuple[Columns, ...], records: tuple[Columns, ...]
) -> dict[str, Any]:
    """Each parameter's type, from its column (SQLAlchemy types only a multi-row insert's
    first row)."""
    c, u = t.assignment_state.c, t.user_counters.c
    types: dict[str, Any] = {"tenant": c.tenant_id.type} if states or bumps else {}
    for i in range(states):
        types.update({f"s{i}_key": c.key.type, f"s{i}_state": c.state.type})
    for i in range(bumps):
        cols = zip(("user", "kind", "day", "n"), (u.user_id, u.kind, u.day, u.count), strict=True)
        types.update({f"b{i}_{name}": col.type for name, col in cols})
    for prefix, table, rows in (("d", t.decisions, decisions), ("r", t.records, records)):
        for i, row in enumerate(rows):
            types.update({f"{prefix}{i}_{name}": table.c[name].type for name in row})
    return types


def _construct(
    states: int, bumps: int, decisions: tuple[Columns, ...], records: tuple[Columns, ...]
) -> Any:
    parts: list[Any] = [state_update(i) for i in range(states)]
    if bumps:
        parts.append(bump_upsert(bumps))
    if decisions:
        parts.append(_insert(t.decisions, "d", decisions))
    if records:
        parts.append(_insert(t.records, "r", records))
    *ctes, last = parts
    return last.add_cte(*(cte.cte(f"w{i}") for i, cte in enumerate(ctes)))


@lru_cache(maxsize=64)
def state_update(i: int) -> sa.Update:
    """The i-th rotation state's update."""
    c = t.assignment_state.c
    where = (c.tenant_id == sa.bindparam("tenant"), c.key == sa.bindparam(f"s{i}_key"))
    return t.assignment_state.update().where(*where).values(state=sa.bindparam(f"s{i}_state"))


@lru_cache(maxsize=64)
def bump_upsert(n: int, make: Any = pg_insert) -> Any:
    """An upsert adding to n counters (`make`: the dialect's insert)."""
    names = ("user", "kind", "day", "n")
    rows: list[dict[str, Any]] = [
        {
            "tenant_id": sa.bindparam("tenant"),
            **dict(
                zip(
                    ["user_id", "kind", "day", "count"],
                    (sa.bindparam(f"b{i}_{x}") for x in names),
                    strict=True,
                )
            ),
        }
        for i in range(n)
    ]
    insert = make(t.user_counters).values(rows if n > 1 else rows[0])
    count = t.user_counters.c.count + insert.excluded.count
    return insert.on_conflict_do_update(index_elements=COUNTER_KEY, set_={"count": count})


def _insert(table: sa.Table, prefix: str, rows: tuple[Columns, ...]) -> sa.Insert:
    values: list[dict[str, Any]] = [
        {name: sa.bindparam(f"{prefix}{i}_{name}") for name in row} for i, row in enumerate(rows)
    ]
    return table.insert().values(values)
