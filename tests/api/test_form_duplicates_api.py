"""A form's duplicate window over the API: a repeat answers 200 with the earlier record and
`duplicate_of`; the form's submissions are logged with their channel."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.service import Services
from engine.storage import tables as t
from tests.helpers import FIXTURES

URL = "/api/v1/expo/forms/expo/submit?source=qr_scan&act=2026-expo"


def test_a_repeat_within_the_window_answers_the_earlier_record(
    client: TestClient, svc: Services
) -> None:
    svc.install_dirs([FIXTURES / "public_forms"])
    headers = {"Authorization": f"Bearer {svc.keys.create('expo')}"}
    first = client.post(URL, json={"name": "王", "phone": "13800138000"}, headers=headers)
    again = client.post(URL, json={"name": "王", "phone": "138-0013-8000"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert "duplicate_of" not in first.json()
    assert again.json()["duplicate_of"] == first.json()["id"] == again.json()["id"]
    assert again.json()["data"]["activity"] == "2026-expo"
    s = t.form_submissions.c
    with svc.store.read() as tx:
        rows = tx.conn.execute(sa.select(s.outcome, s.channel, s.client).order_by(s.id)).all()
    channel = {"source": "qr_scan", "activity": "2026-expo"}
    assert [tuple(r) for r in rows] == [("created", channel, None), ("duplicate", channel, None)]
