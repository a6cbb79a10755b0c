"""X-Forwarded-For is believed from the proxies in TIDEPOOL_TRUSTED_PROXIES only: what
`tidepool serve` hands uvicorn, and a real uvicorn server on 127.0.0.1 so configured, where a
hosted form's per-address limit counts the connecting address unless a listed proxy says
otherwise (tests/fixtures/hosted_form: 3 submissions per address, 5 per form)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from engine.api.app import create_app
from engine.api.proxies import proxy_settings, trusted_proxies
from engine.clock import FixedClock
from engine.service import Services
from tests.helpers import FIXTURES
from tests.service.test_worker import tidepool

PAGE = "/f/formdemo/signup?source=qr_scan&act=2026-expo"
SERVER_SECONDS = 60  # a test server stops by itself after this, whatever happens


# the setting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "listed"),
    [
        ("", []),
        (" , ", []),
        ("10.0.0.5", ["10.0.0.5"]),
        (" 10.0.0.5 , 192.168.0.0/16,", ["10.0.0.5", "192.168.0.0/16"]),
        ("192.168.7.1/24, 10.0.0.5/32", ["192.168.7.0/24", "10.0.0.5"]),
        ("::1, 2001:db8::/32, 10.0.0.5, 10.0.0.5", ["::1", "2001:db8::/32", "10.0.0.5"]),
    ],
)
def test_the_list_is_addresses_and_networks(value: str, listed: list[str]) -> None:
    assert trusted_proxies(value) == listed


@pytest.mark.parametrize(
    "value", ["*", "proxy.internal", "10.0.0.1/33", "10.0.0.300", "10.0.0.5 6"]
)
def test_anything_else_in_the_list_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not an IP address or network"):
        trusted_proxies(f"10.0.0.1,{value}")


def test_proxy_headers_are_off_unless_a_proxy_is_listed() -> None:
    assert proxy_settings([]) == {"proxy_headers": False, "forwarded_allow_ips": []}
    assert proxy_settings(["10.0.0.5", "192.168.0.0/16", "::1"]) == {
        "proxy_headers": True,
        # IPv4 proxies also as a dual-stack socket reports them
        "forwarded_allow_ips": [
            "10.0.0.5",
            "192.168.0.0/16",
            "::1",
            "::ffff:a00:5",
            "::ffff:c0a8:0/112",
        ],
    }


def serve_kwargs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], env: str | None
) -> tuple[int, dict[str, Any]]:
    """`tidepool serve` run with uvicorn.run caught: the exit code and the keywords it got."""
    got: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: got.update(kwargs))
    if env is None:
        monkeypatch.delenv("TIDEPOOL_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("TIDEPOOL_TRUSTED_PROXIES", env)
    db = ["--db", f"sqlite:///{tmp_path / 'serve.db'}", "--sweep-every", "0", "--no-worker"]
    return tidepool(["serve", *db, *args], monkeypatch), got


@pytest.mark.parametrize(
    ("args", "env", "trusted"),
    [
        ([], None, []),
        ([], "", []),
        ([], "10.0.0.5, 10.1.0.0/16", ["10.0.0.5", "10.1.0.0/16"]),
        (["--trusted-proxies", "::1"], "10.0.0.5", ["::1"]),
    ],
)
def test_serve_hands_uvicorn_the_listed_proxies(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: str | None,
    trusted: list[str],
) -> None:
    code, got = serve_kwargs(tmp_path, monkeypatch, args, env)
    assert code == 0
    settings = proxy_settings(trusted)
    assert got["proxy_headers"] is bool(trusted)
    assert got["forwarded_allow_ips"] == settings["forwarded_allow_ips"]
    said = capsys.readouterr().out
    assert ("X-Forwarded-For of " + ", ".join(trusted) in said) is bool(trusted)


def test_serve_refuses_a_list_it_cannot_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, got = serve_kwargs(tmp_path, monkeypatch, [], "10.0.0.5, proxy.internal")
    assert code == 2 and got == {}
    said = " ".join(capsys.readouterr().err.split())
    assert "'proxy.internal' is not an IP address or network" in said
    assert not (tmp_path / "serve.db").exists()  # refused before opening anything


# a real server on 127.0.0.1 --------------------------------------------------------------------
@pytest.fixture
def forms(engine: sa.Engine, clock: FixedClock) -> Iterator[Services]:
    """Services with the hosted form fixture bundle (tenant formdemo)."""
    svc = Services.open(engine=engine, clock=clock)
    svc.install_dirs([FIXTURES / "hosted_form"])
    yield svc
    svc.close()


@contextmanager
def serving(svc: Services, listed: str) -> Iterator[str]:
    """The app behind uvicorn on 127.0.0.1, TIDEPOOL_TRUSTED_PROXIES=`listed` as serve
    applies it; stopped on leaving, or after SERVER_SECONDS whatever happens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    settings = proxy_settings(trusted_proxies(listed))
    config = uvicorn.Config(
        create_app(svc), log_config=None, access_log=False, lifespan="off", **settings
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    stop = threading.Timer(SERVER_SECONDS, lambda: setattr(server, "should_exit", True))
    stop.start()
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        stop.cancel()
        thread.join(timeout=10)
        sock.close()


def submit(url: str, n: int, forwarded: str | None) -> int:
    """Submit the form (a new phone each time), as from `forwarded` if given; the status."""
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    data = {"name": "王芳", "phone": f"1390000{n:04d}", "industry": "retail"}
    answer = httpx.post(url + PAGE, data=data, headers=headers, timeout=10)
    return answer.status_code


def test_a_forged_header_from_an_unlisted_peer_changes_nothing(
    forms: Services, clock: FixedClock
) -> None:
    """The peer is 127.0.0.1, which uvicorn would trust by default; here it is not listed: a
    fresh X-Forwarded-For per submission still counts against 127.0.0.1."""
    for listed in ("", "10.0.0.5", "192.168.0.0/16, ::1"):
        with serving(forms, listed) as url:
            statuses = [submit(url, i, f"198.51.100.{i}") for i in range(4)]
        assert statuses == [303, 303, 303, 429], listed
        clock.advance(minutes=11)  # the form's window is 10 minutes


def test_a_listed_proxy_says_who_the_visitor_is(forms: Services, clock: FixedClock) -> None:
    for listed in ("127.0.0.1", "127.0.0.0/8, 10.0.0.5"):
        with serving(forms, listed) as url:
            # each visitor counts alone: the fourth from one address is refused, another passes
            statuses = [submit(url, i, "203.0.113.7") for i in range(4)]
            assert statuses == [303, 303, 303, 429], listed
            assert submit(url, 4, "198.51.100.20") == 303
            # what the visitor wrote in the header stays left of what the proxy appended
            assert submit(url, 5, "198.51.100.99, 203.0.113.7") == 429
            # a request without the header is the proxy's own
            assert submit(url, 6, None) == 303
        clock.advance(minutes=11)
