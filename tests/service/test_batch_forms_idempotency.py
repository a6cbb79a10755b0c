"""Batches, form submissions and idempotent retries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import IdempotencyMismatch, Invalid, NotFound, TooLarge
from engine.service import Idem, Services
from engine.storage import tables as t


def count(svc: Services) -> int:
    with svc.store.read() as tx:
        return int(tx.conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar_one())


def test_batch_stores_valid_items_and_reports_the_rest(svc: Services) -> None:
    items = [
        {"name": "a", "phone": "13800000001"},
        {"name": "", "region": "mars"},
        {"name": "c", "phone": "13800000001"},  # same phone as item 0 in this batch
        {"name": "d", "phone": "13800000002", "budget": "5"},
        "not an object",
    ]
    results = svc.records.create_many("shop", "customer", items, locale="zh-CN").result["results"]
    assert [r["status"] for r in results] == [201, 422, 409, 201, 422]
    assert {e["field"] for e in results[1]["errors"]} == {"name", "region"}
    assert results[1]["errors"][0]["message"] in ("必填", "必须是以下之一：east, north")
    assert results[2]["errors"][0]["code"] == "unique"
    assert count(svc) == 2


def test_batch_conflicting_with_stored_values(svc: Services) -> None:
    svc.records.create("shop", "customer", {"name": "a", "email": "x@example.com"})
    results = svc.records.create_many(
        "shop", "customer", [{"name": "b", "email": "X@example.com"}, {"name": "c"}]
    ).result["results"]
    assert [r["status"] for r in results] == [409, 201]


def test_batch_limits(svc: Services) -> None:
    with pytest.raises(TooLarge):
        svc.records.create_many("shop", "customer", [{"name": "x"}] * 1001)
    with pytest.raises(Invalid):
        svc.records.create_many("shop", "customer", {"name": "x"})
    assert svc.records.create_many("shop", "customer", []).result == {"results": []}


def test_form_applies_defaults_and_its_own_rules(svc: Services) -> None:
    record = svc.records.submit_form("shop", "signup", {"name": "甲", "region": "east"}).result
    assert record["data"]["source"] == "website_form"
    with pytest.raises(Invalid) as caught:
        svc.records.submit_form("shop", "signup", {"name": "甲", "email": "a@b.cn"})
    codes = {(e.field, e.code) for e in caught.value.errors}
    assert codes == {("email", "not_on_form"), ("region", "required")}
    with pytest.raises(NotFound, match="did you mean 'signup'"):
        svc.records.submit_form("shop", "sigup", {})
    history = svc.records.history("shop", "customer", record["id"])
    assert history[0]["actor"] == "form:signup"


def test_idempotent_retry_returns_the_first_result(svc: Services) -> None:
    body = {"name": "甲", "phone": "13800000009"}
    first = svc.records.create("shop", "customer", body, idem=Idem.of("k1", body))
    again = svc.records.create("shop", "customer", body, idem=Idem.of("k1", body))
    assert not first.replayed and again.replayed and again.result == first.result
    assert count(svc) == 1
    with pytest.raises(IdempotencyMismatch):
        svc.records.create("shop", "customer", {"name": "乙"}, idem=Idem.of("k1", {"name": "乙"}))
    # keys are per tenant
    other = svc.records.create("other", "customer", body, idem=Idem.of("k1", body))
    assert not other.replayed


def test_failed_request_does_not_burn_its_idempotency_key(svc: Services) -> None:
    bad = {"name": ""}
    with pytest.raises(Invalid):
        svc.records.create("shop", "customer", bad, idem=Idem.of("k2", bad))
    with pytest.raises(Invalid):
        svc.records.create("shop", "customer", bad, idem=Idem.of("k2", bad))
    assert count(svc) == 0


def test_idempotent_batch(svc: Services) -> None:
    items = [{"name": "a"}, {"name": "b"}]
    first = svc.records.create_many("shop", "customer", items, idem=Idem.of("b1", items))
    again = svc.records.create_many("shop", "customer", items, idem=Idem.of("b1", items))
    assert again.replayed and again.result == first.result and count(svc) == 2
