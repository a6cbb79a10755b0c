"""Shared by the hosted form page's tests (test_hosted_*.py; no tests here): the fixture
bundle tests/fixtures/hosted_form (tenant formdemo) installed next to the demo bundles, a
client with its own network address, and readers of the page and the stored records."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.service import Services
from engine.storage import tables as t
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, START

TENANT = "formdemo"
FORM = "/f/formdemo/signup"
CHANNEL = {"source": "qr_scan", "act": "2026-expo"}
PAGE = f"{FORM}?source=qr_scan&act=2026-expo"
CLIENT_SITE = "https://www.client.example"
OTHER_SITE = "https://evil.example"
GOOD_PHONE = "13800138000"


def hosted_template(ui_template: Path, folder: Path) -> Path:
    """The UI tests' database (demo bundles) with the fixture bundle installed too."""
    path = folder / "hosted.db"
    shutil.copy(ui_template, path)
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=FixedClock(START))
    svc.install_dirs([FIXTURES / "hosted_form"])
    svc.close()
    return path


def services_on(template: Path, folder: Path) -> Iterator[Services]:
    """Services on a fresh copy of the template, the clock at tests.helpers.START."""
    path = folder / "hosted.db"
    shutil.copy(template, path)
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=FixedClock(START))
    yield svc
    svc.close()


def visitor(svc: Services, address: str = "203.0.113.7", **headers: str) -> TestClient:
    """A browser at `address` (the rate limits count per address)."""
    return TestClient(create_app(svc), client=(address, 50000), headers=headers)


def clock_of(svc: Services) -> FixedClock:
    assert isinstance(svc.clock, FixedClock)
    return svc.clock


def records(svc: Services, tenant: str = TENANT) -> list[dict[str, Any]]:
    """The live records' values, oldest first."""
    r = t.records.c
    with svc.store.read() as tx:
        rows = tx.conn.execute(
            sa.select(r.data)
            .where(r.tenant_id == tenant, r.deleted_at.is_(None))
            .order_by(r.created_at, r.id)
        )
        return [dict(data) for (data,) in rows]


def field_html(page: str, name: str) -> str:
    """The markup of one field's wrapper (label, inputs, help, errors)."""
    found = re.search(rf'<div class="field[^"]*" data-field="{name}".*?\n</div>', page, re.S)
    assert found, f"no field {name} on the page"
    return found.group(0)


def visible_text(markup: str) -> str:
    """The text of some markup, tags dropped, entities read, spaces collapsed."""
    without = re.sub(r"<(script|style|noscript)\b.*?</\1>", " ", markup, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without))).strip()


def errors_of(page: str, name: str) -> str:
    found = re.search(r'<p class="error" id="f-[^"]+-error">(.*?)</p>', field_html(page, name))
    return html.unescape(found.group(1)) if found else ""


def is_hidden(page: str, name: str) -> bool:
    opening = field_html(page, name).split(">", 1)[0]
    return opening.endswith(" hidden")


def is_required(page: str, name: str) -> bool:
    """The field's required marker shows (and its inputs say `required`)."""
    markup = field_html(page, name)
    return '<span class="req">' in markup
