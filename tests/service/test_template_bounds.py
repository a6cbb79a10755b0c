"""Campaign templates within their bounds, through the service (SQLite and PostgreSQL): a
template that spins or grows fails its action alone — a campaign_error decision with the
reason, in zh-CN and en — after at most about the tenant's budget, and the write goes on."""

from __future__ import annotations

import shutil
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from engine.service import Services
from engine.storage import tables as t
from tests.helpers import FIXTURES
from tests.test_templating import PAYLOADS

T = "promo"
SPIN = PAYLOADS["nested ranges"][0]
FANOUT = PAYLOADS["a macro calling itself twice"][0]
ACTIONS: list[dict[str, Any]] = [
    # a notification's title and body are one action, rendered within one budget
    {"notify": {"to": "owner", "title": FANOUT, "body": SPIN}},
    {"create_task": {"title": PAYLOADS["doubling with ~"][0], "assignee": "owner"}},
    {"set": {"note": PAYLOADS["((9**1000)**1000)**4"][0]}},
    {
        "webhook": {
            "url": "http://127.0.0.1:9/hooks/b",
            "body": {"id": "{{ record.id }}", "x": SPIN},
        }
    },
    {"set": {"tags": {"add": ["after_the_payloads"]}}},  # the next action still runs
]
EXPECTED = {  # action → the bounds that may stop it (a slow machine reaches the deadline first)
    "notify": {"template.budget"},
    "create_task": {"template.too_long"},
    "set": {"template.integer"},
    "webhook": {"template.budget", "template.steps", "template.output"},
}


def _install(svc: Services, folder: Path, budget_ms: int | None) -> None:
    shutil.copytree(FIXTURES / "campaigns", folder)
    (folder / "tests.yaml").unlink()  # its cases describe the fixture as it is
    if budget_ms is not None:
        tenant = folder / "tenant.yaml"
        tenant.write_text(tenant.read_text() + f"template_budget_ms: {budget_ms}\n")
    campaigns = yaml.safe_load((folder / "campaigns.yaml").read_text())
    campaigns["campaigns"].append(
        {
            "id": "bounded",
            "entity": "customer",
            "trigger": {"created": True},
            "when": "source == 'qr_scan'",
            "actions": ACTIONS,
        }
    )
    (folder / "campaigns.yaml").write_text(yaml.safe_dump(campaigns, allow_unicode=True))
    svc.install_dirs([folder])


def _rows(svc: Services, table: sa.Table, *where: Any) -> list[Any]:
    with svc.store.read() as tx:
        return list(tx.conn.execute(sa.select(table).where(*where)))


def _create(svc: Services, source: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    made: dict[str, Any] = svc.records.create(
        T, "customer", {"name": "甲", "source": source, "owner": "alice"}
    ).result
    return made, time.monotonic() - started


@pytest.mark.parametrize("budget_ms", [None, 120], ids=["default 200 ms", "tenant 120 ms"])
def test_payloads_fail_their_actions_alone_within_the_budget(
    svc: Services, tmp_path: Path, budget_ms: int | None
) -> None:
    _install(svc, tmp_path / "promo", budget_ms)
    _, plain = _create(svc, "website_form")  # a write whose campaign renders ordinary text
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made, took = _create(svc, "qr_scan")
        grew = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()

    budget = (budget_ms or 200) / 1000
    templated = len(ACTIONS) - 1  # the four actions that render a payload
    assert took < plain + templated * 1.5 * budget + 0.3  # not 18.7 s
    assert grew < 50 * 2**20
    assert made["data"]["tags"] == ["after_the_payloads"] and "note" not in made["data"]
    assert _rows(svc, t.notifications, t.notifications.c.campaign == "bounded") == []
    tasks = _rows(svc, t.records, t.records.c.entity == "task")
    assert [task.data["title"] for task in tasks] == ["回访 甲"]  # the welcome campaign's only
    assert _rows(svc, t.jobs, t.jobs.c.kind == "webhook", t.jobs.c.campaign == "bounded") == []

    en = svc.records.explain(T, "customer", made["id"], "en")["timeline"]
    errors = [d for d in en if d["kind"] == "campaign_error"]
    assert [e["campaign"]["kind"] for e in errors] == ["notify", "create_task", "set", "webhook"]
    for error in errors:
        (reason,) = error["campaign"]["errors"]
        assert reason["code"] in EXPECTED[error["campaign"]["kind"]], reason
        assert error["explanation"] == (
            f"campaign bounded: action {error['campaign']['kind']} failed: {reason['message']}"
        )
    zh = svc.records.explain(T, "customer", made["id"], "zh-CN")["timeline"]
    (integer,) = [
        d["explanation"] for d in zh if d["kind"] == "campaign_error" and "set" in d["explanation"]
    ]
    assert integer == (
        "营销活动 bounded：动作 set 失败：第 1 行：数字将超过 4096 位二进制（约 1233 位十进制）"
    )
    budgets = [e for e in errors if e["campaign"]["errors"][0]["code"] == "template.budget"]
    assert budgets  # the notification's at least: only the clock stops its title
    for error in budgets:
        assert f"its {budget_ms or 200} ms budget" in error["explanation"]


def test_ordinary_templates_still_render(svc: Services, tmp_path: Path) -> None:
    _install(svc, tmp_path / "promo", 50)  # a tight budget is plenty for a title
    made, _ = _create(svc, "website_form")
    (task,) = _rows(svc, t.records, t.records.c.entity == "task")
    assert task.data["title"] == "回访 甲" and made["data"]["tags"] == ["welcomed"]
    timeline = svc.records.explain(T, "customer", made["id"], "en")["timeline"]
    assert not [d for d in timeline if d["kind"] == "campaign_error"]
