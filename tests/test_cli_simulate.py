"""`tidepool simulate`: a dry run of a bundle folder against its tenant's stored records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.service import Services
from tests.helpers import FIXTURES, START
from tests.test_cli import run

NOW = "2026-11-24T16:00:00+08:00"  # START in Shanghai


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database with the shop bundle active and five customers (two would move)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    svc = Services.open(url, clock=FixedClock(START))
    svc.install_dirs([FIXTURES / "shop"])
    for budget in ("60000", "70000", "150000", "5", "0"):
        data = {"name": f"c{budget}", "budget": budget, "region": "east", "owner": "alice"}
        svc.records.create("shop", "customer", data)
    svc.close()
    return url


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    """The shop bundle with big_budget from 50,000 instead of 100,000."""
    folder = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", folder)
    pools = folder / "pools.yaml"
    text = pools.read_text()
    old = "when: {field: budget, op: gte, value: 100000}"
    assert old in text
    pools.write_text(text.replace(old, "when: {field: budget, op: gte, value: 50000}"))
    return folder


def test_a_readable_table_in_english_and_chinese(
    db: str, candidate: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["simulate", str(candidate), "--db", db, "--now", NOW]
    code, out, err = run([*args, "--locale", "en"], monkeypatch, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "Dry run of the given bundle for shop (active: version 1), as of 2026-11-24T08:00:00+00:00"
    )
    assert lines[1].startswith("5 record(s) scanned, 2 would change, 0 with errors, in ")
    assert "  ~ promotion customer_pool.big_budget  (when)" in lines
    assert "Customer (customer): 5 of 5 scanned, 2 would change" in lines
    assert "Pool moves" in lines
    row = next(line for line in lines if "Has need (has_need)" in line)
    assert "Key follow-up (key)" in row and "│       2 │" in row and "big_budget ×2" in row
    assert "c60000" in row and "c70000" in row
    code, out, _ = run(args, monkeypatch, capsys)  # the tenant's locale: zh-CN
    assert code == 0
    assert "客户（customer）：扫描 5/5 条，2 条会变化" in out and "客户池流转" in out
    assert "有需求池 (has_need)" in out and "重点跟进池 (key)" in out


def test_json_and_a_sample(
    db: str, candidate: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["simulate", str(candidate), "--db", db, "--json", "--sample", "2", "--now", NOW],
        monkeypatch,
        capsys,
    )
    assert code == 0
    report = json.loads(out)
    (entity,) = report["entities"]
    assert (entity["total"], entity["scanned"], report["sample"]) == (5, 2, 2)
    assert report["notes"] == [{"code": "sampled", "params": {"n": 2}}]


def test_a_bad_bundle_a_bad_time_and_a_tenant_without_config_exit_1(
    db: str,
    candidate: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pools = candidate / "pools.yaml"
    pools.write_text(pools.read_text().replace("to: won", "to: wonn"))
    code, _, err = run(["simulate", str(candidate), "--db", db], monkeypatch, capsys)
    assert code == 1
    assert f"{candidate}/pools.yaml:" in err and "wonn" in err
    assert err.splitlines()[-1] == f"{candidate}: 1 error(s)"
    code, _, err = run(
        ["simulate", str(FIXTURES / "shop"), "--db", db, "--now", "2026-11-24"], monkeypatch, capsys
    )
    assert code == 2 and "--now" in err
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = run(["simulate", str(FIXTURES / "shop"), "--db", empty], monkeypatch, capsys)
    assert code == 1 and "tenant 'shop' has no active config" in err
