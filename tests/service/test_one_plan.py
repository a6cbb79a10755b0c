"""One plan for the real write and the dry run: what the dry run says the next write makes
of each record is what that write then does, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from engine.clock import FixedClock
from engine.rules.compiled import CompiledConfig
from engine.service import Services
from engine.service.simulate_record import RecordSimulator, Snapshot
from tests.service.test_simulate import BIG_BUDGET, BUDGET_POINTS, T, ago, candidate, customer


def _records(svc: Services) -> list[str]:
    ids = []
    for i in range(16):
        data: dict[str, Any] = {"budget": str(i * 12500), "vip": i % 3 == 0}
        data["region"] = "east" if i % 2 else "north"
        data["source"] = "referral" if i % 4 == 0 else "website_form"
        if i % 5 == 0:
            data["last_followup_at"] = ago(40)
        ids.append(customer(svc, f"c{i}", owner="alice" if i % 2 else None, **data))
    return ids


def test_the_dry_run_predicts_what_the_next_write_does(svc: Services, clock: FixedClock) -> None:
    ids = _records(svc)
    bundle = candidate(("pools.yaml", *BIG_BUDGET), ("pools.yaml", *BUDGET_POINTS))
    active = svc.configs.active(T)
    rules = RecordSimulator(
        active, CompiledConfig.compile(bundle, active.version + 1), "customer", clock.now()
    )
    predicted = {}
    with svc.store.read() as tx:
        for record_id in ids:
            r = tx.get_record(T, "customer", record_id)
            assert r is not None
            snap = Snapshot(r.id, r.data, r.owner, r.pool, r.owner_since, r.protected_until)
            out = rules.evaluate(snap)
            predicted[record_id] = (dict(out.values), out.pool, out.owner, out.path)
    assert any(p[1] != "nurturing" for p in predicted.values())  # the candidate moves some

    svc.install_bundle(bundle, tests=False)
    for record_id in ids:
        written = svc.records.update(T, "customer", record_id, {"note": "touched"})
        values = {k: v for k, v in written.data.items() if k != "note"}
        moves = [d["rule"].split(".", 1)[1] for d in written.decisions if d["kind"] == "pool_move"]
        assert (values, written.pool, written.owner, moves) == predicted[record_id], record_id
