"""The sweep loop inside `tidepool serve`."""

from __future__ import annotations

from engine.clock import FixedClock
from engine.service import Services
from engine.service.scheduler import SweepLoop


def test_one_round_sweeps_every_tenant(svc: Services, clock: FixedClock) -> None:
    svc.records.create(
        "shop", "customer", {"name": "a", "last_followup_at": "2026-11-01T00:00:00Z"}
    )
    clock.advance(days=10)
    assert SweepLoop(svc, 60).run_once() == {"other": 0, "shop": 1}


def test_the_loop_starts_and_stops(svc: Services) -> None:
    loop = SweepLoop(svc, 0.01).start()
    loop.stop()
    assert not loop.thread.is_alive()
