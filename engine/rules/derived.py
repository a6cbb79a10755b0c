"""Scores and grades, compiled: values derived from a record's other values on every write.

A score sums the points of the rules whose condition holds; a grade is the value of the first
rule that holds (a rule without a condition is the default). They run in bundle order — scores
first, then grades — each seeing the results before it, and before pool promotions, so a
promotion may test `score >= 60` or `grade == 'signed'`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from engine.conditions import Condition, Trace, compile_any, entity_scope
from engine.config.model import DerivedDef, EntityDef


@dataclass(frozen=True, slots=True)
class Derivation:
    """One derived field that changed: its rule set, the new value and why."""

    name: str
    kind: str
    field: str
    before: Any
    after: Any
    trace: Trace


class CompiledDerived:
    def __init__(self, items: list[DerivedDef], entity: EntityDef, tz: tzinfo) -> None:
        scope = entity_scope(entity, tz, update=True)
        self.items = [
            (
                item,
                [
                    (None if r.when is None else compile_any(r.when, scope)[0], r.value)
                    for r in item.rules
                ],
            )
            for item in items
        ]
        self.fields = frozenset(item.field for item in items)

    def apply(
        self, data: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[Derivation]]:
        """The values with every derived field recomputed, and the derivations that changed."""
        values = dict(data)
        changed: list[Derivation] = []
        for item, rules in self.items:
            result = (
                _score(rules, values, now, old)
                if item.kind == "score"
                else _grade(rules, values, now, old)
            )
            if values.get(item.field) != result:
                trace = _explain(item, rules, values, now, old, result)
                changed.append(
                    Derivation(
                        item.name, item.kind, item.field, values.get(item.field), result, trace
                    )
                )
            if result is None:
                values.pop(item.field, None)
            else:
                values[item.field] = result
        return values, changed


Rules = list[tuple[Condition | None, Any]]


def _score(
    rules: Rules, values: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None
) -> int:
    env = None
    total = 0
    for condition, points in rules:
        if condition is None:
            total += int(points)
            continue
        env = env or condition.env(values, now, old)
        if condition.run(env):
            total += int(points)
    return total


def _grade(
    rules: Rules, values: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None
) -> Any:
    env = None
    for condition, grade in rules:
        if condition is None:
            return grade
        env = env or condition.env(values, now, old)
        if condition.run(env):
            return grade
    return None


def _explain(
    item: DerivedDef,
    rules: Rules,
    values: Mapping[str, Any],
    now: datetime,
    old: Mapping[str, Any] | None,
    result: Any,
) -> Trace:
    """The trace of a derived value: each rule's condition with its verdict."""
    parts = tuple(
        condition.trace(values, now, old) for condition, _ in rules if condition is not None
    )
    return Trace(item.field, result, parts)
