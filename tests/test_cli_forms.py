"""`tidepool forms qr` and `tidepool forms list`: a PNG of the public form's URL, and a clear
message with exit 1 (never a traceback) for anything it cannot make a code of."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import segno

from engine import cli
from engine.config.loader import load_bundle_dir
from engine.service import Services
from tests.helpers import ROOT
from tests.service.test_qr import modules
from tests.test_cli import run

URL = "https://crm.example.com/f/chaotu-demo/qr_signup?source=qr_scan&activity=2026-expo"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """chaotu-demo installed once: these commands only read the database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    svc = Services.open(url)
    svc.install_bundle(
        load_bundle_dir(ROOT / "configs" / "chaotu-demo"), actor="tests", tests=False
    )
    svc.close()
    return url


@pytest.fixture(autouse=True)
def no_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDEPOOL_PUBLIC_URL", raising=False)


def test_qr_writes_the_png_of_the_url(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "expo.png"
    args = ["forms", "qr", "chaotu-demo", "qr_signup", "--base-url", "https://crm.example.com/"]
    params = ["--param", "activity=2026-expo", "--param", "source=qr_scan"]
    code, out, err = run([*args, *params, "--out", str(png), "--db", db], monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert out.strip() == f"{png}: {URL}"
    expected = segno.make(URL, error="m", micro=False).matrix
    assert modules(png.read_bytes(), 8) == [[bool(v) for v in row] for row in expected]


def test_qr_defaults_to_the_public_url_setting_and_a_file_name(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIDEPOOL_PUBLIC_URL", "https://forms.example.com")
    work = tmp_path / "out"
    work.mkdir()
    monkeypatch.chdir(work)
    args = ["forms", "qr", "chaotu-demo", "qr_signup", "--param", "source=qr_scan", "--db", db]
    monkeypatch.setattr(sys, "argv", ["tidepool", *args])
    cli.main()  # returns on success (exits otherwise)
    written = work / "chaotu-demo-qr_signup-qr_scan.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    url = "https://forms.example.com/f/chaotu-demo/qr_signup?source=qr_scan"
    assert f"{written.name}: {url}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "qr_signup"], "error: unknown tenant 'nope'"),
        (["chaotu-demo", "nope"], "error: tenant 'chaotu-demo' has no form 'nope' (forms: "),
        (["chaotu-demo", "website_signup"], "error: form 'website_signup' is not public"),
        (
            ["chaotu-demo", "qr_signup", "--param", "utm=x"],
            "error: form 'qr_signup' takes no URL parameter 'utm' (it takes: source, activity)",
        ),
        (
            ["chaotu-demo", "qr_signup", "--param", "source=billboard"],
            "error: form 'qr_signup' would drop these values: source: must be one of: ",
        ),
        (["chaotu-demo", "qr_signup", "--param", "source"], "error: --param takes name=value"),
        (
            ["chaotu-demo", "qr_signup", "--param", "source=qr_scan", "--param", "source=x"],
            "error: --param source given twice",
        ),
        (["chaotu-demo", "qr_signup", "--base-url", "ftp://h"], "error: the base URL must"),
        (["chaotu-demo", "qr_signup", "--out", "/nonexistent/dir/x.png"], "error: cannot write"),
    ],
)
def test_qr_refuses_bad_input_with_exit_1(
    db: str,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["forms", "qr", *args, "--db", db], monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err.startswith(message) and "Traceback" not in err


def test_list_shows_every_form_and_the_public_ones_urls(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["forms", "list", "chaotu-demo", "--db", db], monkeypatch, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["website_signup", "customer", "API", "only"]
    assert lines[1].split() == [
        "qr_signup",
        "customer",
        "public",
        "http://127.0.0.1:8000/f/chaotu-demo/qr_signup",
    ]
    assert "  URL parameters: source (source), activity (activity)" in lines
    assert "  embed script: http://127.0.0.1:8000/f/chaotu-demo/qr_signup/embed.js" in lines
    assert "  embed origins: https://www.chaotu.example" in lines
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == [
        "website_signup",
        "qr_signup",
        "order_entry",
        "followup_log",
    ]
    code, _, err = run(["forms", "list", "nope", "--db", db], monkeypatch, capsys)
    assert (code, err.strip()) == (1, "error: unknown tenant 'nope'")
