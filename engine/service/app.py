"""The service layer as one object: what every shell (API, CLI, UI) is given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock, SystemClock
from engine.config.activation import deactivated_users, new_relative
from engine.config.diff import diff_bundles
from engine.config.loader import load_bundle, load_bundle_dir
from engine.config.model import Bundle
from engine.errors import Invalid, NotFound, Refused
from engine.fields.validator import FieldError
from engine.service.assignment_stats import AssignmentStats
from engine.service.bundle_tests import CaseResult, run_bundle_tests
from engine.service.campaigns import CampaignService
from engine.service.configs import TenantConfigs
from engine.service.indexes import ensure_indexes
from engine.service.jobs import Jobs
from engine.service.keys import ApiKeys
from engine.service.owners import Owners
from engine.service.passwords import Passwords, app_secret
from engine.service.permissions import require
from engine.service.public_forms import PublicForms
from engine.service.records import RecordService
from engine.service.sweeps import Sweeper
from engine.service.worker import Worker, default_handlers
from engine.storage import tables as t
from engine.storage.db import make_engine, migrate
from engine.storage.store import Store


@dataclass
class Services:
    store: Store
    configs: TenantConfigs
    records: RecordService
    keys: ApiKeys
    clock: Clock
    sweeper: Sweeper
    owners: Owners
    assignment: AssignmentStats
    jobs: Jobs
    campaigns: CampaignService
    passwords: Passwords
    forms: PublicForms

    @staticmethod
    def open(
        url: str | None = None, clock: Clock | None = None, engine: sa.Engine | None = None
    ) -> Services:
        """Connect, migrate the schema to the newest revision and wire the services."""
        engine = engine or make_engine(url)
        migrate(engine)
        clock = clock or SystemClock()
        store = Store(engine)
        configs = TenantConfigs(store, clock)
        records = RecordService(store, configs, clock)
        campaigns = CampaignService(store, configs, clock, records)
        return Services(
            store,
            configs,
            records,
            ApiKeys(store, clock, lambda tenant: set(configs.active(tenant).bundle.tenant.users)),
            clock,
            Sweeper(store, configs, clock, records.campaign_runner),
            Owners(store, configs, clock, records.campaign_runner),
            AssignmentStats(store, configs, clock),
            Jobs(store, clock, on_finish=campaigns.settle),
            campaigns,
            Passwords(store, configs, clock),
            PublicForms(store, configs, clock, records, app_secret(store, clock, "form_clients")),
        )

    def sweep(self, tenant: str, now: datetime | None = None) -> dict[str, int]:
        """Everything time brings about: promotions, protections, reassignments, segments
        (the sweeper), then scheduled campaigns, then public forms' spent duplicate windows;
        counts per rule."""
        moved = self.sweeper.sweep(tenant, now)
        fired = self.campaigns.sweep_schedules(tenant, now)
        pruned = self.forms.prune(tenant, now)
        return {
            **moved,
            **({"campaigns.schedule": fired} if fired else {}),
            **({"forms.duplicate_windows_ended": pruned} if pruned else {}),
        }

    def worker(self, **options: Any) -> Worker:
        """A worker for every kind of job: webhooks, emails and campaign steps and plans;
        each job's end tells its campaign firing (delivered / failed)."""
        handlers = {**default_handlers(self.store, self.clock), **self.campaigns.handlers()}
        return Worker(self.store, self.clock, handlers, on_finish=self.campaigns.settle, **options)

    def install_bundle(
        self, bundle: Bundle, actor: str | None = None, *, tests: bool = True
    ) -> tuple[int, bool]:
        """Store a bundle as a version and activate it: (number, whether anything changed)."""
        number, _ = self.configs.store_version(bundle, actor)
        return number, self.activate(bundle.id, number, actor, tests=tests)

    def activate(
        self,
        tenant: str,
        number: int,
        actor: str | None = None,
        *,
        tests: bool = True,
        by: str | None = None,
    ) -> bool:
        """Switch the tenant to a stored version (atomic), then what the new rules need:
        indexes, unpooled records placed, deactivated users' records handed over, relative
        campaigns planned. False when that version is active already. A version whose own
        tests (tests.yaml) fail is refused."""
        before = self._may_configure(tenant, by)
        bundle = self.configs.bundle(tenant, number)
        if tests and (before is None or before.digest != bundle.digest):
            _check_tests(bundle, number)
        ensure_indexes(self.store.engine, bundle)  # first: queries of the new rules find them
        if not self.configs.activate(tenant, number, actor):
            return False
        self._place_unpooled(bundle)
        if before is not None:
            self._hand_over(before, bundle)
        self.campaigns.plan_existing(tenant, new_relative(before, bundle))
        return True

    def push(
        self, tenant: str, files: Any, actor: str | None = None, by: str | None = None
    ) -> dict[str, Any]:
        """Validate a bundle given as {file name: YAML text} and keep it as a version of the
        tenant, not active yet: BundleInvalid with every error, nothing stored."""
        self._may_configure(tenant, by)
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise Invalid('send the bundle as {"files": {"tenant.yaml": "…", …}}')
        bundle = load_bundle(files)
        if bundle.id != tenant:
            detail = f"this bundle is tenant '{bundle.id}', not '{tenant}'"
            raise Invalid(detail, [FieldError("files", "tenant", {"value": bundle.id})])
        number, created = self.configs.store_version(bundle, actor)
        return {"number": number, "created": created, "digest": bundle.digest}

    def diff(self, tenant: str, a: int, b: int) -> list[dict[str, Any]]:
        """What changes from version a to version b, item by item."""
        old, new = self.configs.bundle(tenant, a), self.configs.bundle(tenant, b)
        return [c.as_dict() for c in diff_bundles(old, new)]

    def rollback(self, tenant: str, actor: str | None = None, by: str | None = None) -> int:
        """Reactivate the version that was active before the current one; its number."""
        self._may_configure(tenant, by)
        number = self.configs.previous(tenant)
        self.activate(tenant, number, actor, by=by)
        return number

    def _may_configure(self, tenant: str, by: str | None) -> Bundle | None:
        """The tenant's active bundle (None for a new tenant), once the caller acting for `by`
        is known to have a role that can configure."""
        before = self._active_bundle(tenant)
        if before is not None:
            require(self.configs.active(tenant), by, "configure")
        return before

    def _active_bundle(self, tenant: str) -> Bundle | None:
        try:
            return self.configs.active(tenant).bundle
        except NotFound:
            return None

    def _hand_over(self, before: Bundle, after: Bundle) -> None:
        """Users this bundle deactivates get no new records (their eligibility reads the
        bundle); their records stay, are reassigned or go back, as the bundle says."""
        for user, policy in deactivated_users(before, after).items():
            self.owners.hand_over(after.id, user, policy)

    def _place_unpooled(self, bundle: Bundle) -> None:
        """Records written before their entity had pools start in its initial pool."""
        r = t.records.c
        with self.store.write() as tx:
            for pool_set in bundle.pool_sets.values():
                tx.conn.execute(
                    t.records.update()
                    .where(r.tenant_id == bundle.id, r.entity == pool_set.entity, r.pool.is_(None))
                    .values(pool=pool_set.initial, pool_entered_at=self.clock.now())
                )

    def install_dirs(
        self, paths: Iterable[str | Path], actor: str | None = None
    ) -> list[tuple[Bundle, int, bool]]:
        """Validate and install each bundle folder (raises BundleInvalid on the first bad one)."""
        out = []
        for path in paths:
            bundle = load_bundle_dir(path)
            number, changed = self.install_bundle(bundle, actor)
            out.append((bundle, number, changed))
        return out

    def close(self) -> None:
        self.store.engine.dispose()


def bundle_dirs(root: str | Path) -> list[Path]:
    """Bundle folders under a configs root: those with a tenant.yaml, skipping templates."""
    base = Path(root)
    return sorted(p.parent for p in base.glob("*/tenant.yaml") if not p.parent.name.startswith("_"))


_FAILING: dict[str, tuple[CaseResult, ...]] = {}  # by bundle digest


def failing_tests(bundle: Bundle) -> tuple[CaseResult, ...]:
    """The failing cases of a bundle's tests, remembered by digest: a bundle is immutable
    and its tests start at a fixed time, so the same files give the same results."""
    if bundle.digest not in _FAILING:
        if len(_FAILING) > 64:
            _FAILING.clear()
        _FAILING[bundle.digest] = tuple(r for r in run_bundle_tests(bundle) if not r.passed)
    return _FAILING[bundle.digest]


def _check_tests(bundle: Bundle, number: int) -> None:
    """Refused (409) when the version's tests.yaml has a failing case."""
    failed = failing_tests(bundle)
    if not failed:
        return
    errors = [
        FieldError("tests", "test_failed", {"message": f"{r.name}: {'; '.join(r.failures)}"})
        for r in failed
    ]
    detail = f"version {number} is not activated: {len(failed)} of its tests fail"
    raise Refused(detail, errors)
