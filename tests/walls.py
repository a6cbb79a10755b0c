"""The permission tables' tenant and records, shared by tests/api/test_permission_table.py and
tests/admin_ui/test_permission_table.py.

The tenant is tests/fixtures/walls: chaotu-demo's bundle as shipped (sales see and edit their
own customers, managers their subtree, admins everything; follow-ups are seen through their
customer) with a user without roles (nora), one marked `active: false` (gone) and one the tables
switch off at run time (olive).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, START, pg_schema

TENANT = "walls"

# The records rows act on. c_*: customers, each in a holding pool with the owner its name says;
# c_pub: in the public pool (公海); c_free: unowned, waiting in an assignment queue (not in the
# public pool). f_*: follow-ups (activity, `visible_via: customer_id`) of alice's and bob's
# customers, held by erin: whoever else sees them, sees them through their customer.
RECORDS = ("c_alice", "c_bob", "c_erin", "c_carol", "c_nora", "c_pub", "c_free", "f_alice", "f_bob")
HOLDER = {
    "c_alice": "alice",
    "c_bob": "bob",
    "c_erin": "erin",
    "c_carol": "carol",
    "c_nora": "nora",
    "f_alice": "erin",
    "f_bob": "erin",
}


@contextmanager
def database(kind: str, folder: Path) -> Iterator[sa.Engine]:
    """A fresh database: 'sqlite' (a file in the folder) or 'postgres' (a schema of its own)."""
    if kind == "postgres":
        with pg_schema() as engine:
            yield engine
        return
    engine = make_engine(f"sqlite:///{folder / 'walls.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def install(svc: Services) -> dict[str, str]:
    """The tenant as versions 1 and 2, alike but for a comment (so diff and rollback have two
    to work with), version 2 active; the files of version 2. Without the demo's tests.yaml:
    activating a version runs a bundle's tests, ~20 s of chaotu-demo's on each rollback."""
    files = {k: v for k, v in read_bundle_dir(FIXTURES / "walls").items() if "/tests." not in k}
    first, _ = svc.install_bundle(load_bundle(files), actor="tests", tests=False)
    files["tenant.yaml"] += "# version 2\n"
    second = svc.push(TENANT, files, actor="tests")["number"]
    svc.activate(TENANT, second, "tests", tests=False)
    assert (first, second) == (1, 2)
    return files


class Records:
    """The targets: made once (`shared`, tag 'table'), or afresh for a row that changes them."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.ids: dict[str, str] = {}

    def shared(self) -> dict[str, str]:
        for target in RECORDS:  # customers first: follow-ups name them
            self.ids[target] = self.make(target, "table")
        held = {t: self.svc.records.get(TENANT, *self.record(t, False)) for t in RECORDS}
        assert {t: r.owner for t, r in held.items() if r.owner} == HOLDER
        assert held["c_pub"].pool == "public" and held["c_free"].pool != "public"
        return self.ids

    def record(self, target: str, fresh: bool) -> tuple[str, str]:
        """(entity, id) of the shared target, or of a fresh one like it."""
        entity = "activity" if target.startswith("f_") else "customer"
        return entity, self.make(target, "fresh") if fresh else self.ids[target]

    def make(self, target: str, tag: str) -> str:
        kind, who = target.split("_")
        if kind == "f":
            return self._create(
                "activity",
                {
                    "customer_id": self.ids[f"c_{who}"],
                    "kind": "call",
                    "summary": "called",
                    "happened_at": START.isoformat(),
                    "next_step": tag,
                    "owner": "erin",
                },
            )
        # with an e-mail address: the demo sends customers without any contact to `invalid`
        data: dict[str, Any] = {"name": f"{tag} {who}", "email": "x@example.cn", "activity": tag}
        if who == "pub":  # held by erin, given back: in the public pool, held by nobody
            record_id = self._create("customer", {**data, "owner": "erin"})
            self.svc.owners.release(TENANT, "customer", record_id, "erin", actor="tests")
            return record_id
        if who == "free":  # no region: the demo's assignment leaves it in a queue
            return self._create("customer", data)
        return self._create("customer", {**data, "owner": who})

    def _create(self, entity: str, data: dict[str, Any]) -> str:
        written = self.svc.records.create(TENANT, entity, data, actor="tests")
        record_id: str = written.result["id"]
        return record_id
