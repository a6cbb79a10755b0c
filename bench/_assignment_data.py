"""The assignment bench's bundle, its rules and its leads (bench/assignment.py).

Every lead is generated before any timing with the engine's seeded `Faker`, passed once through
the engine's validator (so it is already in its stored form) and given the `source` that sends
it to the rule being measured. Both paths (assignment on, plain) get exactly the same leads.

Run alone, `python bench/_assignment_data.py [--count N]` makes N leads per rule (checked like
the bench's), prints what each rule should give them, and as its last line one JSON object of
those figures.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.config.loader import load_bundle_dir
from engine.rules.compiled import CompiledConfig
from engine.service.seed import Faker

BUNDLE_DIR = Path(__file__).resolve().parent / "assignment_bundle"
TENANT = "bench-assign"
ENTITY = "lead"
ACTOR = "bench"
# A fixed clock: the same day for the daily counters from the first write to the last.
NOW = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    """One rule of bench/assignment_bundle/assignment.yaml, as the bench measures it."""

    id: str  # as in assignment.yaml
    label: str  # as the table shows it
    sources: tuple[str, ...]  # lead sources its `when` takes
    users: tuple[str, ...]  # its candidates, in order
    weights: Mapping[str, int] | None = None  # weighted: the shares
    capacity: int | None = None  # load_balanced: open leads per user at most
    queue: str | None = None  # load_balanced: where leads go once everyone is full

    @property
    def decision(self) -> str:
        """The rule as decisions name it."""
        return f"assignment.{self.id}"


ROUND_ROBIN = Rule(
    "outbound_round_robin",
    "round_robin, 4 users",
    ("webinar", "event", "paid_ads", "outbound"),
    ("alice", "bruno", "chen", "dara"),
)
WEIGHTED = Rule(
    "partner_weighted",
    "weighted 2:1:1",
    ("partner",),
    ("pia", "quinn", "ravi"),
    weights={"pia": 2, "quinn": 1, "ravi": 1},
)
BALANCED = Rule(
    "inbound_balanced",
    "load_balanced + capacity",
    ("website",),
    ("ines", "jon", "kai", "lena"),
    capacity=125,
    queue="inbound_overflow",
)
RULES = (ROUND_ROBIN, WEIGHTED, BALANCED)


def plain_bundle(folder: Path) -> Path:
    """The bench bundle without assignment.yaml: the same tenant, entity and validation."""
    target = folder / "assignment-plain"
    if not target.exists():
        shutil.copytree(BUNDLE_DIR, target, ignore=shutil.ignore_patterns("assignment.yaml"))
    return target


class LeadMaker:
    """Valid, stored-form leads with distinct emails, deterministic for a seed."""

    def __init__(self, seed: int = 5) -> None:
        bundle = load_bundle_dir(BUNDLE_DIR)
        self.entity = bundle.entities[ENTITY]
        self.validator = CompiledConfig.compile(bundle, 1).validator(ENTITY)
        self.faker = Faker(zh=False, now=NOW, seed=seed)
        self.emails: set[str] = set()

    def leads(self, rule: Rule, count: int) -> list[dict[str, Any]]:
        """`count` leads for `rule` (its sources in turn); a load-balanced rule's leads are
        all `new`, so each one counts against its owner's open capacity."""
        out: list[dict[str, Any]] = []
        for i in range(count):
            raw = {f.name: self.faker.value(f, {}) for f in self.entity.fields.values()}
            raw["source"] = rule.sources[i % len(rule.sources)]
            if rule.capacity is not None:
                raw["status"] = "new"
            values, errors = self.validator.for_create(raw)
            if errors:
                raise ValueError(f"the fake lead {raw} is invalid: {errors}")
            if values["email"] in self.emails:
                raise ValueError(f"generated email {values['email']} twice")
            self.emails.add(values["email"])
            out.append(values)
        return out


def expected_weighted(rule: Rule, count: int) -> dict[str, float]:
    """Each user's share of `count` leads under the rule's weights."""
    assert rule.weights is not None
    total = sum(rule.weights.values())
    return {u: count * rule.weights[u] / total for u in rule.users}


def expected_balanced(rule: Rule, count: int) -> tuple[dict[str, int], int]:
    """Leads per user and leads queued after `count` new leads, all kept open: the users fill
    up evenly to their capacity, the rest waits in the rule's queue."""
    assert rule.capacity is not None
    users: Sequence[str] = rule.users
    full = min(count, rule.capacity * len(users))
    base, extra = divmod(full, len(users))
    return {u: base + (1 if i < extra else 0) for i, u in enumerate(users)}, count - full


def summary(count: int) -> dict[str, Any]:
    """The leads a run of `count` per rule gets, and what each rule should make of them."""
    maker = LeadMaker()
    out: dict[str, Any] = {"count_per_rule": count, "rules": {}}
    for rule in RULES:
        leads = maker.leads(rule, count)
        expected: Any = {"spread_at_most": 1}
        if rule.weights is not None:
            expected = expected_weighted(rule, count)
        elif rule.capacity is not None:
            per_user, queued = expected_balanced(rule, count)
            expected = {"per_user": per_user, "queued": queued}
        sources = sorted({str(lead["source"]) for lead in leads})
        out["rules"][rule.id] = {
            "users": list(rule.users),
            "sources": sources,
            "expected": expected,
        }
    out["distinct_emails"] = len(maker.emails)
    return out


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="the assignment bench's leads, checked")
    parser.add_argument("--count", type=int, default=200, help="leads per rule")
    figures = summary(parser.parse_args().count)
    for rule_id, about in figures["rules"].items():
        print(f"{rule_id}: {', '.join(about['users'])} ← {about['expected']}")
    print(json.dumps(figures, sort_keys=True), flush=True)
