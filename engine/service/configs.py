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
from engine.service.compiled import CompiledConfig
from engine.service.errors import NotFound
from engine.service.uniques import sync_uniques
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
        """Store the bundle as a new version (unless it is already active) and activate it.

        Returns (version number, whether anything changed)."""
        with self.store.write() as tx:
            conn = tx.conn
            row = tx.tenant(bundle.id)
            now = self.clock.now()
            if row is None:
                conn.execute(
                    t.tenants.insert().values(
                        id=bundle.id, name=bundle.tenant.name.as_dict(), created_at=now
                    )
                )
            elif (
                row.active_version is not None
                and self._digest(conn, bundle.id, row.active_version) == bundle.digest
            ):
                return row.active_version, False
            number = (
                conn.execute(
                    sa.select(sa.func.max(t.config_versions.c.number)).where(
                        t.config_versions.c.tenant_id == bundle.id
                    )
                ).scalar()
                or 0
            ) + 1
            sync_uniques(tx, bundle.id, self._bundle(conn, bundle.id, row), bundle)
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
            conn.execute(
                t.tenants.update()
                .where(t.tenants.c.id == bundle.id)
                .values(active_version=number, name=bundle.tenant.name.as_dict())
            )
        self._active.pop(bundle.id, None)
        return number, True

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
