"""Who sees what in the admin UI (issue 16): every page and action applies the viewer's access
policy, on SQLite and PostgreSQL. chaotu-demo's roles: sales see their own customers and the
public pool, managers their subtree (alice, bob, dave → carol → frank; erin → frank), admins
all; managers and admins may assign, export and see every figure, admins configure.

One world per database (module scope): a customer of each sales rep, one in the public pool,
one waiting unowned in a manager's queue, follow-ups of alice's and bob's customers. Tests that
would change it get a world of their own; the last one switches a user off (and back on)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.service.listing import Search
from tests.admin_ui.conftest import csrf_of
from tests.helpers import ROOT, START
from tests.walls import database

T = "chaotu-demo"
PASSWORD = "walls-password-42"
USERS = ("alice", "bob", "carol", "frank")
PHONE, MASKED = "13800000001", "138****0001"
# the customers by name: whose they are
ALICE, BOB, DAVE, ERIN = "王丽的客户", "李强的客户", "刘洋的客户", "陈静的客户"
PUBLIC, QUEUED = "公海里的客户", "待经理分配的大客户"
ALICE_CALL, BOB_CALL = "给王丽的客户打电话", "给李强的客户打电话"


@dataclass
class World:
    svc: Services
    ids: dict[str, str]  # record title: id
    clients: dict[tuple[str, str], TestClient] = field(default_factory=dict)

    def client(self, user: str, locale: str = "zh-CN") -> TestClient:
        """A client signed in as `user`, reading pages in `locale` (one per world: signing
        in checks an argon2 hash, slow on purpose)."""
        found = self.clients.get((user, locale))
        if found is None:
            found = self.clients[(user, locale)] = self.sign_in(user, locale)
        return found

    def sign_in(self, user: str, locale: str) -> TestClient:
        app = self.clients[("", "")].app if ("", "") in self.clients else create_app(self.svc)
        self.clients.setdefault(("", ""), TestClient(app))  # the app, built once
        client = TestClient(app)
        token = csrf_of(client.get("/admin/login").text)
        form = {"tenant": T, "user": user, "password": PASSWORD, "csrf_token": token}
        answer = client.post("/admin/login", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        token = csrf_of(client.get("/admin/dashboard").text)
        client.post("/admin/language", data={"csrf_token": token, "locale": locale})
        return client


def files(**changes: tuple[str, str]) -> dict[str, str]:
    """chaotu-demo's files without its tests, with `file=(old, new)` text replaced."""
    found = {k: v for k, v in read_bundle_dir(ROOT / "configs" / T).items() if k != "tests.yaml"}
    for name, (old, new) in changes.items():
        assert old in found[f"{name}.yaml"], f"{old!r} is not in {name}.yaml"
        found[f"{name}.yaml"] = found[f"{name}.yaml"].replace(old, new)
    return found


def build(engine: sa.Engine, bundle_files: dict[str, str]) -> World:
    svc = Services.open(engine=engine, clock=FixedClock(START))
    svc.install_bundle(load_bundle(bundle_files), actor="tests", tests=False)
    for user in USERS:
        svc.passwords.set(T, user, PASSWORD)

    def customer(name: str, **data: Any) -> str:
        made = svc.records.create(T, "customer", {"name": name, **data}, actor="tests")
        return str(made.result["id"])

    ids = {
        ALICE: customer(ALICE, owner="alice", region="east", budget=20000, phone=PHONE),
        BOB: customer(BOB, owner="bob", region="east", budget=20000, phone="13800000002"),
        DAVE: customer(DAVE, owner="dave", region="north", phone="13800000003"),
        ERIN: customer(ERIN, owner="erin", region="south", phone="13800000004"),
        PUBLIC: customer(PUBLIC, owner="bob", region="east", phone="13800000005"),
        # key_accounts: a manager hands these out; until then nobody owns it
        QUEUED: customer(QUEUED, region="east", industry="finance", budget=600000),
    }
    svc.owners.release(T, "customer", ids[PUBLIC], "bob", actor="bob")
    for title, of in ((ALICE_CALL, ALICE), (BOB_CALL, BOB)):
        call = {"customer_id": ids[of], "kind": "call", "summary": title}
        call["happened_at"] = "2026-11-24T08:00:00Z"
        ids[title] = str(svc.records.create(T, "activity", call, actor="tests").result["id"])
    return World(svc, ids)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with database(request.param, tmp_path_factory.mktemp("walls")) as engine:
        made = build(engine, files())
        yield made
        made.svc.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def variant(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The same world under a bundle where sales may export and managers configure."""
    sales = "    see: own                            # 只看自己负责的记录（及公海）\n"
    manager = "    can: [assign, export, see_all_stats]"
    changed = files(
        tenant=(sales, sales + "    can: [export]\n"),
    )
    changed["tenant.yaml"] = changed["tenant.yaml"].replace(manager, manager[:-1] + ", configure]")
    with database(request.param, tmp_path_factory.mktemp("variant")) as engine:
        made = build(engine, changed)
        yield made
        made.svc.close()


# reading pages -----------------------------------------------------------------------------------
def titles(page: str, entity: str = "customer") -> set[str]:
    """The titles of the records a page links to."""
    found = re.findall(rf'<a href="/admin/records/{entity}/[^"]+"[^>]*>([^<]+)</a>', page)
    return {html.unescape(t) for t in found}


def column(page: str, pool: str) -> str:
    match = re.search(rf'<section class="column[^"]*" id="pool-{pool}".*?</section>', page, re.S)
    assert match, f"no column {pool}"
    return match.group(0)


def card(page: str, title: str) -> str:
    match = re.search(
        rf'<article class="cardlet"(?:(?!</article>).)*?{title}.*?</article>', page, re.S
    )
    assert match, f"no card {title}"
    return match.group(0)


def counts(page: str) -> dict[str, int]:
    found = re.findall(r'data-pool="(\w+)".*?<span class="count"[^>]*>(\d+)</span>', page, re.S)
    return {pool: int(n) for pool, n in found if int(n)}


def flash(client: TestClient, path: str) -> str:
    found = re.search(r'id="flash">([^<]*)<', client.get(path).text)
    assert found, "no flash message"
    return html.unescape(found.group(1))


def post(client: TestClient, path: str, **form: str) -> Any:
    form["csrf_token"] = csrf_of(client.get("/admin/pools").text)
    return client.post(path, data=form, follow_redirects=False)


def csv_names(text: str) -> set[str]:
    lines = text.removeprefix("\ufeff").splitlines()
    name = lines[0].split(",").index("name")
    return {line.split(",")[name] for line in lines[1:]}


# the board ---------------------------------------------------------------------------------------
def test_a_sales_rep_sees_her_own_and_the_public_pool_on_the_board(world: World) -> None:
    alice = world.client("alice").get("/admin/pools").text
    assert titles(alice) == {ALICE, PUBLIC}
    assert counts(alice) == {"has_need": 1, "public": 1}
    assert "共 2 条" in alice
    # her card moves; the public one is claimed, not moved; claim buttons for a claimer
    assert 'action="/admin/pools/move"' in card(alice, ALICE)
    public = card(alice, PUBLIC)
    assert 'action="/admin/pools/claim"' in public and "/admin/pools/move" not in public
    assert PHONE not in alice


def test_a_manager_sees_his_subtree_and_an_admin_everything(world: World) -> None:
    carol = world.client("carol").get("/admin/pools").text
    assert titles(carol) == {ALICE, BOB, DAVE, PUBLIC, QUEUED}  # not erin's: she is frank's
    for title in (ALICE, BOB, DAVE, QUEUED):  # subtree edit; unowned: he may assign
        assert 'action="/admin/pools/move"' in card(carol, title)
    frank = world.client("frank").get("/admin/pools").text
    assert titles(frank) == {ALICE, BOB, DAVE, ERIN, PUBLIC, QUEUED}
    assert sum(counts(frank).values()) == 6 and sum(counts(carol).values()) == 5


def test_a_forged_move_of_a_colleagues_card_is_refused(world: World) -> None:
    before = world.svc.records.get(T, "customer", world.ids[BOB])
    alice = world.client("alice")
    form = {"entity": "customer", "pool": "won", "version": str(before.version)}
    answer = post(alice, "/admin/pools/move", record_id=world.ids[BOB], **form)
    assert answer.status_code == 303
    said = flash(alice, answer.headers["location"])
    assert said == "无法移动：记录不存在，或您无权查看"  # as for a record that is not there
    missing = post(alice, "/admin/pools/move", record_id="no-such-id", **form)
    assert flash(alice, missing.headers["location"]) == said
    # one she sees but may not edit (the public pool's): refused, naming who may
    public = world.svc.records.get(T, "customer", world.ids[PUBLIC])
    form["version"] = str(public.version)
    answer = post(alice, "/admin/pools/move", record_id=world.ids[PUBLIC], **form)
    said = flash(alice, answer.headers["location"])
    assert said.startswith("无法移动：王丽无权") and "（有此权限的角色：管理员）" in said
    en = world.client("alice", "en")
    answer = post(en, "/admin/pools/move", record_id=world.ids[PUBLIC], **form)
    said = flash(en, answer.headers["location"])
    assert (
        said.startswith("Move refused: 王丽 may not ") and "(roles that can: Administrator)" in said
    )
    for title in (BOB, PUBLIC):  # nothing changed
        now = world.svc.records.get(T, "customer", world.ids[title])
        assert now.version == (before if title == BOB else public).version
        assert now.pool != "won"


# lists, record pages and the export --------------------------------------------------------------
def test_lists_hold_the_records_the_viewer_sees(world: World) -> None:
    alice, carol = world.client("alice"), world.client("carol")
    assert titles(alice.get("/admin/records/customer").text) == {ALICE, PUBLIC}
    assert titles(carol.get("/admin/records/customer").text) == {ALICE, BOB, DAVE, PUBLIC, QUEUED}
    # follow-ups are seen through their customer (visible_via)
    assert titles(alice.get("/admin/records/activity").text, "activity") == {ALICE_CALL}
    calls = titles(carol.get("/admin/records/activity").text, "activity")
    assert calls == {ALICE_CALL, BOB_CALL}
    # a condition, a sort and cursor pages stay within the walls
    found = alice.get("/admin/records/customer", params={"where": "region == 'east'"}).text
    assert titles(found) == {ALICE, PUBLIC}
    view = {"view": "big_customers_east"}  # budget >= 100000 in the east: the queued one
    assert titles(alice.get("/admin/records/customer", params=view).text) == set()
    assert titles(carol.get("/admin/records/customer", params=view).text) == {QUEUED}
    first = alice.get("/admin/records/customer", params={"sort": "created_at"}).text
    assert titles(first) == {ALICE, PUBLIC}
    policy = world.svc.records.policy_for(T, "alice")
    first_page = world.svc.records.search(T, "customer", Search(limit=1), policy=policy)
    assert first_page.next_cursor is not None
    params = {"cursor": first_page.next_cursor}
    second = titles(alice.get("/admin/records/customer", params=params).text)
    assert len(second) == 1 and second | {first_page.records[0].data["name"]} == {ALICE, PUBLIC}


def test_another_reps_record_is_a_404_page_as_a_missing_one(world: World) -> None:
    alice = world.client("alice")
    bobs = alice.get(f"/admin/records/customer/{world.ids[BOB]}")
    missing = alice.get("/admin/records/customer/no-such-id")
    assert bobs.status_code == missing.status_code == 404
    assert BOB not in bobs.text and "13800000002" not in bobs.text
    shape = bobs.text.replace(world.ids[BOB], "ID")
    assert shape == missing.text.replace("no-such-id", "ID")
    call = alice.get(f"/admin/records/activity/{world.ids[BOB_CALL]}")
    assert call.status_code == 404
    # her own: she may move it; the public one: she may claim it, not move it
    own = alice.get(f"/admin/records/customer/{world.ids[ALICE]}").text
    assert 'id="move"' in own and 'id="claim"' not in own and MASKED in own
    public = alice.get(f"/admin/records/customer/{world.ids[PUBLIC]}").text
    assert 'id="claim"' in public and 'id="move"' not in public
    assert (
        world.client("carol").get(f"/admin/records/customer/{world.ids[ERIN]}").status_code == 404
    )
    erins = world.client("frank").get(f"/admin/records/customer/{world.ids[ERIN]}").text
    assert 'id="move"' in erins


def test_the_export_needs_export_and_holds_what_the_viewer_sees(world: World) -> None:
    alice = world.client("alice")
    assert 'id="export"' not in alice.get("/admin/records/customer").text
    refused = alice.get("/admin/records/customer/export.csv")
    assert refused.status_code == 403
    assert "有权限的角色：管理员、销售经理" in refused.text and ALICE not in refused.text
    carol = world.client("carol")
    assert 'id="export"' in carol.get("/admin/records/customer").text
    exported = carol.get("/admin/records/customer/export.csv").text
    assert csv_names(exported) == {ALICE, BOB, DAVE, PUBLIC, QUEUED}
    east = carol.get("/admin/records/customer/export.csv", params={"where": "budget >= 20000"})
    assert csv_names(east.text) == {ALICE, BOB, QUEUED}


def test_a_sales_export_is_hers_and_masked(variant: World) -> None:
    """A bundle where sales may export: alice's export holds her customers and the public
    pool, phones masked."""
    exported = variant.client("alice").get("/admin/records/customer/export.csv").text
    assert csv_names(exported) == {ALICE, PUBLIC}
    assert MASKED in exported and PHONE not in exported


# figures -----------------------------------------------------------------------------------------
def test_dashboard_figures_count_what_the_viewer_sees(world: World) -> None:
    alice = world.client("alice", "en").get("/admin/dashboard").text
    assert "Customer · 2 records" in alice
    assert 'id="scope"' in alice and "The figures count the records you may see." in alice
    assert 'id="failed"' not in alice  # tenant-wide jobs: not hers to see
    frank = world.client("frank", "en").get("/admin/dashboard").text
    assert "Customer · 6 records" in frank and 'id="failed"' in frank
    assert 'id="scope"' not in frank
    carol = world.client("carol", "en").get("/admin/dashboard").text  # see_all_stats
    assert "Customer · 6 records" in carol and 'id="scope"' not in carol
    # the last day's decisions: about her records only
    assert decisions(alice) < decisions(frank) and decisions(alice) > 0


def decisions(page: str) -> int:
    found = re.search(r"(\d+) decisions", page)
    return int(found.group(1)) if found else 0


def test_the_assignment_page_shows_whom_the_viewer_sees(world: World) -> None:
    alice = world.client("alice", "en").get("/admin/assignment").text
    assert "王丽" in alice and "李强" not in alice and "陈静" not in alice
    assert "Shown: the users whose records you may see." in alice
    carol = world.client("carol", "en").get("/admin/assignment").text
    assert all(name in carol for name in ("王丽", "李强", "刘洋", "陈静"))
    assert 'id="scope"' not in carol


def test_campaign_and_form_figures_need_see_all_stats(world: World) -> None:
    alice = world.client("alice", "en")
    refused = alice.get("/admin/campaigns")
    assert refused.status_code == 403
    assert "Roles that may: Administrator, Sales manager." in refused.text
    assert 'href="/admin/campaigns"' not in alice.get("/admin/dashboard").text
    forms = alice.get("/admin/forms").text
    assert 'id="figures-hidden"' in forms and "see_all_stats or configure: admin, manager" in forms
    assert 'id="report"' not in forms and 'id="conversion"' not in forms
    assert 'id="hosted-url"' in forms and 'id="qr-download"' in forms  # links for everyone
    carol = world.client("carol", "en")
    assert carol.get("/admin/campaigns").status_code == 200
    assert 'id="report"' in carol.get("/admin/forms").text


# the dry run -------------------------------------------------------------------------------------
def test_dry_run_examples_are_records_the_viewer_sees(variant: World) -> None:
    """A manager who may configure dry-runs a rule: the counts are of every record, the
    examples only of his subtree's."""
    svc = variant.svc
    for i, (owner, region) in enumerate((("alice", "east"), ("erin", "south"))):
        data = {"name": f"{owner}的小客户", "owner": owner, "region": region, "budget": 6000}
        data["phone"] = f"1390000000{i}"  # (without a way to contact, it would be invalid)
        svc.records.create(T, "customer", data, actor="tests")
    candidate = dict(svc.configs.active(T).bundle.files)
    rule = 'when: "budget >= 10000"'
    candidate["pools.yaml"] = candidate["pools.yaml"].replace(rule, 'when: "budget >= 5000"')
    number = int(svc.push(T, candidate)["number"])
    carol = variant.client("carol", "en")
    page = carol.get(f"/admin/config/versions/{number}").text
    report = carol.post(
        f"/admin/config/versions/{number}/dry-run", data={"csrf_token": csrf_of(page)}
    ).text
    row = re.search(r"<tr>\s*<td>Nurturing.*?</tr>", report, re.S)
    assert row, "no pool move in the report"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cells[2] == "2"  # both would move
    assert "alice的小客户" in cells[4] and "erin的小客户" not in report
    frank = variant.client("frank", "en")  # an admin sees both
    token = csrf_of(frank.get(f"/admin/config/versions/{number}").text)
    report = frank.post(f"/admin/config/versions/{number}/dry-run", data={"csrf_token": token}).text
    assert "alice的小客户" in report and "erin的小客户" in report


# a user switched off -----------------------------------------------------------------------------
def test_a_user_switched_off_gets_nothing(world: World) -> None:
    """It switches alice off (her records stay: on_deactivate stay) and on again, which
    ends her sessions: the world's clients sign in again afterwards."""
    alice = world.sign_in("alice", "zh-CN")
    token = csrf_of(alice.get("/admin/pools").text)
    pages = (
        "/admin/pools",
        "/admin/records/customer",
        f"/admin/records/customer/{world.ids[ALICE]}",
        "/admin/dashboard",
        "/admin/assignment",
        "/admin/forms",
    )
    world.svc.owners.set_active(T, "alice", False)
    try:
        for path in pages:
            answer = alice.get(path, follow_redirects=False)
            assert answer.status_code in (303, 403), (path, answer.status_code)
            assert ALICE not in answer.text
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/admin/login")
        before = world.svc.records.get(T, "customer", world.ids[ALICE])
        form = {"entity": "customer", "record_id": world.ids[ALICE], "pool": "won"}
        form["csrf_token"] = token
        moved = alice.post("/admin/pools/move", data=form, follow_redirects=False)
        assert moved.status_code in (303, 403)
        assert world.svc.records.get(T, "customer", world.ids[ALICE]).version == before.version
    finally:
        world.svc.owners.set_active(T, "alice", True)
        for key in [k for k in world.clients if k[0] == "alice"]:
            del world.clients[key]
