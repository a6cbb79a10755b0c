"""The bench condition written for each rule package, idiomatically, over the stored dicts.

Every builder returns a test `stored dict -> bool` with the semantics of the Tidepool condition

    budget >= 1000 and region in ['east', 'north'] and days_since(last_followup_at) > 30
    and score >= 60

(a missing value makes its clause false; money is decimal text; datetimes are UTC text;
days_since counts whole 24-hour periods, rounded down) — or raises ImportError when the
package is not installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

Record = dict[str, Any]  # a record's stored data, as json.loads gives it
Test = Callable[[Record], bool]
DAY_SECONDS = 86400


def _days_since(now: datetime, text: str | None) -> int | None:
    if text is None:
        return None
    return math.floor((now - datetime.fromisoformat(text)).total_seconds() / DAY_SECONDS)


def rule_engine_test(now: datetime) -> Test:
    """rule-engine: one rule text; $parse_float/$parse_datetime read the stored text."""
    import rule_engine

    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (
        "budget != null and $parse_float(budget) >= 1000"
        " and region in ['east', 'north']"
        " and last_followup_at != null"
        f" and (d'{stamp}' - $parse_datetime(last_followup_at)).days > 30"
        " and score != null and score >= 60"
    )
    rule = rule_engine.Rule(text, context=rule_engine.Context(default_value=None))
    matches: Test = rule.matches
    return matches


def business_rules_test(now: datetime) -> Test:
    """business-rules: a variables class over the record, one rule, run_all."""
    from business_rules import run_all
    from business_rules.actions import BaseActions, rule_action
    from business_rules.variables import (
        BaseVariables,
        boolean_rule_variable,
        numeric_rule_variable,
        string_rule_variable,
    )

    class AccountVariables(BaseVariables):  # type: ignore[misc]
        def __init__(self, data: Record) -> None:
            self.data = data

        @boolean_rule_variable  # type: ignore[untyped-decorator]
        def has_budget(self) -> bool:
            return self.data.get("budget") is not None

        @numeric_rule_variable  # type: ignore[untyped-decorator]
        def budget(self) -> Decimal:
            return Decimal(self.data["budget"])

        @string_rule_variable  # type: ignore[untyped-decorator]
        def region(self) -> str | None:
            return self.data.get("region")

        @boolean_rule_variable  # type: ignore[untyped-decorator]
        def has_last_followup(self) -> bool:
            return self.data.get("last_followup_at") is not None

        @numeric_rule_variable  # type: ignore[untyped-decorator]
        def days_since_followup(self) -> int:
            days = _days_since(now, self.data["last_followup_at"])
            assert days is not None
            return days

        @boolean_rule_variable  # type: ignore[untyped-decorator]
        def has_score(self) -> bool:
            return self.data.get("score") is not None

        @numeric_rule_variable  # type: ignore[untyped-decorator]
        def score(self) -> int:
            value: int = self.data["score"]
            return value

    class AccountActions(BaseActions):  # type: ignore[misc]
        @rule_action()  # type: ignore[untyped-decorator]
        def match(self) -> None:
            pass

    def known(name: str) -> dict[str, Any]:
        return {"name": name, "operator": "is_true", "value": True}

    def region_is(value: str) -> dict[str, Any]:
        return {"name": "region", "operator": "equal_to", "value": value}

    rule = {
        "conditions": {
            "all": [
                known("has_budget"),
                {"name": "budget", "operator": "greater_than_or_equal_to", "value": 1000},
                {"any": [region_is("east"), region_is("north")]},
                known("has_last_followup"),
                {"name": "days_since_followup", "operator": "greater_than", "value": 30},
                known("has_score"),
                {"name": "score", "operator": "greater_than_or_equal_to", "value": 60},
            ]
        },
        "actions": [{"name": "match"}],
    }
    rules, actions = [rule], AccountActions()

    def test(data: Record) -> bool:
        triggered: bool = run_all(rules, AccountVariables(data), actions)
        return triggered

    return test


def json_logic_test(now: datetime) -> Test:
    """JsonLogic (json-logic-qubit): a JSON rule, `+` casts the money text to a number (the
    JsonLogic idiom), and one custom operation for days_since."""
    from json_logic import add_operation, jsonLogic

    add_operation("days_since", lambda text: _days_since(now, text))

    def present(name: str) -> dict[str, Any]:
        return {"!=": [{"var": name}, None]}

    rule = {
        "and": [
            present("budget"),
            {">=": [{"+": [{"var": "budget"}]}, 1000]},
            {"in": [{"var": "region"}, ["east", "north"]]},
            {">": [{"days_since": [{"var": "last_followup_at"}]}, 30]},
            {">=": [{"var": "score"}, 60]},
        ]
    }

    def test(data: Record) -> bool:
        return bool(jsonLogic(rule, data))

    return test


def zen_engine_test(now: datetime) -> Test:
    """zen-engine (GoRules ZEN, Rust): one compiled expression, evaluated with the dict."""
    import zen

    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expression = zen.compile_expression(
        "budget != null and number(budget) >= 1000"
        " and region in ['east', 'north']"
        " and last_followup_at != null"
        f" and floor((date('{stamp}') - date(last_followup_at)) / 86400) > 30"
        " and score != null and score >= 60"
    )

    def test(data: Record) -> bool:
        return expression.evaluate(data) is True

    return test


@dataclass(frozen=True)
class Package:
    label: str
    distribution: str  # the pip name that installs it
    build: Callable[[datetime], Test]
    note: str = ""
    native: bool = False  # its evaluator is compiled code, not Python


PACKAGES: dict[str, Package] = {
    "rule_engine": Package("rule-engine", "rule-engine", rule_engine_test),
    "business_rules": Package("business-rules", "business-rules", business_rules_test),
    "json_logic": Package(
        "json-logic",
        "json-logic-qubit",
        json_logic_test,
        "json-logic-qubit: the PyPI `json-logic` (0.6.3) installs but is Python 2 only",
    ),
    "zen_engine": Package(
        "zen-engine", "zen-engine", zen_engine_test, "evaluator written in Rust", native=True
    ),
}
