"""The campaigns page: per campaign and variant fired, delivered, failed and converted, with
column charts, in both languages and for a period."""

from __future__ import annotations

import re

from engine.clock import FixedClock
from engine.service import Services
from tests.admin_ui.conftest import SignIn
from tests.admin_ui.page_helpers import bars, in_language, signed_out_redirects, svg


def trials(svc: Services) -> None:
    """Three trials start (three firings of trial_sequence): two webhooks arrive, one is
    refused for good, and one lead qualifies (the campaign's goal)."""
    assert isinstance(svc.clock, FixedClock)
    svc.clock.advance(hours=6)  # 09:00 in New York: after the campaign's quiet hours
    ids = []
    for i in range(3):
        data = {
            "last_name": f"Trial{i}",
            "email": f"trial{i}@example.com",
            "trial_started_at": "2026-11-24T09:00:00Z",
        }
        ids.append(svc.records.create("acme-saas", "lead", data).result["id"])
    jobs = sorted(svc.jobs.claim("test-worker", ["webhook"], 10, 60), key=lambda j: j.id)
    assert len(jobs) == 3
    svc.jobs.finish(jobs[0], "test-worker")
    svc.jobs.finish(jobs[1], "test-worker")
    svc.jobs.fail(jobs[2], "test-worker", "HTTP 410", retryable=False)
    svc.records.update("acme-saas", "lead", ids[0], {"status": "qualified"})


def variant_row(html: str, campaign: str) -> dict[str, str]:
    section = re.search(rf'<section[^>]*id="campaign-{campaign}".*?</section>', html, re.S)
    assert section, f"no campaign {campaign}"
    cells = re.findall(r'<td class="num ([a-z-]+)">(\d+)</td>', section.group(0))
    return dict(cells)


def test_stats_per_variant_with_a_chart_in_both_languages(
    sign_in: SignIn, ui_svc: Services
) -> None:
    trials(ui_svc)
    client = sign_in("acme-saas", "priya")  # a manager: the figures need see_all_stats
    en = in_language(client, "en", "/admin/campaigns")
    assert variant_row(en, "trial_sequence") == {
        "fired": "3",
        "delivered": "2",
        "failed": "1",
        "held-out": "0",
        "pending": "0",
        "converted": "1",
    }
    assert "33.3%" in en and "Trial sign-up sequence" in en and "All records" in en
    assert bars(svg(en, "campaign-chart-trial_sequence")) == {
        "All records · Fired": "3",
        "All records · Delivered": "2",
        "All records · Failed": "1",
        "All records · Converted": "1",
    }
    overview = bars(svg(en, "campaigns-overview"))
    assert len(overview) == 3 * 4  # every campaign, four bars each
    assert overview["Hot lead alert · Fired"] == "0"
    hot = re.search(r'id="campaign-hot_lead_alert".*?</section>', en, re.S)
    assert hot and "Has not fired in this period." in hot.group(0)

    zh = in_language(client, "zh-CN", "/admin/campaigns")
    assert bars(svg(zh, "campaign-chart-trial_sequence"))["全部记录 · 送达"] == "2"
    assert "试用注册序列" in zh and "该时间范围内没有触发。" in zh


def test_a_period_without_firings(sign_in: SignIn, ui_svc: Services) -> None:
    trials(ui_svc)
    assert isinstance(ui_svc.clock, FixedClock)
    ui_svc.clock.advance(days=10)
    client = sign_in("acme-saas", "priya")
    week = in_language(client, "en", "/admin/campaigns?days=7")
    assert 'id="campaign-chart-trial_sequence"' not in week
    assert 'id="campaigns-overview"' not in week and '<option value="7" selected>' in week
    assert (
        variant_row(in_language(client, "en", "/admin/campaigns?days=30"), "trial_sequence")[
            "fired"
        ]
        == "3"
    )
    assert client.get("/admin/campaigns?days=-1").status_code == 422
    signed_out_redirects(client, "/admin/campaigns")
