"""Records: the where= box and its errors at their position, sort and cursor pages, the CSV
export of the same list, a record's fields, history, "why" and "why not", and masked PII."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient

from engine.service import Services
from tests.admin_ui.conftest import SignIn, csrf_of

T = "chaotu-demo"
PHONE, MASKED = "13812345678", "138****5678"
EMAIL, MASKED_EMAIL = "boss@xingchen.cn", "b***@xingchen.cn"


def customer(svc: Services, name: str, **data: Any) -> str:
    created = svc.records.create(T, "customer", {"name": name, **data}, actor="tests")
    return str(created.result["id"])


def english(client: TestClient) -> None:
    token = csrf_of(client.get("/admin/records/customer").text)
    form = {"locale": "en", "next": "/admin/records/customer", "csrf_token": token}
    client.post("/admin/language", data=form)


def names(html: str) -> list[str]:
    """The titles of the listed records, in order."""
    return re.findall(r'<td><a href="/admin/records/customer/[^"]+">([^<]+)</a></td>', html)


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def some_customers(svc: Services) -> dict[str, str]:
    return {
        "东区大": customer(svc, "东区大", region="east", budget=50000, phone=PHONE, email=EMAIL),
        "东区小": customer(svc, "东区小", region="east", budget=5000, phone="13900000001"),
        "北区大": customer(svc, "北区大", region="north", budget=90000, phone="13900000002"),
        "南区大": customer(svc, "南区大", region="south", budget=20000, phone="13900000003"),
    }


def test_the_where_box_filters_the_list(ui_svc: Services, sign_in: SignIn) -> None:
    some_customers(ui_svc)
    client = sign_in(T, "frank")
    assert sorted(names(client.get("/admin/records/customer").text)) == sorted(
        ["东区大", "东区小", "北区大", "南区大"]
    )
    where = "budget >= 10000 and region == 'east'"
    page = client.get("/admin/records/customer", params={"where": where}).text
    assert names(page) == ["东区大"]
    assert 'value="budget &gt;= 10000 and region == &#39;east&#39;"' in page
    assert "export.csv?where=budget+%3E%3D+10000+and+region+%3D%3D+%27east%27" in page
    view = client.get("/admin/records/customer", params={"view": "big_customers_east"}).text
    assert names(view) == []  # budgets of 100,000 and more only
    nothing = client.get("/admin/records/customer", params={"where": "budget > 1000000"}).text
    assert "没有符合条件的记录。" in nothing


def test_a_bad_condition_is_shown_at_its_position(ui_svc: Services, sign_in: SignIn) -> None:
    some_customers(ui_svc)
    client = sign_in(T, "frank")
    where = "budget >= 10000 and regoin == 'east'"
    page = client.get("/admin/records/customer", params={"where": where}).text
    assert page.count("<tr data-id=") == 0  # no list under a wrong condition
    assert "条件第 21 列有错误：" in page
    assert "未知字段“regoin”" in page and "region" in page  # in the viewer's language
    assert 'data-start="20" data-end="26"' in page
    assert '<mark class="bad">regoin</mark>' in page
    assert '<span class="caret">' + " " * 20 + "^~~~~~</span>" in page
    padded = client.get("/admin/records/customer", params={"where": f"  {where} "}).text
    assert 'data-start="20" data-end="26"' in padded  # counted in the text as searched
    english(client)
    page = client.get("/admin/records/customer", params={"where": "budget >= 'x'"}).text
    assert "The condition has an error at column 1:" in page
    assert "cannot compare budget" in page


def test_sort_and_cursor_pages(ui_svc: Services, sign_in: SignIn) -> None:
    for i in range(53):
        region = ("east", "north", "south")[i % 3]
        customer(ui_svc, f"客户{i:02d}", region=region, phone=f"1390000{i:04d}")
    client = sign_in(T, "frank")
    first = client.get("/admin/records/customer", params={"sort": "region"}).text
    listed = names(first)
    assert len(listed) == 50
    regions = re.findall(r'<td class="field-region">([^<]+)</td>', first)
    assert regions == sorted(regions, key=["华东", "华北", "华南"].index)
    assert '<option value="region" selected>' in first
    link = re.search(r'href="([^"]+)" rel="next"', first)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert len(names(second)) == 3 and not set(names(second)) & set(listed)
    assert 'rel="next"' not in second and "← 第一页" in second
    bad = client.get("/admin/records/customer", params={"sort": "-nope"}).text
    assert "cannot sort by &#39;nope&#39;" in bad


def test_the_csv_export_has_the_filtered_list(ui_svc: Services, sign_in: SignIn) -> None:
    some_customers(ui_svc)
    client = sign_in(T, "frank")
    answer = client.get("/admin/records/customer/export.csv", params={"where": "budget >= 20000"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "chaotu-demo-customer.csv" in answer.headers["content-disposition"]
    rows = csv_rows(answer.text)
    assert sorted(r["name"] for r in rows) == ["东区大", "北区大", "南区大"]
    big = next(r for r in rows if r["name"] == "东区大")
    assert (big["phone"], big["email"], big["region"], big["budget"]) == (
        PHONE,
        EMAIL,
        "east",
        "50000.00",
    )
    refused = client.get("/admin/records/customer/export.csv", params={"where": "nope > 1"})
    assert refused.status_code == 400


def test_the_export_defuses_spreadsheet_formulas(ui_svc: Services, sign_in: SignIn) -> None:
    customer(ui_svc, '=HYPERLINK("http://evil")', phone="13900000009")
    rows = csv_rows(sign_in(T, "frank").get("/admin/records/customer/export.csv").text)
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil")'


def test_a_record_shows_its_fields_history_why_and_why_not(
    ui_svc: Services, sign_in: SignIn
) -> None:
    record_id = customer(ui_svc, "星辰科技", region="east", budget=20000, phone=PHONE)
    ui_svc.records.update(T, "customer", record_id, {"note": "客户关注交付周期"}, actor="tests")
    client = sign_in(T, "frank")
    page = client.get(f"/admin/records/customer/{record_id}").text
    assert "<h1>星辰科技" in page and "<td>有需求池</td>" in page
    assert "<th>区域</th><td>华东</td>" in page and "<th>预算</th><td>20000.00 CNY</td>" in page
    # why: the decisions, each with its rule's label and trace
    timeline = page[page.index('id="timeline"') : page.index('id="history"')]
    assert "确认有需求" in timeline and "所在池：需求培养池 → 有需求池" in timeline
    assert "✓ budget &gt;= 10000\n  budget = 20000" in timeline
    assert "按区域轮流分配" in timeline and "候选人：alice、bob" in timeline
    # why not: each promotion out of has_need, with what failed
    why_not = page[page.index('id="why-not"') : page.index('id="timeline"')]
    assert 'data-rule="high_score"' in why_not
    assert "高分线索进入重点跟进池</strong> → 重点跟进池 · " in why_not
    assert "✗ score &gt;= 60\n  score = 0" in why_not
    history = page[page.index('id="history"') :]
    assert "修改</span> v2" in history and "备注：客户关注交付周期" in history
    assert "创建</span> v1" in history and "客户名称：星辰科技" in history
    english(client)
    page = client.get(f"/admin/records/customer/{record_id}").text
    assert "Need confirmed" in page and "Why not" in page and "Has need" in page
    assert "High scores get dedicated advisors</strong> → Key follow-up" in page
    assert "candidates: alice, bob" in page
    assert client.get("/admin/records/customer/no-such-id").status_code == 404
    assert client.get("/admin/records/nope").status_code == 404


def test_pii_is_masked_for_sales_on_every_page_and_the_export(
    ui_svc: Services, sign_in: SignIn
) -> None:
    ids = some_customers(ui_svc)
    record = f"/admin/records/customer/{ids['东区大']}"
    frank, alice = sign_in(T, "frank"), sign_in(T, "alice")
    for client, phone, email in ((frank, PHONE, EMAIL), (alice, MASKED, MASKED_EMAIL)):
        listed = client.get("/admin/records/customer").text
        assert f'<td class="field-phone">{phone}</td>' in listed
        assert f'<td class="field-email">{email}</td>' in listed
        page = client.get(record).text
        assert f"<th>电话</th><td>{phone}</td>" in page
        assert f"电话：{phone}" in page  # the history's first values
    rows = csv_rows(frank.get("/admin/records/customer/export.csv").text)
    big = next(r for r in rows if r["name"] == "东区大")
    assert (big["phone"], big["email"]) == (PHONE, EMAIL)
    # sales may not export (test_walls.py: a masked export of a role that may)
    assert alice.get("/admin/records/customer/export.csv").status_code == 403
    for path in ("/admin/records/customer", record, "/admin/records/customer/export.csv"):
        assert PHONE not in alice.get(path).text
        assert EMAIL not in alice.get(path).text
    assert "部分字段对您的角色脱敏显示：电话, 邮箱。" in alice.get(record).text


def test_a_masked_field_cannot_be_filtered_or_sorted_by(ui_svc: Services, sign_in: SignIn) -> None:
    some_customers(ui_svc)
    alice = sign_in(T, "alice")
    page = alice.get("/admin/records/customer", params={"where": f"phone == '{PHONE}'"}).text
    assert "电话：对您脱敏显示，不能用于筛选或排序。" in page
    assert "东区大" not in page
    assert 'value="-phone"' not in alice.get("/admin/records/customer").text
    export = alice.get("/admin/records/customer/export.csv", params={"where": "phone is null"})
    assert export.status_code == 403
    frank = sign_in(T, "frank")
    page = frank.get("/admin/records/customer", params={"where": f"phone == '{PHONE}'"}).text
    assert names(page) == ["东区大"]


def test_the_records_menu_opens_the_first_entity(sign_in: SignIn) -> None:
    client = sign_in(T, "bob")
    answer = client.get("/admin/records", follow_redirects=False)
    assert answer.headers["location"] == "/admin/records/customer"
    tabs = client.get("/admin/records/order").text
    assert 'href="/admin/records/order" class="here"' in tabs and "订单" in tabs
