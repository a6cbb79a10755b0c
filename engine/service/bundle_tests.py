"""A bundle's own tests (tests.yaml), run by the real engine against a throw-away store.

Each case gets a fresh copy of one SQLite database that has the bundle installed, a fixed
clock at its start, its `given` records written through the record service, its `then`
updates, time moved to `at` (sweeps and due jobs run; webhooks and emails are only counted),
then every expectation checked. A failing case carries the record's decision timeline.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.clock import FixedClock
from engine.config.fixtures import given_items
from engine.config.model import Bundle
from engine.errors import ServiceError
from engine.storage import tables as t
from engine.storage.db import make_engine

MAX_WORKER_PASSES = 20


@dataclass(frozen=True)
class CaseResult:
    name: str
    failures: tuple[str, ...] = ()
    why: tuple[str, ...] = ()  # the record's decisions, explained (for a failing case)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class _Case:
    """One case while it runs: its services, clock and the records it wrote by name."""

    svc: Any
    clock: FixedClock
    tenant: str
    spec: Mapping[str, Any]  # the whole tests.yaml (its fixtures)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (entity, id)
    first: tuple[str, str] | None = None


def tests_of(bundle: Bundle) -> Any:
    """The bundle's tests.yaml, merged over its templates' (None without one)."""
    return bundle.resolved.get("tests")


def run_bundle_tests(bundle: Bundle) -> list[CaseResult]:
    """Every case of the bundle's tests.yaml, in order."""
    spec = tests_of(bundle)
    if not spec:
        return []
    tz = ZoneInfo(bundle.tenant.timezone)
    default = _moment(spec.get("start"), tz) or datetime.combine(
        datetime(2026, 1, 5).date(), day_time(10, 0), tz
    )
    with _installed(bundle, default) as template:
        return [_run(bundle, case, template, default, tz) for case in spec.get("tests", [])]


@contextmanager
def _installed(bundle: Bundle, start: datetime) -> Iterator[Path]:
    """A migrated SQLite file with the bundle active (cases copy it)."""
    from engine.service.app import Services  # the façade builds on this module's callers

    folder = Path(tempfile.mkdtemp(prefix="tidepool-tests-"))
    try:
        path = folder / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        svc = Services.open(engine=engine, clock=FixedClock(start))
        svc.install_bundle(bundle, actor="tests", tests=False)
        svc.close()
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    bundle: Bundle, case: Mapping[str, Any], template: Path, default: datetime, tz: ZoneInfo
) -> CaseResult:
    from engine.service.app import Services

    began = time.perf_counter()
    path = template.with_name(f"case-{time.perf_counter_ns()}.db")
    shutil.copy(template, path)
    clock = FixedClock(_moment(case.get("start"), tz) or default)
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=clock)
    run = _Case(svc, clock, bundle.id, tests_of(bundle) or {})
    try:
        failures = _given(run, case) or _then(run, case) or _time(run, case) or _expect(run, case)
        why = _why(run, case) if failures else ()
        return CaseResult(str(case["name"]), tuple(failures), why, time.perf_counter() - began)
    finally:
        svc.close()
        path.unlink(missing_ok=True)


def _given(run: _Case, case: Mapping[str, Any]) -> list[str]:
    for i, item in enumerate(given_items(run.spec, case["given"])):
        data = {k: _ref(run, v) for k, v in (item.get("data") or {}).items()}
        if item.get("owner"):
            data["owner"] = item["owner"]
        try:
            made = run.svc.records.create(run.tenant, item["entity"], data, actor="test").result
        except ServiceError as exc:
            return [f"given[{i}] ({item['entity']}) was refused: {_error(exc)}"]
        ident = (item["entity"], str(made["id"]))
        run.first = run.first or ident
        if item.get("as"):
            run.names[str(item["as"])] = ident
    return []


def _then(run: _Case, case: Mapping[str, Any]) -> list[str]:
    for i, step in enumerate(case.get("then") or []):
        entity, ident = _record(run, step.get("record"))
        patch = {k: _ref(run, v) for k, v in step["update"].items()}
        try:
            run.svc.records.update(run.tenant, entity, ident, patch, actor="test")
        except ServiceError as exc:
            return [f"then[{i}] was refused: {_error(exc)}"]
    return []


def _time(run: _Case, case: Mapping[str, Any]) -> list[str]:
    """Time passes to `at`: everything time brings happens (sweeps, due jobs)."""
    at = _moment(
        case.get("at"), ZoneInfo(run.svc.configs.active(run.tenant).bundle.tenant.timezone)
    )
    if at is None:
        return []
    if at < run.clock.now():
        return [f"'at' ({at.isoformat()}) is before the records were written"]
    run.clock.moment = at
    run.svc.sweep(run.tenant)
    worker = run.svc.worker(worker_id="tests")
    worker.handlers.update({"webhook": _counted, "email": _counted})
    for _ in range(MAX_WORKER_PASSES):
        if not worker.run_once():
            break
    return []


def _counted(job: Any) -> None:
    """Webhooks and emails leave nothing in a test: their jobs are counted, not sent."""


def _expect(run: _Case, case: Mapping[str, Any]) -> list[str]:
    expects = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
    failures: list[str] = []
    for expect in expects:
        entity, ident = _record(run, expect.get("record"))
        record = run.svc.records.get(run.tenant, entity, ident)
        for column in ("pool", "owner", "queue"):
            if column in expect and getattr(record, column) != expect[column]:
                failures.append(_differs(column, expect[column], getattr(record, column)))
        for name, value in (expect.get("fields") or {}).items():
            if not _same(record.data.get(name), value):
                failures.append(_differs(name, value, record.data.get(name)))
        failures += _effects(run, ident, expect)
    return failures


def _effects(run: _Case, ident: str, expect: Mapping[str, Any]) -> list[str]:
    fired, notified, tasks, hooks = _observed(run, ident)
    out = []
    missing = [c for c in expect.get("fired", []) if c not in fired]
    if missing:
        out.append(
            f"expected {', '.join(missing)} to fire; fired: {', '.join(sorted(fired)) or 'none'}"
        )
    unwanted = [c for c in expect.get("not_fired", []) if c in fired]
    if unwanted:
        out.append(f"expected {', '.join(unwanted)} not to fire, but it did")
    absent = [u for u in expect.get("notified", []) if u not in notified]
    if absent:
        who = ", ".join(sorted(notified)) or "nobody"
        out.append(f"expected {', '.join(absent)} to be notified; notified: {who}")
    for key, got in (("tasks", tasks), ("webhooks", hooks)):
        if key in expect and expect[key] != got:
            out.append(_differs(key, expect[key], got))
    return out


def _observed(run: _Case, ident: str) -> tuple[set[str], set[str], int, int]:
    f, n, j, r = t.campaign_firings.c, t.notifications.c, t.jobs.c, t.records.c
    with run.svc.store.read() as tx:
        rows = tx.conn.execute(sa.select(f.campaign, f.id).where(f.record_id == ident)).all()
        notified = set(tx.conn.execute(sa.select(n.user_id).where(n.record_id == ident)).scalars())
        created = tx.conn.execute(sa.select(r.data).where(r.created_by == "campaign")).scalars()
        tasks = sum(1 for data in created if ident in (data or {}).values())
        ids = [row.id for row in rows]
        hooks = tx.conn.execute(
            sa.select(sa.func.count()).where(j.firing_id.in_(ids), j.kind == "webhook")
        ).scalar()
    return {row.campaign for row in rows}, notified, tasks, int(hooks or 0)


def _why(run: _Case, case: Mapping[str, Any]) -> tuple[str, ...]:
    """The decisions of the record the expectations are about (the first one named)."""
    if run.first is None:
        return ()
    expects = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
    named = next((e["record"] for e in expects if e.get("record") in run.names), None)
    entity, ident = run.names[named] if named else run.first
    timeline = run.svc.records.explain(run.tenant, entity, ident, "en")["timeline"]
    lines = []
    for item in timeline:
        text = item.get("explanation") or ""
        lines.append(f"{item['kind']} {item['rule']}: {item['before']} -> {item['after']}")
        lines += [f"    {line}" for line in text.splitlines()]
    return tuple(lines)


def _record(run: _Case, name: Any) -> tuple[str, str]:
    if name is None:
        assert run.first is not None
        return run.first
    if name not in run.names:
        raise ValueError(f"no given record named '{name}'")
    return run.names[name]


def _ref(run: _Case, value: Any) -> Any:
    """'@name' stands for the id of the given record with that `as` name."""
    if isinstance(value, str) and value.startswith("@") and value[1:] in run.names:
        return run.names[value[1:]][1]
    return value


def _same(got: Any, expected: Any) -> bool:
    if got == expected:
        return True
    return str(got) == str(expected) or _number(got) == _number(expected) is not None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _differs(name: str, expected: Any, got: Any) -> str:
    return f"expected {name} {expected!r}, got {got!r}"


def _error(exc: ServiceError) -> str:
    details = "; ".join(f"{e.field}: {e.message('en')}" for e in exc.errors)
    return f"{exc.detail}" + (f" ({details})" if details else "")


def _moment(raw: Any, tz: ZoneInfo) -> datetime | None:
    if raw is None:
        return None
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
