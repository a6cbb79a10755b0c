"""Tenants and their config versions: store a bundle as an immutable numbered version,
activate it, and hand out the compiled active config (cached per version)."""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.config.loader import load_bundle
from engine.config.model import Bundle
from engine.errors import NotFound
from engine.rules.compiled import CompiledConfig
from engine.service.uniques import sync_uniques
from engine.service.views import instant
from engine.storage import tables as t
from engine.storage.store import Store

CACHE_SECONDS = 1.0


class TenantConfigs:
    """Reads the active version of a tenant, re-checking the database at most once a second."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._compiled: dict[tuple[str, int], CompiledConfig] = {}
        self._active: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def install(self, bundle: Bundle, actor: str | None = None) -> tuple[int, bool]:
        """Store the bundle as a version (unless stored already) and activate it.

        Returns (version number, whether the active config changed)."""
        number, _ = self.store_version(bundle, actor)
        return number, self.activate(bundle.id, number, actor)

    def store_version(self, bundle: Bundle, actor: str | None = None) -> tuple[int, bool]:
        """Keep a validated bundle as an immutable numbered version without activating it:
        (its number, whether it is new). The same files again give the same number."""
        with self.store.write() as tx:
            conn, now = tx.conn, self.clock.now()
            if tx.tenant(bundle.id) is None:
                name = bundle.tenant.name.as_dict()
                conn.execute(t.tenants.insert().values(id=bundle.id, name=name, created_at=now))
            v = t.config_versions.c
            same = sa.select(v.number).where(v.tenant_id == bundle.id, v.digest == bundle.digest)
            found = conn.execute(same.order_by(v.number.desc()).limit(1)).scalar()
            if found is not None:
                return int(found), False
            newest = sa.select(sa.func.max(v.number)).where(v.tenant_id == bundle.id)
            number = (conn.execute(newest).scalar() or 0) + 1
            conn.execute(
                t.config_versions.insert().values(
                    tenant_id=bundle.id,
                    number=number,
                    digest=bundle.digest,
                    files=dict(bundle.files),
                    created_at=now,
                    created_by=actor,
                )
            )
        return number, True

    def activate(self, tenant: str, number: int, actor: str | None = None) -> bool:
        """Make a stored version the active one, in one transaction (every write reads one
        version); False when it is active already. Servers see it within CACHE_SECONDS."""
        with self.store.write() as tx:
            row = tx.tenant(tenant)
            if row is None:
                raise NotFound(f"unknown tenant '{tenant}'")
            if row.active_version == number:
                return False
            bundle = self.bundle(tenant, number, tx.conn)
            sync_uniques(tx, tenant, self._bundle(tx.conn, tenant, row), bundle)
            tx.conn.execute(
                t.tenants.update()
                .where(t.tenants.c.id == tenant)
                .values(active_version=number, name=bundle.tenant.name.as_dict())
            )
            tx.conn.execute(
                t.config_activations.insert().values(
                    tenant_id=tenant,
                    number=number,
                    previous=row.active_version,
                    at=self.clock.now(),
                    by=actor,
                )
            )
        self._active.pop(tenant, None)
        return True

    def bundle(self, tenant: str, number: int, conn: sa.Connection | None = None) -> Bundle:
        """A stored version's bundle; NotFound when there is no such version."""
        v = t.config_versions.c
        query = sa.select(v.files).where(v.tenant_id == tenant, v.number == number)
        if conn is None:
            with self.store.read() as tx:
                files = tx.conn.execute(query).scalar()
        else:
            files = conn.execute(query).scalar()
        if files is None:
            raise NotFound(f"tenant '{tenant}' has no config version {number}")
        return load_bundle(files)

    def previous(self, tenant: str) -> int:
        """The version that was active before the current one (what rollback returns to)."""
        a = t.config_activations.c
        query = sa.select(a.previous).where(a.tenant_id == tenant).order_by(a.id.desc()).limit(1)
        with self.store.read() as tx:
            found = tx.conn.execute(query).scalar()
        if found is None:
            raise NotFound(f"tenant '{tenant}' has no earlier active version to go back to")
        return int(found)

    def versions(self, tenant: str) -> list[dict[str, Any]]:
        """Every stored version, newest first, with the active one marked."""
        active = self._active_number(tenant)
        v = t.config_versions.c
        query = sa.select(v.number, v.digest, v.created_at, v.created_by).where(
            v.tenant_id == tenant
        )
        with self.store.read() as tx:
            rows = tx.conn.execute(query.order_by(v.number.desc())).all()
        return [
            {
                "number": r.number,
                "digest": r.digest,
                "created_at": instant(r.created_at),
                "created_by": r.created_by,
                "active": r.number == active,
            }
            for r in rows
        ]

    @staticmethod
    def _bundle(conn: sa.Connection, tenant: str, row: Any) -> Bundle | None:
        """The currently active bundle (None for a new tenant)."""
        if row is None or row.active_version is None:
            return None
        files = conn.execute(
            sa.select(t.config_versions.c.files).where(
                t.config_versions.c.tenant_id == tenant,
                t.config_versions.c.number == row.active_version,
            )
        ).scalar_one()
        return load_bundle(files)

    @staticmethod
    def _digest(conn: sa.Connection, tenant: str, number: int) -> Any:
        return conn.execute(
            sa.select(t.config_versions.c.digest).where(
                t.config_versions.c.tenant_id == tenant, t.config_versions.c.number == number
            )
        ).scalar()

    def active(self, tenant: str) -> CompiledConfig:
        """The tenant's active compiled config; NotFound for an unknown tenant."""
        number = self._active_number(tenant)
        if number is None:
            raise NotFound(f"unknown tenant '{tenant}'")
        key = (tenant, number)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(tenant, number)
        return compiled

    def _active_number(self, tenant: str) -> int | None:
        cached = self._active.get(tenant)
        now = time.monotonic()
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self.store.read() as tx:
            row = tx.tenant(tenant)
        number = row.active_version if row else None
        if row is not None:  # misses are not kept: anyone can ask for made-up tenants
            self._active[tenant] = (now, number)
        return number

    def _compile(self, tenant: str, number: int) -> CompiledConfig:
        with self.store.read() as tx:
            files = tx.conn.execute(
                sa.select(t.config_versions.c.files).where(
                    t.config_versions.c.tenant_id == tenant, t.config_versions.c.number == number
                )
            ).scalar_one()
        compiled = CompiledConfig.compile(load_bundle(files), number)
        with self._lock:
            self._compiled[(tenant, number)] = compiled
        return compiled

    def tenants(self) -> list[str]:
        with self.store.read() as tx:
            return tx.tenant_ids()
