"""Fields marked `indexed: true` get expression indexes that the planner really uses."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.service import Services
from engine.service.indexes import field_indexes, index_names
from engine.storage import tables as t
from tests.helpers import START


def _fill(conn: sa.Connection) -> None:
    """Some customers with spread values, analysed, so the planner weighs real selectivity."""
    rows = [
        {
            "tenant_id": "shop",
            "id": f"fill-{i}",
            "entity": "customer",
            "data": {
                # each condition below matches few of these rows
                "source": "referral" if i % 100 == 0 else "website_form",
                "budget": str(i % 100),
                "employees": i,
                "last_followup_at": "2026-11-20T00:00:00Z",
            },
            "version": 1,
            "created_at": START,
            "updated_at": START,
        }
        for i in range(2000)
    ]
    conn.execute(t.records.insert(), rows)
    conn.exec_driver_sql("ANALYZE records")


def plan(svc: Services, where: str) -> str:
    """The query plan of a list query with a where= condition."""
    condition = svc.records.where("shop", "customer", where)
    query = sa.select(t.records.c.id).where(
        t.records.c.tenant_id == "shop", t.records.c.entity == "customer", condition
    )
    dialect: Any = postgresql.dialect() if svc.store.dialect == "postgresql" else sqlite.dialect()
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if svc.store.dialect == "sqlite" else "EXPLAIN "
    with svc.store.engine.connect() as conn:
        if svc.store.dialect == "postgresql":
            _fill(conn)  # an empty table leaves indexes with the same prefix tied
            conn.exec_driver_sql("SET enable_seqscan = off")  # small table: ask for the index
        rows = conn.exec_driver_sql(prefix + sql).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def test_indexes_exist_for_indexed_fields(svc: Services) -> None:
    bundle = svc.configs.active("shop").bundle
    names = {ix.name for ix in field_indexes(bundle, svc.store.dialect)}
    with svc.store.engine.connect() as conn:
        existing = index_names(conn)
    assert names <= existing
    # four fields marked indexed, the link every rollup of order into customer reads, and
    # last_followup_at by pool, for the sweep of the 30-day recycling rule
    assert len(names) == 6 and any(n.startswith("ix_rec_order_customer_id_") for n in names)
    assert any(n.startswith("ix_rep_customer_last_followup_at_") for n in names)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("budget >= 1000", "budget"),
        ("employees between 5 and 10", "employees"),
        ("source in ['qr_scan', 'referral']", "source"),
        ("last_followup_at < now() - 30d", "last_followup_at"),
    ],
)
def test_conditions_use_the_field_index(svc: Services, where: str, field: str) -> None:
    assert f"_{field}_" in plan(svc, where), plan(svc, where)


def test_sticky_assignment_fields_are_indexed_and_the_lookup_uses_it(svc: Services) -> None:
    """Every create a sticky rule may assign looks up the newest owned record with the same
    value: without an index that is a scan of the tenant's records."""
    from engine.conditions import types as T
    from tests.helpers import FIXTURES

    svc.install_dirs([FIXTURES / "leads"])
    bundle = svc.configs.active("leads").bundle
    names = {ix.name for ix in field_indexes(bundle, svc.store.dialect)}
    assert any(n.startswith("ix_rec_lead_phone_") for n in names)
    with svc.store.engine.connect() as conn:
        assert names <= index_names(conn)
    rows = [
        {
            "tenant_id": "leads",
            "id": f"lead-{i}",
            "entity": "lead",
            "data": {"phone": f"13900{i:06d}"},
            "owner": "u1",
            "version": 1,
            "created_at": START,
            "updated_at": START,
        }
        for i in range(2000)
    ]
    with svc.store.engine.begin() as conn:
        conn.execute(t.records.insert(), rows)
        conn.exec_driver_sql("ANALYZE records" if svc.store.dialect == "postgresql" else "ANALYZE")
    field = bundle.entities["lead"].fields["phone"]
    kind = T.field_type(field.type, field.option_values)
    with svc.store.read() as tx:
        statements: list[tuple[str, Any]] = []
        sa.event.listen(tx.conn, "before_cursor_execute", lambda *a: statements.append(a[2:4]))
        tx.newest_owned("leads", "lead", "phone", kind, "13800000000")
        prefix = "EXPLAIN QUERY PLAN " if svc.store.dialect == "sqlite" else "EXPLAIN "
        if svc.store.dialect == "postgresql":
            tx.conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        sql, params = statements[0]
        found = tx.conn.exec_driver_sql(prefix + sql, params).fetchall()
    assert "ix_rec_lead_phone_" in "\n".join(str(row[-1]) for row in found)
