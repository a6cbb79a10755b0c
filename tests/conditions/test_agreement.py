"""The condition language's backends agree: Python closures == SQLite == PostgreSQL.

Random well-typed conditions (tests/conditions/strategies.py) run on random stored records, at
random instants, in each tenant zone. The records go into the real `records` table, replaced
for each example, and each backend says which of them match. Also: the canonical text is a
fixed point of parse → check → print and means the same; the "why?" trace gives the same
verdict; no text makes the parser or the checker raise anything but ConditionError.

What these found is at the end, each fixed bug as a regression test (and an example of the
property). A new disagreement goes there too, smallest case first.

More examples for a long hunt: TIDEPOOL_AGREEMENT_EXAMPLES=5000 pytest tests/conditions
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.conditions import Condition, ConditionError, compile_text, entity_scope
from engine.conditions.parser import parse
from engine.storage.db import make_engine
from engine.storage.tables import metadata, records
from tests.conditions.strategies import (
    CUSTOMER,
    ZONES,
    Case,
    cases,
    conditions,
    customer_records,
    instants,
    token_soup,
    zones,
)
from tests.helpers import PG_ENV

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
PG_URL = os.environ.get(PG_ENV)
EXAMPLES = int(os.environ.get("TIDEPOOL_AGREEMENT_EXAMPLES", "300"))

Outcome = frozenset[int] | str  # indexes of the matching records, or the error raised


# Databases: one per backend for the module; rows are replaced for each example --------------
@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path: Path = tmp_path_factory.mktemp("agreement") / "agreement.db"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=[records])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_db() -> Iterator[sa.Engine | None]:
    """A fresh schema for the module, or None without TIDEPOOL_TEST_POSTGRES_URL."""
    if not PG_URL:
        yield None
        return
    schema = f"t_agree_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine, tables=[records])
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(scope="module")
def backends(sqlite_db: sa.Engine, pg_db: sa.Engine | None) -> dict[str, sa.Engine]:
    found = {"sqlite": sqlite_db}
    if pg_db is not None:
        found["postgresql"] = pg_db
    return found


@pytest.fixture
def pg_backends(backends: dict[str, sa.Engine]) -> dict[str, sa.Engine]:
    """For the bugs only PostgreSQL shows."""
    if "postgresql" not in backends:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    return backends


def test_postgres_is_configured(backends: dict[str, sa.Engine]) -> None:
    """Without PostgreSQL the properties compare Python with SQLite only: say so."""
    if "postgresql" not in backends:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}: the properties ran on SQLite only")


# Running one case on every backend ----------------------------------------------------------
def scope_of(case: Case) -> Any:
    return entity_scope(CUSTOMER, ZONES[case.tz])


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def run_python(cond: Condition, case: Case) -> Outcome:
    try:
        return frozenset(i for i, r in enumerate(case.records) if cond.evaluate(r, case.now))
    except Exception as exc:
        return _error(exc)


def run_sql(engine: sa.Engine, cond: Condition, case: Case) -> Outcome:
    rows = [
        {
            "tenant_id": "t",
            "id": str(i),
            "entity": "customer",
            "data": data,
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, data in enumerate(case.records)
    ]
    try:
        with engine.begin() as conn:
            conn.execute(records.delete())
            conn.execute(records.insert(), rows)
            where = cond.sql(engine.dialect.name, case.now, records.c.data)
            found = conn.execute(sa.select(records.c.id).where(where)).scalars().all()
        return frozenset(int(i) for i in found)
    except Exception as exc:
        return _error(exc)


def outcomes(case: Case, backends: dict[str, sa.Engine]) -> dict[str, Outcome]:
    cond = compile_text(case.text, scope_of(case))
    found = {"python": run_python(cond, case)}
    for name, engine in backends.items():
        found[name] = run_sql(engine, cond, case)
    return found


def assert_agree(case: Case, backends: dict[str, sa.Engine]) -> None:
    """Python and every database pick the same records (and none of them raises)."""
    found = outcomes(case, backends)
    if len(set(found.values())) == 1:
        return
    lines = [f"condition: {case.text}", f"now: {case.now.isoformat()}  tz: {case.tz}"]
    for i, data in enumerate(case.records):
        says = {
            name: (i in got) if isinstance(got, frozenset) else "error"
            for name, got in found.items()
        }
        if len(set(says.values())) > 1:
            lines.append(f"record {i}: {data}  -> {says}")
    lines += [f"{name}: {got}" for name, got in found.items() if isinstance(got, str)]
    raise AssertionError("backends disagree\n" + "\n".join(lines))


# The property -------------------------------------------------------------------------------
def _case(text: str, *rows: dict[str, Any], now: datetime = NOW, tz: str = "UTC") -> Case:
    return Case(text, tuple({"name": "x", **r} for r in rows), now, tz)


EDGE_CASES = (
    # null inside in / not in, and under not
    _case(
        "region not in ['east', null] and not (employees in [1, null])",
        {},
        {"region": "east"},
        {"region": "north", "employees": 1},
        {"region": "north", "employees": 2},
    ),
    _case("not (region in [null, 'north']) or source not in ['qr_scan']", {}, {"region": "east"}),
    # division by zero is null, and null under not is false
    _case(
        "employees / 0 is null and not (ratio / (employees - employees) > 0)",
        {"employees": 3, "ratio": "1.0000"},
        {},
    ),
    _case("round(budget / 3, 2) == 0.33 and budget / (employees * 0) is null", {"budget": "1.00"}),
    # exact decimals
    _case(
        "ratio + 0.2 == 0.3 and 0.1 + 0.2 == 0.3 and budget * 3 == 0.9",
        {"ratio": "0.1000", "budget": "0.30"},
        {"ratio": "0.1001", "budget": "0.30"},
    ),
    _case("ratio * 3 == 0.9999 and abs(-(ratio)) == 0.3333", {"ratio": "0.3333"}),
    # DST: 02:30 does not exist on 2024-03-10 in New York, 01:30 happens twice on 2024-11-03
    _case(
        "last_followup_at >= 2024-03-10T02:30 and last_followup_at < 2024-11-03T01:30",
        {"last_followup_at": "2024-03-10T07:29:59Z"},
        {"last_followup_at": "2024-03-10T07:30:00Z"},
        {"last_followup_at": "2024-11-03T05:29:59Z"},
        {"last_followup_at": "2024-11-03T05:30:00Z"},
        tz="America/New_York",
    ),
    _case(
        "last_followup_at >= 2024-03-10 and days_since(founded) == 0 and today() == 2024-03-10",
        {"last_followup_at": "2024-03-10T04:59:59Z", "founded": "2024-03-10"},
        {"last_followup_at": "2024-03-10T05:00:00Z", "founded": "2024-03-10"},
        now=datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
        tz="America/New_York",
    ),
    _case(
        "hours_since(last_followup_at) == 1 and last_followup_at + 1d == 2024-03-11T06:30:00Z",
        {"last_followup_at": "2024-03-10T06:30:00Z"},
        now=datetime(2024, 3, 10, 7, 30, tzinfo=UTC),
        tz="America/New_York",
    ),
    # future values: days_since is negative and floors (one second ahead is -1)
    _case(
        "days_since(founded) == -1 and days_since(last_followup_at) == -1"
        " and hours_since(last_followup_at) == -1 and days_until(last_followup_at) == 0",
        {"founded": "2024-03-11", "last_followup_at": "2024-03-10T12:00:01Z"},
        {"founded": "2024-03-11", "last_followup_at": "2024-03-10T12:00:00Z"},
    ),
    _case(
        "days_until(founded) == 366 and days_since(last_followup_at) == -367",
        {"founded": "2025-03-11", "last_followup_at": "2025-03-11T11:59:59Z"},
    ),
    # leap days and year ends
    _case(
        "founded + 1d == 2024-03-01 and founded - 1w == 2024-02-22"
        " and founded + 365d == 2025-02-28",
        {"founded": "2024-02-29"},
        {"founded": "2023-02-28"},
    ),
    _case(
        "founded between 2024-02-28 and 2024-03-01 and (founded - 2023-02-28) == 366d",
        {"founded": "2024-02-29"},
        {"founded": "1900-02-28"},
    ),
    _case(
        "today() == 2024-01-01 and days_since(founded) == 1 and days_until(2024-12-31) == 365",
        {"founded": "2023-12-31"},
        now=datetime(2023, 12, 31, 16, 0, tzinfo=UTC),
        tz="Asia/Shanghai",
    ),
    _case(
        "today() == 2024-04-07 and last_followup_at < 2024-04-07T03:00"
        " and days_since(founded) == 0",
        {"founded": "2024-04-07", "last_followup_at": "2024-04-06T13:59:59Z"},
        {"founded": "2024-04-07", "last_followup_at": "2024-04-06T14:15:00Z"},
        now=datetime(2024, 4, 6, 14, 0, tzinfo=UTC),
        tz="Pacific/Chatham",
    ),
    # text: code-point order, ASCII-only case mapping, characters not bytes
    _case(
        "name > 'z' and lower(name) == 'ß中😀' and len(name) == 3 and upper(name) starts_with 'ß'",
        {"name": "ß中😀"},
        {"name": "Z"},
    ),
    _case("lower(name) == 'straße' or upper(note) == 'İI'", {"name": "STRAßE", "note": "İi"}),
    _case(
        "name matches '^[a-z]+\\\\d$' or note matches '中.文'", {"name": "ab1"}, {"note": "中\n文"}
    ),
    # lists
    _case(
        "interests contains 'crm' and tags contains '中文' and len(tags) == 2 and tags is not null",
        {"interests": ["crm"], "tags": ["中文", "😀"]},
        {"interests": ["erp"], "tags": ["中文"]},
        {},
    ),
    # booleans
    _case("vip and not (vip == false) and coalesce(vip, true)", {"vip": True}, {"vip": False}, {}),
)


_FRACTION = NOW + timedelta(microseconds=500_000)
# name: (case, what went wrong before the fix)
REGRESSIONS = {
    "not-in-null": (
        _case("employees not in [null]", {"employees": 5}),
        "SQL false (bound list empty → false), Python true",
    ),
    "not-in-empty": (_case("employees not in []", {"employees": 5}), "SQL false, Python true"),
    "condition-as-value": (
        _case("(employees > 1) == true", {"employees": 5}),
        "SQL AttributeError: no val_Compare",
    ),
    "condition-is-null": (
        _case("(employees > 1) is null", {"employees": 5}),
        "SQL AttributeError: no val_Compare",
    ),
    "datetime-past-9999": (
        _case("last_followup_at + 2d > now()", {"last_followup_at": "9999-12-31T00:00:00Z"}),
        "Python OverflowError, SQL true",
    ),
    "date-past-9999": (
        _case("founded + 99999999w > 2020-01-01", {"founded": "2024-01-01"}),
        "Python OverflowError, SQL true",
    ),
    "literal-fraction": (
        _case(
            "coalesce(last_followup_at, now()) >= 2024-01-01T00:00:00.5Z",
            {"last_followup_at": "2024-01-01T00:00:00Z"},
        ),
        "Python false (exact), SQL true (literal truncated to the second)",
    ),
    "now-fraction": (
        _case(
            "last_followup_at < now()", {"last_followup_at": "2024-03-10T12:00:00Z"}, now=_FRACTION
        ),
        "Python true (now has 0.5 s), SQL false (now bound as text to the second)",
    ),
    "null-constant-eq": (
        _case("employees == 1 / 0", {}),
        "SQL true (employees IS NULL), Python false",
    ),
    "null-constant-in": (
        _case("employees in [employees + 1, null]", {}),
        "SQL true (… OR employees IS NULL), Python false",
    ),
    "null-constant-lt": (
        _case("employees < 1 / 0", {}),
        "SQL ArgumentError building the query (< NULL)",
    ),
    "not-matches": (
        _case("not name matches 'a'", {"name": "a"}),
        "PostgreSQL: SADeprecationWarning, `~` typed as text under NOT (error under -W error)",
    ),
    "date-difference": (
        _case("founded - 1956-01-01 > 0s", {"founded": "2024-02-29"}),
        "PostgreSQL: integer out of range (days * 86400 in int4)",
    ),
    "not-in-list-missing": (
        _case("note not in tags", {}),
        "SQL true, Python false (list missing)",
    ),
    "not-in-list-value-missing": (
        _case("note not in tags", {"tags": ["a"]}),
        "SQL true, Python false (value missing)",
    ),
    "coalesce-date-arith": (
        _case("coalesce(founded + 1d, founded) == founded", {"founded": "2024-02-29"}),
        "SQL AssertionError: no conversion days -> text",
    ),
    "coalesce-datetime-arith": (
        _case("coalesce(last_followup_at - 1h, now()) < now()", {}),
        "SQL AssertionError: no conversion epoch -> text",
    ),
    "division-double-rounding": (
        _case("100000000006 / budget == 1", {"budget": "100000000001.00"}),
        "PostgreSQL false (quotient rounded at scale 20, then to 10 places), others true",
    ),
    "round-past-28-digits": (
        _case("round(budget * 1000000, 10) > 0", {"budget": "9999999999999.99"}),
        "Python and SQLite decimal.InvalidOperation, PostgreSQL true",
    ),
    "int4-product": (
        _case("days_since(founded) * days_since(founded) > 0", {"founded": "1850-01-01"}),
        "PostgreSQL: integer out of range (int4 * int4)",
    ),
}


def _with_edge_cases(test: Any) -> Any:
    for case, _ in REGRESSIONS.values():
        test = example(case=case)(test)
    for case in EDGE_CASES:
        test = example(case=case)(test)
    return test


@_with_edge_cases
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_backends_agree(case: Case, backends: dict[str, sa.Engine]) -> None:
    assert_agree(case, backends)


def test_edge_cases_compile() -> None:
    """The fixed examples are written by hand: make sure each is a condition at all."""
    for case in EDGE_CASES:
        compile_text(case.text, scope_of(case))


# The canonical text -------------------------------------------------------------------------
@settings(
    max_examples=EXAMPLES * 2 // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    text=conditions(),
    tz=zones(),
    rows=st.lists(customer_records(), max_size=3),
    now=instants(),
)
def test_canonical_text_round_trip(
    text: str, tz: str, rows: list[dict[str, Any]], now: datetime
) -> None:
    scope = entity_scope(CUSTOMER, ZONES[tz])
    cond = compile_text(text, scope)
    again = compile_text(cond.text, scope)
    assert again.text == cond.text
    for row in rows:  # and printing changes nothing a record could notice
        assert again.evaluate(row, now) == cond.evaluate(row, now), (cond.text, row)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=conditions(), tz=zones(), rows=st.lists(customer_records(), max_size=3), now=instants())
def test_trace_agrees_with_evaluate(
    text: str, tz: str, rows: list[dict[str, Any]], now: datetime
) -> None:
    """The "why?" trace is a separate interpreter: its verdict is the evaluation's."""
    cond = compile_text(text, entity_scope(CUSTOMER, ZONES[tz]))
    for row in rows:
        trace = cond.trace(row, now)
        assert (trace.value is True) == cond.evaluate(row, now), (cond.text, row)
        trace.render("zh-CN")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text())
def test_parser_raises_only_condition_errors(text: str) -> None:
    with contextlib.suppress(ConditionError):
        parse(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.one_of(st.text(), token_soup()), tz=zones())
def test_compile_raises_only_condition_errors(text: str, tz: str) -> None:
    try:
        cond = compile_text(text, entity_scope(CUSTOMER, ZONES[tz]))
    except ConditionError:
        return
    assert compile_text(cond.text, entity_scope(CUSTOMER, ZONES[tz])).text == cond.text


# Found by these properties --------------------------------------------------------------------
# Each is the smallest case; all are fixed and stay as regressions and as examples of the main
# property.
@pytest.mark.parametrize(
    "regression", [case for case, _ in REGRESSIONS.values()], ids=list(REGRESSIONS)
)
def test_regression_agrees(regression: Case, backends: dict[str, sa.Engine]) -> None:
    assert_agree(regression, backends)


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        ("tags == ['a']", "UTC"),  # was: SQL AssertionError 'no conversion list -> text'
        ("last_followup_at > 0001-01-01", "Asia/Shanghai"),  # was: OverflowError (year 0 UTC)
        ("last_followup_at > 9999-12-31T23:59:59-00:01", "UTC"),  # was: OverflowError
        ("name == 'a\x00'", "UTC"),  # was: PostgreSQL DataError (NUL in text)
        ("name == 'a\ud800'", "UTC"),  # was: UnicodeEncodeError binding the parameter
    ],
)
def test_regression_refused(text: str, tz: str) -> None:
    """Conditions no backend can run are refused when checked, never fail later."""
    with pytest.raises(ConditionError):
        compile_text(text, entity_scope(CUSTOMER, ZONES[tz]))


@pytest.mark.parametrize("pattern", ["[[.a.]]", "[[=a=]]", "[[:alpha:]]"])
def test_regex_collating_forms_are_refused(pattern: str) -> None:
    # PostgreSQL reads these as collating elements / classes, RE2 as plain characters.
    with pytest.raises(ConditionError, match="not supported"):
        compile_text(f"name matches '{pattern}'", entity_scope(CUSTOMER, ZONES["UTC"]))


@pytest.mark.parametrize("text", ["coalesce((employees > 1), vip)", "vip in [(employees > 1)]"])
def test_regression_printer_test_as_argument(text: str) -> None:
    # cond.text was 'coalesce(employees > 1, vip)' / 'vip in [employees > 1]': ConditionError
    scope = entity_scope(CUSTOMER, ZONES["UTC"])
    cond = compile_text(text, scope)
    assert compile_text(cond.text, scope).text == cond.text


@pytest.mark.parametrize("op", ["starts_with", "ends_with", "contains"])
def test_regression_null_constant_text_test(op: str, backends: dict[str, sa.Engine]) -> None:
    # name 'a': Python false; SQL was true (substr(name, 1, length(NULL)) IS NULL)
    assert_agree(_case(f"name {op} lower(null)", {"name": "a"}), backends)
