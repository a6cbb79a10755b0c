"""The pool board: counts and cards per pool, moves by hand only into manual pools, claims from
the public pool until a cap refuses (the reason on the page, in both languages), CSRF."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.config.loader import load_bundle_dir
from engine.service import Services
from engine.service.board import Claims, PoolBoard
from tests.admin_ui.conftest import SignIn, csrf_of
from tests.helpers import ROOT, START

T = "chaotu-demo"


def customer(svc: Services, name: str, **data: Any) -> str:
    created = svc.records.create(T, "customer", {"name": name, **data}, actor="tests")
    return str(created.result["id"])


def in_public(svc: Services, count: int, owner: str = "bob") -> list[str]:
    """Customers `owner` held and gave back to the public pool (others may claim them)."""
    ids = []
    for i in range(count):
        record_id = customer(svc, f"公海客户{i:02d}", phone=f"1390000{i:04d}", owner=owner)
        svc.owners.release(T, "customer", record_id, owner)
        ids.append(record_id)
    return ids


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-pool="(\w+)".*?<span class="count"[^>]*>(\d+)</span>', html, re.S)
    return {pool: int(n) for pool, n in found}


def column(html: str, pool: str) -> str:
    match = re.search(rf'<section class="column[^"]*" id="pool-{pool}".*?</section>', html, re.S)
    assert match, f"no column for {pool}"
    return match.group(0)


def english(client: TestClient) -> None:
    token = csrf_of(client.get("/admin/pools").text)
    form = {"locale": "en", "next": "/admin/pools", "csrf_token": token}
    client.post("/admin/language", data=form)


def post(client: TestClient, path: str, **form: str) -> str:
    form["csrf_token"] = csrf_of(client.get("/admin/pools").text)
    answer = client.post(path, data=form)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_column_per_pool_with_its_count_and_newest_cards(
    ui_svc: Services, sign_in: SignIn
) -> None:
    for i in range(3):
        customer(ui_svc, f"培养{i}", phone=f"1380000000{i}", budget=5000)
    for i in range(2):
        customer(ui_svc, f"有需求{i}", phone=f"1370000000{i}", budget=20000, region="east")
    gone = customer(ui_svc, "无联系方式")  # no phone, no email: invalid
    ui_svc.records.delete(T, "customer", customer(ui_svc, "已删除", budget=1))
    page = sign_in(T, "frank").get("/admin/pools").text
    assert counts(page) == {
        "nurturing": 3,
        "has_need": 2,
        "front_page": 0,
        "targeted": 0,
        "key_follow_up": 0,
        "won": 0,
        "lost": 0,
        "invalid": 1,
        "public": 0,
    }
    assert "需求培养池" in page and "共 6 条" in page
    nurturing = column(page, "nurturing")
    assert nurturing.count('class="cardlet"') == 3 and "培养2" in nurturing
    assert "已删除" not in page
    assert f'href="/admin/records/customer/{gone}"' in column(page, "invalid")
    assert "负责人：王丽" in column(page, "has_need")  # assigned by region
    # only manual pools are offered as targets
    options = set(re.findall(r'<option value="(\w+)"', nurturing))
    assert options == {"has_need", "targeted", "won", "lost", "invalid"}


def test_moves_only_into_manual_pools(ui_svc: Services, sign_in: SignIn) -> None:
    record_id = customer(ui_svc, "移动测试", phone="13800000001", budget=5000)
    client = sign_in(T, "frank")
    english(client)
    refused = post(
        client, "/admin/pools/move", entity="customer", record_id=record_id, pool="front_page"
    )
    assert (
        "Move refused: the bundle does not let records be moved into Front page by hand" in refused
    )
    assert ui_svc.records.get(T, "customer", record_id).pool == "nurturing"
    assert counts(refused)["front_page"] == 0
    done = post(client, "/admin/pools/move", entity="customer", record_id=record_id, pool="lost")
    assert "移动测试 moved to Lost." in done
    assert counts(done)["lost"] == 1 and counts(done)["nurturing"] == 0
    assert ui_svc.records.get(T, "customer", record_id).pool == "lost"
    history = ui_svc.records.history(T, "customer", record_id)
    assert (history[-1]["action"], history[-1]["actor"]) == ("move", "ui:frank")


def test_a_stale_card_is_not_moved(ui_svc: Services, sign_in: SignIn) -> None:
    record_id = customer(ui_svc, "过期卡片", phone="13800000002", budget=5000)
    client = sign_in(T, "frank")
    ui_svc.records.update(T, "customer", record_id, {"note": "meanwhile"})
    page = post(
        client, "/admin/pools/move", entity="customer", record_id=record_id, pool="won", version="1"
    )
    assert "无法移动：记录已被修改，请刷新后重试" in page
    assert ui_svc.records.get(T, "customer", record_id).pool == "nurturing"


def test_claims_until_the_daily_cap_refuses_with_the_reason(
    ui_svc: Services, sign_in: SignIn
) -> None:
    ids = in_public(ui_svc, 21)
    client = sign_in(T, "alice")
    page = client.get("/admin/pools").text
    public = column(page, "public")
    assert counts(page)["public"] == 21
    assert public.count('action="/admin/pools/claim"') == 20  # the newest 20 cards
    assert "您今日已领取 0/20 · 持有 0/50" in page
    for record_id in ids[:20]:
        page = post(client, "/admin/pools/claim", entity="customer", record_id=record_id)
        assert "已领取" in page
    assert "您今日已领取 20/20 · 持有 20/50" in page
    refused = post(client, "/admin/pools/claim", entity="customer", record_id=ids[20])
    assert "无法领取：今天已达到领取上限 20 个" in refused
    assert counts(refused)["public"] == 1
    assert ui_svc.records.get(T, "customer", ids[20]).owner is None
    english(client)
    again = post(client, "/admin/pools/claim", entity="customer", record_id=ids[20])
    assert "Claim refused: cap of 20 claims reached today" in again


def test_the_previous_owner_waits_for_the_cooldown(ui_svc: Services, sign_in: SignIn) -> None:
    [record_id] = in_public(ui_svc, 1, owner="alice")
    client = sign_in(T, "alice")
    english(client)
    page = post(client, "/admin/pools/claim", entity="customer", record_id=record_id)
    assert "Claim refused: gave this record up on 2026-11-24 16:00; may claim it again from" in page


def test_a_claim_from_a_records_page_goes_back_there(ui_svc: Services, sign_in: SignIn) -> None:
    [record_id] = in_public(ui_svc, 1)
    client = sign_in(T, "dave")
    here = f"/admin/records/customer/{record_id}"
    assert 'id="claim"' in client.get(here).text
    token = csrf_of(client.get(here).text)
    form = {"entity": "customer", "record_id": record_id, "next": here, "csrf_token": token}
    answer = client.post("/admin/pools/claim", data=form, follow_redirects=False)
    assert answer.headers["location"] == here
    page = client.get(here).text
    assert "已领取 公海客户00（有需求池）。" in page
    evil = {**form, "next": "https://evil.example/"}
    answer = client.post("/admin/pools/claim", data=evil, follow_redirects=False)
    assert answer.headers["location"] == "/admin/pools?set=customer_pool"


def test_posts_without_the_csrf_token_are_refused(ui_svc: Services, sign_in: SignIn) -> None:
    [record_id] = in_public(ui_svc, 1)
    client = sign_in(T, "frank")
    form = {"entity": "customer", "record_id": record_id}
    assert client.post("/admin/pools/claim", data=form).status_code == 403
    moved = client.post("/admin/pools/move", data={**form, "pool": "won", "csrf_token": "x"})
    assert moved.status_code == 403
    assert ui_svc.records.get(T, "customer", record_id).pool == "public"


def test_both_languages_and_pool_set_tabs(sign_in: SignIn) -> None:
    client = sign_in(T, "frank")
    assert "客户池看板" in client.get("/admin/pools").text
    english(client)
    page = client.get("/admin/pools").text
    assert "Customer pools" in page and "Nurturing" in page and "Public pool" in page
    assert client.get("/admin/pools?set=nope").status_code == 404


def test_the_board_queries_on_both_databases(engine: sa.Engine) -> None:
    """Counts, the newest cards first and a user's standing, on SQLite and PostgreSQL."""
    clock = FixedClock(START)
    svc = Services.open(engine=engine, clock=clock)
    svc.install_bundle(load_bundle_dir(ROOT / "configs" / "chaotu-demo"), tests=False)
    for i in range(4):
        customer(svc, f"培养{i}", phone=f"1380000000{i}", budget=5000, region="east")
        clock.advance(seconds=1)
    svc.records.delete(T, "customer", customer(svc, "已删除", phone="13800000009"))
    in_public(svc, 2, owner="bob")
    board = PoolBoard(svc.store, svc.configs, clock)
    columns = {c.pool: c for c in board.columns(T, "customer_pool", per_column=3)}
    assert {p: c.count for p, c in columns.items() if c.count} == {"nurturing": 4, "public": 2}
    newest = columns["nurturing"].cards
    assert [c.title for c in newest] == ["培养3", "培养2", "培养1"]
    assert {c.owner for c in newest} == {"alice", "bob"} and newest[0].version == 1
    assert board.claims(T, "customer", "alice") == Claims(0, 20, 2, 50)
    assert board.claims(T, "order", "alice") is None  # orders have no public pool
    svc.close()
