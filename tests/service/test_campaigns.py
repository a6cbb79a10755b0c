"""Campaigns in the write path (tests/fixtures/campaigns): triggers, actions, limits, the
split, goals, plans and steps — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.service import Services
from engine.service.views import instant
from engine.storage import tables as t
from tests.helpers import FIXTURES, START, run_all

T = "promo"


@pytest.fixture
def promo(svc: Services) -> Services:
    svc.install_dirs([FIXTURES / "campaigns"])
    return svc


def customer(svc: Services, **data: Any) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create(T, "customer", {"name": "甲", **data}).result
    return result


def rows(svc: Services, table: sa.Table, *where: Any) -> list[Any]:
    with svc.store.read() as tx:
        return list(tx.conn.execute(sa.select(table).where(*where)))


def jobs(svc: Services, kind: str | None = None) -> list[Any]:
    where = [t.jobs.c.tenant_id == T] + ([t.jobs.c.kind == kind] if kind else [])
    return rows(svc, t.jobs, *where)


def firings(svc: Services, campaign: str) -> list[Any]:
    return rows(svc, t.campaign_firings, t.campaign_firings.c.campaign == campaign)


def test_created_makes_a_task_and_tags_the_record(promo: Services) -> None:
    made = customer(promo, source="website_form", owner="alice")
    assert made["data"]["tags"] == ["welcomed"] and made["version"] == 2
    assert "campaign.welcome" in [d["rule"] for d in made["decisions"]]
    (task,) = rows(promo, t.records, t.records.c.entity == "task")
    assert task.owner == "alice" and task.data["title"] == "回访 甲"
    assert task.data["customer_id"] == made["id"]
    assert task.data["due_at"] == "2026-11-25T08:00:00Z"  # due_in: 1d
    (firing,) = firings(promo, "welcome")
    assert (firing.occurrence, firing.status, firing.variant) == ("created:v1", "delivered", None)
    customer(promo, source="qr_scan", owner="alice")  # `when` does not hold: nothing
    assert len(firings(promo, "welcome")) == 1


def test_a_field_change_notifies_the_managers_and_writes_a_signed_webhook_job(
    promo: Services,
) -> None:
    made = customer(promo, owner="bob", budget="5000")
    promo.records.update(T, "customer", made["id"], {"note": "no status change"})
    assert firings(promo, "won_alert") == []
    promo.records.update(T, "customer", made["id"], {"status": "won"})
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "won_alert")
    assert (note.user_id, note.title, note.body) == ("mia", "甲 won", "budget ¥5,000.00")
    (job,) = jobs(promo, "webhook")
    assert job.payload["body"] == {"customer": made["id"], "name": "甲"}
    assert job.key.startswith(f"won_alert:{made['id']}:field_changed:v")
    (firing,) = firings(promo, "won_alert")
    assert firing.status == "sent" and job.firing_id == firing.id
    promo.records.update(T, "customer", made["id"], {"status": "lost"})
    promo.records.update(T, "customer", made["id"], {"status": "won"})  # won again: fires again
    assert len(firings(promo, "won_alert")) == 2


def test_entering_a_pool_fires(promo: Services) -> None:
    made = customer(promo, owner="carol", region="east", budget="200000")
    assert made["pool"] == "key"
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "key_pool")
    assert (note.user_id, note.title) == ("carol", "重点客户 甲")
    assert jobs(promo, "email") == []  # no SMTP server set: in-app only


def test_notifications_are_emailed_when_smtp_is_set(
    promo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDEPOOL_SMTP_URL", "smtp://127.0.0.1:2525?from=crm@promo.example")
    customer(promo, owner="carol", region="east", budget="200000")
    (email,) = jobs(promo, "email")
    assert email.payload == {
        "to": "carol@promo.example",
        "subject": "重点客户 甲",
        "body": "重点客户 甲",
    }


def test_a_segment_entered_through_a_rollup_fires_once_per_entry(promo: Services) -> None:
    made = customer(promo, owner="alice")
    order = {"customer_id": made["id"], "amount": "6000", "status": "paid"}
    promo.records.create(T, "order", order)
    assert firings(promo, "vip_thanks") == []
    promo.records.create(T, "order", order)  # paid_total 12,000: enters big_spender
    (firing,) = firings(promo, "vip_thanks")
    assert firing.variant in ("A", "B")
    assert promo.records.get(T, "customer", made["id"]).data["vip"] is True
    (job,) = jobs(promo, "webhook")
    assert job.payload["body"]["coupon"] == {"A": "A10", "B": "B20"}[firing.variant]
    promo.records.create(T, "order", order)  # still in the segment: no new entry
    assert len(firings(promo, "vip_thanks")) == 1
    # on values alone: compared with the old values, nothing stored (time-based ones are)
    assert rows(promo, t.segment_members, t.segment_members.c.record_id == made["id"]) == []
    assert firings(promo, "vip_thanks")[0].converted_at is not None  # goal: 3 paid orders


def test_the_split_is_deterministic_and_follows_the_shares(promo: Services) -> None:
    compiled = promo.configs.active(T).campaigns["customer"]
    vip = next(c for c in compiled.on_change if c.id == "vip_thanks")
    variants = [vip.variant(f"record-{i}") for i in range(2000)]
    assert variants == [vip.variant(f"record-{i}") for i in range(2000)]
    assert 900 < variants.count("A") < 1100 and set(variants) == {"A", "B"}


def test_a_relative_campaign_is_planned_and_planned_again_when_the_date_moves(
    promo: Services,
) -> None:
    made = customer(promo, owner="alice", contract_end="2027-03-01")
    (plan,) = jobs(promo, "campaign_fire")
    assert plan.run_at.isoformat() == "2027-01-29T16:00:00+00:00"  # 30 days before, 00:00 +08
    promo.records.update(T, "customer", made["id"], {"contract_end": "2027-06-01"})
    plans = {j.key: j.status for j in jobs(promo, "campaign_fire")}
    assert sorted(plans.values()) == ["cancelled", "pending"]
    late = customer(promo, owner="alice", contract_end="2026-12-01")  # 30 days before: past
    (now,) = [j for j in jobs(promo, "campaign_fire") if j.payload["record"] == late["id"]]
    assert now.run_at == START  # the contract still ends ahead: remind now
    customer(promo, owner="alice", contract_end="2025-01-01")  # long over: history, no plan
    assert len(jobs(promo, "campaign_fire")) == 3
    promo.records.update(T, "customer", made["id"], {"contract_end": "2027-03-01"})  # back
    pending = [j for j in jobs(promo, "campaign_fire") if j.status == "pending"]
    mine = [j.run_at.isoformat() for j in pending if j.payload["record"] == made["id"]]
    assert mine == ["2027-01-29T16:00:00+00:00"]


def test_a_relative_campaign_added_later_plans_the_existing_records(
    svc: Services, tmp_path: Any
) -> None:
    import shutil

    folder = tmp_path / "promo"
    shutil.copytree(FIXTURES / "campaigns", folder)
    (folder / "tests.yaml").unlink()
    full = (folder / "campaigns.yaml").read_text()
    start = full.index("  - id: renewal")
    end = full.index("  - id: chase")
    (folder / "campaigns.yaml").write_text(full[:start] + full[end:])
    svc.install_dirs([folder])
    made = customer(svc, owner="alice", contract_end="2027-03-01")
    assert jobs(svc, "campaign_fire") == []
    (folder / "campaigns.yaml").write_text(full)
    svc.install_dirs([folder])
    (plan,) = jobs(svc, "campaign_fire")
    assert plan.payload["record"] == made["id"] and plan.status == "pending"
    svc.install_dirs([folder])  # unchanged: nothing planned twice
    assert len(jobs(svc, "campaign_fire")) == 1


def test_a_planned_firing_runs_when_due_even_after_downtime(
    promo: Services, clock: FixedClock
) -> None:
    made = customer(promo, owner="alice", contract_end="2027-03-01")
    clock.advance(days=80)  # well past the planned moment: the worker catches up
    assert promo.worker(worker_id="w1").run_once() == 1
    (task,) = rows(promo, t.records, t.records.c.entity == "task")
    assert task.data["title"] == "续约 甲" and task.data["customer_id"] == made["id"]
    assert promo.worker(worker_id="w1").run_once() == 0  # never twice
    assert len(firings(promo, "renewal")) == 1


def test_a_later_step_runs_after_its_wait_if_its_condition_still_holds(
    promo: Services, clock: FixedClock
) -> None:
    stays = customer(promo, owner="alice", source="referral")
    worked = customer(promo, owner="bob", source="referral")
    promo.records.update(T, "customer", worked["id"], {"status": "contacted"})
    assert len(rows(promo, t.notifications, t.notifications.c.campaign == "chase")) == 2
    assert promo.worker(worker_id="w").run_once() == 0  # not yet: 3 days
    clock.advance(days=3, seconds=1)
    assert promo.worker(worker_id="w").run_once() == 2
    assert promo.records.get(T, "customer", stays["id"]).pool == "has_need"
    assert promo.records.get(T, "customer", worked["id"]).pool == "nurturing"
    kinds = [
        d["kind"] for d in promo.records.explain(T, "customer", worked["id"], "en")["timeline"]
    ]
    assert "campaign_step_skipped" in kinds


def test_quiet_hours_defer_and_do_not_drop(promo: Services, clock: FixedClock) -> None:
    clock.advance(hours=7)  # 23:00 in Shanghai: quiet until 08:00
    made = customer(promo, owner="alice", source="referral")
    assert rows(promo, t.notifications, t.notifications.c.campaign == "chase") == []
    (firing,) = firings(promo, "chase")
    assert firing.status == "deferred"
    (step,) = [j for j in jobs(promo, "campaign_step") if j.payload["step"] == 0]
    assert step.run_at == clock.now() + timedelta(hours=9)
    clock.advance(hours=9)
    promo.worker(worker_id="w").run_once()
    notes = rows(promo, t.notifications, t.notifications.c.campaign == "chase")
    assert [n.record_id for n in notes] == [made["id"]]
    assert firings(promo, "chase")[0].status == "delivered"


def _variant(svc: Services, tmp_path: Any, old: str, new: str) -> None:
    """Install the fixture bundle with one piece of campaigns.yaml replaced."""
    import shutil

    folder = tmp_path / "promo"
    shutil.copytree(FIXTURES / "campaigns", folder)
    (folder / "tests.yaml").unlink()  # its cases describe the fixture as it is
    text = (folder / "campaigns.yaml").read_text()
    assert old in text
    (folder / "campaigns.yaml").write_text(text.replace(old, new))
    svc.install_dirs([folder])


def test_cooldown_refuses_with_a_decision_until_it_has_passed(
    promo: Services, tmp_path: Any, clock: FixedClock
) -> None:
    won = "    trigger: {field_changed: {field: status, to: won}}\n"
    _variant(promo, tmp_path, won, won + "    limits: {cooldown: 1d}\n")
    made = customer(promo, owner="alice")
    for status in ("won", "lost", "won"):
        promo.records.update(T, "customer", made["id"], {"status": status})
    assert len(firings(promo, "won_alert")) == 1
    limited = promo.records.explain(T, "customer", made["id"], "en")["timeline"][-1]
    assert (limited["kind"], limited["after"]) == ("campaign_limited", {"limit": "cooldown"})
    clock.advance(days=1)
    for status in ("lost", "won"):
        promo.records.update(T, "customer", made["id"], {"status": status})
    assert len(firings(promo, "won_alert")) == 2


def test_the_daily_cap_holds_under_concurrent_writers(promo: Services, tmp_path: Any) -> None:
    won = "    trigger: {field_changed: {field: status, to: won}}\n"
    _variant(promo, tmp_path, won, won + "    limits: {max_per_day: 5}\n")
    ids = [customer(promo, name=f"c{i}", owner="alice")["id"] for i in range(12)]

    def win(record_id: str) -> Any:
        return lambda: promo.records.update(T, "customer", record_id, {"status": "won"})

    run_all([win(i) for i in ids])
    assert len(firings(promo, "won_alert")) == 5
    with promo.store.read() as tx:
        limited = tx.conn.execute(
            sa.select(sa.func.count()).where(t.decisions.c.kind == "campaign_limited")
        ).scalar()
    assert limited == 7


def test_holdout_records_are_tracked_but_nothing_is_done(promo: Services, tmp_path: Any) -> None:
    import shutil

    folder = tmp_path / "promo"
    shutil.copytree(FIXTURES / "campaigns", folder)
    (folder / "tests.yaml").unlink()
    text = (
        (folder / "campaigns.yaml")
        .read_text()
        .replace("split: {A: 50, B: 50}", "split: {holdout: 100}")
    )
    text = text.replace("        variant: A\n", "").replace("        variant: B\n", "")
    (folder / "campaigns.yaml").write_text(text)
    promo.install_dirs([folder])
    made = customer(promo, owner="alice")
    order = {"customer_id": made["id"], "amount": "20000", "status": "paid"}
    promo.records.create(T, "order", order)
    (firing,) = firings(promo, "vip_thanks")
    assert (firing.variant, firing.status) == ("holdout", "held_out")
    assert promo.records.get(T, "customer", made["id"]).data["vip"] is False
    assert jobs(promo, "webhook") == []


def test_stats_per_variant_on_a_seeded_scenario(promo: Services, tmp_path: Any) -> None:
    from tests.service.test_webhooks import Receiver, Seen

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return (410 if seen.path.endswith("coupon-b") else 200), {}, b""

    with Receiver(answer) as receiver:
        base = "http://127.0.0.1:9/hooks/"
        text = (FIXTURES / "campaigns" / "campaigns.yaml").read_text()
        assert text.count(base) == 3
        _variant(promo, tmp_path, base, receiver.url("/hooks/"))
        ids = []
        for i in range(12):
            made = customer(promo, name=f"c{i}", owner="alice")
            order = {"customer_id": made["id"], "amount": "20000", "status": "paid"}
            promo.records.create(T, "order", order)
            if i % 3 == 0:  # a third reach the goal: 3 paid orders
                promo.records.create(T, "order", order)
                promo.records.create(T, "order", order)
            ids.append(made["id"])
        while promo.worker(worker_id="w").run_once():
            pass
    variant = {f.record_id: f.variant for f in firings(promo, "vip_thanks")}
    assert set(variant) == set(ids)
    stats = promo.campaigns.stats(T, "vip_thanks")["variants"]
    for name, expect_ok in (("A", True), ("B", False)):
        mine = [r for r in ids if variant[r] == name]
        converted = [r for r in mine if ids.index(r) % 3 == 0]
        got = stats.get(name, {"fired": 0, "delivered": 0, "failed": 0, "converted": 0})
        assert got["fired"] == len(mine)
        assert (got["delivered"], got["failed"]) == (
            (len(mine), 0) if expect_ok else (0, len(mine))
        )
        assert got["converted"] == len(converted)


def test_sweeps_fire_pool_and_time_based_segment_campaigns(
    promo: Services, clock: FixedClock
) -> None:
    made = customer(promo, owner="alice", last_followup_at="2026-11-20T00:00:00Z")
    order = {"customer_id": made["id"], "amount": "100", "status": "paid"}
    promo.records.create(T, "order", order)  # paid, but followed up recently: not sleeping
    assert promo.records.get(T, "customer", made["id"]).pool == "won"
    clock.advance(days=100)
    moved = promo.sweeper.sweep(T)
    assert moved["segment.sleeping"] == 1
    assert "sleeping" in promo.records.get(T, "customer", made["id"]).data["tags"]
    assert promo.sweeper.sweep(T).get("segment.sleeping", 0) == 0  # entered once
    quiet = customer(promo, owner="bob", last_followup_at="2026-12-01T00:00:00Z")
    clock.advance(days=31)
    promo.sweeper.sweep(T)
    assert promo.records.get(T, "customer", quiet["id"]).pool == "public"
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "recycled")
    assert (note.user_id, note.record_id) == ("mia", quiet["id"])


def test_a_webhook_delivered_by_the_worker_marks_its_firing_delivered(
    promo: Services, tmp_path: Any
) -> None:
    from tests.service.test_webhooks import Receiver

    with Receiver() as receiver:
        _variant(promo, tmp_path, "http://127.0.0.1:9/hooks/won", receiver.url("/won"))
        made = customer(promo, owner="bob")
        promo.records.update(T, "customer", made["id"], {"status": "won"})
        assert promo.worker(worker_id="w").run_once() == 1
        (seen,) = receiver.seen
    assert json.loads(seen.body) == {"customer": made["id"], "name": "甲"}
    assert firings(promo, "won_alert")[0].status == "delivered"
    assert promo.campaigns.stats(T, "won_alert")["variants"]["-"]["delivered"] == 1


def test_a_webhook_refused_for_good_marks_its_firing_failed(promo: Services, tmp_path: Any) -> None:
    from tests.service.test_webhooks import Receiver, answering

    with Receiver(answering(410)) as receiver:
        _variant(promo, tmp_path, "http://127.0.0.1:9/hooks/won", receiver.url("/won"))
        made = customer(promo, owner="bob")
        promo.records.update(T, "customer", made["id"], {"status": "won"})
        promo.worker(worker_id="w").run_once()
    (job,) = jobs(promo, "webhook")
    assert job.status == "dead" and "410" in (job.last_error or "")
    assert firings(promo, "won_alert")[0].status == "failed"
    assert promo.campaigns.stats(T, "won_alert")["variants"]["-"]["failed"] == 1


def test_an_action_that_fails_is_undone_alone_and_recorded(promo: Services, tmp_path: Any) -> None:
    title = 'title: "回访 {{ record.name }}", assignee: owner'
    # a template that renders to what the field refuses: only a write can tell
    _variant(promo, tmp_path, title, title + ', fields: {done: "{{ record.name }}"}')
    made = customer(promo, source="website_form", owner="alice")
    assert made["data"]["tags"] == ["welcomed"]  # the next action still ran
    assert rows(promo, t.records, t.records.c.entity == "task") == []
    timeline = promo.records.explain(T, "customer", made["id"], "en")["timeline"]
    (error,) = [d for d in timeline if d["kind"] == "campaign_error"]
    assert error["campaign"]["kind"] == "create_task"
    assert error["campaign"]["errors"][0]["field"] == "done"
    assert error["explanation"].startswith("campaign welcome: action create_task failed:")


def test_leaving_a_pool_and_a_segment_fire(promo: Services) -> None:
    made = customer(promo, owner="alice", region="east")  # nurturing
    assert "tags" not in made["data"]
    promo.records.update(T, "customer", made["id"], {"budget": "100"})  # to has_need
    assert promo.records.get(T, "customer", made["id"]).data["tags"] == ["left_nurturing"]
    order = promo.records.create(
        T, "order", {"customer_id": made["id"], "amount": "20000", "status": "paid"}
    ).result
    promo.records.update(T, "order", order["id"], {"status": "refunded"})  # leaves big_spender
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "no_longer_big")
    assert note.title == "甲 is no longer a big spender"


def test_updated_with_once_per_record(promo: Services) -> None:
    made = customer(promo, owner="alice")
    promo.records.update(T, "customer", made["id"], {"vip": True})  # `when`: changed(note)
    promo.records.update(T, "customer", made["id"], {"note": "first"})
    promo.records.update(T, "customer", made["id"], {"note": "second"})
    notes = rows(promo, t.notifications, t.notifications.c.campaign == "noted")
    assert [n.title for n in notes] == ["note: first"]
    timeline = promo.records.explain(T, "customer", made["id"], "en")["timeline"]
    limited = [d for d in timeline if d["kind"] == "campaign_limited"]
    assert limited[-1]["after"] == {"limit": "once_per_record"}


def test_assign_runs_a_named_assignment_rule(promo: Services) -> None:
    made = customer(promo)  # no rule matches a new customer: queued
    assert (made["owner"], made["queue"]) == (None, "unassigned")
    promo.records.update(T, "customer", made["id"], {"status": "contacted"})
    assert promo.records.get(T, "customer", made["id"]).owner == "bob"
    timeline = promo.records.explain(T, "customer", made["id"], "en")["timeline"]
    assert "assignment.late" in [d["rule"] for d in timeline]


def test_a_scheduled_campaign_fires_once_per_time_for_the_matching_records(
    promo: Services, clock: FixedClock
) -> None:
    fresh = customer(promo, owner="alice")
    customer(promo, name="乙", owner="bob", status="contacted")
    assert promo.campaigns.sweep_schedules(T) == 0  # first look: from now on
    clock.advance(days=5, hours=17, minutes=5)  # Monday 09:05 in Shanghai
    assert promo.campaigns.sweep_schedules(T) == 1
    assert promo.campaigns.sweep_schedules(T) == 0  # that time is done
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "monday_review")
    assert (note.user_id, note.record_id) == ("alice", fresh["id"])
    clock.advance(days=7)
    assert promo.campaigns.sweep_schedules(T) == 1  # next Monday


def test_a_claim_from_the_public_pool_fires_like_a_write(
    promo: Services, clock: FixedClock
) -> None:
    made = customer(promo, last_followup_at="2026-09-01T00:00:00Z")
    assert made["pool"] == "public"  # straight to the public pool: no follow-up for 30 days
    promo.owners.claim(T, "customer", made["id"], "bob")
    clock.advance(days=1)
    promo.owners.release(T, "customer", made["id"], "bob")
    notes = rows(promo, t.notifications, t.notifications.c.campaign == "recycled")
    assert [n.record_id for n in notes] == [made["id"], made["id"]]  # created, then released


# regressions found in review ------------------------------------------------------------------
def test_a_changed_offset_moves_the_existing_plans(promo: Services, tmp_path: Any) -> None:
    made = customer(promo, owner="alice", contract_end="2027-03-01")
    _variant(promo, tmp_path, "before: 30d", "before: 14d")
    (plan,) = [j for j in jobs(promo, "campaign_fire") if j.status == "pending"]
    assert plan.payload["record"] == made["id"]
    assert plan.run_at.isoformat() == "2027-02-14T16:00:00+00:00"


def test_an_action_that_sets_the_date_keeps_its_plan(promo: Services, tmp_path: Any) -> None:
    tags = "      - set: {tags: {add: [welcomed]}}\n"
    _variant(promo, tmp_path, tags, tags + "      - set: {contract_end: '2027-06-01'}\n")
    customer(promo, source="website_form", owner="alice")
    (plan,) = jobs(promo, "campaign_fire")
    assert plan.status == "pending" and plan.run_at.isoformat() == "2027-05-01T16:00:00+00:00"


def test_a_step_job_run_twice_acts_once(promo: Services, clock: FixedClock) -> None:
    made = customer(promo, owner="alice", source="referral")
    clock.advance(days=3, seconds=1)
    (job,) = [j for j in jobs(promo, "campaign_step")]
    from engine.service.jobs import job_from_row

    row = job_from_row(job)
    promo.campaigns.run_step(row)
    promo.campaigns.run_step(row)  # the worker died before marking it done
    timeline = promo.records.explain(T, "customer", made["id"], "en")["timeline"]
    assert [d["kind"] for d in timeline].count("campaign_step") == 1


def test_a_later_step_waits_for_the_end_of_quiet_hours(promo: Services, clock: FixedClock) -> None:
    made = customer(promo, owner="alice", source="referral")  # 16:00 in Shanghai
    clock.advance(days=3, hours=7)  # 23:00: the step is due inside the quiet hours
    promo.worker(worker_id="w").run_once()
    assert promo.records.get(T, "customer", made["id"]).pool == "nurturing"  # waits
    clock.advance(hours=9)  # 08:00
    promo.worker(worker_id="w").run_once()
    assert promo.records.get(T, "customer", made["id"]).pool == "has_need"


def test_a_dead_webhook_retried_and_delivered_counts_as_delivered(
    promo: Services, tmp_path: Any
) -> None:
    from tests.service.test_webhooks import Receiver, Seen

    answers = iter([410, 200])

    def answer(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return next(answers), {}, b""

    with Receiver(answer) as receiver:
        _variant(promo, tmp_path, "http://127.0.0.1:9/hooks/won", receiver.url("/won"))
        made = customer(promo, owner="bob")
        promo.records.update(T, "customer", made["id"], {"status": "won"})
        promo.worker(worker_id="w").run_once()
        assert firings(promo, "won_alert")[0].status == "failed"
        (job,) = jobs(promo, "webhook")
        promo.jobs.retry(T, job.id)
        promo.worker(worker_id="w").run_once()
    assert firings(promo, "won_alert")[0].status == "delivered"


def test_a_loop_of_campaigns_through_rollups_stops_at_the_depth_limit(
    promo: Services, tmp_path: Any
) -> None:
    # every task a campaign creates changes a count its customer rolls up, which creates a task…
    import shutil

    folder = tmp_path / "loop"
    shutil.copytree(FIXTURES / "campaigns", folder)
    (folder / "tests.yaml").unlink()
    entities = (folder / "entities.yaml").read_text()
    anchor = "      status: {type: enum, options: [new, contacted, won, lost], default: new}\n"
    (folder / "entities.yaml").write_text(
        entities.replace(anchor, anchor + "      open_tasks: {type: integer}\n")
    )
    with (folder / "pools.yaml").open("a") as pools:
        pools.write(
            "  open_tasks: {entity: customer, field: open_tasks, from: task,"
            " via: customer_id, fn: count}\n"
        )
    with (folder / "campaigns.yaml").open("a") as more:
        more.write(
            "\n  - id: loop\n    entity: customer\n"
            "    trigger: {field_changed: {field: open_tasks}}\n    actions:\n"
            '      - create_task: {title: "again {{ record.name }}", assignee: owner}\n'
        )
    promo.install_dirs([folder])
    made = customer(promo, owner="alice", source="website_form")  # welcome creates a task
    tasks = rows(promo, t.records, t.records.c.entity == "task")
    assert 1 < len(tasks) <= 12 and made["id"]  # bounded by the campaign depth


def test_a_protection_ending_in_a_sweep_fires_like_a_write(
    promo: Services, clock: FixedClock
) -> None:
    """An expiry is a move into the public pool like any other (the sweep once stored it
    without asking the campaigns)."""
    made = customer(promo, owner="bob", last_followup_at=instant(clock.now()))
    assert made["pool"] == "nurturing"
    promo.records.update(T, "customer", made["id"], {"last_followup_at": None})
    clock.advance(days=11)  # protection (10 days) over; no follow-up date for the 30-day rule
    assert promo.sweeper.sweep(T).get("customer_pool.protection_expired") == 1
    assert promo.records.get(T, "customer", made["id"]).pool == "public"
    (note,) = rows(promo, t.notifications, t.notifications.c.campaign == "recycled")
    assert (note.user_id, note.record_id) == ("mia", made["id"])
