"""The admin UI in a real browser: Playwright (sync API) driving Debian's chromium against a live
uvicorn server of the full app, one per test module.

The server runs `create_app(svc)` in a background thread on a free 127.0.0.1 port, over a
temporary SQLite file with the demo bundles (configs/chaotu-demo, configs/acme-saas) installed
without their tests.yaml (activating a version from the config page would otherwise run the
bundle's ~30 cases first, tens of seconds here), every user's password set to PASSWORD, demo
records seeded and a few known records added (`Seeded`). Its clock is fixed at
tests.helpers.START, so what the pages show is the same on every run. No sweep loop runs (as
`tidepool serve` would every minute): a test that needs one calls `live.svc.sweep(tenant)`.

Chromium: /usr/bin/chromium (Playwright's own browser download does not work here). Without it
the browser tests are skipped locally, but fail under CI (CI set), where it must be installed.
Screenshots go to tests/artifacts/<name>.png (not committed).
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.service.seed import seed
from engine.storage.db import make_engine
from tests.helpers import ROOT, START

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-42"
DEMOS = ("chaotu-demo", "acme-saas")
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT_MS = 15_000

# The known chaotu-demo customers (besides the generated ones).
KNOWN_NAME = "星辰浏览器测试有限公司"
KNOWN_PHONE = "13812345678"  # a sales rep sees 138****5678
KNOWN_MASKED = "138****5678"
BOARD_PREFIX = "看板测试客户"  # in has_need; company_size 9500 (see test_pages' big_company rule)
BOARD_COUNT = 3
PUBLIC_PREFIX = "公海测试客户"
PUBLIC_COUNT = 24  # more than chaotu-demo's daily_claims (20)
CLAIMER = "dave"  # a sales rep who claims from the public pool


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need_chromium() -> None:
    """Skip without chromium, except under CI, where a missing browser is a failure."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if in_ci():
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


# the live server -----------------------------------------------------------------------------
@dataclass
class Seeded:
    """Records the tests know by id."""

    known: str = ""  # a chaotu-demo customer in has_need (need_confirmed fired), phone KNOWN_PHONE
    public: list[str] = field(default_factory=list)  # chaotu-demo customers in the public pool
    board: list[str] = field(default_factory=list)  # chaotu-demo customers in has_need, big
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # tenant: entity: count


@dataclass
class Live:
    url: str
    svc: Services
    seeded: Seeded
    folder: Path

    def __call__(self, path: str) -> str:
        return self.url + path


def _install(svc: Services) -> Seeded:
    seeded = Seeded()
    for name in DEMOS:
        files = read_bundle_dir(ROOT / "configs" / name)
        bundle = load_bundle({k: v for k, v in files.items() if k != "tests.yaml"})
        svc.install_bundle(bundle, actor="tests", tests=False)
        for user in bundle.tenant.users:
            svc.passwords.set(bundle.id, user, PASSWORD)
        seeded.counts[name] = seed(svc.records, bundle, 12, svc.clock.now(), seed_value=3)
    tenant = "chaotu-demo"
    known = {
        "name": KNOWN_NAME,
        "phone": KNOWN_PHONE,
        "email": "xingchen@example.cn",
        "source": "referral",
        "region": "east",
        "industry": "retail",
        "budget": "20000",
    }
    seeded.known = svc.records.create(tenant, "customer", known, actor="tests").result["id"]
    for i in range(BOARD_COUNT):  # need_confirmed takes them to has_need; nothing further
        data = {
            "name": f"{BOARD_PREFIX}{i}",
            "phone": f"1370000{i:04d}",
            "source": "website_form",
            "region": "east",
            "industry": "retail",
            "budget": "20000",
            "company_size": 9500,
        }
        made = svc.records.create(tenant, "customer", data, actor="tests").result["id"]
        seeded.board.append(made)
    # The public pool: customers bob held, then gave back (so every other rep may claim them).
    for i in range(PUBLIC_COUNT):
        data = {
            "name": f"{PUBLIC_PREFIX}{i:02d}",
            "phone": f"1390000{i:04d}",
            "region": "east",
            "industry": "other",
            "owner": "bob",
        }
        made = svc.records.create(tenant, "customer", data, actor="tests").result["id"]
        svc.owners.release(tenant, "customer", made, "bob", actor="bob")
        seeded.public.append(made)
    return seeded


def _wait_until_up(server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting")
        if server.started:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the test server at {url} did not answer /healthz within 30 s")


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """The full app (API and admin UI) served by uvicorn in a thread, on its own SQLite file."""
    need_chromium()  # no browser, no point in starting a server
    with tempfile.TemporaryDirectory(prefix="tidepool-browser-") as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'ui.db'}")
        svc = Services.open(engine=engine, clock=FixedClock(START))
        try:
            seeded = _install(svc)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))  # bound here: no race for the port
            port = sock.getsockname()[1]
            config = uvicorn.Config(
                create_app(svc),
                log_level="warning",
                access_log=False,
                ws="none",
                lifespan="off",
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
            )
            thread.start()
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(server, thread, url)
                yield Live(url, svc, seeded, folder)
            finally:
                server.should_exit = True
                thread.join(timeout=15)
                sock.close()
        finally:
            svc.close()


# the browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    need_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Headless Debian chromium, with its background networking off (the network is closed)."""
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, live: Live) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (no cookies), English by default."""
    made = browser.new_context(
        base_url=live.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    made.set_default_timeout(TIMEOUT_MS)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# helpers -------------------------------------------------------------------------------------
def signed_in(page: Page, tenant: str, user: str, password: str = PASSWORD) -> Page:
    """Sign `user` of `tenant` in through the sign-in form; the page is where it led."""
    page.goto("/admin/login")
    page.locator("select[name=tenant]").select_option(tenant)
    page.locator("input[name=user]").fill(user)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^(Sign in|登录)$")).click()
    if "/admin/login" in page.url:
        refused = page.get_by_role("alert").all_inner_texts()
        raise AssertionError(f"{user} of {tenant} could not sign in: {refused}")
    return page


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot at tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def text_of(page: Page, selector: str = "main") -> str:
    """The visible text of the page's main part."""
    found: Any = page.locator(selector).inner_text()
    return str(found)
