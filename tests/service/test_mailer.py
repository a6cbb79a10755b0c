"""Email jobs against an aiosmtpd server on 127.0.0.1: settings, Message-ID, SMTP replies."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.clock import FixedClock
from engine.errors import Invalid
from engine.service.jobs import GiveUp, JobRow, Jobs, Retry
from engine.service.mailer import Mailer, SmtpSettings, message_id, parse_smtp_url
from engine.service.worker import Worker
from engine.storage.store import Store
from tests.helpers import START
from tests.service.test_jobs import add, open_store, status_of

SENDER = "crm@example.com"


class Inbox:
    """An SMTP handler that keeps every message; 'temp…' and 'bad…' recipients are refused."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("temp"):
            return "451 mailbox busy, try later"
        if address.startswith("bad"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def settings(port: int) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, SENDER, timeout=5)


def email(key: str = "wake:r1:0", **payload: Any) -> JobRow:
    payload = {"to": "alice@example.com", "subject": "Welcome", "body": "Hello", **payload}
    return JobRow(1, "shop", "email", key, payload, "pending", 1, 8, START, None, None, None,
                  START, None, None, None)  # fmt: skip


def test_the_url_holds_every_setting() -> None:
    found = parse_smtp_url(
        "smtp://user%40corp:p%3Ass@mail.example.com:587?from=crm@example.com&starttls=1&timeout=9"
    )
    assert found == SmtpSettings(
        "mail.example.com", 587, SENDER, "user@corp", "p:ss", False, True, 9.0
    )
    plain = parse_smtp_url("smtp://localhost?from=crm@example.com")
    assert (plain.port, plain.username, plain.starttls, plain.tls) == (25, None, False, False)
    assert parse_smtp_url("smtps://h?from=a@b.c").port == 465


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h?from=a@b.c", "must start with smtp:// or smtps://"),
        ("smtp://?from=a@b.c", "has no host"),
        ("smtp://h", "needs the sender address"),
        ("smtp://h:99999?from=a@b.c", "TIDEPOOL_SMTP_URL: Port out of range"),
        ("smtp://h?from=a@b.c&timeout=soon", "TIDEPOOL_SMTP_URL: could not convert"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        parse_smtp_url(url)


def test_settings_come_from_the_environment_once() -> None:
    assert Mailer.from_env(env={}).settings is None
    assert Mailer.from_env(env={"TIDEPOOL_SMTP_URL": " "}).settings is None
    configured = Mailer.from_env(env={"TIDEPOOL_SMTP_URL": "smtp://h:2525?from=a@b.c"})
    assert configured.settings == SmtpSettings("h", 2525, "a@b.c")


def test_without_smtp_an_email_is_refused() -> None:
    with pytest.raises(GiveUp, match="SMTP not configured: set TIDEPOOL_SMTP_URL"):
        Mailer(None).send(email())


def test_an_email_is_sent_with_a_stable_message_id(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    mailer = Mailer(settings(port), FixedClock(START))
    mailer.send(email(to=["alice@example.com", "bob@example.com"], subject="欢迎", body="你好"))
    mailer.send(email())  # the same job again, e.g. after a worker crash
    (sender, rcpts, first), (_, _, again) = handler.messages
    assert sender == SENDER and rcpts == ["alice@example.com", "bob@example.com"]
    assert first["Subject"] == "欢迎" and first.get_content().strip() == "你好"
    assert first["Message-ID"] == again["Message-ID"] == message_id("shop", "wake:r1:0", SENDER)
    assert first["Message-ID"].endswith("@example.com>")
    assert first["Date"] == "Tue, 24 Nov 2026 08:00:00 +0000"
    assert message_id("shop", "k2", SENDER) != message_id("other", "wake:r1:0", SENDER)


def test_replies_decide_between_retry_and_give_up(inbox: tuple[Inbox, int]) -> None:
    mailer = Mailer(settings(inbox[1]))
    with pytest.raises(Retry, match=r"recipients refused for now: temp@x\.com: 451"):
        mailer.send(email(to="temp@x.com"))
    with pytest.raises(GiveUp, match=r"recipients refused: bad@x\.com: 550 no such user"):
        mailer.send(email(to="bad@x.com"))
    mailer.send(email(to=["bad@x.com", "alice@example.com"]))  # sent to the one that exists
    assert [m[1] for m in inbox[0].messages] == [["alice@example.com"]]


def test_an_unreachable_server_is_retried() -> None:
    with pytest.raises(Retry, match=r"SMTP 127\.0\.0\.1:"):
        Mailer(settings(free_port())).send(email())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"to": "nobody"}, "email 'to' must be an address"),
        ({"to": []}, "email 'to' must be an address"),
        ({"subject": None}, "email 'subject' must be text"),
        ({"body": 3}, "email 'body' must be text"),
        ({"subject": "hi\r\nBcc: everyone@example.com"}, "email cannot be built"),
    ],
)
def test_a_bad_payload_is_final(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(GiveUp, match=message):
        Mailer(settings(free_port())).send(email(**payload))


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    return open_store(engine)


def test_through_a_worker(store: Store, clock: FixedClock, inbox: tuple[Inbox, int]) -> None:
    jobs = Jobs(store, clock)
    add(jobs, "hello", kind="email", payload={"to": "a@x.com", "subject": "s", "body": "b"})
    add(jobs, "busy", kind="email", payload={"to": "temp@x.com", "subject": "s", "body": "b"})
    unconfigured = {"email": Mailer(None).send}
    add(jobs, "nowhere", kind="email", payload={}, tenant="other")
    assert Worker(store, clock, {"email": Mailer(settings(inbox[1])).send}).run_once() == 3
    assert status_of(jobs, "hello").status == "done"
    assert status_of(jobs, "busy").status == "pending"
    assert status_of(jobs, "nowhere", tenant="other").status == "dead"  # bad payload
    add(jobs, "later", kind="email", payload={"to": "a@x.com", "subject": "s", "body": "b"})
    Worker(store, clock, unconfigured).run_once()
    later = status_of(jobs, "later")
    assert later.status == "dead" and str(later.last_error).startswith("SMTP not configured")
