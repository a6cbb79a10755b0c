"""Concurrent writers and the checks of bench/assignment.py.

A round splits its leads between N client threads (every N-th lead to each), starts them
together at a barrier and times until the last one is done; every client calls
`RecordService.create` once per lead, one transaction each, sharing one `Services`.

Run alone, `python bench/_assignment_run.py [--quick] [--no-pg]` runs these rounds as
`assignment.py` does: a table, then the JSON object of its figures as the last line.
"""

from __future__ import annotations

import cProfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from _assignment_data import ACTOR, ENTITY, TENANT, Rule

from engine.service import Services
from engine.storage import tables as t


@dataclass(frozen=True, slots=True)
class Created:
    """What a create answered."""

    id: str
    owner: str | None
    queue: str | None


@dataclass
class Round:
    rule: Rule
    clients: int
    seconds: float  # wall time, first lead sent to last answer
    latencies: list[float]  # seconds per create, every client
    created: list[Created]
    profiles: list[cProfile.Profile] = field(default_factory=list)

    @property
    def leads(self) -> int:
        return len(self.created)

    @property
    def per_s(self) -> float:
        return self.leads / self.seconds

    def latency_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class ClientFailed(RuntimeError):
    pass


def run_round(
    svc: Services,
    rule: Rule,
    leads: Sequence[Mapping[str, Any]],
    clients: int,
    *,
    profile: bool = False,
) -> Round:
    """Every lead created once by `clients` threads at the same time."""
    slices = [[dict(lead) for lead in leads[i::clients]] for i in range(clients)]
    created: list[list[Created]] = [[] for _ in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    profilers = [cProfile.Profile() for _ in range(clients)] if profile else []
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)
    create, clock = svc.records.create, time.perf_counter

    def client(index: int) -> None:
        out, took = created[index], latencies[index]
        barrier.wait()
        try:
            if profilers:
                profilers[index].enable()
            for lead in slices[index]:
                began = clock()
                result = create(TENANT, ENTITY, lead, actor=ACTOR).result
                took.append(clock() - began)
                out.append(Created(result["id"], result["owner"], result["queue"]))
        except BaseException as exc:  # one client's failure fails the round
            errors.append(exc)
        finally:
            if profilers:
                profilers[index].disable()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = clock()
    for thread in threads:
        thread.join()
    seconds = clock() - start
    if errors:
        raise ClientFailed(f"{len(errors)} client(s) failed, first: {errors[0]!r}") from errors[0]
    return Round(
        rule,
        clients,
        seconds,
        [s for part in latencies for s in part],
        [c for part in created for c in part],
        profilers,
    )


# checks --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stored:
    id: str
    owner: str | None
    queue: str | None
    email: str


def stored_leads(svc: Services) -> list[Stored]:
    r = t.records.c
    query = sa.select(r.id, r.owner, r.queue, r.data).where(
        r.tenant_id == TENANT, r.entity == ENTITY, r.deleted_at.is_(None)
    )
    with svc.store.read() as tx:
        return [
            Stored(row.id, row.owner, row.queue, row.data["email"])
            for row in tx.conn.execute(query)
        ]


def assignment_decisions(svc: Services) -> list[tuple[str, str, dict[str, Any]]]:
    """(record id, rule, after) of every assignment decision of the tenant."""
    d = t.decisions.c
    query = sa.select(d.record_id, d.rule, d.after).where(
        d.tenant_id == TENANT, d.kind == "assignment"
    )
    with svc.store.read() as tx:
        return [(row.record_id, row.rule, dict(row.after)) for row in tx.conn.execute(query)]


def check_writes(
    svc: Services, rounds: Iterable[Round], *, assigned: bool
) -> tuple[dict[str, int], list[str]]:
    """Count what the database holds against what the clients were answered: no lead lost or
    stored twice, and (assignment on) one assignment decision per lead, by the lead's rule,
    saying what the record holds. Returns the counts and the problems found."""
    answered = {c.id: (r.rule, c) for r in rounds for c in r.created}
    rows = stored_leads(svc)
    by_id = {s.id: s for s in rows}
    decisions = assignment_decisions(svc)
    per_record = Counter(record_id for record_id, _, _ in decisions)
    counts = {
        "sent": sum(1 for _ in answered),
        "stored": len(rows),
        "lost": len(answered.keys() - by_id.keys()),
        "unexpected": len(by_id.keys() - answered.keys()),
        "duplicate_ids": len(rows) - len(by_id),
        "duplicate_emails": len(rows) - len({s.email for s in rows}),
        "answer_differs": sum(
            1
            for record_id, (_, c) in answered.items()
            if record_id in by_id
            and (by_id[record_id].owner, by_id[record_id].queue) != (c.owner, c.queue)
        ),
        "assignment_decisions": len(decisions),
    }
    if assigned:
        wrong = 0
        for record_id, rule, after in decisions:
            lead, expected = by_id.get(record_id), answered.get(record_id)
            if lead is None or expected is None:
                wrong += 1
                continue
            holds = {"owner": lead.owner} if lead.owner else {"queue": lead.queue}
            if rule != expected[0].decision or after != holds:
                wrong += 1
        counts["leads_without_decision"] = len(by_id.keys() - per_record.keys())
        counts["leads_with_several"] = sum(1 for n in per_record.values() if n > 1)
        counts["decision_differs"] = wrong
    else:
        counts["owned"] = sum(1 for s in rows if s.owner is not None)
    problems = [
        f"{name.replace('_', ' ')}: {value}"
        for name, value in counts.items()
        if name not in ("sent", "stored", "assignment_decisions") and value
    ]
    if counts["sent"] != counts["stored"]:
        problems.append(f"sent {counts['sent']} leads, the database holds {counts['stored']}")
    if not assigned and counts["assignment_decisions"]:
        problems.append(f"the plain bundle wrote {counts['assignment_decisions']} decisions")
    return counts, problems


def owners(svc: Services, ids: Iterable[str]) -> tuple[Counter[str], int]:
    """Leads per owner among these records, and how many of them wait in a queue."""
    wanted = set(ids)
    per_owner: Counter[str] = Counter()
    queued = 0
    for lead in stored_leads(svc):
        if lead.id in wanted:
            if lead.owner is not None:
                per_owner[lead.owner] += 1
            elif lead.queue is not None:
                queued += 1
    return per_owner, queued


if __name__ == "__main__":
    import json
    import sys

    from assignment import measured

    code, figs = measured([*sys.argv[1:]])
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)  # the last line
    sys.exit(code)
