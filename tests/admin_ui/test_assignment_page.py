"""The assignment page: per user the open load, the capacity left and today's assignments;
fairness per rule and group as bar charts with the spread; records waiting in queues."""

from __future__ import annotations

import re

from engine.service import Services
from tests.admin_ui.conftest import SignIn
from tests.admin_ui.page_helpers import bars, in_language, signed_out_redirects, svg


def row(html: str, user: str) -> dict[str, str]:
    """A user's figures in the load table, by the cell's class."""
    found = re.search(rf'<tr data-user="{user}".*?</tr>', html, re.S)
    assert found, f"no row for {user}"
    cells = re.findall(r'<td class="num ([a-z-]+)">(\d+)', found.group(0))
    return dict(cells)


def assign_some(svc: Services) -> None:
    """East customers go round robin to alice and bob, north ones to dave; a large finance
    account waits for a manager."""
    for i in range(3):
        data = {"name": f"华东{i}", "phone": f"1370000000{i}", "region": "east"}
        svc.records.create("chaotu-demo", "customer", data)
    svc.records.create(
        "chaotu-demo", "customer", {"name": "华北", "phone": "13600000000", "region": "north"}
    )
    big = {"name": "大客户", "phone": "13500000000", "industry": "finance", "budget": 800000}
    svc.records.create("chaotu-demo", "customer", big)


def test_load_capacity_left_and_today_per_user(sign_in: SignIn, ui_svc: Services) -> None:
    assign_some(ui_svc)
    client = sign_in("chaotu-demo", "carol")
    en = in_language(client, "en", "/admin/assignment")
    # alice: open 50 and 20 a day; bob: 40 and 15; dave: 50 and 20
    assert row(en, "alice") == {
        "open": "2",
        "open-left": "48",
        "today": "2",
        "day-left": "18",
        "week": "2",
    }
    assert row(en, "bob") == {
        "open": "1",
        "open-left": "39",
        "today": "1",
        "day-left": "14",
        "week": "1",
    }
    assert row(en, "dave") == {
        "open": "1",
        "open-left": "49",
        "today": "1",
        "day-left": "19",
        "week": "1",
    }
    assert row(en, "carol") == {"open": "0", "today": "0", "week": "0"}  # no capacity: no limit
    assert "Load per user · Customer" in en and "no limit" in en
    load = bars(svg(en, "load-chart-customer"))
    assert load["王丽"] == "2" and load["李强"] == "1" and load["陈静"] == "0"
    zh = in_language(client, "zh-CN", "/admin/assignment")
    assert "各用户负载 · 客户" in zh and "不限" in zh and row(zh, "alice")["open-left"] == "48"


def test_fairness_per_rule_and_group_with_the_spread(sign_in: SignIn, ui_svc: Services) -> None:
    assign_some(ui_svc)
    client = sign_in("chaotu-demo", "carol")  # a manager: see_all_stats
    en = in_language(client, "en", "/admin/assignment")
    east = svg(en, "fair-chart-customer-by_region-1")
    assert bars(east) == {"王丽": "2", "李强": "1"}  # the east team, in the bundle's order
    assert bars(svg(en, "fair-chart-customer-by_region-2")) == {"刘洋": "1"}
    assert bars(svg(en, "fair-chart-customer-by_region-4")) == {"张敏": "0", "赵磊": "0"}
    assert "Round robin within the region · Region: East" in en
    assert re.search(r"Region: East</h3>\s*<p class=\"muted spread\">Spread today: 1</p>", en)
    assert "fair-chart-customer-key_accounts" not in en  # a manual queue has no candidates
    assert "Manager review" in en and re.search(
        r"Manager review.*?<td class=\"num\">1</td>", en, re.S
    )
    zh = in_language(client, "zh-CN", "/admin/assignment")
    assert "按区域轮流分配 · 区域: 华东" in zh and "今日差距：1" in zh and "经理分配" in zh


def test_nothing_assigned_yet_and_signed_out(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in("acme-saas", "james")
    en = in_language(client, "en", "/admin/assignment")
    assert "No record is waiting in a queue." in en
    assert "队列中没有等待分配的记录。" in in_language(client, "zh-CN", "/admin/assignment")
    signed_out_redirects(client, "/admin/assignment")
