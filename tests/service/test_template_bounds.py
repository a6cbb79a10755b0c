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
AFTER = {"set": {"tags": {"add": ["after_the_payloads"]}}}  # the next action still runs
# Payloads only the clock stops (the loop may also reach its steps or the output cap first).
CLOCKED: list[dict[str, Any]] = [
    # a notification's title and body are one action, rendered within one budget
    {"notify": {"to": "owner", "title": FANOUT, "body": SPIN}},
    {
        "webhook": {
            "url": "http://127.0.0.1:9/hooks/b",
            "body": {"id": "{{ record.id }}", "x": SPIN},
        }
    },
    AFTER,
]
CLOCK = {"template.budget", "template.steps", "template.output"}
# Payloads a bound on size stops, given time (a tenant budget of 5 s: the clock stays out).
SIZED: list[dict[str, Any]] = [
    {"notify": {"to": "owner", "title": PAYLOADS["format width from an argument"][0]}},
    {"create_task": {"title": PAYLOADS["doubling with ~"][0], "assignee": "owner"}},
    {"set": {"note": PAYLOADS["((9**1000)**1000)**4"][0]}},
    {"webhook": {"url": "http://127.0.0.1:9/hooks/b", "body": [PAYLOADS["join"][0]]}},
    AFTER,
]
SIZES = {
    "notify": "template.too_long",
    "create_task": "template.too_long",
    "set": "template.integer",
    "webhook": "template.too_long",
}


def _install(
    svc: Services, folder: Path, budget_ms: int | None, actions: list[dict[str, Any]]
) -> None:
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
            "actions": actions,
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


def _bounded_write(svc: Services) -> tuple[dict[str, Any], float, float, list[Any]]:
    """A write whose campaign renders ordinary text, then one whose campaign meets the
    payloads: the second's time, the first's, and the second's campaign errors."""
    _, plain = _create(svc, "website_form")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made, took = _create(svc, "qr_scan")
        grew = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert grew < 50 * 2**20
    assert made["data"]["tags"] == ["after_the_payloads"] and "note" not in made["data"]
    assert _rows(svc, t.notifications, t.notifications.c.campaign == "bounded") == []
    tasks = _rows(svc, t.records, t.records.c.entity == "task")
    assert [task.data["title"] for task in tasks] == ["回访 甲"]  # the welcome campaign's only
    assert _rows(svc, t.jobs, t.jobs.c.kind == "webhook", t.jobs.c.campaign == "bounded") == []
    en = svc.records.explain(T, "customer", made["id"], "en")["timeline"]
    errors = [d for d in en if d["kind"] == "campaign_error"]
    for error in errors:
        (reason,) = error["campaign"]["errors"]
        assert error["explanation"] == (
            f"campaign bounded: action {error['campaign']['kind']} failed: {reason['message']}"
        )
    return made, took, plain, errors


@pytest.mark.parametrize("budget_ms", [None, 120], ids=["default 200 ms", "tenant 120 ms"])
def test_a_spinning_template_fails_its_action_alone_after_the_budget(
    svc: Services, tmp_path: Path, budget_ms: int | None
) -> None:
    _install(svc, tmp_path / "promo", budget_ms, CLOCKED)
    _, took, plain, errors = _bounded_write(svc)
    budget = (budget_ms or 200) / 1000
    assert took < plain + 2 * 1.5 * budget + 0.5  # two actions' budgets, not 18.7 s
    assert [e["campaign"]["kind"] for e in errors] == ["notify", "webhook"]
    assert {e["campaign"]["errors"][0]["code"] for e in errors} <= CLOCK
    notify = errors[0]["explanation"]  # only the clock stops its title
    assert notify.endswith(
        f"line 1: the template took longer than its {budget_ms or 200} ms budget"
    )


def test_a_growing_template_fails_its_action_alone_with_the_reason(
    svc: Services, tmp_path: Path
) -> None:
    _install(svc, tmp_path / "promo", 5000, SIZED)
    made, took, plain, errors = _bounded_write(svc)
    assert took < plain + 1  # refused before building, not after 5 s
    assert [e["campaign"]["kind"] for e in errors] == ["notify", "create_task", "set", "webhook"]
    for error in errors:
        assert error["campaign"]["errors"][0]["code"] == SIZES[error["campaign"]["kind"]]
    zh = svc.records.explain(T, "customer", made["id"], "zh-CN")["timeline"]
    assert [d["explanation"] for d in zh if d["kind"] == "campaign_error"][2] == (
        "营销活动 bounded：动作 set 失败：第 1 行：数字将超过 4096 位二进制（约 1233 位十进制）"
    )


def test_ordinary_templates_still_render(svc: Services, tmp_path: Path) -> None:
    _install(svc, tmp_path / "promo", 100, CLOCKED)  # a tight budget is plenty for a title
    made, _ = _create(svc, "website_form")
    (task,) = _rows(svc, t.records, t.records.c.entity == "task")
    assert task.data["title"] == "回访 甲" and made["data"]["tags"] == ["welcomed"]
    timeline = svc.records.explain(T, "customer", made["id"], "en")["timeline"]
    assert not [d for d in timeline if d["kind"] == "campaign_error"]
