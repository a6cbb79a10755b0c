"""Every admin UI page and form action (and the hosted form pages under /f/) × every kind of
caller (issue 16 §2), as a table written out by hand.

The tenant is tests/fixtures/walls (tests/walls.py), as in tests/api/test_permission_table.py.
A record the signed-in user may not see is a 404, one they see but may not change a 403, a
page or action needing a permission of `can:` they lack a 403; whoever has no session (never
signed in, a user switched off in the bundle or at run time, an API key) is sent to sign in.

The board's actions (move, claim) answer by going back to the page with what happened
(post/redirect/get), so for them the table's statuses mean: 303, done (the record changed); 404,
refused as if the record did not exist (a 404 page, or the same words as for an id that does
not exist); 403, refused naming the roles that could (a 403 page, or those words); NO, refused
for a business reason (claiming a record outside the public pool). A refused action leaves the
record as it was.

A route of the admin UI without rows fails `test_every_route_has_rows`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from admin_ui.hosted import router as hosted_router
from admin_ui.pages import routers
from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.service import passwords as pw
from tests.helpers import ROOT, START
from tests.walls import RECORDS, TENANT, Records, database, install

PASSWORD = "correct-horse-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Who calls. admin: frank (manager and admin); manager: carol (her subtree: alice, bob, dave,
# olive); sales: alice (her own); norole: nora (no role); inactive: gone, whose sign-in was
# refused (`active: false` in the bundle); off: olive, signed in, then switched off through the
# API; other: frank of tenant chaotu-demo (an admin there); key: the tenant's API key sent as a
# bearer token (no session); anon: nobody signed in.
CALLERS = ("admin", "manager", "sales", "norole", "inactive", "off", "other", "key", "anon")
SIGNED_IN = {"admin": "frank", "manager": "carol", "sales": "alice", "norole": "nora"}

# The targets of the record pages and actions: RECORDS (tests/walls.py).

SIGN_IN = "sign in"  # a redirect to the sign-in page (and nothing done)
NO = "no"  # back to the page with the reason, nothing changed (a business rule said no)
_FLASH = re.compile(r'<p class="flash (\w+)"[^>]*>(.*?)</p>', re.S)
Expected = int | str | tuple[int | str, ...]

REFUSED_ALL = ("inactive", "off", "other", "key", "anon")  # whatever the record
SIGNED_OUT: dict[str, Expected] = {
    "inactive": SIGN_IN,
    "off": SIGN_IN,
    "key": SIGN_IN,
    "anon": SIGN_IN,
}


def everyone(expected: Expected) -> dict[str, Expected]:
    """Public pages: the same answer whoever asks."""
    return dict.fromkeys(CALLERS, expected)


# route → caller → status (or SIGN_IN, NO): one for every target, or one per target in the
# order of the route's targets (SPECS below; RECORDS for the record pages and actions).
TABLE: dict[str, dict[str, Expected]] = {
    # signing in and out -----------------------------------------------------------------------
    "GET /admin": {
        "admin": 303,
        "manager": 303,
        "sales": 303,
        "norole": 303,
        "other": 303,
        **SIGNED_OUT,
    },
    "GET /admin/": {
        "admin": 303,
        "manager": 303,
        "sales": 303,
        "norole": 303,
        "other": 303,
        **SIGNED_OUT,
    },
    "GET /admin/login": everyone(200),
    # as oneself (a fresh client): users off in the bundle or at run time are refused; the key
    # and nobody try a user that does not exist
    "POST /admin/login": {
        "admin": 303,
        "manager": 303,
        "sales": 303,
        "norole": 303,
        "inactive": 401,
        "off": 401,
        "other": 303,
        "key": 401,
        "anon": 401,
    },
    # a fresh session each
    "POST /admin/logout": {
        "admin": 303,
        "manager": 303,
        "sales": 303,
        "norole": 303,
        "other": 303,
        **SIGNED_OUT,
    },
    "POST /admin/language": everyone(303),
    # pages everyone signed in sees (what they show follows the walls) ------------------------
    "GET /admin/dashboard": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    "GET /admin/assignment": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    # counts over every record of the tenant: `see_all_stats`, as the API's campaign stats
    "GET /admin/campaigns": {
        "admin": 200,
        "manager": 200,
        "sales": 403,
        "norole": 403,
        "other": 200,
        **SIGNED_OUT,
    },
    "GET /admin/forms": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    "GET /admin/forms/{form}/qr.png": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    # the board; no card of a record the viewer may not see (NOT_ON_BOARD below)
    "GET /admin/pools": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    # records ---------------------------------------------------------------------------------
    "GET /admin/records": {
        "admin": 303,
        "manager": 303,
        "sales": 303,
        "norole": 303,
        "other": 303,
        **SIGNED_OUT,
    },
    # targets: customer, activity (which of the targets each lists: LISTED below)
    "GET /admin/records/{entity}": {
        "admin": 200,
        "manager": 200,
        "sales": 200,
        "norole": 200,
        "other": 200,
        **SIGNED_OUT,
    },
    # `export`; what each file holds: LISTED (the other tenant's: none of ours)
    "GET /admin/records/{entity}/export.csv": {
        "admin": 200,
        "manager": 200,
        "sales": 403,
        "norole": 403,
        "other": 200,
        **SIGNED_OUT,
    },
    # targets: c_alice, c_bob, c_erin, c_carol, c_nora, c_pub, c_free, f_alice, f_bob
    "GET /admin/records/{entity}/{record_id}": {
        "admin": 200,
        "manager": (200, 200, 404, 200, 404, 200, 200, 200, 200),
        "sales": (200, 404, 404, 404, 404, 200, 404, 200, 404),
        "norole": (404, 404, 404, 404, 200, 200, 404, 404, 404),
        "other": 404,
        **SIGNED_OUT,
    },
    # into a manual pool (fresh records): an edit; the public pool is left only by a claim
    # (or with an `all` scope); follow-ups have no pools (404)
    "POST /admin/pools/move": {
        "admin": (303, 303, 303, 303, 303, 303, 303, 404, 404),
        "manager": (303, 303, 404, 303, 404, 403, 303, 404, 404),
        "sales": (303, 404, 404, 404, 404, 403, 404, 404, 404),
        "norole": (404, 404, 404, 404, 303, 403, 404, 404, 404),
        "other": 404,
        **SIGNED_OUT,
    },
    # for oneself (fresh records): from the public pool only; follow-ups have none (404)
    "POST /admin/pools/claim": {
        "admin": (NO, NO, NO, NO, NO, 303, NO, 404, 404),
        "manager": (NO, NO, 404, NO, 404, 303, NO, 404, 404),
        "sales": (NO, 404, 404, 404, 404, 303, 404, 404, 404),
        "norole": (404, 404, 404, 404, NO, 303, 404, 404, 404),
        "other": 404,
        **SIGNED_OUT,
    },
    # config: `configure`. The other tenant's frank is an admin of chaotu-demo, which has one
    # version: its version 2 is not found, nor an earlier one to roll back to -------------------
    "GET /admin/config": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 200,
        **SIGNED_OUT,
    },
    # versions 1 and 2 differ in a comment: rolling back swaps two bundles alike
    "POST /admin/config/rollback": {
        "admin": 303,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    "POST /admin/config/versions/{number}/activate": {
        "admin": 303,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    "GET /admin/config/versions/{number}": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    "POST /admin/config/versions/{number}/dry-run": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    "GET /admin/config/diff": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    "GET /admin/config/files": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    # a redirect to the editor of the file (its own tenant's, for the other tenant's admin)
    "GET /admin/config/files/{name:path}": {
        "admin": 303,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 303,
        **SIGNED_OUT,
    },
    # validate an edit of version 2's tenant.yaml
    "POST /admin/config/files": {
        "admin": 200,
        "manager": 403,
        "sales": 403,
        "norole": 403,
        "other": 404,
        **SIGNED_OUT,
    },
    # the hosted form pages: public, the same for everyone, signed in or not ---------------------
    # targets: qr_signup (public), website_signup (not public: no page)
    "GET /f/_assets/{name}": everyone(200),
    "HEAD /f/_assets/{name}": everyone(200),
    "GET /f/{tenant}/{form}": everyone((200, 404)),
    "HEAD /f/{tenant}/{form}": everyone((200, 404)),
    "POST /f/{tenant}/{form}": everyone((201, 404)),
    "OPTIONS /f/{tenant}/{form}": everyone((204, 404)),
    "POST /f/{tenant}/{form}/state": everyone((200, 404)),
    "OPTIONS /f/{tenant}/{form}/state": everyone((204, 404)),
    "GET /f/{tenant}/{form}/thanks": everyone((200, 404)),
    "HEAD /f/{tenant}/{form}/thanks": everyone((200, 404)),
    "GET /f/{tenant}/{form}/embed.js": everyone((200, 404)),
    "HEAD /f/{tenant}/{form}/embed.js": everyone((200, 404)),
    "GET /f/{rest:path}": everyone(404),
    "HEAD /f/{rest:path}": everyone(404),
    "POST /f/{rest:path}": everyone(404),
    "OPTIONS /f/{rest:path}": everyone(404),
}

# Which of the targets a list page (and a CSV export) shows, customers and follow-ups.
LISTED = {
    "admin": set(RECORDS),
    "manager": {"c_alice", "c_bob", "c_carol", "c_pub", "c_free", "f_alice", "f_bob"},
    "sales": {"c_alice", "c_pub", "f_alice"},
    "norole": {"c_nora", "c_pub"},
    "other": set(),
}
# Cards the board must not show (of the shared targets; fresh records crowd the columns, so
# the board is only checked for what it must not show).
NOT_ON_BOARD = {
    "admin": set(),
    "manager": {"c_erin", "c_nora"},
    "sales": {"c_bob", "c_erin", "c_carol", "c_nora", "c_free"},
    "norole": {"c_alice", "c_bob", "c_erin", "c_carol", "c_free"},
    "other": {"c_alice", "c_bob", "c_erin", "c_carol", "c_nora", "c_pub", "c_free"},
}


# the world: one database per module and database ---------------------------------------------
@dataclass
class Client:
    http: TestClient
    csrf: str  # the session's CSRF token, sent with every POST


@dataclass
class World:
    svc: Services
    app: FastAPI
    clients: dict[str, Client]
    records: Records
    ids: dict[str, str]
    files: dict[str, str]  # version 2's

    def client(self, caller: str, fresh: bool) -> Client:
        """The caller's standing client, or for a row that ends or starts a session, a new
        one like it (signed in again; who cannot sign in any more keeps the standing one)."""
        if fresh and caller in SIGNED_IN:
            return _signed_in(self.app, TENANT, SIGNED_IN[caller])
        if fresh and caller == "other":
            return _signed_in(self.app, "chaotu-demo", "frank")
        if fresh and caller in ("key", "anon"):
            return _visitor(self.app, self.clients[caller].http.headers)
        return self.clients[caller]


def _visitor(app: FastAPI, headers: Any = None) -> Client:
    # in English: a refusal's words are read (_refusal)
    sent = {"Accept-Language": "en", **dict(headers or {})}
    http = TestClient(app, headers=sent, follow_redirects=False)
    return Client(http, _csrf(http.get("/admin/login").text))


def _signed_in(app: FastAPI, tenant: str, user: str) -> Client:
    client = _visitor(app)
    answer = _sign_in(client, tenant, user)
    assert answer.status_code == 303, answer.text
    return Client(client.http, _csrf(client.http.get("/admin/login").text))  # a new session's


def _sign_in(client: Client, tenant: str, user: str) -> Response:
    form = {"tenant": tenant, "user": user, "password": PASSWORD, "csrf_token": client.csrf}
    return client.http.post("/admin/login", data=form)


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    # cheap hashes: the real ones cost ~0.5 s a sign-in, on purpose
    with pytest.MonkeyPatch.context() as patch:
        hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        patch.setattr(pw, "_HASHER", hasher)
        patch.setattr(pw, "DUMMY_HASH", hasher.hash("dummy"))
        with database(request.param, tmp_path_factory.mktemp("walls")) as engine:
            svc = Services.open(engine=engine, clock=FixedClock(START))
            yield _build(svc)
            svc.close()


def _build(svc: Services) -> World:
    files = install(svc)
    # the other tenant: the demo itself, whose frank is an admin too
    demo = read_bundle_dir(ROOT / "configs" / "chaotu-demo")
    svc.install_bundle(load_bundle(demo), actor="tests", tests=False)
    for user in ("frank", "carol", "alice", "nora", "olive", "gone"):
        svc.passwords.set(TENANT, user, PASSWORD)
    svc.passwords.set("chaotu-demo", "frank", PASSWORD)
    app = create_app(svc)
    key = svc.keys.create(TENANT)
    clients = {caller: _signed_in(app, TENANT, user) for caller, user in SIGNED_IN.items()}
    clients["other"] = _signed_in(app, "chaotu-demo", "frank")
    clients["off"] = _signed_in(app, TENANT, "olive")
    clients["inactive"] = _visitor(app)
    refused = _sign_in(clients["inactive"], TENANT, "gone")
    assert refused.status_code == 401, refused.text
    clients["key"] = _visitor(app, {"Authorization": f"Bearer {key}"})
    clients["anon"] = _visitor(app)
    api = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    assert api.post(f"/api/v1/{TENANT}/users/olive/deactivate").status_code == 200
    records = Records(svc)
    return World(svc, app, clients, records, records.shared(), files)


# how each route is called -----------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    path: dict[str, Any]  # the route's path parameters
    form: dict[str, str] | None = None  # a POST's form fields (the CSRF token added)
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    record: tuple[str, str] | None = None  # (entity, id) the call may change


Build = Callable[[World, str, str], Call]  # (world, caller, target) → the request


@dataclass(frozen=True)
class Spec:
    targets: tuple[str, ...] = ("-",)
    build: Build = lambda w, caller, target: Call({})
    fresh: bool = False  # a fresh client (rows that sign in or out)


def _plain(
    path: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> Spec:
    return Spec(build=lambda w, caller, target: Call(path or {}, form, params=params))


def _record_page(w: World, caller: str, target: str) -> Call:
    entity, record_id = w.records.record(target, False)
    return Call({"entity": entity, "record_id": record_id})


def _pool_action(form: dict[str, str]) -> Build:
    """A board action on a fresh copy of the target; callers refused whoever they are act on
    the shared one (which the row checks is left as it was)."""

    def build(w: World, caller: str, target: str) -> Call:
        entity, record_id = w.records.record(target, caller not in REFUSED_ALL)
        sent = {"entity": entity, "record_id": record_id, **form}
        return Call({}, sent, record=(entity, record_id))

    return build


def _listing(w: World, caller: str, target: str) -> Call:
    tag = {"customer": "activity", "activity": "next_step"}[target]
    return Call({"entity": target}, params={"where": f"{tag} == 'table'"})


LOGINS = {  # who each caller signs in as on the sign-in row
    **{caller: (TENANT, user) for caller, user in SIGNED_IN.items()},
    "inactive": (TENANT, "gone"),
    "off": (TENANT, "olive"),
    "other": ("chaotu-demo", "frank"),
    "key": (TENANT, "key"),
    "anon": (TENANT, "nobody"),
}
FORMS = ("qr_signup", "website_signup")  # public, not public
ORIGIN = {"Origin": "https://www.chaotu.example", "Access-Control-Request-Method": "POST"}


def _hosted(**extra: Any) -> Spec:
    """A hosted form route on each form; `extra`: the Call's other fields (callables: made
    afresh for each call)."""

    def build(w: World, caller: str, target: str) -> Call:
        made = {k: v() if callable(v) else v for k, v in extra.items()}
        return Call({"tenant": TENANT, "form": target}, **made)

    return Spec(FORMS, build)


def _submission() -> dict[str, str]:
    return {"name": "visitor", "phone": f"139{uuid.uuid4().int % 10**8:08d}"}


def _elsewhere() -> Spec:
    return _plain({"rest": f"{TENANT}/qr_signup/nothing/here"})


SPECS: dict[str, Spec] = {
    "GET /admin": _plain(),
    "GET /admin/": _plain(),
    "GET /admin/login": _plain(),
    "POST /admin/login": Spec(
        build=lambda w, caller, target: Call(
            {}, {"tenant": LOGINS[caller][0], "user": LOGINS[caller][1], "password": PASSWORD}
        ),
        fresh=True,
    ),
    "POST /admin/logout": Spec(build=lambda w, caller, target: Call({}, {}), fresh=True),
    "POST /admin/language": _plain(form={"locale": "en"}),
    "GET /admin/dashboard": _plain(),
    "GET /admin/assignment": _plain(),
    "GET /admin/campaigns": _plain(),
    "GET /admin/forms": _plain(),
    "GET /admin/forms/{form}/qr.png": _plain({"form": "qr_signup"}),
    "GET /admin/pools": _plain(),
    "GET /admin/records": _plain(),
    "GET /admin/records/{entity}": Spec(("customer", "activity"), _listing),
    "GET /admin/records/{entity}/export.csv": Spec(("customer", "activity"), _listing),
    "GET /admin/records/{entity}/{record_id}": Spec(RECORDS, _record_page),
    "POST /admin/pools/move": Spec(RECORDS, _pool_action({"pool": "targeted"})),
    "POST /admin/pools/claim": Spec(RECORDS, _pool_action({})),
    "GET /admin/config": _plain(),
    "POST /admin/config/rollback": _plain(form={}),
    "POST /admin/config/versions/{number}/activate": _plain({"number": 2}, {}),
    "GET /admin/config/versions/{number}": _plain({"number": 2}),
    "POST /admin/config/versions/{number}/dry-run": _plain({"number": 2}, {"sample": "5"}),
    "GET /admin/config/diff": _plain(params={"a": 1, "b": 2}),
    "GET /admin/config/files": _plain(params={"file": "tenant.yaml", "version": 2}),
    "GET /admin/config/files/{name:path}": _plain({"name": "tenant.yaml"}),
    "POST /admin/config/files": Spec(
        build=lambda w, caller, target: Call(
            {}, {"file": "tenant.yaml", "version": "2", "text": w.files["tenant.yaml"]}
        )
    ),
    "GET /f/_assets/{name}": _plain({"name": "hosted.css"}),
    "HEAD /f/_assets/{name}": _plain({"name": "hosted.css"}),
    "GET /f/{tenant}/{form}": _hosted(),
    "HEAD /f/{tenant}/{form}": _hosted(),
    "POST /f/{tenant}/{form}": _hosted(json=_submission),
    "OPTIONS /f/{tenant}/{form}": _hosted(headers=ORIGIN),
    "POST /f/{tenant}/{form}/state": _hosted(json={"industry": "manufacturing"}),
    "OPTIONS /f/{tenant}/{form}/state": _hosted(headers=ORIGIN),
    "GET /f/{tenant}/{form}/thanks": _hosted(),
    "HEAD /f/{tenant}/{form}/thanks": _hosted(),
    "GET /f/{tenant}/{form}/embed.js": _hosted(),
    "HEAD /f/{tenant}/{form}/embed.js": _hosted(),
    "GET /f/{rest:path}": _elsewhere(),
    "HEAD /f/{rest:path}": _elsewhere(),
    "POST /f/{rest:path}": _elsewhere(),
    "OPTIONS /f/{rest:path}": _elsewhere(),
}


def _filled(route: str, values: dict[str, Any]) -> str:
    """The route's path with its parameters ({name} and {name:path}) filled in."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), route)


def _statuses(expected: Expected, targets: tuple[str, ...]) -> tuple[int | str, ...]:
    return expected if isinstance(expected, tuple) else (expected,) * len(targets)


def _version(svc: Services, record: tuple[str, str] | None) -> int | None:
    if record is None:
        return None
    return svc.records.get(TENANT, *record).version


# the rows ---------------------------------------------------------------------------------------
ROWS = [(route, caller) for route in TABLE for caller in CALLERS]


@pytest.mark.parametrize(("route", "caller"), ROWS, ids=[f"{r} {c}" for r, c in ROWS])
def test_row(world: World, route: str, caller: str) -> None:
    method, path = route.split(" ", 1)
    spec = SPECS[route]
    wrong = []
    for target, expected in zip(
        spec.targets, _statuses(TABLE[route][caller], spec.targets), strict=True
    ):
        client = world.client(caller, spec.fresh)
        call = spec.build(world, caller, target)
        form = {**call.form, "csrf_token": client.csrf} if call.form is not None else None
        before = _version(world.svc, call.record)
        got = client.http.request(
            method,
            _filled(path, call.path),
            data=form,
            json=call.json,
            params=call.params,
            headers=call.headers,
        )
        found = _outcome(got)
        changed = call.record is not None and _version(world.svc, call.record) != before
        if call.record is not None and found == 303 and not changed:
            found = _refusal(client, path, form or {}, got)
        if found != expected:
            wrong.append(f"{target}: got {found}, expected {expected}: {got.text[:300]}")
            continue
        if changed and expected != 303:
            wrong.append(f"{target}: {expected}, yet the record changed")
        if got.status_code == 200 and route in LISTS:
            kind = {"customer": "c", "activity": "f"}[target]
            shown = {n for n in RECORDS if n[0] == kind and world.ids[n] in got.text}
            mine = {n for n in LISTED[caller] if n[0] == kind}
            if shown != mine:
                wrong.append(f"{target}: shows {sorted(shown)}, expected {sorted(mine)}")
        if got.status_code == 200 and route == "GET /admin/pools":
            leaked = {n for n in NOT_ON_BOARD[caller] if world.ids[n] in got.text}
            if leaked:
                wrong.append(f"the board shows {sorted(leaked)}")
    assert not wrong, f"{route} as {caller}:\n" + "\n".join(wrong)


LISTS = ("GET /admin/records/{entity}", "GET /admin/records/{entity}/export.csv")


def _refusal(client: Client, path: str, form: dict[str, str], got: Response) -> int | str:
    """What an action that went back to the page said: 403 when its words name the roles that
    could; 404 when they are those for a record that does not exist; else NO."""
    said = _flash(client.http.get(got.headers["location"]).text)
    if said is None or said[0] != "error":
        return f"303 saying {said}, the record unchanged"
    if "roles that can:" in said[1]:
        return 403
    made_up = client.http.post(path, data={**form, "record_id": str(uuid.uuid4())})
    nothing = _flash(client.http.get(made_up.headers["location"]).text)
    return 404 if said == nothing else NO


def _flash(html: str) -> tuple[str, str] | None:
    found = _FLASH.search(html)
    return (found.group(1), found.group(2)) if found else None


def _outcome(got: Response) -> int | str:
    """The status, or SIGN_IN for a redirect to the sign-in page."""
    if got.status_code != 303:
        return got.status_code
    if got.headers["location"].startswith("/admin/login?next="):
        return SIGN_IN
    return 303


# the table's own checks -------------------------------------------------------------------------
def test_every_route_has_rows() -> None:
    """An admin page, form action or hosted form route without rows (or rows of a route that
    went) fails."""
    routes = {
        f"{method} {route.path}"
        for router in [*routers(), hosted_router]
        for route in router.routes
        for method in getattr(route, "methods", ())
    }
    assert sorted(routes - set(TABLE)) == [], "routes without rows"
    assert sorted(set(TABLE) - routes) == [], "rows of routes that are not served"
    assert set(SPECS) == set(TABLE)


def test_every_row_names_every_caller() -> None:
    for route, row in TABLE.items():
        assert set(row) == set(CALLERS), route
        for caller, expected in row.items():
            if isinstance(expected, tuple):
                assert len(expected) == len(SPECS[route].targets), (route, caller)
