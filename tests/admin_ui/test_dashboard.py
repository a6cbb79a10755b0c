"""The dashboard: records per pool, the funnel and its bottleneck, the last 24 hours'
decisions and the failed jobs — real figures, in both languages, as SVG charts."""

from __future__ import annotations

import re

from engine.clock import FixedClock
from engine.config.loader import load_bundle_dir
from engine.service import Services
from engine.service.assignment_board import assignment_board
from engine.service.dashboard import dashboard, funnel, funnel_pools, scrub
from tests.admin_ui.conftest import SignIn
from tests.admin_ui.page_helpers import bars, in_language, signed_out_redirects, svg
from tests.helpers import ROOT, START, pg_schema


def seed_customers(svc: Services) -> None:
    """Four in nurturing, two with a budget in has_need, one without contact in invalid."""
    for i in range(4):
        svc.records.create(
            "chaotu-demo", "customer", {"name": f"培养{i}", "phone": f"1380000000{i}"}
        )
    for i in range(2):
        data = {"name": f"有需求{i}", "phone": f"1390000000{i}", "budget": 20000}
        svc.records.create("chaotu-demo", "customer", data)
    svc.records.create("chaotu-demo", "customer", {"name": "无联系方式"})


def test_records_per_pool_and_the_funnel_in_both_languages(
    sign_in: SignIn, ui_svc: Services
) -> None:
    seed_customers(ui_svc)
    client = sign_in("chaotu-demo", "frank")
    zh = in_language(client, "zh-CN", "/admin/dashboard")
    pools = bars(svg(zh, "pools-chart-customer_pool"))
    assert pools["需求培养池"] == "4" and pools["有需求池"] == "2" and pools["失效池"] == "1"
    assert pools["成功池"] == "0" and len(pools) == 9  # every pool of the set, one bar each
    assert "共 7 条记录" in zh
    funnel_chart = svg(zh, "funnel-chart-customer_pool")
    # stages up to the goal (won); lost, invalid and the public pool are exits
    assert funnel_chart.count('class="stage') == 6
    assert bars(funnel_chart) == {
        "需求培养池": "6",
        "有需求池": "2",
        "上首屏": "0",
        "加入目标": "0",
        "重点跟进池": "0",
        "成功池": "0",
    }
    assert re.search(r'class="stage hot" data-pool="has_need"', funnel_chart)
    assert "→ 33.3%" in funnel_chart and "→ 0.0% ▲ 瓶颈" in funnel_chart
    assert "瓶颈阶段：有需求池（0.0% 进入下一阶段）" in zh
    assert "已离开漏斗: 失败池 0 · 失效池 1 · 公海 0" in zh

    en = in_language(client, "en", "/admin/dashboard")
    assert bars(svg(en, "pools-chart-customer_pool"))["Nurturing"] == "4"
    assert "Bottleneck: Has need (0.0% go on to the next stage)" in en
    assert "7 records" in en and "Out of the funnel: Lost 0 · Invalid 1 · Public pool 0" in en


def test_decisions_of_the_last_24_hours_by_kind_and_rule(sign_in: SignIn, ui_svc: Services) -> None:
    seed_customers(ui_svc)
    client = sign_in("chaotu-demo", "carol")
    en = in_language(client, "en", "/admin/dashboard")
    chart = bars(svg(en, "decisions-chart"))
    # two budgets confirmed a need; one record had no way to contact it
    assert chart["Pool move · Need confirmed"] == "2"
    assert chart["Pool move · No way to contact"] == "1"
    assert chart["Score · Lead score"] == "7"  # every new customer is scored (its field's label)
    zh = in_language(client, "zh-CN", "/admin/dashboard")
    assert bars(svg(zh, "decisions-chart"))["客户池移动 · 确认有需求"] == "2"

    assert isinstance(ui_svc.clock, FixedClock)
    ui_svc.clock.advance(hours=25)  # a day later they are out of the window
    client = sign_in("chaotu-demo", "carol")  # (the session above has ended by then)
    later = in_language(client, "zh-CN", "/admin/dashboard")
    assert "最近 24 小时没有自动决策。" in later and 'id="decisions-chart"' not in later
    ui_svc.clock.advance(hours=-25)


def test_failed_jobs_count_and_latest_errors_without_personal_data(
    sign_in: SignIn, ui_svc: Services
) -> None:
    assert isinstance(ui_svc.clock, FixedClock)
    ui_svc.clock.advance(hours=6)  # 09:00 in New York: after the campaign's quiet hours
    for i in range(2):
        data = {
            "last_name": f"Trial{i}",
            "email": f"trial{i}@example.com",
            "trial_started_at": "2026-11-24T09:00:00Z",
        }
        ui_svc.records.create("acme-saas", "lead", data)
    jobs = ui_svc.jobs.claim("test-worker", ["webhook"], 10, 60)
    assert len(jobs) == 2
    for job in jobs:
        error = "HTTP 410: unknown lead trial0@example.com, call +86 138 0013 8000"
        ui_svc.jobs.fail(job, "test-worker", error, retryable=False)
    client = sign_in("acme-saas", "priya")  # failed jobs: for see_all_stats or configure
    en = in_language(client, "en", "/admin/dashboard")
    assert 'id="failed-total">Gave up after every retry: 2<' in en
    assert en.count("HTTP 410: unknown lead t***@example.com, call 861****8000") == 2
    assert "trial0@example.com" not in en and "0013" not in en
    assert "Trial sign-up sequence" in en  # the job's campaign by its label
    zh = in_language(client, "zh-CN", "/admin/dashboard")
    assert "已放弃重试：2" in zh and "试用注册序列" in zh


def test_no_failed_jobs_and_signed_out(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in("chaotu-demo", "carol")
    assert "No failed jobs." in in_language(client, "en", "/admin/dashboard")
    assert "没有失败的任务。" in in_language(client, "zh-CN", "/admin/dashboard")
    signed_out_redirects(client, "/admin/dashboard")


def test_the_funnel_stops_at_the_goal_and_marks_the_weakest_stage() -> None:
    bundle = load_bundle_dir(ROOT / "configs" / "acme-saas")
    lifecycle = bundle.pool_sets["lead_lifecycle"]
    assert funnel_pools(lifecycle) == ["new", "working", "nurture", "qualified", "customer"]
    counts = {"new": 50, "working": 30, "nurture": 10, "qualified": 8, "customer": 2}
    found = funnel(lifecycle, {**counts, "recycled": 40})
    assert [s.reached for s in found.stages] == [100, 50, 20, 10, 2]
    assert found.bottleneck == "qualified"  # 2 / 10 = 20%, the lowest
    assert found.exits == (("recycled", 40),)
    assert funnel(lifecycle, {}).bottleneck is None


def test_errors_are_clipped_and_masked() -> None:
    assert scrub(None) == ""
    assert scrub("x" * 500).endswith("…") and len(scrub("x" * 500)) == 240
    assert scrub("to wang.li@chaotu-demo.cn") == "to w***@chaotu-demo.cn"
    assert scrub("HTTP 503 after 30s") == "HTTP 503 after 30s"


def test_the_figures_on_postgresql() -> None:
    """The same queries on PostgreSQL (skipped without TIDEPOOL_TEST_POSTGRES_URL)."""
    with pg_schema() as engine:
        svc = Services.open(engine=engine, clock=FixedClock(START))
        svc.install_bundle(load_bundle_dir(ROOT / "configs" / "chaotu-demo"), tests=False)
        seed_customers(svc)
        cfg = svc.configs.active("chaotu-demo")
        found = dashboard(svc.store, cfg, START)
        figures = found.pool_sets[0]
        assert figures.counts["nurturing"] == 4 and figures.funnel.bottleneck == "has_need"
        moves = {c.rule: c.count for c in found.decisions.counts if c.kind == "pool_move"}
        assert moves == {"customer_pool.need_confirmed": 2, "customer_pool.no_contact": 1}
        assert not found.decisions.partial and found.failed.total == 0
        east = {"name": "华东", "phone": "13700000000", "region": "east"}
        svc.records.create("chaotu-demo", "customer", east)
        board = assignment_board(svc.store, cfg, START)
        alice = next(u for u in board.users if u.user == "alice")
        assert (alice.open, alice.today, alice.open_left, alice.per_day_left) == (1, 1, 49, 19)
        assert {q.queue: q.count for q in board.queues} == {"unassigned_leads": 7}
