"""Public forms' guards (SQLite and PG): rate limits per address and per form, the honeypot,
the duplicate window, refusals logged and nothing half-stored, the page's field state."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.errors import Invalid, NotFound, RateLimited, Spam
from engine.service import Services
from engine.service.public_forms import Submitted
from engine.storage import tables as t
from tests.helpers import FIXTURES

T = "expo"
EXPO = {"source": "qr_scan", "act": "2026-expo"}


@pytest.fixture
def expo(svc: Services) -> Services:
    svc.install_dirs([FIXTURES / "public_forms"])
    return svc


def submit(svc: Services, data: dict[str, Any], address: str = "10.0.0.1", **kw: Any) -> Submitted:
    return svc.forms.submit(
        T, kw.pop("form", "expo"), data, kw.pop("params", EXPO), address=address, **kw
    )


def leads(svc: Services) -> list[dict[str, Any]]:
    with svc.store.read() as tx:
        rows = tx.conn.execute(
            sa.select(t.records.c.data).where(
                t.records.c.tenant_id == T, t.records.c.deleted_at.is_(None)
            )
        )
        return [dict(r) for (r,) in rows]


def log(svc: Services) -> list[tuple[str, str, Any, str | None]]:
    s = t.form_submissions.c
    with svc.store.read() as tx:
        rows = tx.conn.execute(
            sa.select(s.form, s.outcome, s.channel, s.record_id)
            .where(s.tenant_id == T)
            .order_by(s.id)
        )
        return [tuple(r) for r in rows]


# the duplicate window -----------------------------------------------------------------------
def test_same_phone_within_the_window_makes_one_record(expo: Services) -> None:
    first = submit(expo, {"name": "王", "phone": "138 0013 8000"})
    again = submit(expo, {"name": "王先生", "phone": "13800138000"}, address="10.0.0.2")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.record_id == first.record_id
    assert [d["name"] for d in leads(expo)] == ["王"]  # the first one's values stand
    channel = {"source": "qr_scan", "activity": "2026-expo"}
    assert log(expo) == [
        ("expo", "created", channel, first.record_id),
        ("expo", "duplicate", channel, first.record_id),
    ]


def test_after_the_window_the_same_phone_makes_a_new_record(
    expo: Services, clock: FixedClock
) -> None:
    first = submit(expo, {"name": "王", "phone": "13800138000"})
    clock.advance(minutes=29)
    assert submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.2").duplicate
    clock.advance(minutes=2)  # 31 minutes after the first: the window has passed
    later = submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.3")
    assert not later.duplicate and later.record_id != first.record_id
    assert len(leads(expo)) == 2


def test_a_duplicate_with_invalid_values_is_still_refused(expo: Services) -> None:
    submit(expo, {"name": "王", "phone": "13800138000"})
    with pytest.raises(Invalid) as caught:
        submit(expo, {"phone": "13800138000", "industry": "manufacturing"})
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("name", "required"),
        ("size", "required_when"),
    }
    assert [o for _, o, _, _ in log(expo)] == ["created", "invalid"]


def test_without_the_fields_there_is_nothing_to_compare(expo: Services) -> None:
    a = submit(expo, {"name": "甲"})
    b = submit(expo, {"name": "甲"}, "10.0.0.2")
    assert a.record_id != b.record_id and not b.duplicate


def test_every_by_field_must_match(expo: Services) -> None:
    one = {"name": "甲", "phone": "13800138000", "email": "a@example.com"}
    a = submit(expo, one, form="by_both", params={})
    b = submit(expo, {**one, "email": "b@example.com"}, "10.0.0.2", form="by_both", params={})
    c = submit(expo, one, "10.0.0.3", form="by_both", params={})
    assert (b.duplicate, c.duplicate) == (False, True)
    assert c.record_id == a.record_id != b.record_id


def test_a_deleted_record_does_not_hold_the_window(expo: Services) -> None:
    first = submit(expo, {"name": "王", "phone": "13800138000"})
    expo.records.delete(T, "lead", first.record_id)
    again = submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.2")
    assert not again.duplicate and again.record_id != first.record_id
    third = submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.3")
    assert third.duplicate and third.record_id == again.record_id


def test_a_refused_first_submission_does_not_hold_the_window(expo: Services) -> None:
    with pytest.raises(Invalid):
        submit(expo, {"phone": "13800138000"})  # no name
    made = submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.2")
    assert not made.duplicate and len(leads(expo)) == 1


def test_two_identical_submissions_at_once_make_one_record(expo: Services) -> None:
    start = threading.Barrier(2)
    results: list[Submitted] = []

    def one(address: str) -> None:
        start.wait()
        results.append(submit(expo, {"name": "王", "phone": "13800138000"}, address))

    threads = [threading.Thread(target=one, args=(a,)) for a in ("10.0.0.1", "10.0.0.2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].record_id == results[1].record_id
    assert len(leads(expo)) == 1


# rate limits --------------------------------------------------------------------------------
def test_one_address_is_limited_and_told_when_to_return(expo: Services, clock: FixedClock) -> None:
    for i in range(3):
        submit(expo, {"name": f"甲{i}"})
        clock.advance(minutes=1)
    with pytest.raises(RateLimited) as caught:
        submit(expo, {"name": "乙"})
    assert caught.value.scope == "address"
    assert caught.value.retry_after == 7 * 60  # the first leaves the 10-minute window then
    assert caught.value.extra() == {"retry_after": 420, "scope": "address"}
    assert len(leads(expo)) == 3 and len(log(expo)) == 3  # the refusal stored nothing
    submit(expo, {"name": "丙"}, address="10.0.0.2")  # another address is not limited
    clock.advance(minutes=7)
    submit(expo, {"name": "乙"})  # the oldest has left the window
    assert len(leads(expo)) == 5


def test_the_form_is_limited_whatever_the_addresses(expo: Services) -> None:
    for i in range(5):
        submit(expo, {"name": f"甲{i}"}, address=f"10.0.1.{i}")
    with pytest.raises(RateLimited) as caught:
        submit(expo, {"name": "乙"}, address="10.0.2.1")
    assert caught.value.scope == "form" and caught.value.retry_after == 600
    assert len(leads(expo)) == 5


def test_refusals_count_against_the_address(expo: Services) -> None:
    with pytest.raises(Spam):
        submit(expo, {"name": "bot"}, honeypot="http://spam.example")
    for _ in range(2):
        with pytest.raises(Invalid):
            submit(expo, {"name": ""})
    with pytest.raises(RateLimited):
        submit(expo, {"name": "甲"})
    assert leads(expo) == []
    assert [o for _, o, _, _ in log(expo)] == ["spam", "invalid", "invalid"]


def test_the_honeypot_refuses_and_stores_no_record(expo: Services) -> None:
    with pytest.raises(Spam) as caught:
        submit(expo, {"name": "bot", "phone": "13800138000"}, honeypot="x")
    assert caught.value.detail == "the submission looks automated"
    assert leads(expo) == []
    assert log(expo) == [("expo", "spam", None, None)]
    assert not submit(expo, {"name": "人", "phone": "13800138000"}).duplicate


def test_addresses_are_stored_only_as_keyed_hashes(expo: Services) -> None:
    submit(expo, {"name": "甲"}, address="203.0.113.7")
    with expo.store.read() as tx:
        (client,) = tx.conn.execute(sa.select(t.form_submissions.c.client)).scalars()
    assert client == expo.forms.client("203.0.113.7") != expo.forms.client("203.0.113.8")
    assert client is not None and "203.0.113.7" not in client and len(client) == 32


# which forms, and what the page shows -------------------------------------------------------
@pytest.mark.parametrize(("tenant", "form"), [(T, "private"), (T, "nope"), ("nobody", "expo")])
def test_only_public_forms_of_known_tenants_are_served(
    expo: Services, tenant: str, form: str
) -> None:
    with pytest.raises(NotFound):
        expo.forms.get(tenant, form)
    with pytest.raises(NotFound):
        expo.forms.state(tenant, form, {})
    with pytest.raises(NotFound):
        expo.forms.submit(tenant, form, {"name": "甲"}, address="10.0.0.1")
    assert leads(expo) == []


def test_the_state_follows_the_values_entered(expo: Services) -> None:
    plain = expo.forms.state(T, "expo", {})
    assert plain.visible == {"name", "phone", "industry"}  # hidden URL fields never shown
    assert plain.required == {"name"}
    made = expo.forms.state(T, "expo", {"industry": "manufacturing", "size": "abc"})
    assert made.visible == {"name", "phone", "industry", "size"}
    assert made.required == {"name", "size"}


def test_the_state_ignores_values_that_do_not_parse_yet(expo: Services) -> None:
    state = expo.forms.state(T, "expo", {"industry": "manufact", "phone": "1", "bogus": 1})
    assert "size" not in state.visible
    assert expo.forms.state(T, "expo", ["not", "an", "object"]).required == {"name"}


def test_a_url_value_the_hidden_field_refuses_is_dropped(expo: Services) -> None:
    made = submit(expo, {"name": "甲"}, params={"source": "billboard", "act": "2026-expo"})
    stored = expo.records.get(T, "lead", made.record_id).data
    assert (stored["source"], stored["activity"]) == ("website", "2026-expo")  # the default
    with pytest.raises(Invalid):  # the API, used by a developer, is told instead
        expo.records.submit_form(T, "expo", {"name": "乙"}, params={"source": "billboard"})


def test_submissions_at_once_cannot_pass_the_limit_together(expo: Services) -> None:
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def one(i: int) -> None:
        start.wait()
        try:
            submit(expo, {"name": f"甲{i}"})
            outcomes.append("made")
        except RateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited"] * 5 + ["made"] * 3  # per_ip: 3
    assert len(leads(expo)) == 3


def test_refusals_and_api_writes_do_not_close_the_form(expo: Services) -> None:
    for i in range(5):  # per_form: 5
        with pytest.raises(Spam):
            submit(expo, {"name": "bot"}, address=f"10.0.3.{i}", honeypot="x")
        expo.records.submit_form(T, "expo", {"name": f"API {i}"})  # no client: not the page's
    made = submit(expo, {"name": "人"}, address="10.0.4.1")
    assert not made.duplicate and len(leads(expo)) == 6


def test_ipv6_addresses_count_by_their_64_block(expo: Services) -> None:
    assert expo.forms.client("2001:db8:0:1::1") == expo.forms.client("2001:db8:0:1:ffff::2")
    assert expo.forms.client("2001:db8:0:1::1") != expo.forms.client("2001:db8:0:2::1")
    for i in range(3):
        submit(expo, {"name": f"甲{i}"}, address=f"2001:db8::{i + 1}")
    with pytest.raises(RateLimited):
        submit(expo, {"name": "乙"}, address="2001:db8::ff")


def test_hidden_fields_take_the_url_only(expo: Services) -> None:
    made = submit(expo, {"name": "甲", "source": "website", "activity": "forged"})
    stored = expo.records.get(T, "lead", made.record_id).data
    assert (stored["source"], stored["activity"]) == ("qr_scan", "2026-expo")


def test_the_channel_logged_includes_a_default(expo: Services) -> None:
    submit(expo, {"name": "甲"}, params={"act": "2026-expo"})
    assert log(expo)[0][2] == {"source": "website", "activity": "2026-expo"}


def test_made_up_tenants_are_not_remembered(expo: Services) -> None:
    before = len(expo.configs._active)
    for name in ("nobody", "x" * 300, "bad\x00name", "UPPER"):
        with pytest.raises(NotFound):
            expo.forms.get(name, "expo")
    assert len(expo.configs._active) == before


def test_the_sweep_drops_duplicate_windows_that_have_ended(
    expo: Services, clock: FixedClock
) -> None:
    first = submit(expo, {"name": "王", "phone": "13800138000"})
    submit(expo, {"name": "甲", "phone": "13900000000", "email": "a@example.com"}, form="by_both")
    clock.advance(minutes=29)
    assert expo.sweep(T) == {}  # both windows (30 minutes) still hold
    clock.advance(minutes=1)
    assert expo.sweep(T) == {"forms.duplicate_windows_ended": 2}
    with expo.store.read() as tx:
        assert tx.conn.execute(sa.select(sa.func.count()).select_from(t.form_dedupe)).scalar() == 0
    again = submit(expo, {"name": "王", "phone": "13800138000"}, "10.0.0.2")
    assert not again.duplicate and again.record_id != first.record_id
