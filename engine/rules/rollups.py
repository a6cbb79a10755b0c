"""Rollups, compiled: a parent's field computed from its related records.

Pure: given the related records' values (the service loads them in the write's transaction),
`compute` returns the result in the parent field's stored form, and `trace` says how it came.
A related record's write recomputes the rollup from all related records — never an increment,
so a missed or repeated event cannot leave a wrong total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from engine.conditions import Condition, Trace, compile_any, entity_scope, nodes
from engine.config.model import EntityDef, RollupDef
from engine.errors import Signal
from engine.fields.errors import FieldValueError

NUMERIC = frozenset({"integer", "decimal", "money"})


@dataclass(frozen=True, slots=True)
class Related:
    """One related record, as a rollup sees it."""

    data: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    id: str = ""  # breaks ties between records written at the same instant


class RollupOverflow(Signal):
    """A rollup's result that its field cannot store: the write that caused it is refused."""

    def __init__(self, field: str, error: FieldValueError) -> None:
        super().__init__(f"{field}: {error}")
        self.field = field
        self.error = error


@dataclass(frozen=True, slots=True)
class Rolled:
    """A rollup's new value and how many related records it was computed from."""

    field: str
    value: Any
    used: int
    trace: Trace


class CompiledRollup:
    def __init__(
        self,
        rollup: RollupDef,
        parent: EntityDef,
        child: EntityDef,
        tz: tzinfo,
        store_as: Callable[[Any], Any],
    ) -> None:
        self.definition = rollup
        self.condition: Condition | None = None
        reads = {rollup.via, rollup.of, rollup.order_by}
        if rollup.where is not None:
            self.condition = compile_any(rollup.where, entity_scope(child, tz))[0]
            reads |= nodes.field_names(self.condition.tree)
        self.reads = frozenset(r for r in reads if r is not None)
        self.of_type = child.fields[rollup.of].type if rollup.of else None
        self.store_as = store_as  # the parent field's coercer: a result in stored form
        self.field = rollup.field
        self.tz = tz

    @property
    def source(self) -> str:
        return self.definition.source

    @property
    def via(self) -> str:
        return self.definition.via

    def initial(self) -> Any:
        """The value with no related records: 0 for count and sum, none for the others."""
        return self.store_as(0) if self.definition.fn in ("count", "sum") else None

    def touches(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
        """Whether a related record's write can change this rollup."""
        if old is None or new is None:
            return True
        return any(old.get(name) != new.get(name) for name in self.reads)

    def compute(self, related: Sequence[Related], now: datetime) -> Rolled:
        chosen = [r for r in related if self._holds(r, now)]
        fn = self.definition.fn
        if fn == "count":
            value: Any = len(chosen)
        elif fn == "last":
            value = self._last(chosen)
        else:
            values = [self._number(r.data.get(self.definition.of or "")) for r in chosen]
            present = [v for v in values if v is not None]
            value = _AGGREGATES[fn](present) if present or fn == "sum" else None
        try:
            stored = None if value is None else self.store_as(value)
        except FieldValueError as exc:  # e.g. a sum beyond the digits a number may have
            raise RollupOverflow(self.field, exc) from None
        shown = stored if fn == "count" else self._shown(stored)
        return Rolled(self.field, stored, len(chosen), self._trace(shown, len(chosen)))

    def _holds(self, related: Related, now: datetime) -> bool:
        return self.condition is None or self.condition.evaluate(related.data, now)

    def _number(self, value: Any) -> Any:
        if value is None or self.of_type not in NUMERIC:
            return value  # dates and datetimes are stored fixed-width: they compare as text
        return Decimal(str(value))

    def _shown(self, value: Any) -> Any:
        """A stored value as traces show condition values (money a number, a datetime one)."""
        if value is None or self.of_type not in ("datetime", "date"):
            return self._number(value)
        if self.of_type == "date":
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).astimezone(self.tz)  # as conditions show them

    def _last(self, chosen: list[Related]) -> Any:
        order = self.definition.order_by or "created_at"
        key: Callable[[Related], Any]
        if order in ("created_at", "updated_at"):
            key = lambda r: (getattr(r, order), r.created_at, r.id)  # noqa: E731
        else:
            key = lambda r: (  # noqa: E731
                r.data.get(order) is not None,
                self._number(r.data.get(order)) if r.data.get(order) is not None else 0,
                r.created_at,
                r.id,
            )
        latest = max(chosen, key=key, default=None)
        return None if latest is None else latest.data.get(self.definition.of or "")

    def _trace(self, value: Any, used: int) -> Trace:
        """A formula in the condition language's style, the same in every locale:
        `sum(order.amount where status == 'paid')`, with the number of records it read."""
        item = self.definition
        what = item.source if item.of is None else f"{item.source}.{item.of}"
        where = f" where {self.condition.text}" if self.condition is not None else ""
        order = f" by {item.order_by or 'created_at'}" if item.fn == "last" else ""
        formula = f"{item.fn}({what}{where}{order})"
        parts = () if item.fn == "count" else (Trace(f"count({item.source}{where})", used),)
        return Trace(f"{item.field} = {formula}", value, parts)


_AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "sum": lambda values: sum(values, Decimal(0)),
    "min": min,
    "max": max,
}
