"""Masking rules (数据脱敏), pure: which fields a user sees masked and how values look."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from engine.conditions import compile_text, entity_scope
from engine.config.loader import load_bundle_dir
from engine.config.model import Bundle
from engine.errors import Forbidden
from engine.service import Filter
from engine.service.masking import (
    Mask,
    mask_history,
    mask_record,
    mask_trace,
    mask_value,
    masked_fields,
)
from tests.helpers import FIXTURES


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle_dir(FIXTURES / "masked")


@pytest.mark.parametrize(
    ("user", "contact", "call"),
    [
        (None, set(), set()),  # a tenant-wide integration key sees everything
        ("rita", {"phone", "email", "birthday", "tags"}, {"phone"}),  # by name, every entity
        ("max", set(), set()),  # a role that masks nothing
        ("sam", set(), set()),  # sales and manager: the manager sees it, so does sam
        ("sue", {"phone"}, {"phone"}),  # sales and support: only what both mask
        ("nora", {"phone", "email"}, set()),  # no role: the pii fields
        ("gone", {"phone", "email", "birthday", "tags", "budget"}, {"phone"}),  # inactive
        ("ghost", {"phone", "email", "birthday", "tags", "budget"}, {"phone"}),  # unknown
    ],
)
def test_who_sees_what_masked(
    bundle: Bundle, user: str | None, contact: set[str], call: set[str]
) -> None:
    assert masked_fields(bundle, "contact", user) == contact
    assert masked_fields(bundle, "call", user) == call
    assert masked_fields(bundle, "nope", user) == frozenset()


def test_switched_off_users_fail_closed(bundle: Bundle) -> None:
    assert masked_fields(bundle, "contact", "max", switched_off={"max"}) >= {"phone", "email"}
    assert Mask(bundle, "max", {"max"}).fields("contact") >= {"phone", "email"}


def test_the_shipped_configs_mask_phones_for_sales() -> None:
    from tests.helpers import ROOT

    acme = load_bundle_dir(ROOT / "configs" / "acme-saas")
    assert masked_fields(acme, "lead", "maria") == {"phone"}  # sdr
    assert masked_fields(acme, "lead", "priya") == frozenset()  # manager
    assert masked_fields(acme, "lead", "sophie") == frozenset()  # ae and manager


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+1 415 555 0199", "+14****0199"),
        ("phone", "+14155550199", "+14****0199"),
        ("phone", "62345678", "62****78"),
        ("phone", "12345", "****"),
        ("email", "maria@x.example", "m***@x.example"),
        ("email", "not-an-address", "n***"),
        ("string", "Maria Lopez", "M***"),
        ("text", "", "***"),
        ("url", "https://x.example/a", "h***"),
        ("integer", 42, "***"),
        ("money", "1234.50", "***"),
        ("date", "1990-01-31", "***"),
        ("datetime", "2026-01-01T00:00:00Z", "***"),
        ("boolean", True, "***"),
        ("tags", ["vip", "x"], ["***"]),
        ("multi_enum", [], []),
        ("phone", None, None),
        ("email", None, None),
    ],
)
def test_masked_values(kind: str, value: Any, shown: Any) -> None:
    assert mask_value(kind, value) == shown


def test_the_length_of_a_value_is_not_shown() -> None:
    assert mask_value("string", "a" * 500) == mask_value("string", "ab") == "a***"
    assert len(mask_value("phone", "1" * 30)) == len(mask_value("phone", "1" * 11))


def _record(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "r1",
        "entity": "contact",
        "version": 2,
        "owner": "rita",
        "data": data,
        "decisions": [{"kind": "rollup", "before": {"phone": None}, "after": {"phone": "138"}}],
        "related": [{"id": "c1", "entity": "call", "data": {"phone": "13900001111"}}],
    }


def test_records_are_masked_for_the_viewer_only(bundle: Bundle) -> None:
    data = {"name": "Maria", "phone": "13812345678", "email": "maria@x.example", "budget": "9.50"}
    record = _record(data)
    shown = mask_record(bundle, "rita", "contact", record)
    assert shown["data"] == {
        "name": "Maria",
        "phone": "138****5678",
        "email": "m***@x.example",
        "budget": "9.50",
    }
    assert shown["decisions"][0]["after"] == {"phone": "****"}
    assert shown["related"][0]["data"] == {"phone": "139****1111"}
    assert record["data"]["phone"] == "13812345678"  # the input is left alone
    assert mask_record(bundle, None, "contact", record) == record
    assert mask_record(bundle, "max", "contact", record)["data"] == data
    assert mask_record(bundle, "sam", "contact", record)["data"] == data


def test_batch_results_are_masked(bundle: Bundle) -> None:
    result = {
        "results": [
            {"index": 0, "status": 201, "record": _record({"phone": "13812345678"})},
            {"index": 1, "status": 422, "errors": []},
        ]
    }
    shown = Mask(bundle, "rita").written(result, "contact")
    assert shown["results"][0]["record"]["data"] == {"phone": "138****5678"}
    assert shown["results"][1] == result["results"][1]


def test_history_entries_mask_old_and_new(bundle: Bundle) -> None:
    entries = [
        {
            "version": 1,
            "action": "create",
            "changes": {"phone": {"old": None, "new": "13812345678"}},
        },
        {
            "version": 2,
            "action": "update",
            "changes": {
                "phone": {"old": "13812345678", "new": "13900001111"},
                "name": {"old": "a", "new": "b"},
                "owner": {"old": None, "new": "rita"},
            },
        },
    ]
    shown = mask_history(bundle, "rita", "contact", entries)
    assert shown[0]["changes"]["phone"] == {"old": None, "new": "138****5678"}
    assert shown[1]["changes"] == {
        "phone": {"old": "138****5678", "new": "139****1111"},
        "name": {"old": "a", "new": "b"},
        "owner": {"old": None, "new": "rita"},
    }
    assert mask_history(bundle, None, "contact", entries) == entries


def _trace(bundle: Bundle, text: str, data: dict[str, Any]) -> dict[str, Any]:
    condition = compile_text(text, entity_scope(bundle.entities["contact"], UTC))
    return condition.trace(data, datetime(2026, 11, 24, tzinfo=UTC)).as_dict()


def test_traces_mask_values_read_from_masked_fields(bundle: Bundle) -> None:
    data = {"phone": "13812345678", "budget": "50", "birthday": "1990-01-31"}
    raw = _trace(
        bundle, "phone starts_with '138' and budget >= 10 and days_since(birthday) > 1", data
    )
    shown = mask_trace(bundle, "rita", "contact", raw)
    text = repr(shown)
    assert "13812345678" not in text and "1990" not in text
    phone = shown["parts"][0]["parts"][0]
    assert (phone["expr"], phone["value"], phone["shown"]) == (
        "phone",
        "138****5678",
        "'138****5678'",
    )
    assert shown["parts"][0]["value"] is True  # verdicts stay
    budget = shown["parts"][1]["parts"][0]
    assert (budget["expr"], budget["value"]) == ("budget", "50")  # not masked for rita
    days = shown["parts"][2]["parts"][0]
    assert (days["value"], days["shown"]) == ("***", "***")  # computed from a masked field
    assert mask_trace(bundle, None, "contact", raw) == raw


def test_live_traces_render_masked(bundle: Bundle) -> None:
    condition = compile_text(
        "email ends_with '@vip.example'", entity_scope(bundle.entities["contact"], UTC)
    )
    trace = condition.trace({"email": "maria@x.example"}, datetime(2026, 11, 24, tzinfo=UTC))
    rendered = Mask(bundle, "rita").live_trace("contact", trace).render("en")
    assert rendered == "✗ email ends_with '@vip.example'\n  email = 'm***@x.example'"
    assert Mask(bundle, "max").live_trace("contact", trace) is trace


def test_stored_decisions_mask_before_after_and_traces(bundle: Bundle) -> None:
    trace = _trace(bundle, "phone starts_with '138'", {"phone": "13812345678"})
    row = SimpleNamespace(
        kind="pool_move", before={"pool": "new"}, after={"pool": "x"}, trace=trace
    )
    shown = Mask(bundle, "rita").stored_decision("contact", row)
    assert shown.trace["parts"][0]["value"] == "138****5678"
    assert (shown.kind, shown.before) == ("pool_move", {"pool": "new"})
    rolled = SimpleNamespace(
        kind="rollup",
        before={"budget": "1"},
        after={"budget": "2"},
        trace={"expr": "budget = sum(order.amount)", "value": "2", "parts": []},
    )
    hidden = Mask(bundle, "sue").stored_decision("contact", rolled)
    assert (hidden.after, hidden.trace["value"]) == ({"budget": "2"}, "2")  # sue sees budget
    hidden = Mask(bundle, "ghost").stored_decision("contact", rolled)
    assert (hidden.after, hidden.trace["value"]) == ({"budget": "***"}, "***")
    campaign = SimpleNamespace(
        kind="campaign",
        before={},
        after={},
        trace={"trigger": {"kind": "created"}, "when": trace, "errors": [{"field": "phone"}]},
    )
    shown = Mask(bundle, "rita").stored_decision("contact", campaign)
    assert shown.trace["when"]["parts"][0]["value"] == "138****5678"
    assert shown.trace["errors"] == [{"field": "phone", "message": "***"}]
    assert Mask(bundle, None).stored_decision("contact", campaign) is campaign


def test_masked_fields_cannot_be_queried(bundle: Bundle) -> None:
    mask = Mask(bundle, "rita")
    mask.refuse_query("contact", [Filter("budget", "gte", "1")], {"budget"}, "-budget")
    with pytest.raises(Forbidden) as refused:
        mask.refuse_query("contact", [Filter("phone", "eq", "1")], {"email"}, "-phone")
    fields = [e.field for e in refused.value.errors]
    assert fields == ["phone__eq", "where", "sort"]
    assert "masked for user 'rita'" in refused.value.detail
    Mask(bundle, None).refuse_query("contact", [Filter("phone", "eq", "1")], {"phone"}, "phone")


def test_masked_values_sent_back_keep_the_stored_ones(bundle: Bundle) -> None:
    stored = {"phone": "13812345678", "email": "maria@x.example", "tags": ["a"], "name": "M"}
    patch = {"phone": "138****5678", "email": "new@x.example", "tags": ["***"], "name": "M***"}
    assert Mask(bundle, "rita").without_echoes("contact", stored, patch) == {
        "email": "new@x.example",
        "name": "M***",  # not masked for rita: a value like any other
    }
    assert Mask(bundle, "max").without_echoes("contact", stored, patch) == patch
    assert Mask(bundle, "rita").without_echoes("contact", {}, {"phone": "138****5678"}) == {
        "phone": "138****5678"  # nothing stored: not an echo (the validator refuses it)
    }
