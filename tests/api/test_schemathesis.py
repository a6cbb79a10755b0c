"""Schemathesis, a property-based OpenAPI fuzzer, over the whole API: in process (ASGI), on
SQLite, with a demo bundle installed and an integration key, derandomised (a fixed seed).

Every operation runs schemathesis' phases (the document's examples, its coverage cases:
boundaries, missing and wrong-typed values; then fuzzing, valid and invalid data). Generated
path parameters and bodies name nothing that exists, so the fuzzing phase also draws, through a
`flatmap_case` hook, requests aimed at the seeded data: real record ids, forms, users,
versions, a notification, a dead job, with valid bodies or fuzzed ones. The test fails on any 5xx
and on an operation that never answered a 2xx (the fuzzing must get past the door)."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.model import RESERVED_FIELDS, Bundle, EntityDef, FieldDef
from engine.service import Services
from engine.storage import tables as t
from engine.storage.db import make_engine
from tests.helpers import ROOT, START

TENANT = "chaotu-demo"
BUNDLE = ROOT / "configs" / TENANT
SEED = 20261124
# Fuzzing examples per operation: about 1,700 requests, 80 s on a CI machine. A deeper search
# by hand: TIDEPOOL_FUZZ_EXAMPLES=200 (6,500 requests, about 9 minutes).
MAX_EXAMPLES = int(os.environ.get("TIDEPOOL_FUZZ_EXAMPLES", "40"))
API = "/api/v1/{tenant}"


def bundle_files(note: str = "") -> dict[str, str]:
    """The bundle's files as the API takes them (a note makes another version); without
    tests.yaml, whose cases would run (for a minute) at every activation the fuzzer asks for."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(BUNDLE.glob("*.yaml"))}
    files.pop("tests.yaml", None)
    files["tenant.yaml"] += f"\n# {note}\n" if note else ""
    return files


def _document() -> dict[str, Any]:
    """The app's OpenAPI document (built over a throwaway database: only the routes matter)."""
    with tempfile.TemporaryDirectory() as folder:
        svc = Services.open(engine=make_engine(f"sqlite:///{folder}/doc.db"))
        try:
            return create_app(svc).openapi()
        finally:
            svc.close()


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "deterministic": True,
            "database": "none",
            "max-examples": MAX_EXAMPLES,
            "mode": "all",
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


# --- valid data for any bundle -----------------------------------------------------------------

FIRST_FOUND = settings(phases=[Phase.generate], database=None, derandomize=True)


class Values:
    """Valid values for an entity's fields, from their definitions (unique ones differ)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.serial = 0
        self.used: set[str] = set()

    def of(self, f: FieldDef, ids: dict[str, list[str]]) -> Any:
        self.serial += 1
        n = self.serial
        if f.pattern and f.type in ("string", "text"):
            found: str = find(
                st.from_regex(f.pattern, fullmatch=True).filter(lambda s: s.strip() == s),
                lambda s: s not in self.used,
                settings=FIRST_FOUND,
            )
            self.used.add(found)
            return found
        simple: dict[str, Any] = {
            "string": f"fuzz {n}",
            "text": f"fuzzed text {n}",
            "integer": int(f.min) if f.min is not None else 1,
            "decimal": str(f.min if f.min is not None else 1),
            "money": str(f.min if f.min is not None else 1),
            "boolean": True,
            "date": "2026-01-05",
            "datetime": "2026-01-05T10:00:00+08:00",
            "phone": f"139{n:08d}",
            "email": f"fuzz{n}@example.cn",
            "url": f"https://example.cn/{n}",
        }
        if f.type in simple:
            return simple[f.type]
        if f.type == "enum":
            return f.option_values[0]
        if f.type == "multi_enum":
            return list(f.option_values[:1])
        if f.type == "tags":
            return ["fuzz"]
        if f.type == "reference":
            return ids[str(f.ref_entity)][0]
        raise AssertionError(f"no sample value for a {f.type} field")

    def record(self, entity: EntityDef, ids: dict[str, list[str]]) -> dict[str, Any]:
        """The required fields and the unique ones (so records differ), nothing computed."""
        computed = self.bundle.computed(entity.name)
        return {
            name: self.of(f, ids)
            for name, f in entity.fields.items()
            if (f.required or f.unique) and name not in computed and name not in RESERVED_FIELDS
        }

    def form(self, name: str, ids: dict[str, list[str]]) -> dict[str, Any]:
        form = self.bundle.forms[name]
        entity = self.bundle.entities[form.entity]
        required = {f.name for f in form.fields if f.required}
        return {
            n: self.of(entity.fields[n], ids)
            for n in form.field_names
            if n in required or entity.fields[n].required or entity.fields[n].unique
        }


def _by_references(bundle: Bundle) -> list[str]:
    """Entities ordered so that every reference points to one made before."""
    ordered: list[str] = []
    while len(ordered) < len(bundle.entities):
        for name, entity in bundle.entities.items():
            refs = {f.ref_entity for f in entity.fields.values() if f.ref_entity} - {name}
            if name not in ordered and refs <= set(ordered):
                ordered.append(name)
    return ordered


# --- the app under test, its data, what it answered --------------------------------------------

Target = tuple[dict[str, Any], dict[str, Any], Any]  # path parameters, query, body (None: any)


@dataclass
class Fuzzed:
    svc: Services
    auth: dict[str, str]
    app: Any = None
    targets: dict[str, list[Target]] = field(default_factory=dict)
    answers: dict[str, Counter[int]] = field(default_factory=dict)

    def aim(self, label: str, params: dict[str, Any], body: Any = None, **query: Any) -> None:
        self.targets.setdefault(label, []).append(({"tenant": TENANT, **params}, query, body))


def _seed(fuzzed: Fuzzed) -> None:
    """Records of every entity (some in the public pool, some to delete), a second stored
    version, notifications and dead jobs; and for each operation, requests that reach them."""
    svc = fuzzed.svc
    bundle = svc.configs.active(TENANT).bundle
    values, ids = Values(bundle), {}
    users = [u for u, d in bundle.tenant.users.items() if d.active]
    # Each operation that changes where a record is gets records of its own: a move out of
    # the holding pools would make every later release or claim of that record a 409.
    public: list[tuple[str, str]] = []  # in the public pool: to claim
    held: list[tuple[str, str, str]] = []  # entity, id, owner: to release
    doomed: dict[str, str] = {}  # to delete
    for name in _by_references(bundle):
        pool_set = bundle.pool_set_of(name)
        made = [
            svc.records.create(
                TENANT,
                name,
                {
                    **values.record(bundle.entities[name], ids),
                    **({"owner": users[n % len(users)]} if pool_set else {}),
                },
            ).result
            for n in range(10)
        ]
        doomed[name] = made.pop()["id"]
        if pool_set is not None and pool_set.public is not None:
            for record in made[:2]:
                svc.owners.release(TENANT, name, record["id"], record["owner"])
                public.append((name, record["id"]))
            held += [(name, r["id"], r["owner"]) for r in made[2:5]]
            made = made[5:]
        ids[name] = [r["id"] for r in made]
    numbers = [1, svc.push(TENANT, bundle_files("v2"))["number"]]
    now = svc.clock.now()
    with svc.store.write() as tx:
        for user in users:
            tx.conn.execute(
                t.notifications.insert().values(
                    tenant_id=TENANT, user_id=user, title="fuzz", created_at=now
                )
            )
        for n in range(8):
            tx.conn.execute(
                t.jobs.insert().values(
                    tenant_id=TENANT,
                    kind="webhook",
                    key=f"fuzz-{n}",
                    payload={"url": "http://127.0.0.1:9/", "body": {}},
                    status="dead",
                    attempts=3,
                    max_attempts=3,
                    run_at=now - timedelta(hours=1),
                    created_at=now - timedelta(hours=1),
                    last_error="refused",
                )
            )
        notifications = [r.id for r in tx.conn.execute(t.notifications.select())]
        jobs = [r.id for r in tx.conn.execute(t.jobs.select().where(t.jobs.c.status == "dead"))]

    aim = fuzzed.aim
    for name, entity in bundle.entities.items():
        for _ in range(4):
            aim(f"POST {API}/records/{{entity}}", {"entity": name}, values.record(entity, ids))
        aim(f"GET {API}/records/{{entity}}", {"entity": name})
        batch = {"records": [values.record(entity, ids) for _ in range(2)]}
        aim(f"POST {API}/records/{{entity}}/batch", {"entity": name}, batch)
        first = next(n for n in entity.fields if n not in bundle.computed(name))
        pool_set = bundle.pool_set_of(name)
        manual = [p for p, d in pool_set.pools.items() if d.manual] if pool_set else []
        for rid in ids[name]:
            one = {"entity": name, "record_id": rid}
            for verb, suffix in (("GET", ""), ("GET", "/history"), ("GET", "/explain")):
                aim(f"{verb} {API}/records/{{entity}}/{{record_id}}{suffix}", one)
            patch = {
                k: v for k, v in values.record(entity, ids).items() if not entity.fields[k].unique
            }
            aim(f"PATCH {API}/records/{{entity}}/{{record_id}}", one, patch)
            aim(
                f"POST {API}/records/{{entity}}/{{record_id}}/check",
                one,
                {"where": f"{first} is not null"},
            )
            for pool in manual:
                aim(f"POST {API}/records/{{entity}}/{{record_id}}/move", one, {"pool": pool})
            if pool_set is not None:
                for user in users:
                    aim(f"POST {API}/records/{{entity}}/{{record_id}}/assign", one, {"user": user})
        aim(
            f"DELETE {API}/records/{{entity}}/{{record_id}}",
            {"entity": name, "record_id": doomed[name]},
        )
    for entity, rid in public:
        for user in users:
            aim(
                f"POST {API}/records/{{entity}}/{{record_id}}/claim",
                {"entity": entity, "record_id": rid},
                {"user": user},
            )
    for entity, rid, owner in held:
        aim(
            f"POST {API}/records/{{entity}}/{{record_id}}/release",
            {"entity": entity, "record_id": rid},
            {"user": owner},
        )
    for form in bundle.forms:
        for _ in range(3):
            aim(f"POST {API}/forms/{{form}}/submit", {"form": form}, values.form(form, ids))
    for user in users:
        aim(f"POST {API}/users/{{user}}/deactivate", {"user": user})
        aim(f"POST {API}/users/{{user}}/activate", {"user": user})
        aim(f"GET {API}/notifications", {}, user=user)
    for campaign in bundle.campaigns:
        aim(f"GET {API}/campaigns/{{campaign}}/stats", {"campaign": campaign.id})
    for notification in notifications:
        aim(f"POST {API}/notifications/{{notification}}/read", {"notification": notification})
    for job in jobs:
        aim(f"POST {API}/jobs/{{job_id}}/retry", {"job_id": job})
    for number in numbers:
        aim(f"POST {API}/config/versions/{{number}}/activate", {"number": number})
        for other in numbers:
            aim(f"GET {API}/config/versions/{{a}}/diff/{{b}}", {"a": number, "b": other})
    aim(f"POST {API}/config/versions", {}, {"files": bundle_files("v3")})
    aim(f"POST {API}/config/dry-run", {}, {"files": bundle_files("dry run"), "sample": 5})
    for label in ("POST /sweeps", "POST /config/rollback", "GET /assignment/stats"):
        aim(label.replace(" ", f" {API}"), {})
    for label in ("GET /campaigns", "GET /jobs", "GET /config/versions"):
        aim(label.replace(" ", f" {API}"), {})


FUZZED: list[Fuzzed] = []  # the module's app, for the hook


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    path = tmp_path_factory.mktemp("fuzz") / "tidepool.db"
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=FixedClock(START))
    svc.push(TENANT, bundle_files())
    svc.activate(TENANT, 1, "tests", tests=False)
    made = Fuzzed(svc, {"Authorization": f"Bearer {svc.keys.create(TENANT)}"})
    _seed(made)
    made.app = create_app(svc)
    FUZZED.append(made)
    yield made
    FUZZED.remove(made)
    sent = sum(sum(c.values()) for c in made.answers.values())
    errors = sum(n for c in made.answers.values() for s, n in c.items() if s >= 500)
    print(f"\nschemathesis: {sent} requests, {errors} answered 5xx, {len(made.answers)} operations")
    svc.close()


@schema.hook
def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
    """Aimed at the key's tenant with the rest as generated, or at the seeded data: its path
    and query with a valid body or the generated one. (The other phases' requests go as
    generated: wrong tenants, missing and wrong-typed values.)"""
    label = f"{case.operation.method.upper()} {case.operation.path}"
    targets = FUZZED[0].targets.get(label, []) if FUZZED else []
    if not targets:
        return st.just(case)

    def aimed(target: Target, how: int) -> Any:
        params, query, body = target
        if how == 0:  # a quarter as generated but for the tenant: fuzzed ids get past the key
            shaped = case.derive()
            shaped.path_parameters = {**case.path_parameters, "tenant": TENANT}
            return shaped
        shaped = case.derive(query={**case.query, **query} if query else None)
        shaped.path_parameters = {**case.path_parameters, **params}
        if how > 1 and body is not None:  # half with a valid body, a quarter with the fuzzed one
            shaped.body = body
        return shaped

    return st.builds(aimed, st.sampled_from(targets), st.integers(0, 3))


@pytest.fixture
def reached(fuzzed: Fuzzed) -> Iterator[set[str]]:
    """The operations of a test; each must have answered at least one 2xx."""
    labels: set[str] = set()
    yield labels
    for label in labels:
        answered = fuzzed.answers[label]
        assert any(200 <= s < 300 for s in answered), f"{label} never answered 2xx: {answered}"


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # `reached`: on purpose
def test_the_api_answers_every_request_without_a_server_error(
    case: Any, fuzzed: Fuzzed, reached: set[str]
) -> None:
    label = f"{case.operation.method.upper()} {case.operation.path}"
    reached.add(label)
    answers = fuzzed.answers.setdefault(label, Counter())
    try:
        response = case.call(app=fuzzed.app, headers=fuzzed.auth)
    except Exception:  # an error the app let through to the server: a 5xx too
        answers[500] += 1
        raise
    answers[response.status_code] += 1
    assert response.status_code < 500, (
        f"{label} answered {response.status_code}: {response.text[:2000]}\n"
        f"{case.as_curl_command(headers=fuzzed.auth)}"
    )
