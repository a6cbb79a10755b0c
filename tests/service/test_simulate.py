"""The dry run: a candidate bundle against the stored records, nothing written — pool moves,
owner changes, scores and grades, campaigns, errors and samples, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.config.errors import BundleInvalid
from engine.config.loader import load_bundle, read_bundle_dir
from engine.errors import Forbidden, Invalid, NotFound
from engine.service import Services
from engine.service import simulate_record as record_rules
from engine.service.simulate import dry_run, simulate
from engine.service.simulate_report import (
    Example,
    OwnerChange,
    PoolMove,
    RuleCount,
    SimulationReport,
)
from engine.service.views import instant
from engine.storage import tables as t
from tests.helpers import FIXTURES, START

T = "shop"
BIG_BUDGET = (
    "when: {field: budget, op: gte, value: 100000}",
    "when: {field: budget, op: gte, value: 50000}",
)
BUDGET_POINTS = ('{when: "budget >= 100000", points: 40}', '{when: "budget >= 100000", points: 70}')
PROTECTION = """      protection:
        days: 10
        extend_on: last_followup_at
        extend_days: 10
        max_days: 30
        remind_days_before: 2
"""
CAMPAIGNS = """
segments:
  stale:
    entity: customer
    label: {zh-CN: 久未跟进, en: Stale}
    when: "days_since(last_followup_at) > 30"
  big: {entity: customer, when: "budget >= 50000"}
campaigns:
  - id: wake_stale
    entity: customer
    label: {zh-CN: 唤醒, en: Wake the stale}
    trigger: {segment_enter: stale}
    split: {A: 50, B: 50}
    actions:
      - notify: {to: owner, title: "wake {{ record.name }}"}
    limits: {once_per_record: true}
  - id: big_enter
    entity: customer
    trigger: {segment_enter: big}
    actions:
      - notify: {to: owner, title: "big {{ record.name }}"}
  - id: key_alert
    entity: customer
    trigger: {pool_entered: key}
    actions:
      - notify: {to: owner, title: "key {{ record.name }}"}
  - id: follow_up_due
    entity: customer
    trigger: {relative: {field: last_followup_at, after: 45d}}
    actions:
      - notify: {to: owner, title: "call {{ record.name }}"}
  - id: follow_up_vip
    entity: customer
    trigger: {relative: {field: last_followup_at, after: 45d}}
    when: "vip"
    actions:
      - notify: {to: owner, title: "call {{ record.name }} first"}
  - id: weekly
    entity: customer
    trigger: {schedule: "0 9 * * mon"}
    when: "budget >= 100000"
    actions:
      - notify: {to: owner, title: "review {{ record.name }}"}
"""


def files(*changes: tuple[str, str, str]) -> dict[str, str]:
    """The shop bundle's files with (file, old, new) replacements."""
    found = read_bundle_dir(FIXTURES / "shop")
    for name, old, new in changes:
        assert old in found[name], (name, old)
        found[name] = found[name].replace(old, new)
    return found


def candidate(*changes: tuple[str, str, str], **extra: str) -> Any:
    return load_bundle({**files(*changes), **extra})


def customer(svc: Services, name: str, **data: Any) -> str:
    made = svc.records.create(T, "customer", {"name": name, **data}).result
    return str(made["id"])


def ago(days: float) -> str | None:
    return instant(START - timedelta(days=days))


def stored(svc: Services) -> dict[str, Any]:
    """Everything a dry run could have written: every record row and the other tables' sizes."""
    with svc.store.read() as tx:
        records = sorted(tuple(r) for r in tx.conn.execute(sa.select(t.records)))
        sizes = {
            table.name: tx.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (
                t.decisions,
                t.record_history,
                t.segment_members,
                t.campaign_firings,
                t.jobs,
                t.notifications,
                t.config_versions,
                t.assignment_state,
            )
        }
    return {"records": records, "sizes": sizes}


def titles(examples: tuple[Example, ...]) -> set[str | None]:
    return {e.title for e in examples}


def test_a_changed_threshold_and_score_weight_report_exact_changes_and_write_nothing(
    svc: Services,
) -> None:
    for i in range(10):
        customer(svc, f"c{i}", budget=str(i * 20000), region="east", owner="alice")
    before = stored(svc)
    report = simulate(
        svc, T, candidate(("pools.yaml", *BIG_BUDGET), ("pools.yaml", *BUDGET_POINTS))
    )
    assert stored(svc) == before  # nothing written, not even a version
    found = report.entity("customer")
    assert (found.total, found.scanned, found.changed, found.errors) == (10, 10, 7, 0)
    (move,) = found.pool_moves
    assert (move.pool_set, move.before, move.after, move.count) == (
        "customer_pool",
        "has_need",
        "key",
        2,
    )
    assert move.rules == (RuleCount("big_budget", 2),)
    assert titles(move.examples) == {"c3", "c4"}
    assert move.before_label == {"zh-CN": "有需求池", "en": "Has need"}
    assert move.after_label == {"zh-CN": "重点跟进池", "en": "Key follow-up"}
    assert all(e.rules == ("big_budget",) for e in move.examples)
    score, grade = found.field_changes
    assert (score.rule, score.field, score.count, score.transitions) == (
        "lead_score",
        "score",
        5,
        ((40, 70, 5),),
    )
    assert score.label == {"zh-CN": "评分", "en": "Score"}
    assert {(e.title, e.before, e.after) for e in score.examples} == {
        (f"c{i}", 40, 70) for i in range(5, 10)
    }
    assert (grade.rule, grade.count, grade.transitions) == (
        "customer_grade",
        5,
        (("potential", "key", 5),),
    )
    assert found.owner_changes == () and found.campaigns == ()
    assert {(c["kind"], c["id"]) for c in report.changes} == {
        ("promotion", "customer_pool.big_budget"),
        ("score", "lead_score"),
    }
    assert [n.code for n in report.notes] == ["derived_on_write"]
    assert report.active_version == 1 and report.candidate_version is None
    assert report.now == START and report.seconds >= report.read_seconds >= 0


def test_owners_lost_to_an_unassigning_rule_and_to_a_deactivated_user(svc: Services) -> None:
    first = customer(svc, "r1", last_followup_at=ago(20), owner="alice")
    customer(svc, "r2", last_followup_at=ago(20), owner="alice")
    customer(svc, "r3", owner="bob")
    customer(svc, "r4", last_followup_at=ago(5), owner="alice")
    bob = "{id: bob, name: 李强, teams: [east], roles: [sales]}"
    gone = (
        "{id: bob, name: 李强, teams: [east], roles: [sales], active: false, on_deactivate: public}"
    )
    bundle = candidate(
        ("pools.yaml", PROTECTION, ""),
        ("pools.yaml", "days_since(last_followup_at) > 30", "days_since(last_followup_at) > 10"),
        ("tenant.yaml", bob, gone),
    )
    report = simulate(svc, T, bundle)
    found = report.entity("customer")
    assert found.pool_moves == (
        PoolMove(
            "customer_pool",
            "nurturing",
            "public",
            3,
            {"zh-CN": "需求培养池", "en": "Nurturing"},
            {"zh-CN": "公海", "en": "Public pool"},
            (RuleCount("recycle_unattended", 2), RuleCount("handover", 1)),
            found.pool_moves[0].examples,
        ),
    )
    unassigned, deactivated = found.owner_changes
    assert (unassigned.reason, unassigned.rule, unassigned.count) == (
        "unassigned",
        "recycle_unattended",
        2,
    )
    assert {(e.title, e.before, e.after) for e in unassigned.examples} == {
        ("r1", "alice", None),
        ("r2", "alice", None),
    }
    assert deactivated == OwnerChange(
        "deactivated_public",
        "bob",
        1,
        {"*": "李强"},
        (Example(deactivated.examples[0].id, "r3", "bob", None),),
    )
    with svc.store.read() as tx:
        kept = tx.get_record(T, "customer", first)
    assert kept is not None and (kept.pool, kept.owner) == ("nurturing", "alice")


def test_campaigns_that_would_fire_without_a_write(svc: Services) -> None:
    customer(svc, "s1", last_followup_at=ago(40), owner="alice")
    s2 = customer(svc, "s2", last_followup_at=ago(40), owner="alice")
    customer(svc, "s3", last_followup_at=ago(45 + 1 / 24), owner="alice")
    customer(svc, "s4", last_followup_at=ago(1), owner="alice")
    customer(svc, "k1", budget="150000", region="east", owner="bob")
    customer(svc, "k2", budget="60000", region="east", owner="bob")
    with svc.store.write() as tx:  # wake_stale fired for s2 once already
        tx.conn.execute(
            t.campaign_firings.insert().values(
                tenant_id=T,
                campaign="wake_stale",
                entity="customer",
                record_id=s2,
                occurrence="earlier",
                status="delivered",
                fired_at=START - timedelta(days=100),
                day=(START - timedelta(days=100)).date(),
            )
        )
    before = stored(svc)
    report = simulate(
        svc, T, candidate(("pools.yaml", *BIG_BUDGET), **{"campaigns.yaml": CAMPAIGNS})
    )
    assert stored(svc) == before
    hits = {c.campaign: c for c in report.entity("customer").campaigns}
    assert set(hits) == {"wake_stale", "key_alert", "follow_up_due", "follow_up_vip", "weekly"}
    assert "big_enter" not in hits  # a segment on values alone: no value changed
    wake = hits["wake_stale"]
    assert (wake.trigger, wake.count, dict(wake.limited)) == (
        "segment_enter",
        3,
        {"once_per_record": 1},
    )
    assert titles(wake.examples) == {"s1", "s2", "s3"} and sum(wake.variants.values()) == 2
    assert set(wake.variants) <= {"A", "B"} and wake.label == {
        "zh-CN": "唤醒",
        "en": "Wake the stale",
    }
    assert (hits["key_alert"].count, titles(hits["key_alert"].examples)) == (1, {"k2"})
    due = hits["follow_up_due"]
    assert (due.count, titles(due.examples)) == (1, {"s3"})
    assert dict(due.detail) == {"planned": 4, "due_now": 1, "skipped": 0, "later": 3}
    vip = hits["follow_up_vip"]  # planned alike, but s3 is not a vip: nothing fires
    assert (vip.count, dict(vip.detail)) == (
        0,
        {"planned": 4, "due_now": 0, "skipped": 1, "later": 3},
    )
    weekly = hits["weekly"]
    assert (weekly.count, titles(weekly.examples)) == (1, {"k1"})
    assert weekly.detail == {"next_at": "2026-11-30T09:00:00+08:00"}  # Monday 09:00 in Shanghai


def test_a_stored_version_by_number_and_who_may_dry_run(svc: Services) -> None:
    customer(svc, "c", budget="60000", region="east")
    number = svc.push(T, files(("pools.yaml", *BIG_BUDGET)))["number"]
    report = dry_run(svc, T, number)
    assert report.candidate_version == number == 2
    assert report.entity("customer").pool_moves[0].count == 1
    with pytest.raises(Forbidden):
        dry_run(svc, T, number, by="alice")  # a sales rep cannot configure
    with pytest.raises(NotFound):
        dry_run(svc, T, 9)
    assert svc.configs.active(T).version == 1


def test_bad_bundles_other_tenants_and_tenants_without_config_are_refused(svc: Services) -> None:
    with pytest.raises(BundleInvalid) as refused:
        dry_run(svc, T, files(("pools.yaml", "to: won", "to: wonn")))
    assert refused.value.errors[0].file == "pools.yaml" and refused.value.errors[0].line > 1
    with pytest.raises(Invalid):
        dry_run(svc, T, read_bundle_dir(FIXTURES / "other"))
    with pytest.raises(Invalid):
        dry_run(svc, T, {"tenant.yaml": 5})
    with pytest.raises(NotFound, match="no active config"):
        simulate(svc, "nobody", candidate())
    with pytest.raises(Invalid):
        simulate(svc, T, candidate(), sample=0)


def test_a_sample_limits_the_scan(svc: Services) -> None:
    for i in range(7):
        customer(svc, f"c{i}", budget=str(60000 + i), region="east")
    seen: list[tuple[str, int, int]] = []
    report = simulate(
        svc,
        T,
        candidate(("pools.yaml", *BIG_BUDGET)),
        sample=3,
        progress=lambda *step: seen.append(step),
    )
    found = report.entity("customer")
    assert (found.total, found.scanned, found.pool_moves[0].count) == (7, 3, 3)
    assert seen == [("customer", 3, 3)]
    assert [n.code for n in report.notes] == ["sampled"] and report.sample == 3


def test_records_the_candidate_refuses_or_cannot_evaluate_are_listed_not_fatal(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = customer(svc, "a long name", budget="60000", region="east")
    broken = customer(svc, "ok", budget="60000", region="east")
    customer(svc, "ok2", budget="60000", region="east")
    original = record_rules.RecordSimulator._hand_over

    def fails_once(self: Any, record: Any, out: Any) -> None:
        if record.id == broken:
            raise ValueError("cannot read this one")
        original(self, record, out)

    monkeypatch.setattr(record_rules.RecordSimulator, "_hand_over", fails_once)
    report = simulate(
        svc,
        T,
        candidate(
            ("pools.yaml", *BIG_BUDGET), ("entities.yaml", "max_length: 50", "max_length: 5")
        ),
    )
    found = report.entity("customer")
    assert found.errors == 2 and found.scanned == 3
    errors = {e.id: (e.code, e.message) for e in found.error_examples}
    assert errors[broken] == ("failed", "ValueError: cannot read this one")
    assert errors[long] == ("invalid", "name: must be at most 5 characters")
    assert found.pool_moves[0].count == 2  # the other two are still evaluated


def test_the_report_is_json(svc: Services) -> None:
    customer(svc, "c", budget="60000", region="east", owner="alice")
    report: SimulationReport = simulate(svc, T, candidate(("pools.yaml", *BIG_BUDGET)))
    data = report.to_json()
    assert data["scanned"] == 1 and data["changed"] == 1 and data["now"] == "2026-11-24T08:00:00Z"
    (entity,) = data["entities"]
    assert entity["pool_moves"][0]["rules"] == [{"rule": "big_budget", "count": 1, "label": None}]
    assert entity["pool_moves"][0]["examples"][0]["before"] == "has_need"
    assert isinstance(entity["field_changes"], list) and entity["seconds"] >= 0


def test_owners_a_changed_assignment_rule_would_not_pick_and_owners_handed_on(
    svc: Services,
) -> None:
    svc.install_dirs([FIXTURES / "leads"])

    def lead(name: str, **data: Any) -> str:
        return str(svc.records.create("leads", "lead", {"name": name, **data}).result["id"])

    lead("f1", industry="finance", owner="u1", status="working")
    lead("f2", industry="finance", owner="u2", status="working")
    lead("o1", industry="other", owner="u3")  # status new: handed on after 24 hours
    changed = read_bundle_dir(FIXTURES / "leads")
    old = "candidates: {users: [u1, u2, u3]}\n    weights: {u1: 2, u2: 1, u3: 1}"
    assert old in changed["assignment.yaml"]
    changed["assignment.yaml"] = changed["assignment.yaml"].replace(
        old, "candidates: {users: [u2, u3]}\n    weights: {u2: 1, u3: 1}"
    )
    report = simulate(svc, "leads", load_bundle(changed), now=START + timedelta(days=2))
    found = report.entity("lead")
    owners = {(o.reason, o.rule): o for o in found.owner_changes}
    assert set(owners) == {("outside_rule", "vip"), ("reassigned", "everyone")}
    outside = owners[("outside_rule", "vip")]
    assert (outside.count, [(e.title, e.before) for e in outside.examples]) == (1, [("f1", "u1")])
    handed = owners[("reassigned", "everyone")]
    assert (handed.count, [(e.title, e.before) for e in handed.examples]) == (1, [("o1", "u3")])
    assert found.changed == 1  # an owner outside the rule keeps the record: no change


def test_the_active_bundle_itself_changes_nothing_the_engine_just_wrote(svc: Services) -> None:
    """Fidelity: records as the write path left them are settled under the same rules."""
    for i in range(12):
        data: dict[str, Any] = {"budget": str(i * 15000), "vip": i % 3 == 0}
        data["region"] = "east" if i % 2 else "north"
        data["source"] = "referral" if i % 4 == 0 else "website_form"
        if i % 5 == 0:
            data["last_followup_at"] = ago(40)
        made = customer(svc, f"c{i}", owner="alice" if i % 2 else None, **data)
        if i % 3 == 0:
            order = {"customer_id": made, "amount": "100", "status": "paid"}
            svc.records.create(T, "order", order)
    report = simulate(svc, T, svc.configs.active(T).bundle)
    assert [(e.entity, e.changed, e.errors) for e in report.entities] == [("customer", 0, 0)]
    assert report.changes == () and report.notes == ()
