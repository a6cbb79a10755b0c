"""The `tidepool` command: a thin shell over the service layer."""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from engine.api.proxies import TRUSTED_PROXIES, proxy_settings
from engine.api.proxies import trusted_proxies as parse_proxies
from engine.config import BundleInvalid, load_bundle_dir
from engine.config.loader import (
    is_template_dir,
    load_resolved,
    load_template_dir,
    read_bundle_dir,
)
from engine.config.resolved import resolved_json, resolved_yaml
from engine.errors import ServiceError
from engine.service import ListQuery, Services, bundle_dirs, simulate_text
from engine.service.bundle_tests import CaseResult, run_bundle_tests
from engine.service.permissions import may
from engine.service.qr import checked_url, embed_script_url, form_url, qr_png
from engine.service.scheduler import SweepLoop
from engine.service.seed import seed as seed_records
from engine.service.simulate import dry_run, parse_now
from engine.service.simulate_report import SimulationReport
from engine.service.webhooks import Webhooks
from engine.service.worker import Worker, WorkerLoop
from engine.storage.db import default_url

app = typer.Typer(
    help="Tidepool: a low-code rules engine for CRM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Tenant API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
webhooks_app = typer.Typer(help="Outgoing webhooks.", no_args_is_help=True)
users_app = typer.Typer(help="The bundle's users: admin UI passwords.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(webhooks_app, name="webhooks")
forms_app = typer.Typer(help="Forms: hosted pages' URLs and QR codes.", no_args_is_help=True)
app.add_typer(forms_app, name="forms")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Db = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: $TIDEPOOL_DATABASE_URL, else var/tidepool.db)"
    ),
]
Paths = Annotated[list[Path], typer.Argument(help="Bundle folders, e.g. configs/acme-saas")]


def _open(db: str | None) -> Services:
    return Services.open(db or default_url())


def _print_problems(exc: BundleInvalid) -> None:
    for problem in exc.errors:
        err.print(problem.format(), markup=False)


@app.command()
def validate(paths: Paths) -> None:
    """Check bundles: every problem at once as file:line:col, or 'ok'. Exit 1 on errors."""
    failed = False
    for path in paths:
        template = is_template_dir(path)
        try:
            bundle = load_template_dir(path) if template else load_bundle_dir(path)
        except BundleInvalid as exc:
            _print_problems(exc)
            errors = sum(e.severity == "error" for e in exc.errors)
            err.print(f"{path}: {errors} error(s)", markup=False)
            failed = True
            continue
        what = "a template, checked as a bundle extending it" if template else f"tenant {bundle.id}"
        out.print(
            f"{path}: ok ({what}, {len(bundle.entities)} entities, "
            f"{len(bundle.forms)} forms, {len(bundle.views)} views, "
            f"{len(bundle.pool_sets)} pool sets)",
            markup=False,
        )
    if failed:
        raise typer.Exit(1)


@app.command()
def load(paths: Paths, db: Db = None) -> None:
    """Validate bundles and make each the active config of its tenant."""
    svc = _open(db)
    for path in paths:
        bundle = load_bundle_dir(path)
        number, changed = svc.install_bundle(bundle, actor="cli")
        state = "loaded as" if changed else "unchanged, still"
        out.print(f"{bundle.id}: {state} version {number}", markup=False)
        if changed and number > 1 and bundle.rollups:
            out.print(
                f"  existing records keep their rollups until a related record changes; "
                f"`tidepool rollups --tenant {bundle.id}` recomputes them all now",
                markup=False,
            )


@app.command("test")
def test_bundles(paths: Paths) -> None:
    """Run each bundle's tests.yaml against a throw-away store; exit 1 if a case fails."""
    began, passed, failed = time.perf_counter(), 0, 0
    for path in paths:
        try:
            bundle = load_bundle_dir(path)
        except BundleInvalid as exc:
            _print_problems(exc)
            raise typer.Exit(1) from None
        for result in run_bundle_tests(bundle):
            passed, failed = passed + result.passed, failed + (not result.passed)
            _print_case(path, result)
    took = time.perf_counter() - began
    summary = f"{passed} passed" + (f", {failed} failed" if failed else "") + f" in {took:.1f}s"
    (err if failed else out).print(summary, markup=False)
    if failed:
        raise typer.Exit(1)


def _print_case(path: Path, result: CaseResult) -> None:
    name = f"{path}/tests.yaml::{result.name}"
    if result.passed:
        out.print(f"{name} PASSED", markup=False)
        return
    err.print(f"{name} FAILED", markup=False)
    for failure in result.failures:
        err.print(f"  {failure}", markup=False)
    if result.why:
        err.print("  decisions:", markup=False)
        for line in result.why:
            err.print(f"    {line}", markup=False)


@app.command()
def push(
    path: Annotated[Path, typer.Argument(help="A bundle folder, e.g. configs/acme-saas")],
    db: Db = None,
    activate: Annotated[bool, typer.Option(help="Also make it the active version")] = False,
) -> None:
    """Store a bundle as a new numbered version (validated whole); not active unless
    --activate. The same files again give the same version."""
    bundle = load_bundle_dir(path)
    svc = _open(db)
    number, created = svc.configs.store_version(bundle, actor="cli")
    out.print(f"{bundle.id}: {'stored as' if created else 'already stored as'} version {number}")
    if activate:
        changed = svc.activate(bundle.id, number, actor="cli")
        out.print(f"{bundle.id}: version {number} {'is now active' if changed else 'was active'}")


@app.command()
def versions(tenant: Annotated[str, typer.Option(help="Tenant id")], db: Db = None) -> None:
    """The tenant's config versions, newest first; * marks the active one."""
    for v in _open(db).configs.versions(tenant):
        mark = "*" if v["active"] else " "
        out.print(
            f"{mark} {v['number']:>4}  {v['created_at']}  {v['created_by'] or '-':<12} "
            f"{v['digest'][:12]}",
            markup=False,
        )


@app.command()
def activate(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    number: Annotated[int, typer.Argument(help="The version to switch to")],
    db: Db = None,
) -> None:
    """Switch the tenant to a stored version (running servers follow within seconds)."""
    changed = _open(db).activate(tenant, number, actor="cli")
    out.print(f"{tenant}: version {number} {'is now active' if changed else 'was active already'}")


@app.command()
def rollback(tenant: Annotated[str, typer.Option(help="Tenant id")], db: Db = None) -> None:
    """Reactivate the version that was active before the current one."""
    out.print(f"{tenant}: back to version {_open(db).rollback(tenant, actor='cli')}")


@app.command()
def diff(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    a: Annotated[int, typer.Argument(help="From this version")],
    b: Annotated[int, typer.Argument(help="To this version")],
    db: Db = None,
) -> None:
    """What changes from version A to B: items added (+), removed (-) or changed (~)."""
    changes = _open(db).diff(tenant, a, b)
    signs = {"added": "+", "removed": "-", "changed": "~"}
    for c in changes:
        keys = f"  ({', '.join(c['keys'])})" if c.get("keys") else ""
        out.print(f"{signs[c['change']]} {c['kind']} {c['id']}{keys}", markup=False)
    out.print(f"{len(changes)} change(s) from version {a} to {b}", markup=False)


@app.command("simulate")
def simulate_bundle(
    path: Annotated[Path, typer.Argument(help="A bundle folder, e.g. configs/acme-saas")],
    now: Annotated[
        str | None, typer.Option(help="As of this ISO time, with an offset (default: now)")
    ] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Only the first N records of each entity")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    locale: Annotated[
        str | None, typer.Option(help="zh-CN or en (default: the tenant's locale)")
    ] = None,
    db: Db = None,
) -> None:
    """Dry run: what the bundle would do to its tenant's stored records if it were active
    (pool moves, owners, scores and grades, campaigns) — nothing is written."""
    try:
        bundle = load_bundle_dir(path)
    except BundleInvalid as exc:
        _print_problems(exc)
        err.print(f"{path}: {sum(e.severity == 'error' for e in exc.errors)} error(s)")
        raise typer.Exit(1) from None
    try:
        moment = parse_now(now)
    except ServiceError:
        raise typer.BadParameter(
            "give an ISO time with an offset, e.g. 2026-02-01T09:00:00+08:00", param_hint="--now"
        ) from None
    svc = _open(db)
    with _progress(enabled=not as_json) as progress:
        report = dry_run(svc, bundle.id, bundle, now=moment, sample=sample, progress=progress)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(report, locale or report.locale)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr while records are read (only on a terminal)."""
    if not enabled or not err.is_terminal:
        yield None
        return
    with Progress(console=err, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(entity: str, done: int, total: int) -> None:
            if entity not in tasks:
                tasks[entity] = bar.add_task(entity, total=total)
            bar.update(tasks[entity], completed=done)

        yield advance


def _print_report(report: SimulationReport, locale: str) -> None:
    # piped output is not cut to 80 columns: the tables stay readable in a file
    wide = out if out.is_terminal else Console(highlight=False, soft_wrap=True, width=160)
    for line in simulate_text.header(report, locale):
        out.print(line, markup=False)
    for entity in report.entities:
        out.print()
        out.print(simulate_text.entity_line(entity, locale), markup=False)
        for section in simulate_text.sections(entity, locale):
            table = Table(title=section.title, title_justify="left", show_lines=False)
            for i, column in enumerate(section.columns):
                table.add_column(column, justify="right" if i == 2 else "left", overflow="fold")
            for row in section.rows:
                table.add_row(*(Text(cell) for cell in row))
            wide.print(table)
    for note in simulate_text.notes(report, locale):
        out.print(f"* {note}", markup=False)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    name: Annotated[str, typer.Option(help="A name to recognise the key")] = "default",
    user: Annotated[
        str | None,
        typer.Option(help="Act for this user of the bundle: their roles decide what it may do"),
    ] = None,
    db: Db = None,
) -> None:
    """Create an API key; it is printed once and only its hash is stored. Without --user it
    acts for the whole tenant (an integration)."""
    out.print(_open(db).keys.create(tenant, name, user), markup=False)


@users_app.command("set-password")
def users_set_password(
    user: Annotated[str, typer.Argument(help="A user id of the tenant's bundle")],
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: Db = None,
) -> None:
    """Set the password a user signs in to the admin UI with (stored as an argon2 hash)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _open(db).passwords.set(tenant, user, password)
    out.print(f"{tenant}: password set for {user}", markup=False)


@keys_app.command("list")
def keys_list(tenant: Annotated[str, typer.Option(help="Tenant id")], db: Db = None) -> None:
    """The tenant's keys: id, name, when created and revoked (secrets are never stored)."""
    for key in _open(db).keys.list(tenant):
        revoked = f"revoked {key['revoked_at']:%Y-%m-%d %H:%M}" if key["revoked_at"] else "active"
        user = f"user {key['user']}" if key["user"] else "tenant-wide"
        out.print(
            f"{key['id']}  {key['name']:<20} {user:<20} "
            f"created {key['created_at']:%Y-%m-%d %H:%M}  {revoked}",
            markup=False,
        )


@keys_app.command("revoke")
def keys_revoke(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    name: Annotated[str, typer.Option(help="Name of the key(s) to revoke")],
    db: Db = None,
) -> None:
    """Revoke the tenant's active keys of that name (servers notice within 10 seconds)."""
    count = _open(db).keys.revoke(tenant, name)
    out.print(f"revoked {count} key(s) named '{name}'", markup=False)
    if not count:
        raise typer.Exit(1)


@app.command()
def sweep(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    now: Annotated[
        str | None, typer.Option(help="Sweep as of this ISO time (tests, catch-up)")
    ] = None,
    db: Db = None,
) -> None:
    """Apply the promotions that became due with time (e.g. 30 days without follow-up)."""
    moment = None
    if now is not None:
        try:
            moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"not an ISO time: {now}", param_hint="--now") from None
        if moment.tzinfo is None:
            raise typer.BadParameter(
                "give an offset, e.g. 2026-02-01T09:00:00+08:00", param_hint="--now"
            )
    moved = _open(db).sweep(tenant, moment)
    reminded = sum(n for rule, n in moved.items() if rule.endswith(".protection_reminder"))
    total = sum(moved.values()) - reminded
    out.print(
        f"{total} record(s) moved"
        + (f", {reminded} reminder(s)" if reminded else "")
        + "".join(f"\n  {rule}: {n}" for rule, n in sorted(moved.items())),
        markup=False,
    )


@app.command()
def rollups(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    entity: Annotated[str | None, typer.Option(help="Only this entity's rollups")] = None,
    db: Db = None,
) -> None:
    """Recompute rollups of existing records (after a bundle adds or changes one)."""
    changed = _open(db).records.refresh_rollups(tenant, entity)
    out.print(f"{changed} record(s) updated", markup=False)


@app.command()
def seed(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    count: Annotated[int, typer.Option(min=1, max=100_000, help="Records per entity")] = 100,
    db: Db = None,
) -> None:
    """Fill a tenant with realistic demo records (validated like any write)."""
    svc = _open(db)
    stored = seed_records(
        svc.records,
        svc.configs.active(tenant).bundle,
        count,
        svc.clock.now(),
        seed_value=secrets.randbelow(2**31),
    )
    out.print(", ".join(f"{n} {e}" for e, n in stored.items()), markup=False)


@app.command()
def serve(
    db: Db = None,
    configs: Annotated[Path | None, typer.Option(help="Load every bundle in this folder")] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: Annotated[
        bool, typer.Option(help="Print a new API key per tenant and seed empty tenants")
    ] = False,
    sweep_every: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="TIDEPOOL_SWEEP_EVERY",
            help="Seconds between sweeps of time-based rules (0: off)",
        ),
    ] = 60.0,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            envvar="TIDEPOOL_WORKER",
            help="Also run a job worker (webhooks, emails) in this process",
        ),
    ] = True,
    trusted_proxies: Annotated[
        str,
        typer.Option(
            envvar=TRUSTED_PROXIES,
            help="Proxies whose X-Forwarded-For is believed: addresses or CIDR networks, "
            "comma-separated (default none: the client is the connecting address)",
        ),
    ] = "",
) -> None:
    """Serve the REST API (OpenAPI at /docs)."""
    import uvicorn

    from engine.api.app import create_app

    try:
        proxies = parse_proxies(trusted_proxies)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--trusted-proxies'") from None
    svc = _open(db)
    if configs is not None:
        for bundle, number, changed in svc.install_dirs(bundle_dirs(configs), actor="serve"):
            out.print(
                f"{bundle.id}: config version {number}{' (new)' if changed else ''}", markup=False
            )
            if demo:
                _demo(svc, bundle.id, port)
    out.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if proxies:
        out.print(f"client addresses from X-Forwarded-For of {', '.join(proxies)}", markup=False)
    loop = SweepLoop(svc, sweep_every).start() if sweep_every > 0 else None
    jobs = WorkerLoop(_worker(svc)).start() if worker else None
    try:
        settings = proxy_settings(proxies)
        uvicorn.run(create_app(svc), host=host, port=port, log_level="info", **settings)
    finally:
        if jobs is not None:
            jobs.stop()
        if loop is not None:
            loop.stop()


def _worker(svc: Services, batch: int = 20, lease: float = 60.0) -> Worker:
    """A worker for every kind of job the services know (webhooks, emails, campaigns)."""
    return svc.worker(batch=batch, lease_seconds=lease)


@app.command("worker")
def run_worker(
    db: Db = None,
    once: Annotated[bool, typer.Option(help="Run one batch of due jobs, then exit")] = False,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Jobs claimed at a time")] = 20,
    lease: Annotated[
        float,
        typer.Option(
            min=1, help="Seconds a claimed job stays this worker's before others may retry it"
        ),
    ] = 60.0,
    idle: Annotated[float, typer.Option(min=0.05, help="Seconds to rest when idle")] = 1.0,
) -> None:
    """Run due jobs (webhooks, emails) until stopped (Ctrl-C, SIGTERM). Any number of
    workers may run at once against one database."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per webhook sent
    runner = _worker(_open(db), batch, lease)
    if once:
        out.print(f"{runner.run_once()} job(s) run", markup=False)
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    out.print(f"worker {runner.worker_id} running (Ctrl-C stops it)", markup=False)
    runner.run_forever(stop, idle)


@webhooks_app.command("secret")
def webhooks_secret(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    rotate: Annotated[
        bool, typer.Option(help="Replace the secret; receivers must switch to the new one")
    ] = False,
    db: Db = None,
) -> None:
    """Print the tenant's webhook signing secret (made on first use). Receivers check
    X-Tidepool-Signature: sha256=HMAC-SHA256(secret, "<X-Tidepool-Timestamp>.<body>")."""
    svc = _open(db)
    hooks = Webhooks(svc.store, svc.clock)
    out.print(hooks.rotate_secret(tenant) if rotate else hooks.secret(tenant), markup=False)


DEMO_PASSWORD = "tidepool-demo"


def _demo(svc: Services, tenant: str, port: int) -> None:
    bundle = svc.configs.active(tenant).bundle
    first = next(iter(bundle.entities))
    if not svc.records.query(tenant, first, ListQuery(limit=1)).records:
        stored = seed_records(svc.records, bundle, 80, svc.clock.now())
        out.print(f"  seeded {sum(stored.values())} demo records", markup=False)
    key = svc.keys.create(tenant, name="demo")
    out.print(f"  API key: {key}", markup=False)
    users = bundle.tenant.users
    for user in users:  # demo only: a known password for users who have none yet
        if not svc.passwords.has(tenant, user):
            svc.passwords.set(tenant, user, DEMO_PASSWORD)
    admin = next(
        (u for u in users.values() if may(svc.configs.active(tenant), u.id, "configure")), None
    )
    if admin is not None:
        out.print(
            f"  admin UI: http://127.0.0.1:{port}/admin/ — tenant {tenant}, user {admin.id}, "
            f"password {DEMO_PASSWORD} (every demo user has it until changed)",
            markup=False,
        )
    out.print(
        f"  try: curl -H 'Authorization: Bearer {key}' "
        f"http://127.0.0.1:{port}/api/v1/{tenant}/records/{first}?limit=2",
        markup=False,
    )


@app.command()
def show(
    path: Annotated[Path, typer.Argument(help="A bundle folder, e.g. configs/northwind-b2b")],
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Merge the templates in: each item with its file")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
) -> None:
    """The bundle's folders and files; with --resolved, every file merged over the templates
    it extends, each item marked with the file and line it was written at."""
    try:
        files = read_bundle_dir(path)
        _, sources, chain = load_resolved(files, display_root=str(path))
    except BundleInvalid as exc:
        _print_problems(exc)
        raise typer.Exit(1) from None
    folders = [posixpath.normpath(posixpath.join(str(path), f)) for f in chain]
    if as_json:
        body = resolved_json(sources) if resolved else {"files": sorted(files)}
        out.print_json(data={"folders": folders, **body})
    elif resolved:
        out.print(resolved_yaml(sources), markup=False, end="")
    else:
        for folder, name in zip(folders, chain, strict=True):
            own = sorted(n for n in files if posixpath.dirname(n) == name)
            out.print(f"{folder}/: {', '.join(posixpath.basename(n) for n in own)}", markup=False)


PUBLIC_URL = "TIDEPOOL_PUBLIC_URL"
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="Where visitors reach the hosted pages (default: $TIDEPOOL_PUBLIC_URL, else "
        "http://127.0.0.1:8000)",
    ),
]


def _base_url(given: str | None) -> str:
    return given or os.environ.get(PUBLIC_URL) or "http://127.0.0.1:8000"


def _params(given: list[str]) -> dict[str, str]:
    """--param name=value options as a mapping; exit 1 on a malformed or repeated one."""
    params: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            err.print(f"error: --param takes name=value, not {item!r}", markup=False)
            raise typer.Exit(1)
        if name in params:
            err.print(f"error: --param {name} given twice", markup=False)
            raise typer.Exit(1)
        params[name] = value
    return params


@forms_app.command("qr")
def forms_qr(
    tenant: Annotated[str, typer.Argument(help="Tenant id")],
    form: Annotated[str, typer.Argument(help="A public form of the tenant's active config")],
    base_url: BaseUrl = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="A channel value for the URL, e.g. source=qr_scan (repeatable)"
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="The PNG to write (default: TENANT-FORM[-values].png)"),
    ] = None,
    scale: Annotated[int, typer.Option(help="Pixels per module", min=1, max=40)] = 8,
    db: Db = None,
) -> None:
    """Write a QR code (PNG) of a public form's hosted page, with channel values in its URL;
    exit 1 for an unknown tenant or form, a form that is not public, a parameter the form does
    not take or a value its hidden field refuses."""
    params = _params(param or [])
    cfg = _open(db).configs.active(tenant)
    url = checked_url(cfg, _base_url(base_url), form, params)
    name = "-".join([tenant, form, *(v for v in params.values() if v)])
    target = out_file or Path(re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") + ".png")
    try:
        target.write_bytes(qr_png(url, scale))
    except OSError as exc:
        err.print(f"error: cannot write {target}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"{target}: {url}", markup=False)


@forms_app.command("list")
def forms_list(
    tenant: Annotated[str, typer.Argument(help="Tenant id")],
    base_url: BaseUrl = None,
    db: Db = None,
) -> None:
    """The tenant's forms: entity, public or API only, and for public ones the hosted page's
    URL, its URL parameters, the embed script and the sites that may embed it."""
    cfg = _open(db).configs.active(tenant)
    base = _base_url(base_url)
    forms = cfg.bundle.forms.values()
    if not forms:
        out.print(f"{tenant}: no forms", markup=False)
    for form in forms:
        if not form.public:
            out.print(f"{form.name:<24} {form.entity:<16} API only", markup=False)
            continue
        out.print(
            f"{form.name:<24} {form.entity:<16} public   {form_url(base, tenant, form)}",
            markup=False,
        )
        params = ", ".join(f"{p} ({f})" for p, f in form.url_params.items()) or "none"
        origins = ", ".join(form.embed_origins) or "none listed: embedding is blocked"
        out.print(f"  URL parameters: {params}", markup=False)
        out.print(f"  embed script: {embed_script_url(base, tenant, form.name)}", markup=False)
        out.print(f"  embed origins: {origins}", markup=False)


def main() -> None:
    """Entry point: known errors become messages and exit codes, never tracebacks."""
    try:
        code = app(standalone_mode=False)  # click returns the code of typer.Exit here
        if isinstance(code, int) and code:
            sys.exit(code)
    except BundleInvalid as exc:
        _print_problems(exc)
        sys.exit(1)
    except ServiceError as exc:
        err.print(f"error: {exc.detail}", markup=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        show = getattr(exc, "show", None)  # click's (or typer's own) usage errors
        if callable(show):
            show()
            sys.exit(int(getattr(exc, "exit_code", 2)))
        err.print(f"error: {exc.__class__.__name__}: {exc}", markup=False)
        sys.exit(2)
