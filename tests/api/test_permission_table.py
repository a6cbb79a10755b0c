"""Every API route × every kind of caller (issue 16 §2), as a table written out by hand.

The tenant is tests/fixtures/walls: chaotu-demo's bundle as shipped (sales see and edit their
own customers, managers their subtree, admins everything; follow-ups are seen through their
customer) plus a user without roles, one marked `active: false` and one switched off at run
time through the API. Each row says, per target, the status a caller must get; nothing here
asks the policy under test. Unseen → 404, seen but not changeable → 403, a privileged action
without `can:` → 403, a switched-off user → 403, another tenant's key → 404, no or a bad
key → 401.

A route of the OpenAPI document without rows fails `test_every_route_has_rows`; a permission of
engine/config/model.py that no row exercises fails `test_every_permission_is_exercised`.

The database is built once per module and database; rows that write act on fresh records made
like their target, so no row depends on another's writes (callers refused whoever they are act
on the shared ones); a refused write must leave its record as it was.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle_dir
from engine.config.model import PERMISSIONS
from engine.service import Services
from engine.storage import tables as t
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, START
from tests.walls import HOLDER, RECORDS, TENANT, Records, database, install

PREFIX = "/api/v1/{tenant}"

# Who calls. key: the tenant's integration key (no user); admin: frank (manager and admin);
# manager: carol (her subtree: alice, bob, dave, olive); sales: alice (her own); norole: nora
# (no role); inactive: gone (`active: false` in the bundle); off: olive (switched off through
# the API); other: a key of tenant 'other'; nokey: no Authorization; badkey: an unknown key.
CALLERS = (
    "key",
    "admin",
    "manager",
    "sales",
    "norole",
    "inactive",
    "off",
    "other",
    "nokey",
    "badkey",
)
USERS = {
    "key": None,
    "admin": "frank",
    "manager": "carol",
    "sales": "alice",
    "norole": "nora",
    "inactive": "gone",
    "off": "olive",
}

# The targets of the record routes: RECORDS (tests/walls.py).

# Refused whoever they are, whatever the target.
WALLED_OFF: dict[str, int | tuple[int, ...]] = {
    "inactive": 403,
    "off": 403,
    "other": 404,
    "nokey": 401,
    "badkey": 401,
}

# route (under /api/v1/{tenant}) → caller → status: one for every target, or one per target in
# the order of the route's targets (SPECS below; RECORDS for the record routes).
TABLE: dict[str, dict[str, int | tuple[int, ...]]] = {
    # one record: read ------------------------------------------------------------------------
    # targets: c_alice, c_bob, c_erin, c_carol, c_nora, c_pub, c_free, f_alice, f_bob
    "GET /records/{entity}/{record_id}": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 200, 404, 200, 404),
        "norole": (404, 404, 404, 404, 200, 200, 404, 404, 404),
        **WALLED_OFF,
    },
    "GET /records/{entity}/{record_id}/history": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 200, 404, 200, 404),
        "norole": (404, 404, 404, 404, 200, 200, 404, 404, 404),
        **WALLED_OFF,
    },
    "GET /records/{entity}/{record_id}/explain": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 200, 404, 200, 404),
        "norole": (404, 404, 404, 404, 200, 200, 404, 404, 404),
        **WALLED_OFF,
    },
    "POST /records/{entity}/{record_id}/check": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 200, 404, 200, 404),
        "norole": (404, 404, 404, 404, 200, 200, 404, 404, 404),
        **WALLED_OFF,
    },
    # one record: change (fresh records) ------------------------------------------------------
    # the public pool is changed only by claiming (or with an `all` scope); an unowned record
    # by those who can assign; a follow-up by whoever may change its customer
    # targets: c_alice, c_bob, c_erin, c_carol, c_nora, c_pub, c_free, f_alice, f_bob
    # and a tenth target, c_alice handed to dave by writing its owner: `assign` only
    "PATCH /records/{entity}/{record_id}": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 403, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 403, 404, 200, 404, 403),
        "norole": (404, 404, 404, 404, 200, 403, 404, 404, 404, 404),
        **WALLED_OFF,
    },
    # managers delete their own, sales and users without roles nothing
    "DELETE /records/{entity}/{record_id}": {
        "key": 204,
        "admin": 204,
        "manager": (403, 403, 404, 204, 404, 403, 403, 403, 403),
        "sales": (403, 404, 404, 404, 404, 403, 404, 403, 404),
        "norole": (404, 404, 404, 404, 403, 403, 404, 404, 404),
        **WALLED_OFF,
    },
    # into a manual pool: an edit. Follow-ups have no pools: 404 for everyone
    "POST /records/{entity}/{record_id}/move": {
        "key": (200, 200, 200, 200, 200, 200, 200, 404, 404),
        "admin": (200, 200, 200, 200, 200, 200, 200, 404, 404),
        "manager": (200, 200, 404, 200, 404, 403, 200, 404, 404),
        "sales": (200, 404, 404, 404, 404, 403, 404, 404, 404),
        "norole": (404, 404, 404, 404, 200, 403, 404, 404, 404),
        **WALLED_OFF,
    },
    # for oneself (the key: for dave); only from the public pool (409 elsewhere, when seen);
    # follow-ups have no public pool: 404 for everyone. A tenth target, c_pub claimed for
    # dave: `assign` only
    "POST /records/{entity}/{record_id}/claim": {
        "key": (409, 409, 409, 409, 409, 200, 409, 404, 404, 200),
        "admin": (409, 409, 409, 409, 409, 200, 409, 404, 404, 200),
        "manager": (409, 409, 404, 409, 404, 200, 409, 404, 404, 200),
        "sales": (409, 404, 404, 404, 404, 200, 404, 404, 404, 403),
        "norole": (404, 404, 404, 404, 409, 200, 404, 404, 404, 403),
        **WALLED_OFF,
    },
    # for its holder: one's own, anyone's with `assign`; a record nobody holds: 409 (403 for
    # those who could not release it anyway); follow-ups have no public pool: 404
    "POST /records/{entity}/{record_id}/release": {
        "key": (200, 200, 200, 200, 200, 409, 409, 404, 404),
        "admin": (200, 200, 200, 200, 200, 409, 409, 404, 404),
        "manager": (200, 200, 404, 200, 404, 409, 409, 404, 404),
        "sales": (200, 404, 404, 404, 404, 403, 404, 404, 404),
        "norole": (404, 404, 404, 404, 200, 403, 404, 404, 404),
        **WALLED_OFF,
    },
    # to dave, by hand: `assign` first (403 whatever the target), then the record must be seen
    "POST /records/{entity}/{record_id}/assign": {
        "key": 200,
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # lists and writes of new records ---------------------------------------------------------
    # targets: customers, follow-ups, by a field's value and by `where` (which of the targets
    # each caller sees: LISTED below)
    "GET /records/{entity}": {
        "key": 200,
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        **WALLED_OFF,
    },
    # targets: a customer nobody holds yet, a customer for alice, a follow-up of c_alice's,
    # one of c_bob's. An owner other than oneself needs `assign`; a customer one may not see
    # is no customer (422, as for an id that does not exist)
    "POST /records/{entity}": {
        "key": 201,
        "admin": 201,
        "manager": 201,
        "sales": (201, 201, 201, 422),
        "norole": (201, 403, 422, 422),
        **WALLED_OFF,
    },
    # targets: website_signup (a customer), followup_log of c_alice's, of c_bob's
    "POST /forms/{form}/submit": {
        "key": 201,
        "admin": 201,
        "manager": 201,
        "sales": (201, 201, 422),
        "norole": (201, 422, 422),
        **WALLED_OFF,
    },
    # one result per record: the answer is 200 whatever each record's fate
    "POST /records/{entity}/batch": {
        "key": 200,
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        **WALLED_OFF,
    },
    # the tenant ------------------------------------------------------------------------------
    "POST /sweeps": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # each sees the figures of those they see (own for sales)
    "GET /assignment/stats": {
        "key": 200,
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        **WALLED_OFF,
    },
    # olive again (already off: nothing moves)
    "POST /users/{user}/deactivate": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # erin (already on)
    "POST /users/{user}/activate": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # campaigns and notifications -------------------------------------------------------------
    "GET /campaigns": {
        "key": 200,
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        **WALLED_OFF,
    },
    "GET /campaigns/{campaign}/stats": {
        "key": 200,
        "admin": 200,
        "manager": 200,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # targets: one's own (the key has none: 422, say whose), bob's and erin's (someone
    # else's: `assign`, and a user whose records one sees — erin is outside carol's subtree)
    "GET /notifications": {
        "key": (422, 200, 200),
        "admin": 200,
        "manager": (200, 200, 404),
        "sales": (200, 403, 403),
        "norole": (200, 403, 403),
        **WALLED_OFF,
    },
    # targets: alice's notification, bob's: only one's own (the key: any)
    "POST /notifications/{notification}/read": {
        "key": 200,
        "admin": 404,
        "manager": 404,
        "sales": (200, 404),
        "norole": 404,
        **WALLED_OFF,
    },
    # jobs and config: `configure` -------------------------------------------------------------
    "GET /jobs": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # a fresh dead job each
    "POST /jobs/{job_id}/retry": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    "GET /config/versions": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # the active version's files again: 200, no new version
    "POST /config/versions": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # version 2 (active, or the other of two versions alike)
    "POST /config/versions/{number}/activate": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    # versions 1 and 2 differ in a comment: rolling back swaps two bundles alike
    "POST /config/rollback": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    "GET /config/versions/{a}/diff/{b}": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
    "POST /config/dry-run": {
        "key": 200,
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        **WALLED_OFF,
    },
}

# Which of the targets a caller's list shows (GET /records/{entity}, customers and follow-ups).
LISTED = {
    "key": set(RECORDS),
    "admin": set(RECORDS),
    "manager": {"c_alice", "c_bob", "c_carol", "c_pub", "c_free", "f_alice", "f_bob"},
    "sales": {"c_alice", "c_pub", "f_alice"},
    "norole": {"c_nora", "c_pub"},
}

# Every permission of `can:` → the rows (API routes here, admin UI routes in
# tests/admin_ui/test_permission_table.py) where a caller with it passes and one without it is
# refused with 403.
PERMISSION_ROUTES: dict[str, tuple[str, ...]] = {
    "assign": (
        "POST /records/{entity}/{record_id}/assign",
        "POST /records/{entity}",  # a customer for someone else
        "GET /notifications",  # someone else's
        "POST /records/{entity}/{record_id}/release",  # a record one does not hold
        "POST /records/{entity}/{record_id}/claim",  # for someone else
        "PATCH /records/{entity}/{record_id}",  # its owner
    ),
    "configure": (
        "POST /sweeps",
        "GET /jobs",
        "POST /jobs/{job_id}/retry",
        "GET /config/versions",
        "POST /config/versions",
        "POST /config/versions/{number}/activate",
        "POST /config/rollback",
        "GET /config/versions/{a}/diff/{b}",
        "POST /config/dry-run",
        "GET /admin/config",
        "POST /admin/config/rollback",
        "POST /admin/config/versions/{number}/activate",
        "GET /admin/config/versions/{number}",
        "POST /admin/config/versions/{number}/dry-run",
        "GET /admin/config/diff",
        "GET /admin/config/files",
        "GET /admin/config/files/{name:path}",
        "POST /admin/config/files",
    ),
    "manage_users": ("POST /users/{user}/deactivate", "POST /users/{user}/activate"),
    "export": ("GET /admin/records/{entity}/export.csv",),
    "see_all_stats": ("GET /campaigns/{campaign}/stats", "GET /admin/campaigns"),
    # no route yet
    "import": (),
    "import_history": (),
    "merge": (),
    "bulk": (),
}
NO_ROUTE_YET = {"import", "import_history", "merge", "bulk"}


# the world: one database per module and database ---------------------------------------------
@dataclass
class World:
    svc: Services
    client: TestClient
    headers: dict[str, dict[str, str]]
    records: Records
    ids: dict[str, Any]  # the shared targets, and the notifications n_alice, n_bob
    files: dict[str, str]  # the active version's files

    def dead_job(self) -> int:
        """A job that gave up: the retry route's target."""
        jobs, kind = self.svc.records.jobs, f"probe_{uuid.uuid4().hex[:8]}"
        with self.svc.store.write() as tx:
            jobs.enqueue(tx, TENANT, kind, kind, {}, run_at=START, max_attempts=1)
        (job,) = jobs.claim("tests", [kind], 1, 60)
        assert jobs.fail(job, "tests", "refused", retryable=False) == "dead"
        return job.id


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with database(request.param, tmp_path_factory.mktemp("walls")) as engine:
        svc = Services.open(engine=engine, clock=FixedClock(START))
        yield _build(svc)
        svc.close()


def _build(svc: Services) -> World:
    files = install(svc)
    svc.install_bundle(load_bundle_dir(FIXTURES / "other"), actor="tests", tests=False)
    headers = {
        caller: {"Authorization": f"Bearer {svc.keys.create(TENANT, caller, user)}"}
        for caller, user in USERS.items()
    }
    headers["other"] = {"Authorization": f"Bearer {svc.keys.create('other')}"}
    headers["nokey"] = {}
    headers["badkey"] = {"Authorization": f"Bearer tp_{'0' * 16}_{'x' * 43}"}
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    records = Records(svc)
    world = World(svc, client, headers, records, dict(records.shared()), files)
    with svc.store.write() as tx:
        for user in ("alice", "bob"):
            row = {"tenant_id": TENANT, "user_id": user, "title": "hi", "created_at": START}
            inserted = tx.conn.execute(t.notifications.insert().values(**row))
            world.ids[f"n_{user}"] = inserted.inserted_primary_key[0]
    off = client.post(f"/api/v1/{TENANT}/users/olive/deactivate", headers=headers["key"])
    assert off.status_code == 200, off.text
    return world


# how each route is called -----------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    path: dict[str, Any]  # the route's path parameters but the tenant
    body: Any = None
    params: dict[str, Any] | None = None
    record: tuple[str, str] | None = None  # (entity, id) a write acts on


Build = Callable[[World, str, str], Call]  # (world, caller, target) → the request


@dataclass(frozen=True)
class Spec:
    targets: tuple[str, ...]
    build: Build


def _record_call(body: Callable[[str, str, str], Any] | None = None, fresh: bool = False) -> Build:
    """A record route on the target; `body(caller, entity, target)`. A write acts on a fresh
    copy of the target, unless its caller is refused whoever they are: then on the shared one
    (which the row checks is left as it was)."""

    def build(w: World, caller: str, target: str) -> Call:
        shared = target.partition(":")[0]  # "c_alice:dave": c_alice, handed to dave
        entity, record_id = w.records.record(shared, fresh and caller not in WALLED_OFF)
        sent = body(caller, entity, target) if body is not None else None
        written = (entity, record_id) if fresh else None
        return Call({"entity": entity, "record_id": record_id}, sent, record=written)

    return build


def _plain(
    path: dict[str, Any] | None = None, body: Any = None, params: dict[str, Any] | None = None
) -> Spec:
    return Spec(("-",), lambda w, caller, target: Call(path or {}, body, params))


def _phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def _create(w: World, caller: str, target: str) -> Call:
    if target.startswith("customer"):
        data = {"name": "new", "email": "n@example.cn", "activity": "created"}
        if target == "customer_alice":
            data["owner"] = "alice"
        return Call({"entity": "customer"}, data)
    parent = w.ids["c_" + target.removeprefix("activity_")]
    data = {
        "customer_id": parent,
        "kind": "visit",
        "summary": "s",
        "happened_at": START.isoformat(),
    }
    return Call({"entity": "activity"}, data)


def _submit(w: World, caller: str, target: str) -> Call:
    if target == "website_signup":
        return Call({"form": target}, {"name": "signed up", "phone": _phone()})
    parent = w.ids["c_" + target.removeprefix("followup_log_")]
    data = {"customer_id": parent, "kind": "call", "summary": "s", "happened_at": START.isoformat()}
    return Call({"form": "followup_log"}, data)


def _listing(w: World, caller: str, target: str) -> Call:
    """The shared targets of an entity, by a field's value or by a condition (`where`)."""
    entity, _, how = target.partition("_")
    tag = {"customer": "activity", "activity": "next_step"}[entity]
    found = {"where": f"{tag} == 'table'"} if how == "where" else {tag: "table"}
    return Call({"entity": entity}, params={**found, "limit": 500})


def _claim_body(caller: str, entity: str, target: str) -> dict[str, str]:
    return {"user": "dave"} if caller == "key" or target.endswith(":dave") else {}


def _release_body(caller: str, entity: str, target: str) -> dict[str, str]:
    return {"user": HOLDER[target]} if target in HOLDER else {}


def _patch_body(caller: str, entity: str, target: str) -> dict[str, str]:
    if target.endswith(":dave"):
        return {"owner": "dave"}
    return {"note": "edited"} if entity == "customer" else {"next_step": "edited"}


def _where(caller: str, entity: str, target: str) -> dict[str, str]:
    return {"where": "name != 'x'" if entity == "customer" else "kind == 'call'"}


SPECS: dict[str, Spec] = {
    "GET /records/{entity}/{record_id}": Spec(RECORDS, _record_call()),
    "GET /records/{entity}/{record_id}/history": Spec(RECORDS, _record_call()),
    "GET /records/{entity}/{record_id}/explain": Spec(RECORDS, _record_call()),
    "POST /records/{entity}/{record_id}/check": Spec(RECORDS, _record_call(_where)),
    "PATCH /records/{entity}/{record_id}": Spec(
        (*RECORDS, "c_alice:dave"), _record_call(_patch_body, fresh=True)
    ),
    "DELETE /records/{entity}/{record_id}": Spec(RECORDS, _record_call(fresh=True)),
    "POST /records/{entity}/{record_id}/move": Spec(
        RECORDS, _record_call(lambda c, e, t: {"pool": "targeted"}, fresh=True)
    ),
    "POST /records/{entity}/{record_id}/claim": Spec(
        (*RECORDS, "c_pub:dave"), _record_call(_claim_body, fresh=True)
    ),
    "POST /records/{entity}/{record_id}/release": Spec(
        RECORDS, _record_call(_release_body, fresh=True)
    ),
    "POST /records/{entity}/{record_id}/assign": Spec(
        RECORDS, _record_call(lambda c, e, t: {"user": "dave"}, fresh=True)
    ),
    "GET /records/{entity}": Spec(
        ("customer", "activity", "customer_where", "activity_where"), _listing
    ),
    "POST /records/{entity}": Spec(
        ("customer", "customer_alice", "activity_alice", "activity_bob"), _create
    ),
    "POST /forms/{form}/submit": Spec(
        ("website_signup", "followup_log_alice", "followup_log_bob"), _submit
    ),
    "POST /records/{entity}/batch": _plain(
        {"entity": "customer"}, {"records": [{"name": "batch", "email": "b@example.cn"}]}
    ),
    "POST /sweeps": _plain(),
    "GET /assignment/stats": _plain(),
    "POST /users/{user}/deactivate": _plain({"user": "olive"}),
    "POST /users/{user}/activate": _plain({"user": "erin"}),
    "GET /campaigns": _plain(),
    "GET /campaigns/{campaign}/stats": _plain({"campaign": "wake_sleeping"}),
    "GET /notifications": Spec(
        ("own", "bob", "erin"),
        lambda w, caller, target: Call({}, params={} if target == "own" else {"user": target}),
    ),
    "POST /notifications/{notification}/read": Spec(
        ("n_alice", "n_bob"), lambda w, caller, target: Call({"notification": w.ids[target]})
    ),
    "GET /jobs": _plain(),
    "POST /jobs/{job_id}/retry": Spec(
        ("-",), lambda w, caller, target: Call({"job_id": w.dead_job()})
    ),
    "GET /config/versions": _plain(),
    "POST /config/versions": Spec(("-",), lambda w, caller, target: Call({}, {"files": w.files})),
    "POST /config/versions/{number}/activate": _plain({"number": 2}),
    "POST /config/rollback": _plain(),
    "GET /config/versions/{a}/diff/{b}": _plain({"a": 1, "b": 2}),
    "POST /config/dry-run": _plain(body={"version": 2, "sample": 5}),
}


def _filled(route: str, values: dict[str, Any]) -> str:
    """The route's path with its parameters ({name} and {name:path}) filled in."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), route)


def _version(w: World, record: tuple[str, str] | None) -> int | None:
    return w.svc.records.get(TENANT, *record).version if record is not None else None


def _statuses(expected: int | tuple[int, ...], targets: tuple[str, ...]) -> tuple[int, ...]:
    return expected if isinstance(expected, tuple) else (expected,) * len(targets)


# the rows ---------------------------------------------------------------------------------------
ROWS = [(route, caller) for route in TABLE for caller in CALLERS]


@pytest.mark.parametrize(("route", "caller"), ROWS, ids=[f"{r} {c}" for r, c in ROWS])
def test_row(world: World, route: str, caller: str) -> None:
    method, path = route.split(" ", 1)
    spec = SPECS[route]
    wrong = []
    for target, status in zip(
        spec.targets, _statuses(TABLE[route][caller], spec.targets), strict=True
    ):
        call = spec.build(world, caller, target)
        url = _filled(PREFIX + path, {"tenant": TENANT, **call.path})
        before = _version(world, call.record)
        got = world.client.request(
            method, url, json=call.body, params=call.params, headers=world.headers[caller]
        )
        if got.status_code != status:
            wrong.append(f"{target}: got {got.status_code}, expected {status}: {got.text[:300]}")
        elif status >= 400 and _version(world, call.record) != before:
            wrong.append(f"{target}: refused with {status}, yet the record changed")
        elif status >= 400 and not got.headers["content-type"].startswith("application/problem"):
            wrong.append(f"{target}: {status} is not problem+json")
        elif route == "GET /records/{entity}" and status == 200:
            shown = {r["id"] for r in got.json()["records"]}
            listed = {n for n in RECORDS if world.ids[n] in shown}
            kind = "f" if target.startswith("activity") else "c"
            mine = {n for n in LISTED[caller] if n[0] == kind}
            if listed != mine:
                wrong.append(f"{target}: lists {sorted(listed)}, expected {sorted(mine)}")
    assert not wrong, f"{route} as {caller}:\n" + "\n".join(wrong)


# the table's own checks -------------------------------------------------------------------------
def test_every_route_has_rows() -> None:
    """A route of the OpenAPI document without rows (or rows of a route that went) fails."""
    svc = Services.open(engine=make_engine("sqlite://"), clock=FixedClock(START))
    try:
        paths = create_app(svc).openapi()["paths"]
    finally:
        svc.close()
    routes = {f"{m.upper()} {p.removeprefix(PREFIX)}" for p, ops in paths.items() for m in ops}
    assert all(p.startswith(PREFIX) for p in paths)
    assert sorted(routes - set(TABLE)) == [], "routes without rows"
    assert sorted(set(TABLE) - routes) == [], "rows of routes that are not in the document"
    assert set(SPECS) == set(TABLE)


def test_every_row_names_every_caller() -> None:
    for route, row in TABLE.items():
        assert tuple(row) == CALLERS or set(row) == set(CALLERS), route
        for caller, expected in row.items():
            if isinstance(expected, tuple):
                assert len(expected) == len(SPECS[route].targets), (route, caller)


def test_every_permission_is_exercised() -> None:
    """Each permission of `can:` has routes where some caller passes (2xx) and another is
    refused (403); the four without a route yet say so with an empty tuple."""
    from tests.admin_ui import test_permission_table as admin

    assert set(PERMISSION_ROUTES) == set(PERMISSIONS)
    for permission, routes in PERMISSION_ROUTES.items():
        assert bool(routes) == (permission not in NO_ROUTE_YET), permission
        for route in routes:
            row = admin.TABLE[route] if route.split(" ")[1].startswith("/admin") else TABLE[route]
            found = {s for v in row.values() for s in (v if isinstance(v, tuple) else (v,))}
            passed = any(isinstance(s, int) and 200 <= s < 400 for s in found)
            assert 403 in found and passed, (permission, route)
