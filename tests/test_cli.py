"""The `tidepool` command: exit codes and what a person reads."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli
from engine.service import Services
from tests.helpers import FIXTURES, ROOT


def run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["tidepool", *args])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_ok(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["validate", "tests/fixtures/shop", "configs/chaotu-demo", "configs/acme-saas"],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert "tests/fixtures/shop: ok (tenant shop, 2 entities, 1 forms, 2 views, 1 pool sets)" in out


def test_validate_reports_each_error_at_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "tenant.yaml").write_text("tenant: b\nname: B\ntimezone: UTC\n")
    (bundle / "entities.yaml").write_text(
        "entities:\n  lead:\n    fields:\n      budget: {type: money, requried: true}\n"
    )
    code, _, err = run(["validate", str(bundle)], monkeypatch, capsys)
    assert code == 1
    assert err.splitlines()[:2] == [
        f"{bundle}/entities.yaml:4:29: error: unknown key 'requried' "
        "(at /entities/lead/fields/budget/requried)",
        "  hint: did you mean 'required'?",
    ]
    assert err.splitlines()[-1] == f"{bundle}: 1 error(s)"


def test_load_keys_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, _ = run(["load", str(FIXTURES / "shop"), "--db", db], monkeypatch, capsys)
    assert (code, out.strip()) == (0, "shop: loaded as version 1")
    code, out, _ = run(["load", str(FIXTURES / "shop"), "--db", db], monkeypatch, capsys)
    assert out.strip() == "shop: unchanged, still version 1"
    code, out, _ = run(["keys", "create", "--tenant", "shop", "--db", db], monkeypatch, capsys)
    assert code == 0 and out.startswith("tp_")
    code, out, _ = run(
        ["keys", "create", "--tenant", "shop", "--name", "mia", "--user", "mia", "--db", db],
        monkeypatch,
        capsys,
    )
    assert code == 0 and out.startswith("tp_")
    code, _, err = run(
        ["keys", "create", "--tenant", "shop", "--user", "zed", "--db", db], monkeypatch, capsys
    )
    assert code == 1 and "'zed' is not a user of tenant 'shop'" in err
    code, out, _ = run(["keys", "list", "--tenant", "shop", "--db", db], monkeypatch, capsys)
    assert code == 0 and "default" in out and "active" in out and "user mia" in out
    code, out, _ = run(
        ["keys", "revoke", "--tenant", "shop", "--name", "default", "--db", db], monkeypatch, capsys
    )
    assert (code, out.strip()) == (0, "revoked 1 key(s) named 'default'")
    code, out, _ = run(
        ["seed", "--tenant", "shop", "--count", "30", "--db", db], monkeypatch, capsys
    )
    assert (code, out.strip()) == (0, "30 customer, 30 order")
    code, out, _ = run(["rollups", "--tenant", "shop", "--db", db], monkeypatch, capsys)
    assert (code, out.strip()) == (0, "0 record(s) updated")  # seeding kept them current
    code, _, err = run(
        ["rollups", "--tenant", "shop", "--entity", "custmer", "--db", db], monkeypatch, capsys
    )
    assert code == 1 and "did you mean 'customer'" in err


def test_errors_are_messages_not_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    code, _, err = run(["keys", "create", "--tenant", "nobody", "--db", db], monkeypatch, capsys)
    assert (code, err.strip()) == (1, "error: unknown tenant 'nobody'")
    code, _, err = run(["validate", str(tmp_path / "missing")], monkeypatch, capsys)
    assert code == 1 and "not a bundle folder" in err and "Traceback" not in err
    code, _, err = run(["seed", "--tenant", "x", "--count", "0", "--db", db], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err


def test_console_script_is_installed() -> None:
    tidepool = Path(sys.executable).parent / "tidepool"
    result = subprocess.run(
        [str(tidepool), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for command in ("validate", "load", "keys", "seed", "serve"):
        assert command in result.stdout


def test_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run(["load", str(FIXTURES / "shop"), "--db", db], monkeypatch, capsys)
    code, out, _ = run(
        ["sweep", "--tenant", "shop", "--now", "2026-01-01T00:00:00Z", "--db", db],
        monkeypatch,
        capsys,
    )
    assert (code, out.strip()) == (0, "0 record(s) moved")
    code, _, err = run(
        ["sweep", "--tenant", "shop", "--now", "soon", "--db", db], monkeypatch, capsys
    )
    assert code == 2 and "not an ISO time" in err


def test_push_activate_diff_rollback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run(["load", str(FIXTURES / "shop"), "--db", db], monkeypatch, capsys)
    changed = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", changed)
    entities = changed / "entities.yaml"
    entities.write_text(entities.read_text().replace("max_length: 50", "max_length: 80"))
    code, out, _ = run(["push", str(changed), "--db", db], monkeypatch, capsys)
    assert (code, out.strip()) == (0, "shop: stored as version 2")
    code, out, _ = run(["diff", "--tenant", "shop", "1", "2", "--db", db], monkeypatch, capsys)
    assert out.splitlines() == [
        "~ field customer.name  (max_length)",
        "1 change(s) from version 1 to 2",
    ]
    code, out, _ = run(["activate", "--tenant", "shop", "2", "--db", db], monkeypatch, capsys)
    assert (code, out.strip()) == (0, "shop: version 2 is now active")
    code, out, _ = run(["versions", "--tenant", "shop", "--db", db], monkeypatch, capsys)
    assert out.splitlines()[0].startswith("*    2")
    code, out, _ = run(["rollback", "--tenant", "shop", "--db", db], monkeypatch, capsys)
    assert (code, out.strip()) == (0, "shop: back to version 1")
    code, _, err = run(["activate", "--tenant", "shop", "7", "--db", db], monkeypatch, capsys)
    assert code == 1 and "no config version 7" in err


def test_bundle_tests_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["test", str(FIXTURES / "campaigns")], monkeypatch, capsys)
    assert code == 0 and out.splitlines()[-1].startswith("6 passed in ")
    assert "::a website sign-up gets a task and a tag PASSED" in out


def test_show_lists_the_folders_and_resolves_with_sources(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["show", "configs/northwind-b2b"], monkeypatch, capsys)
    assert code == 0
    assert out.splitlines() == [
        "configs/northwind-b2b/: entities.yaml, pools.yaml, tenant.yaml, tests.yaml",
        "configs/_templates/b2b-sales/: assignment.yaml, entities.yaml, pools.yaml, tenant.yaml, "
        "tests.yaml",
    ]
    code, out, _ = run(["show", "--resolved", "configs/northwind-b2b"], monkeypatch, capsys)
    assert code == 0
    assert (
        "  - id: qualified_by_score  # configs/northwind-b2b/pools.yaml:9 "
        "(over configs/_templates/b2b-sales/pools.yaml:19)"
    ) in out
    assert "  - id: big_companies  # configs/_templates/b2b-sales/assignment.yaml:7" in out
    assert "gone_quiet" not in out  # removed by the client
    code, out, _ = run(
        ["show", "--resolved", "--json", "configs/northwind-b2b"], monkeypatch, capsys
    )
    data = json.loads(out)
    assert data["folders"] == ["configs/northwind-b2b", "configs/_templates/b2b-sales"]
    promotions = data["pools"]["data"]["pool_sets"]["lead_lifecycle"]["promotions"]
    assert [p["id"] for p in promotions] == ["disqualified", "qualified_by_score", "started"]


def test_show_of_a_bad_bundle_prints_the_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tenant.yaml").write_text("extends: ../nowhere\ntenant: x\n")
    code, _, err = run(["show", "--resolved", str(tmp_path)], monkeypatch, capsys)
    assert code == 1
    assert f"{tmp_path}/tenant.yaml:1:10: error: template folder '../nowhere' not found" in err


def test_validate_checks_a_template_as_a_bundle_extending_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["validate", "configs/_templates/b2b-sales"], monkeypatch, capsys)
    assert code == 0
    assert "configs/_templates/b2b-sales: ok (a template, checked as a bundle extending it" in out
    broken = tmp_path / "tpl"
    shutil.copytree(ROOT / "configs/_templates/b2b-sales", broken)
    pools = (broken / "pools.yaml").read_text().replace("employees >= 500", "employes >= 500")
    (broken / "pools.yaml").write_text(pools)
    code, _, err = run(["validate", str(broken)], monkeypatch, capsys)
    assert code == 1
    assert f"{broken}/pools.yaml:41:17: error: unknown field 'employes'" in err


def test_users_set_password_reads_stdin_and_refuses_short_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(["load", "tests/fixtures/shop", "--db", db], monkeypatch, capsys)[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough-1\n"))
    args = ["users", "set-password", "alice", "--tenant", "shop", "--password-stdin", "--db", db]
    code, out, _ = run(args, monkeypatch, capsys)
    assert (code, out.strip()) == (0, "shop: password set for alice")
    assert Services.open(db).passwords.check("shop", "alice", "long-enough-1")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and "at least 8 characters" in err
