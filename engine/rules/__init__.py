"""Compiled rule sets: pure functions from a record's state to effects and decisions."""

from engine.rules.derived import CompiledDerived, Derivation
from engine.rules.pools import CompiledPoolSet, Move, Settled

__all__ = ["CompiledDerived", "CompiledPoolSet", "Derivation", "Move", "Settled"]
