"""Listing: filters run in the database, sorts with nulls last, cursors that never skip."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import BadQuery
from engine.service import ListQuery, Services, parse_filters

ROWS: list[dict[str, Any]] = [
    {"name": "a", "budget": "100", "employees": 5, "region": "east", "tags": ["vip", "x"]},
    {"name": "b", "budget": "20.5", "employees": 50, "region": "north", "tags": ["x"]},
    {"name": "c", "budget": "1000", "region": "east", "vip": True},
    {"name": "d", "employees": 7, "interests": ["crm", "bi"]},
    {"name": "e", "budget": "100", "employees": 9, "region": "north"},
]


@pytest.fixture
def seeded(svc: Services) -> Services:
    results = svc.records.create_many("shop", "customer", ROWS).result["results"]
    assert all(r["status"] == 201 for r in results)
    return svc


def names(svc: Services, params: list[tuple[str, str]], sort: str = "name") -> list[str]:
    entity = svc.configs.active("shop").entity("customer")
    page = svc.records.query(
        "shop", "customer", ListQuery(parse_filters(entity, params), sort, 100)
    )
    return [r.data["name"] for r in page.records]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("region", "east")], ["a", "c"]),
        ([("region__ne", "east")], ["b", "e"]),  # null matches neither == nor !=
        ([("budget__gte", "100")], ["a", "c", "e"]),
        ([("budget__lt", "100.00")], ["b"]),  # money compares as a number, not as text
        ([("budget", "100")], ["a", "e"]),
        ([("employees__in", "5,9")], ["a", "e"]),
        ([("employees__gt", "6"), ("region", "north")], ["b", "e"]),
        ([("budget__isnull", "true")], ["d"]),
        ([("tags", "vip")], ["a"]),
        ([("tags__contains", "x")], ["a", "b"]),
        ([("interests", "bi")], ["d"]),
        ([("vip", "true")], ["c"]),
        ([("vip", "false")], ["a", "b", "d", "e"]),  # the default was stored
        ([("name__contains", "%")], []),  # LIKE wildcards are escaped
    ],
)
def test_filters(seeded: Services, params: list[tuple[str, str]], expected: list[str]) -> None:
    assert names(seeded, params) == expected


def test_sort_puts_nulls_last_both_ways(seeded: Services) -> None:
    assert names(seeded, [], "employees") == ["a", "d", "e", "b", "c"]
    assert names(seeded, [], "-employees") == ["b", "e", "d", "a", "c"]
    assert names(seeded, [], "-budget")[:1] == ["c"]


@pytest.mark.parametrize(
    "sort", ["employees", "-employees", "budget", "-budget", "-created_at", "region", "name"]
)
def test_cursor_pages_visit_every_record_once(seeded: Services, sort: str) -> None:
    expected = names(seeded, [], sort)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = seeded.records.query("shop", "customer", ListQuery((), sort, 2, cursor))
        seen += [r.data["name"] for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_bad_queries_name_the_problem(seeded: Services) -> None:
    entity = seeded.configs.active("shop").entity("customer")
    with pytest.raises(BadQuery) as caught:
        parse_filters(entity, [("regoin", "east"), ("budget__approx", "1")])
    messages = [e.message() for e in caught.value.errors]
    assert "did you mean 'region'?" in messages[0] and "unknown operator" in messages[1]
    with pytest.raises(BadQuery):
        names(seeded, [("budget__gt", "lots")])
    with pytest.raises(BadQuery):
        seeded.records.query("shop", "customer", ListQuery((), "-nmae"))
    with pytest.raises(BadQuery):
        seeded.records.query("shop", "customer", ListQuery((), "name", 2, "garbage!"))


def test_list_is_per_tenant_and_hides_deleted(seeded: Services) -> None:
    assert seeded.records.query("other", "customer", ListQuery()).records == []
    first = seeded.records.query("shop", "customer", ListQuery(sort="name")).records[0]
    seeded.records.delete("shop", "customer", first.id)
    assert "a" not in names(seeded, [])
