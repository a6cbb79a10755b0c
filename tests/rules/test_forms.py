"""Form submissions with conditional fields and URL-filled hidden fields (SQLite and PG):
the server enforces visible_when / required_when whatever the page did."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Invalid
from engine.service import Idem, Services
from tests.helpers import FIXTURES


@pytest.fixture
def forms(svc: Services) -> Services:
    svc.install_dirs([FIXTURES / "forms"])
    return svc


def submit(svc: Services, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.submit_form("forms", "signup", data, **kw).result
    return result


def stored(svc: Services, record: dict[str, Any]) -> dict[str, Any]:
    return dict(svc.records.get("forms", "lead", record["id"]).data)


def refused(svc: Services, data: dict[str, Any], **kw: Any) -> set[tuple[str, str]]:
    with pytest.raises(Invalid) as caught:
        svc.records.submit_form("forms", "signup", data, **kw)
    return {(e.field, e.code) for e in caught.value.errors}


def test_value_of_an_invisible_field_is_dropped(forms: Services) -> None:
    record = submit(forms, {"name": "甲", "interest": "basic", "budget": "500000", "seats": 9})
    data = stored(forms, record)
    assert "budget" not in data  # interest is not enterprise: budget is not shown
    assert "seats" not in data  # shown only with a large budget, which was dropped
    assert data == {"name": "甲", "interest": "basic", "source": "website_form"}


def test_invalid_value_of_an_invisible_field_is_no_error(forms: Services) -> None:
    record = submit(forms, {"name": "甲", "budget": "lots", "seats": "many"})
    assert set(stored(forms, record)) == {"name", "source"}


def test_visible_fields_are_kept(forms: Services) -> None:
    record = submit(
        forms,
        {"name": "乙", "interest": "enterprise", "budget": "200000", "seats": 50, "note": "急"},
    )
    data = stored(forms, record)
    assert (data["budget"], data["seats"], data["note"]) == ("200000.00", 50, "急")


def test_required_when_is_enforced(forms: Services) -> None:
    errors = refused(forms, {"name": "丙", "interest": "enterprise", "budget": "100"})
    assert errors == {("note", "required_when")}
    errors = refused(forms, {"name": "丙", "interest": "enterprise", "budget": "100", "note": " "})
    assert errors == {("note", "required_when")}
    with pytest.raises(Invalid) as caught:
        forms.records.submit_form("forms", "signup", {"name": "丙", "interest": "enterprise"})
    (error,) = caught.value.errors
    assert error.message("en") == "is required when interest == 'enterprise'"
    assert error.message("zh-CN") == "当 interest == 'enterprise' 时必填"
    # the condition does not hold: not required
    assert "note" not in stored(forms, submit(forms, {"name": "丙", "interest": "basic"}))


def test_required_field_that_is_invisible_is_not_required(forms: Services) -> None:
    # seats has required: true but shows only when budget >= 100000
    record = submit(forms, {"name": "丁", "interest": "enterprise", "budget": "99", "note": "x"})
    assert "seats" not in stored(forms, record)
    errors = refused(
        forms, {"name": "丁", "interest": "enterprise", "budget": "100000", "note": "x"}
    )
    assert errors == {("seats", "required")}


def test_errors_are_reported_together(forms: Services) -> None:
    errors = refused(forms, {"interest": "enterprise", "budget": "-1", "phone": "x"})
    assert errors == {
        ("name", "required"),
        ("note", "required_when"),
        ("budget", "too_small"),
        ("phone", "phone"),
    }


def test_hidden_fields_are_filled_from_the_url(forms: Services) -> None:
    params = {"source": "qr_scan", "act": "2026-expo", "utm_medium": "poster"}
    data = stored(forms, submit(forms, {"name": "戊"}, params=params))
    assert (data["source"], data["activity"]) == ("qr_scan", "2026-expo")
    # without parameters the form's default applies
    data = stored(forms, submit(forms, {"name": "己"}, params={}))
    assert data["source"] == "website_form" and "activity" not in data
    data = stored(forms, submit(forms, {"name": "己二"}, params={"source": "", "act": " "}))
    assert data["source"] == "website_form" and "activity" not in data
    # the data naming the field itself wins over the URL
    data = stored(forms, submit(forms, {"name": "庚", "source": "referral"}, params=params))
    assert (data["source"], data["activity"]) == ("referral", "2026-expo")


def test_url_value_is_checked_like_any_value(forms: Services) -> None:
    assert refused(forms, {"name": "辛"}, params={"source": "billboard"}) == {("source", "option")}


def test_other_url_parameters_are_ignored(forms: Services) -> None:
    # a parameter that names no hidden field is ignored, even if it is a field's name
    data = stored(forms, submit(forms, {"name": "壬"}, params={"interest": "enterprise"}))
    assert "interest" not in data


def test_idempotent_retry_replays(forms: Services) -> None:
    idem = Idem.of("k1", "form", "signup", {"name": "癸"})
    first = forms.records.submit_form(
        "forms", "signup", {"name": "癸"}, params={"act": "expo"}, idem=idem
    )
    again = forms.records.submit_form(
        "forms", "signup", {"name": "癸"}, params={"act": "expo"}, idem=idem
    )
    assert again.replayed and again.result["id"] == first.result["id"]
