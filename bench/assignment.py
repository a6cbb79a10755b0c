"""Lead assignment (issue 5): what assigning costs a create, and whether it is fair.

    .venv/bin/python bench/assignment.py [--quick] [--pg URL] [--no-pg] [--profile sqlite|pg]

On SQLite and PostgreSQL, with bench/assignment_bundle (a round-robin rule over 4 users, a
weighted one 2:1:1, a load-balanced one with capacities and an overflow queue):
  1. 8 clients (threads) create leads through `RecordService.create`, one transaction each,
     with assignment on vs. the same bundle without assignment.yaml (plain), same leads,
     taking turns; each rule measured with leads of its own sources;
  2. checked: no lead lost or stored twice, one assignment decision per lead, the round-robin
     spread (max − min leads per user) at most 1, weighted and capacity counts as expected.
What each figure means is in bench/README.md. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
from _assignment_data import (
    BALANCED,
    BUNDLE_DIR,
    NOW,
    ROUND_ROBIN,
    WEIGHTED,
    LeadMaker,
    Rule,
    expected_balanced,
    expected_weighted,
    plain_bundle,
)
from _assignment_run import ClientFailed, Round, check_writes, owners, run_round
from _common import console, say
from rich.table import Table

import engine as engine_package
from engine.clock import FixedClock
from engine.service import Services

DATABASES = ("sqlite", "postgresql")
PATHS = ("assigned", "plain")
# (comparison, bound): ratios must reach theirs, the spread must stay within its own
TARGETS: dict[str, tuple[str, float]] = {
    "assign_vs_plain_pg": (">=", 0.5),
    "assign_vs_plain_sqlite": (">=", 0.5),
    "fairness_spread": ("<=", 1),
}


@dataclass(frozen=True)
class Sizes:
    clients: int  # concurrent writers
    warmup: int  # round-robin leads first, untimed, on both paths
    round_leads: int  # round-robin leads per timed round and path
    rounds: int  # timed round-robin rounds per path (the best counts)
    weighted: int  # leads of the weighted rule (one round per path)
    balanced: int  # leads of the load-balanced rule: 500 fill the capacities, the rest queue
    single: int  # round-robin leads written by one client (one round per path)

    @property
    def round_robin(self) -> int:
        """Round-robin leads written by all clients: the fairness check's total."""
        return self.warmup + self.rounds * self.round_leads


FULL = Sizes(
    clients=8, warmup=400, round_leads=3200, rounds=3, weighted=2000, balanced=600, single=400
)
QUICK = Sizes(
    clients=8, warmup=100, round_leads=300, rounds=3, weighted=400, balanced=600, single=200
)


@dataclass
class Leads:
    """Every lead of a run, made before any timing; both paths get the same ones."""

    warmup: list[dict[str, Any]]
    rounds: list[list[dict[str, Any]]]
    weighted: list[dict[str, Any]]
    balanced: list[dict[str, Any]]
    single: list[dict[str, Any]]

    @classmethod
    def make(cls, sizes: Sizes) -> Leads:
        maker = LeadMaker()
        return cls(
            maker.leads(ROUND_ROBIN, sizes.warmup),
            [maker.leads(ROUND_ROBIN, sizes.round_leads) for _ in range(sizes.rounds)],
            maker.leads(WEIGHTED, sizes.weighted),
            maker.leads(BALANCED, sizes.balanced),
            maker.leads(ROUND_ROBIN, sizes.single),
        )


@dataclass
class DbResult:
    db: str
    warmup: dict[str, Round] = field(default_factory=dict)
    rounds: dict[str, list[Round]] = field(default_factory=lambda: {p: [] for p in PATHS})
    weighted: dict[str, Round] = field(default_factory=dict)
    balanced: dict[str, Round] = field(default_factory=dict)
    single: dict[str, Round] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def best(self, path: str) -> Round:
        return min(self.rounds[path], key=lambda r: r.seconds)

    def all_rounds(self, path: str) -> list[Round]:
        extra = [self.weighted, self.balanced, self.single]
        return [self.warmup[path], *self.rounds[path], *(part[path] for part in extra)]


# one database --------------------------------------------------------------------------------
@contextlib.contextmanager
def services(engines: Sequence[sa.Engine], folder: Path) -> Iterator[dict[str, Services]]:
    """The bundle installed on the first engine, its plain copy on the second."""
    opened = [Services.open(engine=e, clock=FixedClock(NOW)) for e in engines]
    try:
        opened[0].install_dirs([BUNDLE_DIR], actor="bench")
        opened[1].install_dirs([plain_bundle(folder)], actor="bench")
        yield dict(zip(PATHS, opened, strict=True))
    finally:
        for svc in opened:
            svc.close()


def both(
    svcs: dict[str, Services], rule: Rule, leads: list[dict[str, Any]], clients: int, swap: bool
) -> dict[str, Round]:
    """One round per path, the same leads, one path after the other."""
    order = PATHS[::-1] if swap else PATHS
    return {path: run_round(svcs[path], rule, leads, clients) for path in order}


def measure(label: str, svcs: dict[str, Services], leads: Leads, sizes: Sizes) -> DbResult:
    result = DbResult(label)
    say(f"{label}: warm-up, {sizes.warmup:,} leads per path …")
    result.warmup = both(svcs, ROUND_ROBIN, leads.warmup, sizes.clients, False)
    for rep, batch in enumerate(leads.rounds):
        say(f"{label}: round robin, round {rep + 1} of {sizes.rounds}, {len(batch):,} leads …")
        for path, done in both(svcs, ROUND_ROBIN, batch, sizes.clients, rep % 2 == 1).items():
            result.rounds[path].append(done)
    say(f"{label}: weighted, {sizes.weighted:,} leads; load balanced, {sizes.balanced:,} …")
    result.weighted = both(svcs, WEIGHTED, leads.weighted, sizes.clients, False)
    result.balanced = both(svcs, BALANCED, leads.balanced, sizes.clients, True)
    say(f"{label}: round robin with 1 client, {sizes.single:,} leads …")
    result.single = both(svcs, ROUND_ROBIN, leads.single, 1, False)
    say(f"{label}: checking every lead …")
    check(result, svcs, sizes)
    return result


def check(result: DbResult, svcs: dict[str, Services], sizes: Sizes) -> None:
    """Counts rows and decisions; then each rule's owners against what it promises."""
    for path in PATHS:
        counts, problems = check_writes(
            svcs[path], result.all_rounds(path), assigned=path == "assigned"
        )
        result.checks[path] = counts
        result.problems += [f"{result.db}, {path}: {p}" for p in problems]
    svc = svcs["assigned"]
    concurrent = [result.warmup["assigned"], *result.rounds["assigned"]]
    counts, queued = owners(svc, (c.id for r in concurrent for c in r.created))
    every_user = {u: counts.get(u, 0) for u in ROUND_ROBIN.users}
    spread = max(every_user.values()) - min(every_user.values())
    result.checks["round_robin"] = {
        "leads": sizes.round_robin,
        "per_user": every_user,
        "expected_each": sizes.round_robin / len(ROUND_ROBIN.users),
        "spread": spread,
        "others": sum(n for u, n in counts.items() if u not in every_user) + queued,
    }
    if spread > 1 or sum(every_user.values()) != sizes.round_robin:
        result.problems.append(f"{result.db}: round robin gave {every_user} (spread {spread})")
    # the one-client round continues the same rotation: all round-robin leads stay fair
    everything = [*concurrent, result.single["assigned"]]
    total, _ = owners(svc, (c.id for r in everything for c in r.created))
    result.checks["round_robin"]["spread_with_1_client_round"] = max(total.values()) - min(
        total.values()
    )
    check_weighted(result, svc, sizes)
    check_balanced(result, svc, sizes)


def check_weighted(result: DbResult, svc: Services, sizes: Sizes) -> None:
    counts, queued = owners(svc, (c.id for c in result.weighted["assigned"].created))
    expected = expected_weighted(WEIGHTED, sizes.weighted)
    per_user = {u: counts.get(u, 0) for u in WEIGHTED.users}
    deviation = max(abs(per_user[u] - expected[u]) for u in WEIGHTED.users)
    result.checks["weighted"] = {
        "leads": sizes.weighted,
        "weights": dict(WEIGHTED.weights or {}),
        "per_user": per_user,
        "expected": expected,
        "max_deviation": deviation,
    }
    if deviation > 1 or queued or sum(per_user.values()) != sizes.weighted:
        result.problems.append(f"{result.db}: weighted gave {per_user}, expected {expected}")


def check_balanced(result: DbResult, svc: Services, sizes: Sizes) -> None:
    counts, queued = owners(svc, (c.id for c in result.balanced["assigned"].created))
    expected, expected_queued = expected_balanced(BALANCED, sizes.balanced)
    per_user = {u: counts.get(u, 0) for u in BALANCED.users}
    result.checks["load_balanced"] = {
        "leads": sizes.balanced,
        "capacity_open": BALANCED.capacity,
        "per_user": per_user,
        "expected": expected,
        "queued": queued,
        "expected_queued": expected_queued,
        "queue": BALANCED.queue,
    }
    if per_user != expected or queued != expected_queued:
        result.problems.append(
            f"{result.db}: load balanced gave {per_user} and {queued} queued, "
            f"expected {expected} and {expected_queued}"
        )


# databases -----------------------------------------------------------------------------------
def sqlite_engines(folder: Path) -> contextlib.AbstractContextManager[list[sa.Engine]]:
    return _common.sqlite_engines(folder, PATHS)


def pg_engines(url: str) -> contextlib.AbstractContextManager[list[sa.Engine] | None]:
    """One engine per path, each on a fresh schema dropped at the end; None if PG is unusable."""
    return _common.pg_engines(url, PATHS, lambda text: console.print(f"[yellow]{text}"))


# figures and output --------------------------------------------------------------------------
def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def pair_figures(rounds: dict[str, Round]) -> dict[str, Any]:
    a, p = rounds["assigned"], rounds["plain"]
    return {
        "leads": a.leads,
        "clients": a.clients,
        "assigned_per_s": _r(a.per_s, 1),
        "plain_per_s": _r(p.per_s, 1),
        "vs_plain": _r(p.seconds / a.seconds),
        "assigned_p50_ms": _r(a.latency_ms(0.5), 2),
        "assigned_p95_ms": _r(a.latency_ms(0.95), 2),
        "plain_p50_ms": _r(p.latency_ms(0.5), 2),
        "plain_p95_ms": _r(p.latency_ms(0.95), 2),
    }


def db_figures(res: DbResult) -> dict[str, Any]:
    a, p = res.best("assigned"), res.best("plain")
    return {
        "assigned_per_s": _r(a.per_s, 1),
        "plain_per_s": _r(p.per_s, 1),
        "assign_vs_plain": _r(p.seconds / a.seconds),
        "assigned_rounds_per_s": [_r(r.per_s, 1) for r in res.rounds["assigned"]],
        "plain_rounds_per_s": [_r(r.per_s, 1) for r in res.rounds["plain"]],
        "assign_vs_plain_rounds": [
            _r(p.seconds / a.seconds)
            for a, p in zip(res.rounds["assigned"], res.rounds["plain"], strict=True)
        ],
        "assigned_p50_ms": _r(a.latency_ms(0.5), 2),
        "assigned_p95_ms": _r(a.latency_ms(0.95), 2),
        "plain_p50_ms": _r(p.latency_ms(0.5), 2),
        "plain_p95_ms": _r(p.latency_ms(0.95), 2),
        "weighted": pair_figures(res.weighted),
        "load_balanced": pair_figures(res.balanced),
        "one_client": pair_figures(res.single),
        "checks": res.checks,
    }


def target_met(name: str, value: float | None) -> bool | None:
    if value is None:
        return None
    comparison, bound = TARGETS[name]
    return value >= bound if comparison == ">=" else value <= bound


def figures(
    results: dict[str, DbResult], sizes: Sizes, extra: dict[str, Any], problems: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        db: db_figures(results[db]) if db in results else None for db in DATABASES
    }
    ran = [out[db] for db in DATABASES if out[db]]
    out["assign_vs_plain_pg"] = out["postgresql"]["assign_vs_plain"] if out["postgresql"] else None
    out["assign_vs_plain_sqlite"] = out["sqlite"]["assign_vs_plain"] if out["sqlite"] else None
    spreads = [f["checks"]["round_robin"]["spread"] for f in ran]
    out["fairness_spread"] = max(spreads) if spreads else None
    deviations = [f["checks"]["weighted"]["max_deviation"] for f in ran]
    out["weighted_max_deviation"] = max(deviations) if deviations else None
    out["weighted_counts"] = {
        db: {k: out[db]["checks"]["weighted"][k] for k in ("per_user", "expected")}
        for db in DATABASES
        if out[db]
    }
    for key in ("lost", "duplicate_ids", "duplicate_emails"):
        out[f"leads_{key}"] = sum(f["checks"][p][key] for f in ran for p in PATHS)
    out["leads_without_one_decision"] = sum(
        f["checks"]["assigned"]["leads_without_decision"]
        + f["checks"]["assigned"]["leads_with_several"]
        for f in ran
    )
    out["targets"] = {name: f"{c} {b:g}" for name, (c, b) in TARGETS.items()}
    out["targets_met"] = {name: target_met(name, out[name]) for name in TARGETS}
    out["problems"] = problems
    out["sizes"] = {**asdict(sizes), "round_robin_total": sizes.round_robin}
    out.update(extra)
    return out


def render(results: dict[str, DbResult], figs: dict[str, Any]) -> None:
    table = Table(title="Assignment on create: 8 concurrent clients, one transaction per lead")
    columns = ("rule", "db", "clients", "leads", "seconds", "per s", "p50 ms", "p95 ms", "vs plain")
    for column in columns:
        table.add_column(column, justify="left" if column in ("rule", "db") else "right")

    def pair(label: str, db: str, rounds: dict[str, Round], ratio: float) -> None:
        for path in PATHS:
            r = rounds[path]
            table.add_row(
                label if path == "assigned" else "  no assignment (baseline)",
                db,
                str(r.clients),
                f"{r.leads:,}",
                f"{r.seconds:.3f}",
                f"{r.per_s:,.0f}",
                f"{r.latency_ms(0.5):.1f}",
                f"{r.latency_ms(0.95):.1f}",
                f"{ratio:.2f} × plain" if path == "assigned" else "baseline",
            )

    for db in DATABASES:
        if db not in results:
            continue
        res, f = results[db], figs[db]
        best = {path: res.best(path) for path in PATHS}
        pair(f"{ROUND_ROBIN.label} (best round)", db, best, f["assign_vs_plain"])
        pair(WEIGHTED.label, db, res.weighted, f["weighted"]["vs_plain"])
        pair(BALANCED.label, db, res.balanced, f["load_balanced"]["vs_plain"])
        pair(f"{ROUND_ROBIN.label}, 1 client", db, res.single, f["one_client"]["vs_plain"])
        table.add_section()
    console.print(table)
    fair = Table(title="Who got the leads (assignment on)")
    for column in ("rule", "db", "leads", "per user", "expected", "spread / deviation"):
        fair.add_column(column, justify="left" if column in ("rule", "db", "per user") else "right")
    for db in DATABASES:
        if db not in results:
            continue
        c = figs[db]["checks"]
        rr, w, lb = c["round_robin"], c["weighted"], c["load_balanced"]
        fair.add_row(
            ROUND_ROBIN.label,
            db,
            f"{rr['leads']:,}",
            _users(rr["per_user"]),
            f"{rr['expected_each']:g} each",
            f"spread {rr['spread']}",
        )
        fair.add_row(
            WEIGHTED.label,
            db,
            f"{w['leads']:,}",
            _users(w["per_user"]),
            " ".join(f"{v:g}" for v in w["expected"].values()),
            f"max dev {w['max_deviation']:g}",
        )
        fair.add_row(
            f"{BALANCED.label} {lb['capacity_open']}",
            db,
            f"{lb['leads']:,}",
            _users(lb["per_user"]) + f", queued {lb['queued']}",
            " ".join(str(v) for v in lb["expected"].values()) + f", {lb['expected_queued']}",
            "exact" if lb["per_user"] == lb["expected"] else "DIFFERS",
        )
    console.print(fair)
    for db in DATABASES:
        if db in results:
            f = figs[db]
            pairs = zip(f["assigned_rounds_per_s"], f["plain_rounds_per_s"], strict=True)
            per_round = ", ".join(f"{a:,.0f}/{p:,.0f}" for a, p in pairs)
            console.print(
                f"  {db} round robin, every round (assigned/plain per s, the table growing): "
                f"{per_round}; ratios {f['assign_vs_plain_rounds']}"
            )
    for db in DATABASES:
        if db in results:
            checks = {p: figs[db]["checks"][p] for p in PATHS}
            console.print(f"  {db} rows and decisions: {json.dumps(checks, sort_keys=True)}")
    for name, (comparison, bound) in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        text = "–" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        console.print(f"  {name:<24} {text:>8}  target {comparison} {bound:g}  {verdict}")
    for problem in figs["problems"]:
        console.print(f"  [red]problem: {problem}")


def _users(per_user: dict[str, int]) -> str:
    return ", ".join(f"{u} {n:,}" for u, n in per_user.items())


# profiling -----------------------------------------------------------------------------------
def print_profile(profiles: Sequence[cProfile.Profile], title: str) -> None:
    """The clients' profiles merged: times are summed over the threads (thread-seconds)."""
    stats = pstats.Stats(profiles[0], stream=sys.stdout)
    for more in profiles[1:]:
        stats.add(more)
    engine_dir = re.escape(str(Path(engine_package.__file__).resolve().parent) + os.sep)
    print(f"--- {title}: top by cumulative time (summed over clients), engine/ only")
    stats.sort_stats("cumulative").print_stats(engine_dir, 30)
    print(f"--- {title}: what the assigner calls")
    stats.print_callees(r"assigning.py:\d+\((assign|_decide|_apply|_loads)\)")
    print(f"--- {title}: top by own time (SQLAlchemy and the driver included)")
    stats.strip_dirs().sort_stats("tottime").print_stats(20)


def run_profile(args: argparse.Namespace, folder: Path, sizes: Sizes) -> tuple[int, dict[str, Any]]:
    began = time.perf_counter()
    leads = Leads.make(sizes)
    with contextlib.ExitStack() as stack:
        if args.profile == "pg":
            found = stack.enter_context(pg_engines(args.pg))
            if found is None:
                return 1, {"profile": args.profile, "error": "PostgreSQL unreachable"}
            engines = found
        else:
            engines = stack.enter_context(sqlite_engines(folder))
        svcs = stack.enter_context(services(engines, folder))
        both(svcs, ROUND_ROBIN, leads.warmup, sizes.clients, False)
        for path in PATHS:
            done = run_round(svcs[path], ROUND_ROBIN, leads.rounds[0], sizes.clients, profile=True)
            title = f"{done.leads:,} creates, {path}, {sizes.clients} clients, {args.profile}"
            print(f"=== {title}: {done.seconds:.3f} s, {done.per_s:,.0f}/s")
            print_profile(done.profiles, title)
    seconds = round(time.perf_counter() - began, 3)
    return 0, {"profile": args.profile, "db": args.profile, "seconds": seconds}


# entry points --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _common.bench_parser(__doc__, "about 1,000 leads per rule")
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent writers (default 8, as the figures)"
    )
    parser.add_argument(
        "--profile",
        choices=["sqlite", "pg"],
        help="only cProfile one round-robin round per path on this database",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, folder: Path) -> tuple[int, dict[str, Any]]:
    """The bench (or its profile) as asked: the exit code and the figures."""
    began = time.perf_counter()
    sizes = replace(QUICK if args.quick else FULL, clients=args.clients)
    if args.profile:
        return run_profile(args, folder, sizes)
    say("making the leads (untimed) …")
    leads = Leads.make(sizes)
    results: dict[str, DbResult] = {}
    skipped: dict[str, str] = {}
    failed: list[str] = []
    targets: dict[str, Callable[[], contextlib.AbstractContextManager[list[sa.Engine] | None]]]
    targets = {"sqlite": lambda: sqlite_engines(folder)}
    if args.no_pg:
        skipped["postgresql"] = "--no-pg"
    else:
        targets["postgresql"] = lambda: pg_engines(args.pg)
    for db, open_engines in targets.items():
        with open_engines() as engines:
            if engines is None:
                skipped[db] = f"not reachable at {args.pg}"
                continue
            with services(engines, folder) as svcs:
                try:
                    results[db] = measure(db, svcs, leads, sizes)
                except ClientFailed as exc:  # the figures would mean nothing: say why
                    skipped[db] = f"a client failed: {exc}"
                    failed.append(f"{db}: {exc}")
    problems = failed + [p for res in results.values() for p in res.problems]
    extra = {"quick": args.quick, "skipped": skipped, "now": NOW.isoformat()}
    extra["seconds_total"] = round(time.perf_counter() - began, 1)
    figs = figures(results, sizes, extra, problems)
    render(results, figs)
    return (1 if problems else 0), figs


def measured(argv: list[str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run as the arguments ask; the exit code and the figures (printed by the caller, so
    each script that runs this bench ends with their JSON line itself)."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


def main(argv: list[str] | None = None) -> int:
    code, figs = measured(argv)
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)  # the last line
    return code


if __name__ == "__main__":
    sys.exit(main())
