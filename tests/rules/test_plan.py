"""The pure plan of a write: no database, no clock — the order of effects, the columns that
change and the history entry, for every kind of intent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.config.loader import load_bundle, read_bundle_dir
from engine.rules.compiled import CompiledConfig
from engine.rules.plan import entered, plan, resettled, written
from tests.helpers import FIXTURES, START


@dataclass(frozen=True)
class Row:
    data: dict[str, Any]
    owner: str | None = None
    pool: str | None = "nurturing"
    owner_since: datetime | None = None
    protected_until: datetime | None = None
    remind_at: datetime | None = None
    queue: str | None = None


@pytest.fixture(scope="module")
def cfg() -> CompiledConfig:
    return CompiledConfig.compile(load_bundle(read_bundle_dir(FIXTURES / "shop")), 7)


def test_a_new_record_is_scored_graded_and_settled_in_that_order(cfg: CompiledConfig) -> None:
    values = {"name": "a", "budget": "120000", "region": "east", "source": "referral"}
    made = plan(cfg, "customer", "r1", None, written(values, "alice"), START)
    assert made.values["score"] == 70 and made.values["grade"] == "key"
    assert made.values["paid_orders"] == 0  # a new parent's rollups start at zero
    assert (made.pool, made.owner) == ("key", "alice")
    kinds = [d["kind"] for d in made.decisions]
    assert kinds[: kinds.index("pool_move")] == ["score", "grade", "grade"]
    assert [d["rule"] for d in made.decisions if d["kind"] == "pool_move"] == [
        "customer_pool.need_confirmed",
        "customer_pool.big_budget",
    ]
    assert all(d["record_id"] == "r1" and d["config_version"] == 7 for d in made.decisions)
    assert made.columns["pool_entered_at"] == START and made.columns["owner_since"] == START
    assert made.columns["protected_until"] == START + timedelta(days=10)
    assert made.changes == {}  # a create's history is rebuilt from the record


def test_an_update_lists_values_pool_and_owner_that_changed(cfg: CompiledConfig) -> None:
    stored = {"name": "a", "budget": "0", "region": "east", "score": 0, "grade": "potential"}
    before = Row({**stored, "buyer": "prospect"})
    made = plan(cfg, "customer", "r1", before, written({**before.data, "budget": "5"}), START)
    assert made.pool == "has_need"
    assert made.changes == {"budget": ["0", "5"], "pool": ["nurturing", "has_need"]}
    assert set(made.columns) == {"pool", "pool_entered_at"}


def test_a_claim_is_shielded_a_release_is_not(cfg: CompiledConfig) -> None:
    stale = {"name": "a", "last_followup_at": "2026-09-01T00:00:00Z"}
    public = Row(stale, pool="public")
    claimed = plan(
        cfg, "customer", "r", public, entered("has_need", owner="bob", shield=True), START
    )
    assert (claimed.pool, claimed.owner) == ("has_need", "bob")  # recycling waits
    until = START + timedelta(days=10)
    held = Row(stale, owner="bob", pool="has_need", owner_since=START, protected_until=until)
    released = plan(cfg, "customer", "r", held, entered("public", owner=None, shield=False), START)
    assert (released.pool, released.owner) == ("public", None)
    assert released.changes == {"pool": ["has_need", "public"], "owner": ["bob", None]}
    assert released.columns["protected_until"] is None


def test_an_unassigning_promotion_leaves_the_record_without_owner(cfg: CompiledConfig) -> None:
    stale = {"name": "a", "last_followup_at": "2026-09-01T00:00:00Z"}
    held = Row(stale, owner="bob", pool="nurturing", owner_since=START - timedelta(days=60))
    made = plan(cfg, "customer", "r", held, resettled(), START)
    assert (made.pool, made.owner, made.unassigned_by) == ("public", None, "recycle_unattended")
    move = next(d for d in made.decisions if d["kind"] == "pool_move")
    assert move["before"] == {"pool": "nurturing", "owner": "bob"}


def test_a_move_into_the_pool_it_is_in_changes_nothing(cfg: CompiledConfig) -> None:
    row = Row({"name": "a"}, pool="has_need")
    made = plan(cfg, "customer", "r", row, entered("has_need"), START)
    assert made.columns == {} and made.changes == {} and not made.changed


def test_a_queued_record_given_an_owner_leaves_its_queue(cfg: CompiledConfig) -> None:
    row = Row({"name": "a"}, queue="triage")
    made = plan(cfg, "customer", "r", row, resettled("alice"), START)
    assert made.columns["queue"] is None and made.columns["owner"] == "alice"
