"""The assignment strategies, pure: rotation, smooth weights, least load."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.rules.assignment import Load, LoadBalanced, RoundRobin, Weighted


def run(
    strategy: Any, eligible: list[str], n: int, loads: dict[str, Load] | None = None
) -> list[str]:
    state: dict[str, Any] = {}
    out = []
    for _ in range(n):
        chosen, state = strategy.pick(eligible, {}, state)
        out.append(chosen)
    return out


def test_round_robin_continues_after_the_last_even_when_someone_drops_out() -> None:
    rr = RoundRobin(["a", "b", "c"])
    assert run(rr, ["a", "b", "c"], 4) == ["a", "b", "c", "a"]
    chosen, state = rr.pick(["a", "c"], {}, {"last": "a"})  # b is away: c is next
    assert (chosen, state) == ("c", {"last": "c"})
    assert rr.pick(["a", "b"], {}, {"last": "gone"})[0] == "a"  # an unknown last: start over


def test_weighted_is_smooth_and_exact_per_cycle() -> None:
    w = Weighted({"a": 2, "b": 1, "c": 1})
    picks = run(w, ["a", "b", "c"], 40)
    for cycle in range(10):
        assert Counter(picks[cycle * 4 : cycle * 4 + 4]) == {"a": 2, "b": 1, "c": 1}
    assert picks[:4] == ["a", "b", "c", "a"]


def test_weighted_keeps_the_state_of_someone_away() -> None:
    w = Weighted({"a": 1, "b": 1})
    first, state = w.pick(["a", "b"], {}, {})
    assert first == "a"
    chosen2, state2 = w.pick(["b"], {}, state)
    assert chosen2 == "b" and "a" in state2["current"]


def test_load_balanced_breaks_ties_by_today_then_order() -> None:
    lb = LoadBalanced()
    loads = {"a": Load(2, 0), "b": Load(1, 5), "c": Load(1, 1)}
    assert lb.pick(["a", "b", "c"], loads, {})[0] == "c"
    assert lb.pick(["a", "b"], loads, {})[0] == "b"
