"""Compiled rule sets: pure functions from a record's state to effects and decisions."""

from engine.rules.derived import CompiledDerived, Derivation
from engine.rules.pools import CompiledPoolSet, Move, Settled
from engine.rules.rollups import CompiledRollup, Related, Rolled

__all__ = [
    "CompiledDerived",
    "CompiledPoolSet",
    "CompiledRollup",
    "Derivation",
    "Move",
    "Related",
    "Rolled",
    "Settled",
]
