"""A compiled condition: checked once, then evaluated in Python, run as SQL, or traced."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy.sql.elements import ColumnElement

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions.checker import Scope, check
from engine.conditions.compile_py import compile_condition
from engine.conditions.compile_sql import compile_sql
from engine.conditions.parser import parse
from engine.conditions.printer import to_text
from engine.conditions.rewrite import optimize
from engine.conditions.structured import Rendered, render
from engine.conditions.trace import Trace, Tracer
from engine.conditions.values import Env

ASSIGNED_AT = "assigned_at"  # when the owner got the record: for reassignment rules
RECORD_COLUMNS = ("pool", "owner")  # what campaigns may also test (e.g. goal: pool == 'won')


class FieldShape(Protocol):
    """What a scope needs of a bundle field (engine.config's FieldDef has it)."""

    @property
    def type(self) -> str: ...

    @property
    def option_values(self) -> tuple[str, ...]: ...


class EntityShape(Protocol):
    """What a scope needs of an entity: its fields by name (engine.config's EntityDef)."""

    @property
    def fields(self) -> Mapping[str, FieldShape]: ...


def entity_scope(
    entity: EntityShape,
    tz: tzinfo,
    update: bool = False,
    assigned_at: bool = False,
    columns: bool = False,
    pools: tuple[str, ...] = (),
) -> Scope:
    """The fields a condition on this entity may use, with their condition types (and, for
    reassignment rules, assigned_at: the record's owner_since; for campaigns, the record's
    pool (one of `pools` when given) and owner — unless the entity has fields of those
    names)."""
    fields = {name: T.field_type(f.type, f.option_values) for name, f in entity.fields.items()}
    if assigned_at and ASSIGNED_AT not in fields:
        fields[ASSIGNED_AT] = T.DATETIME
    if columns:
        fields.update({c: T.STRING for c in RECORD_COLUMNS if c not in fields})
        if pools and "pool" not in entity.fields:
            fields["pool"] = T.field_type("enum", pools)
    return Scope(fields, tz, update)


@dataclass(frozen=True)
class Condition:
    source: str  # the text that was parsed (for structured conditions: its rendering)
    tree: n.Node  # typed, as written: what traces and the UI show
    fast: n.Node  # the same meaning, rewritten for speed: what runs (Python and SQL)
    tz: tzinfo
    run: Callable[[Env], bool]  # the hot path: call with an Env, builds no trace

    @property
    def text(self) -> str:
        """Canonical expression text: how the UI shows it, whichever form it was written in."""
        return to_text(self.tree)

    def env(
        self, data: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None = None
    ) -> Env:
        return Env(data, now, self.tz, old)

    def __call__(self, env: Env) -> bool:
        return self.run(env)

    def evaluate(
        self, data: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None = None
    ) -> bool:
        return self.run(Env(data, now, self.tz, old))

    def trace(
        self, data: Mapping[str, Any], now: datetime, old: Mapping[str, Any] | None = None
    ) -> Trace:
        return self._tracer.trace(Env(data, now, self.tz, old))

    @cached_property
    def _tracer(self) -> Tracer:
        return Tracer(self.tree)

    def sql(self, dialect: str, now: datetime, data_column: Any) -> ColumnElement[bool]:
        return compile_sql(self.fast, dialect, Env({}, now, self.tz), data_column)


def compile_text(source: str, scope: Scope) -> Condition:
    """Parse and check an expression; ConditionError (located in `source`) when wrong."""
    tree = check(parse(source), scope)
    fast = optimize(tree)
    return Condition(source, tree, fast, scope.tz, compile_condition(fast))


def compile_any(raw: Any, scope: Scope) -> tuple[Condition, Rendered]:
    """Either form. Raises StructuredError or ConditionError; Rendered maps text → YAML."""
    rendered = render(raw, scope.fields)
    return compile_text(rendered.text, scope), rendered
