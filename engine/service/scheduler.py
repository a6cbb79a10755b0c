"""A background loop that sweeps every tenant at an interval (inside `tidepool serve`).

Several servers may run it against one database: sweeps are idempotent and share work
(SKIP LOCKED on PostgreSQL), so no leader election is needed.
"""

from __future__ import annotations

import logging
import threading

from engine.service.app import Services

log = logging.getLogger("tidepool.sweeps")


class SweepLoop:
    def __init__(self, services: Services, every_seconds: float) -> None:
        self.services = services
        self.every = every_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tidepool-sweeps", daemon=True)

    def start(self) -> SweepLoop:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def run_once(self) -> dict[str, int]:
        """Sweep each tenant; a failing tenant is logged and does not stop the others."""
        total: dict[str, int] = {}
        for tenant in self.services.configs.tenants():
            try:
                moved = self.services.sweep(tenant)
            except Exception:
                log.exception("sweep of tenant %s failed", tenant)  # the others go on
                continue
            total[tenant] = sum(moved.values())
            if moved:
                log.info("sweep %s: %s", tenant, moved)
        return total

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.run_once()
