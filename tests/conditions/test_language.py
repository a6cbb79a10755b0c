"""Parsing, typing, evaluation, printing and tracing of conditions (Python backend)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.conditions import ConditionError, Scope, compile_any, compile_text
from engine.conditions.parser import parse
from engine.conditions.printer import to_text
from engine.conditions.structured import StructuredError

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
RECORD: dict[str, Any] = {
    "name": "甲公司",
    "budget": "200000.00",
    "region": "east",
    "employees": 5,
    "last_followup_at": "2026-10-01T00:00:00Z",
    "tags": ["vip"],
    "vip": True,
    "founded": "2020-02-29",
    "ratio": "0.1000",
}


def holds(text: str, scope: Scope, data: dict[str, Any] | None = None) -> bool:
    return compile_text(text, scope).evaluate(RECORD if data is None else data, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("budget >= 1000 and region in ['east', 'north']", True),
        ("budget > 1000 and region == 'north' or vip", True),  # and binds tighter than or
        ("not vip or employees > 3", True),
        ("employees * 2 + 1 == 11", True),
        ("employees - 2 * 3 == -1", True),
        ("budget / 3 > 66666.66", True),
        ("ratio + 0.2 == 0.3", True),  # exact decimals: no float drift
        ("ratio * 3 == 0.3", True),
        ("employees / 0 > 1", False),  # division by zero is no value
        ("employees between 5 and 6", True),
        ("employees between 6 and 5", False),
        ("tags contains 'vip' and 'vip' in tags and len(tags) == 1", True),
        ("name contains '公司' and name starts_with '甲' and name ends_with '司'", True),
        ("name matches '^甲.司$'", True),
        ("lower('ABC') == 'abc' and upper(region) == 'EAST'", True),
        ("abs(-employees) == 5 and round(budget / 7, 2) == 28571.43", True),
        ("round(2.5) == 3 and round(-2.5) == -3", True),  # half away from zero
        ("coalesce(note, name) == '甲公司'", True),
        ("days_since(last_followup_at) == 54", True),
        ("hours_since(last_followup_at) == 1304", True),
        ("days_until(founded) < 0 and days_since(founded) > 2000", True),
        ("last_followup_at < now() - 30d and last_followup_at > now() - 60d 12h", True),
        ("last_followup_at < 2026-10-01T08:00:01+08:00", True),
        ("last_followup_at == 2026-10-01T08:00", True),  # naive: read in the tenant's zone
        ("last_followup_at >= 2026-10-01", True),  # a date next to a datetime: its midnight
        ("founded + 1d == 2020-03-01 and founded - 2020-02-01 == 28d", True),
        ("now() - last_followup_at > 54d", True),
        ("today() == 2026-11-24", True),
    ],
)
def test_evaluation(scope: Scope, text: str, expected: bool) -> None:
    assert holds(text, scope) is expected


@pytest.mark.parametrize(
    "text",
    [
        "note == 'x'",
        "note != 'x'",
        "note < 'x'",
        "note in ['x']",
        "note not in ['x']",
        "note contains ''",
        "note between 'a' and 'z'",
        "employees2 > 1",
    ],
)
def test_a_missing_value_never_matches(scope: Scope, text: str) -> None:
    if text.startswith("employees2"):
        with pytest.raises(ConditionError):
            compile_text(text, scope)
        return
    assert holds(text, scope) is False


def test_not_of_a_missing_comparison_is_true(scope: Scope) -> None:
    assert holds("not (note == 'x')", scope) is True
    assert holds("note is null and not (note != 'x')", scope) is True


def test_changed_and_old(update_scope: Scope) -> None:
    cond = compile_text(
        "changed(region) and old(region) == 'north' and region == 'east'", update_scope
    )
    assert cond.evaluate(RECORD, NOW, old={**RECORD, "region": "north"}) is True
    assert cond.evaluate(RECORD, NOW, old=RECORD) is False
    assert cond.evaluate(RECORD, NOW) is False  # a create has no old values


@pytest.mark.parametrize(
    "text",
    [
        "budget >= 1000 and region in ['east', 'north'] and days_since(last_followup_at) > 30",
        "not (vip or employees > 3) and (a == 1 or b == 2)",
        "employees - (2 - 3) == 6 and -employees < 0",
        "last_followup_at < now() - 30d 12h",
        "name == 'it\\'s' and name != 'line\\nbreak'",
        "founded between 2020-01-01 and 2020-12-31 and note is not null",
    ],
)
def test_canonical_text_round_trips(text: str) -> None:
    once = to_text(parse(text))
    assert to_text(parse(once)) == once


def test_structured_and_text_forms_mean_the_same(scope: Scope) -> None:
    structured = {
        "all": [
            {"field": "budget", "op": "gte", "value": 1000},
            {
                "any": [
                    {"field": "region", "op": "in", "value": ["east", "north"]},
                    {"not": {"field": "vip", "op": "eq", "value": True}},
                ]
            },
            {"field": "last_followup_at", "op": "lt", "value": "2026-11-01"},
            {"field": "ratio", "op": "between", "value": [0.05, 0.5]},
            {"field": "note", "op": "is_null"},
            "days_since(last_followup_at) > 30",
        ]
    }
    cond, _ = compile_any(structured, scope)
    assert cond.text == (
        "budget >= 1000 and (region in ['east', 'north'] or not (vip == true)) and "
        "last_followup_at < 2026-10-31T16:00:00Z and ratio between 0.05 and 0.5 and "
        "note is null and days_since(last_followup_at) > 30"
    )
    assert cond.evaluate(RECORD, NOW) is True


@pytest.mark.parametrize(
    ("raw", "pointer", "message"),
    [
        ({"all": []}, "/all", "expected a non-empty list of conditions"),
        ({"field": "budget", "op": "greater", "value": 1}, "/op", "unknown op 'greater'"),
        ({"field": "budget", "op": "between", "value": 1}, "/value", "between takes [low, high]"),
        ({"field": "budget"}, "", "a test needs 'field' and 'op'"),
        ([1, 2], "", "a condition is an expression text or a mapping"),
    ],
)
def test_structured_mistakes(scope: Scope, raw: Any, pointer: str, message: str) -> None:
    with pytest.raises(StructuredError) as caught:
        compile_any(raw, scope)
    assert (caught.value.pointer, caught.value.message) == (pointer, message)


def test_structured_type_errors_point_at_the_yaml_node(scope: Scope) -> None:
    raw = {"any": [{"field": "region", "op": "eq", "value": "south"}, "budjet > 1"]}
    with pytest.raises(ConditionError) as caught:
        compile_any(raw, scope)
    assert "'south' is not an option" in caught.value.message


def test_trace_shows_why_and_why_not(scope: Scope) -> None:
    cond = compile_text("budget >= 1000 and (employees > 10 or note is not null)", scope)
    trace = cond.trace(RECORD, NOW)
    assert trace.value is False
    assert trace.render("en") == "\n".join(
        [
            "✗ budget >= 1000 and (employees > 10 or note is not null)",
            "  ✓ budget >= 1000",
            "    budget = 200000",
            "  ✗ employees > 10 or note is not null",
            "    ✗ employees > 10",
            "      employees = 5",
            "    ✗ note is not null",
            "      note = (no value)",
        ]
    )
    assert "note = （无值）" in trace.render("zh-CN")
    assert trace.as_dict()["parts"][0]["value"] is True


def test_trace_shows_times_in_the_tenant_zone(scope: Scope) -> None:
    trace = compile_text("last_followup_at < now()", scope).trace(RECORD, NOW)
    assert "last_followup_at = 2026-10-01T08:00:00+08:00" in trace.render()


def test_the_parser_refuses_deep_nesting() -> None:
    with pytest.raises(ConditionError, match="nested"):
        parse("(" * 100 + "a" + ")" * 100)
    with pytest.raises(ConditionError, match="longer than"):
        parse("a == 1 and " * 1000 + "a == 1")


def test_regex_is_linear_time(scope: Scope) -> None:
    evil = {"name": "a" * 5000 + "!"}
    assert holds("name matches '^(a+)+$'", scope, evil) is False  # RE2: no backtracking
