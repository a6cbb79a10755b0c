"""Webhook delivery to a receiver on 127.0.0.1: signatures, statuses, timeouts, secrets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.errors import NotFound
from engine.service.jobs import GiveUp, JobRow, Jobs, Retry
from engine.service.webhooks import MAX_RESPONSE_BYTES, Webhooks, sign, verify
from engine.service.worker import Worker
from engine.storage.store import Store
from tests.helpers import START
from tests.service.test_jobs import add, open_store, status_of


@dataclass(frozen=True)
class Seen:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        return self.headers["idempotency-key"]


Answer = Callable[[Seen], tuple[int, dict[str, str], bytes]]


def ok(_: Seen) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"ok"


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every request and answers as told."""

    def __init__(self, answer: Answer = ok, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.seen.append(seen)
                status, headers, reply = receiver.answer(seen)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(reply))}.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(ConnectionError):  # the client stopped listening
                    self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output quiet

        return Handler

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server.server_address[1]}{path}"

    def keys(self) -> list[str]:
        with self.lock:
            return [s.key for s in self.seen]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def job(key: str = "wake:r1:0", tenant: str = "shop", **payload: Any) -> JobRow:
    return JobRow(1, tenant, "webhook", key, payload, "pending", 1, 8, START, None, None, None,
                  START, None, None, None)  # fmt: skip


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    return open_store(engine)


@pytest.fixture
def hooks(store: Store, clock: FixedClock) -> Iterator[Webhooks]:
    found = Webhooks(store, clock)
    yield found
    found.client.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as found:
        yield found


def answering(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
    return lambda _: (status, headers or {}, body)


def test_a_delivery_is_signed_and_keyed(hooks: Webhooks, receiver: Receiver) -> None:
    body = {"customer": "r1", "名称": "甲公司"}
    hooks.deliver(job(url=receiver.url(), body=body, headers={"X-Extra": "1"}))
    (seen,) = receiver.seen
    assert seen.path == "/hook" and seen.key == "wake:r1:0"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-tidepool-tenant"] == "shop" and seen.headers["x-extra"] == "1"
    assert seen.headers["x-tidepool-timestamp"] == str(int(START.timestamp()))
    assert httpx.Response(200, content=seen.body).json() == body
    stamp, signature = seen.headers["x-tidepool-timestamp"], seen.headers["x-tidepool-signature"]
    assert signature.startswith("sha256=")
    assert verify(hooks.secret("shop"), stamp, seen.body, signature)
    assert not verify(hooks.secret("shop"), stamp, seen.body + b" ", signature)
    assert not verify(hooks.secret("shop"), str(int(stamp) + 1), seen.body, signature)
    assert not verify("another secret", stamp, seen.body, signature)


def test_payload_headers_cannot_forge_ours(hooks: Webhooks, receiver: Receiver) -> None:
    forged = {"X-Tidepool-Signature": "sha256=00", "Idempotency-Key": "mine"}
    hooks.deliver(job(url=receiver.url(), body={}, headers=forged))
    (seen,) = receiver.seen
    assert seen.key == "wake:r1:0" and seen.headers["x-tidepool-signature"] != "sha256=00"


def test_the_signature_is_over_timestamp_and_raw_body() -> None:
    assert sign("s", "100", b"{}") == sign("s", "100", b"{}")
    assert sign("s", "100", b"{}") != sign("s", "101", b"{}")
    assert verify("s", "100", b"{}", sign("s", "100", b"{}"))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_refusal_is_final(hooks: Webhooks, status: int) -> None:
    with (
        Receiver(answering(status, body=b"no such hook")) as receiver,
        pytest.raises(GiveUp, match=f"HTTP {status}: no such hook"),
    ):
        hooks.deliver(job(url=receiver.url(), body={}))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_overload_and_server_errors_are_retried(hooks: Webhooks, status: int) -> None:
    with (
        Receiver(answering(status)) as receiver,
        pytest.raises(Retry, match=f"HTTP {status}") as raised,
    ):
        hooks.deliver(job(url=receiver.url(), body={}))
    assert raised.value.after is None


def test_retry_after_is_honoured(hooks: Webhooks) -> None:
    with Receiver(answering(429, {"Retry-After": "7"})) as receiver, pytest.raises(Retry) as raised:
        hooks.deliver(job(url=receiver.url(), body={}))
    assert raised.value.after == 7


def test_a_timeout_is_retried(hooks: Webhooks) -> None:
    with (
        Receiver(delay=1.0) as receiver,
        pytest.raises(Retry, match=r"no answer from .* within 0\.2s"),
    ):
        hooks.deliver(job(url=receiver.url(), body={}, timeout=0.2))


def test_a_refused_connection_is_retried(hooks: Webhooks) -> None:
    with pytest.raises(Retry, match="could not reach"):
        hooks.deliver(job(url=f"http://127.0.0.1:{closed_port()}/hook", body={}))


def test_only_the_start_of_a_reply_is_read(hooks: Webhooks) -> None:
    with (
        Receiver(answering(500, body=b"x" * 5_000_000)) as receiver,
        pytest.raises(Retry) as raised,
    ):
        hooks.deliver(job(url=receiver.url(), body={}))
    assert len(str(raised.value)) < MAX_RESPONSE_BYTES


def test_redirects_stay_on_the_same_host(hooks: Webhooks, receiver: Receiver) -> None:
    moved = receiver.url("/moved")

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/old":
            return 308, {"Location": "/moved"}, b""
        if seen.path == "/away":
            return 307, {"Location": receiver.url("/moved", host="localhost")}, b""
        if seen.path == "/found":
            return 302, {"Location": moved}, b""
        return 200, {}, b""

    receiver.answer = answer
    hooks.deliver(job(url=receiver.url("/old"), body={"a": 1}))
    assert [(s.path, s.body) for s in receiver.seen] == [
        ("/old", b'{"a":1}'),
        ("/moved", b'{"a":1}'),
    ]
    with pytest.raises(GiveUp, match="redirected to another host"):
        hooks.deliver(job(url=receiver.url("/away"), body={}))
    with pytest.raises(GiveUp, match=r"HTTP 302.*redirects are not followed"):
        hooks.deliver(job(url=receiver.url("/found"), body={}))
    assert [s.path for s in receiver.seen][2:] == ["/away", "/found"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"body": {}}, "webhook url must be an absolute http"),
        ({"url": "ftp://example.com/x", "body": {}}, "webhook url must be an absolute http"),
        ({"url": "/relative", "body": {}}, "webhook url must be an absolute http"),
        ({"url": "http://127.0.0.1/", "body": {1, 2}}, "webhook body is not JSON"),
        ({"url": "http://127.0.0.1/", "timeout": "soon"}, "timeout must be a positive number"),
        ({"url": "http://127.0.0.1/", "headers": {"X": 1}}, "headers must map names to text"),
    ],
)
def test_a_bad_payload_is_final(hooks: Webhooks, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(GiveUp, match=message):
        hooks.deliver(job(**payload))


def test_the_secret_is_made_once(hooks: Webhooks) -> None:
    first = hooks.secret("shop")
    assert len(first) >= 40 and hooks.secret("shop") == first
    assert hooks.secret("other") != first
    with pytest.raises(NotFound, match="unknown tenant 'nobody'"):
        hooks.secret("nobody")


def test_first_uses_at_once_agree_on_one_secret(store: Store, clock: FixedClock) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def first_use() -> None:
        barrier.wait()
        results.append(Webhooks(store, clock, httpx.Client()).secret("shop"))

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and len(set(results)) == 1


def test_rotation_signs_with_the_new_secret(hooks: Webhooks, receiver: Receiver) -> None:
    old = hooks.secret("shop")
    new = hooks.rotate_secret("shop")
    assert new != old and hooks.secret("shop") == new
    hooks.deliver(job(url=receiver.url(), body={}))
    (seen,) = receiver.seen
    stamp, signature = seen.headers["x-tidepool-timestamp"], seen.headers["x-tidepool-signature"]
    assert verify(new, stamp, seen.body, signature)
    assert not verify(old, stamp, seen.body, signature)
    with pytest.raises(NotFound):
        hooks.rotate_secret("nobody")


def test_through_a_worker_5xx_retries_and_4xx_is_dead(
    store: Store, clock: FixedClock, hooks: Webhooks
) -> None:
    answers = {"flaky": [503, 200], "gone": [410]}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return answers[seen.path.strip("/")].pop(0), {}, b""

    with Receiver(answer) as receiver:
        jobs = Jobs(store, clock)
        for name in answers:
            add(jobs, name, payload={"url": receiver.url(f"/{name}"), "body": {}})
        worker = Worker(store, clock, {"webhook": hooks.deliver}, worker_id="w1")
        assert worker.run_once() == 2
        assert status_of(jobs, "gone").status == "dead"
        assert status_of(jobs, "gone").last_error == "HTTP 410"
        assert status_of(jobs, "flaky").last_error == "HTTP 503"
        clock.advance(seconds=60)
        assert worker.run_once() == 1
        assert status_of(jobs, "flaky").status == "done"
        assert status_of(jobs, "flaky").attempts == 2
        assert receiver.keys() == ["flaky", "gone", "flaky"]
        assert answers == {"flaky": [], "gone": []}


def test_timeouts_through_a_worker_back_off(
    store: Store, clock: FixedClock, hooks: Webhooks
) -> None:
    with Receiver(delay=0.5) as receiver:
        jobs = Jobs(store, clock)
        add(jobs, "slow", payload={"url": receiver.url(), "body": {}, "timeout": 0.1})
        Worker(store, clock, {"webhook": hooks.deliver}).run_once()
    slow = status_of(jobs, "slow")
    assert slow.status == "pending" and "no answer" in str(slow.last_error)
    assert slow.run_at >= clock.now() + timedelta(seconds=30)


def test_private_addresses_are_refused_unless_allowed(
    hooks: Webhooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIDEPOOL_WEBHOOK_ALLOW_PRIVATE")
    for url in (receiver.url(), "http://10.0.0.8/hook", "http://169.254.169.254/latest"):
        with pytest.raises(GiveUp, match="not a public address"):
            hooks.deliver(job(url=url, body={}))
    assert receiver.seen == []
