"""Tx.write_new: a write's records, decisions, rotation states and counters land together,
in one statement on PostgreSQL for small writes and one by one for large ones."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from engine.service import Services
from engine.service.rows import record_row
from engine.storage import tables as t
from engine.storage.combined import NewRows, _statement
from engine.storage.store import COMBINED_ROWS, Record
from tests.helpers import START

DAY = date(2026, 1, 2)


def _record(i: int) -> Record:
    return Record("shop", f"r{i}", "customer", {"name": f"c{i}"}, "alice", None, 1, START, START)


def _decision(i: int) -> dict[str, object]:
    return {
        "tenant_id": "shop",
        "entity": "customer",
        "record_id": f"r{i}",
        "kind": "assignment",
        "rule": "assignment.test",
        "config_version": 1,
        "at": START,
        "before": {"owner": None},
        "after": {"owner": "alice"},
        "trace": {"n": i},
    }


@pytest.mark.parametrize("n", [1, 3, COMBINED_ROWS + 5])
def test_every_row_lands(svc: Services, n: int) -> None:
    with svc.store.write() as tx:
        tx.lock_state("shop", "rule:a")
        tx.lock_state("shop", "rule:b")
        bumps = {("alice", "assigned:customer", DAY): 2, ("bob", "assigned:customer", DAY): 1}
        states = {"rule:a": {"last": "alice"}, "rule:b": {"weights": {"bob": 1}}}
        records = [record_row(_record(i)) for i in range(n)]
        tx.write_new(NewRows("shop", records, [_decision(i) for i in range(n)], states, bumps))
    with svc.store.write() as tx:  # a second write adds to the counters
        tx.write_new(NewRows("shop", bumps={("alice", "assigned:customer", DAY): 1}))
    with svc.store.read() as tx:
        assert tx.lock_state("shop", "rule:a") == {"last": "alice"}
        assert tx.lock_state("shop", "rule:b") == {"weights": {"bob": 1}}
        counts = tx.counters("shop", ["alice", "bob"], "assigned:customer", DAY)
        assert counts == {"alice": 3, "bob": 1}
        stored = tx.conn.execute(sa.select(t.records.c.id, t.records.c.data)).all()
        assert sorted(stored) == sorted((f"r{i}", {"name": f"c{i}"}) for i in range(n))
        traces = tx.conn.execute(sa.select(t.decisions.c.trace)).scalars().all()
        assert sorted(x["n"] for x in traces) == list(range(n))


def test_the_statement_is_built_once_per_shape(svc: Services) -> None:
    if svc.store.dialect != "postgresql":
        pytest.skip("the combined statement is PostgreSQL's")
    _statement.cache_clear()
    for i in range(3):
        with svc.store.write() as tx:
            tx.write_new(NewRows("shop", [record_row(_record(i))], [_decision(i)]))
    assert (_statement.cache_info().misses, _statement.cache_info().hits) == (1, 2)
