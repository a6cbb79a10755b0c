"""Pool promotions, compiled: given a record's values and pool, where does it settle?

Pure: no database, no clock (the time comes in). The service applies what this returns —
the pool, whether the owner is cleared, and one move (with its trace) per rule that fired —
in the write's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from engine.conditions import Condition, Trace, compile_any, entity_scope, reads_clock
from engine.config.model import EntityDef, PoolSetDef, PromotionDef


@dataclass(frozen=True, slots=True)
class Move:
    """One promotion that fired: the answer to "why is this record in that pool?"."""

    rule: str
    before: str
    after: str
    unassign: bool
    trace: Trace


@dataclass(frozen=True, slots=True)
class Settled:
    pool: str
    moves: tuple[Move, ...]
    unassigned: bool
    stopped: str | None = None  # why the cascade stopped early (the bound), if it did


@dataclass(frozen=True, slots=True)
class _Rule:
    promotion: PromotionDef
    sources: frozenset[str] | None
    condition: Condition

    @property
    def timed(self) -> bool:
        """Whether time alone can make it fire (days since the last follow-up…)."""
        return reads_clock(self.condition.tree)


class CompiledPoolSet:
    def __init__(self, pool_set: PoolSetDef, entity: EntityDef, tz: tzinfo) -> None:
        scope = entity_scope(entity, tz, update=True)
        self.definition = pool_set
        self.rules = tuple(
            _Rule(
                p,
                None if p.from_pools is None else frozenset(p.from_pools),
                compile_any(p.when, scope)[0],
            )
            for p in pool_set.promotions
        )
        # A cascade visits each pool at most once (the loader refuses cycles): a safe bound.
        self.bound = len(pool_set.pools) + 1
        public = pool_set.public
        # While an owner's protection runs, no rule moves the record to the public pool.
        self.shield = public.pool if public is not None and public.protection else None
        self.timed = frozenset(r.promotion.id for r in self.rules if r.timed)
        # Records in the public pool have no owner, whichever rule sends them there.
        self.public_pool = public.pool if public is not None else None

    @property
    def initial(self) -> str:
        return self.definition.initial

    def settle(
        self,
        data: Mapping[str, Any],
        pool: str | None,
        now: datetime,
        old: Mapping[str, Any] | None = None,
        shielded: bool = False,
    ) -> Settled:
        """Apply promotions in order, each time from the new pool, until none fires
        (`shielded`: the owner's protection runs, so rules that send records to the public
        pool because time passed wait; rules on the record's values still apply)."""
        current = pool if pool is not None and pool in self.definition.pools else self.initial
        skip = self.shield if shielded else None
        moves: list[Move] = []
        for _ in range(self.bound):
            fired = self._first(data, current, now, old, skip)
            if fired is None:
                return Settled(current, tuple(moves), any(m.unassign for m in moves))
            move = Move(
                fired.promotion.id,
                current,
                fired.promotion.to,
                "unassign" in fired.promotion.then or fired.promotion.to == self.public_pool,
                fired.condition.trace(data, now, old),
            )
            moves.append(move)
            current = move.after
        return Settled(
            current,
            tuple(moves),
            any(m.unassign for m in moves),
            stopped=f"more than {self.bound} moves in one write",
        )

    def _first(
        self,
        data: Mapping[str, Any],
        pool: str,
        now: datetime,
        old: Mapping[str, Any] | None,
        skip: str | None,
    ) -> _Rule | None:
        env = None
        for rule in self.rules:
            if rule.promotion.to == pool or (rule.promotion.to == skip and rule.timed):
                continue
            if rule.sources is not None and pool not in rule.sources:
                continue
            env = env or rule.condition.env(data, now, old)
            if rule.condition.run(env):
                return rule
        return None

    def why_not(
        self, data: Mapping[str, Any], pool: str, now: datetime
    ) -> list[tuple[PromotionDef, Trace]]:
        """For each rule that could move the record out of its pool: the evaluated trace."""
        return [
            (rule.promotion, rule.condition.trace(data, now))
            for rule in self.rules
            if rule.promotion.to != pool and (rule.sources is None or pool in rule.sources)
        ]
