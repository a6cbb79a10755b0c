"""The webhook address guard: which addresses are refused, one DNS answer per connection
(checked, then connected to), redirects, the Host header and TLS for the name, and the
TIDEPOOL_WEBHOOK_ALLOW_PRIVATE escape hatch.

Names resolve through a fake resolver (socket.getaddrinfo patched for the test's names) and
connections to the test's "public" addresses are routed to a receiver on 127.0.0.1
(socket.create_connection patched): what was looked up and what was connected to is logged."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest
import sqlalchemy as sa
import trustme

from engine.clock import FixedClock
from engine.service.jobs import GiveUp, Jobs, Retry
from engine.service.outbound import AddressRefused, GuardedBackend, guarded_client, refusal
from engine.service.webhooks import Webhooks
from engine.service.worker import Worker
from engine.storage.store import Store
from tests.service.test_jobs import add, open_store, status_of
from tests.service.test_webhooks import Receiver, Seen, job

PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
NAME = "hooks.test"


# the table --------------------------------------------------------------------------------------
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.0.0.8", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "not globally reachable"),  # shared address space (carrier NAT)
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),  # "this network"
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "private"),  # reserved for future use
    ("192.0.2.1", "private"),  # documentation
    ("198.51.100.7", "private"),
    ("203.0.113.9", "private"),
    ("198.18.0.1", "private"),  # benchmarking
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::10.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),  # deprecated: refused whatever is inside
    ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1: loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped 10.0.0.1: private"),
    ("::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254: link-local"),
    ("::ffff:224.0.0.1", "IPv4-mapped 224.0.0.1: multicast"),
    ("64:ff9b::7f00:1", "NAT64 127.0.0.1: loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 169.254.169.254: link-local"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    ("2002:7f00:1::", "6to4 127.0.0.1: loopback"),
    ("2002:a00:1::1", "6to4 10.0.0.1: private"),
    ("2001::1", "Teredo"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("fec0::1", "site-local"),
    ("fc00::1", "unique local"),
    ("fd12:3456:789a::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("2001:db8::1", "private"),  # documentation
    ("100::1", "private"),  # discard-only
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    PUBLIC,
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    PUBLIC_V6,
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # a public IPv4 host through NAT64 (IPv6-only servers with DNS64)
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_these_addresses_are_refused(address: str, why: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and why in found


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


# a fake resolver and network ----------------------------------------------------------------
class Net:
    """What the test's names resolve to (each look-up takes the next answer, the last one
    repeats) and which "public" addresses lead to 127.0.0.1; a log of both."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.routed: set[str] = set()
        self.unknown: set[str] = set()
        self.lookups: list[str] = []
        self.connects: list[str] = []
        self._getaddrinfo = socket.getaddrinfo
        self._connect = socket.create_connection
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)

    def resolves(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in self.unknown:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = self.answers.get(host)
        if answers is None:  # an address, or a name the test does not know
            return self._getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    def create_connection(self, address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        self.connects.append(host)
        if host in self.routed:
            return self._connect(("127.0.0.1", port), *args, **kwargs)
        if ipaddress.ip_address(host).is_loopback:
            return self._connect(address, *args, **kwargs)
        raise ConnectionRefusedError(f"the test's network has no route to {host}")


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Net:
    return Net(monkeypatch)


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


def named(receiver: Receiver) -> str:
    """The Host header of a request to the receiver by NAME."""
    return f"{NAME}:{receiver.server.server_address[1]}"


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's setting: private addresses refused."""
    monkeypatch.delenv("TIDEPOOL_WEBHOOK_ALLOW_PRIVATE")


# delivery ------------------------------------------------------------------------------------
@pytest.mark.usefixtures("guarded")
def test_a_name_resolving_to_a_private_address_is_refused(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    net.resolves(NAME, ["10.1.2.3"])
    with pytest.raises(GiveUp) as raised:
        hooks.deliver(job(url=receiver.url(host=NAME), body={}))
    assert str(raised.value) == (
        f"webhook to {NAME} refused: 10.1.2.3 is not a public address (private); "
        "set TIDEPOOL_WEBHOOK_ALLOW_PRIVATE=1 to allow private networks"
    )
    # one private answer among public ones refuses the name: which one is used is not ours
    net.resolves("mixed.test", [PUBLIC, "127.0.0.1"])
    with pytest.raises(GiveUp, match=r"127\.0\.0\.1 is not a public address \(loopback\)"):
        hooks.deliver(job(url=receiver.url(host="mixed.test"), body={}))
    assert net.connects == [] and receiver.seen == []


@pytest.mark.usefixtures("guarded")
def test_addresses_in_the_url_are_checked_too(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    """Loopback written as IPv6 (the forms the old guard let through), and multicast."""
    for host in ("[::127.0.0.1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]"):
        with pytest.raises(GiveUp, match="not a public address"):
            hooks.deliver(job(url=receiver.url(host=host), body={}))
    with pytest.raises(GiveUp, match=r"224\.0\.0\.1 is not a public address \(multicast\)"):
        hooks.deliver(job(url="http://224.0.0.1/hook", body={}))
    assert net.connects == [] and receiver.seen == []


@pytest.mark.usefixtures("guarded")
def test_the_checked_answer_is_the_one_connected_to(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    """DNS rebinding: the name answers public first, loopback on the next look-up."""
    net.resolves(NAME, [PUBLIC], ["127.0.0.1"])
    net.routed.add(PUBLIC)
    hooks.deliver(job(url=receiver.url(host=NAME), body={"a": 1}))
    assert net.lookups == [NAME] and net.connects == [PUBLIC]
    (seen,) = receiver.seen
    assert seen.headers["host"] == named(receiver) and seen.body == b'{"a":1}'
    # the next connection looks the name up again, and is refused on the loopback answer
    with pytest.raises(GiveUp, match=r"127\.0\.0\.1 is not a public address \(loopback\)"):
        hooks.deliver(job(url=receiver.url(host=NAME), body={}))
    assert net.lookups == [NAME, NAME] and net.connects == [PUBLIC]
    assert len(receiver.seen) == 1


@pytest.mark.usefixtures("guarded")
def test_each_redirect_is_resolved_and_checked_again(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/old":
            return 308, {"Location": "/moved"}, b""
        if seen.path == "/away":
            return 307, {"Location": "http://10.0.0.1/hook"}, b""
        return 200, {}, b""

    receiver.answer = answer
    net.resolves(NAME, [PUBLIC], ["127.0.0.1"])
    net.routed.add(PUBLIC)
    with pytest.raises(GiveUp, match=r"127\.0\.0\.1 is not a public address \(loopback\)"):
        hooks.deliver(job(url=receiver.url("/old", host=NAME), body={}))
    assert [s.path for s in receiver.seen] == ["/old"]
    assert net.lookups == [NAME, NAME] and net.connects == [PUBLIC]
    net.resolves(NAME, [PUBLIC])
    with pytest.raises(GiveUp, match="redirected to another host"):
        hooks.deliver(job(url=receiver.url("/away", host=NAME), body={}))
    # a redirect answered with a public address is followed, with the name as Host
    hooks.deliver(job(url=receiver.url("/old", host=NAME), body={}))
    assert [s.path for s in receiver.seen] == ["/old", "/away", "/old", "/moved"]
    assert {s.headers["host"] for s in receiver.seen} == {named(receiver)}
    assert set(net.connects) == {PUBLIC}


@pytest.mark.usefixtures("guarded")
def test_an_unreachable_address_falls_back_to_the_next_checked_one(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    net.resolves(NAME, [PUBLIC_V6, PUBLIC])
    net.routed.add(PUBLIC)
    hooks.deliver(job(url=receiver.url(host=NAME), body={}))
    assert net.connects == [PUBLIC_V6, PUBLIC] and len(receiver.seen) == 1


@pytest.mark.usefixtures("guarded")
def test_a_name_without_an_address_is_retried(hooks: Webhooks, net: Net) -> None:
    net.resolves(NAME, [])
    with pytest.raises(Retry, match=f"cannot resolve {NAME}: no address"):
        hooks.deliver(job(url=f"http://{NAME}/hook", body={}))
    net.unknown.add("nowhere.test")
    with pytest.raises(Retry, match=r"cannot resolve nowhere\.test: .*not known"):
        hooks.deliver(job(url="http://nowhere.test/hook", body={}))
    assert net.connects == []


@pytest.mark.usefixtures("guarded")
def test_a_refusal_kills_the_job_with_its_reason(
    store: Store, clock: FixedClock, hooks: Webhooks, receiver: Receiver
) -> None:
    jobs = Jobs(store, clock)
    add(jobs, "inside", payload={"url": receiver.url(host="[::127.0.0.1]"), "body": {}})
    Worker(store, clock, {"webhook": hooks.deliver}).run_once()
    dead = status_of(jobs, "inside")
    assert dead.status == "dead" and dead.attempts == 1
    assert "::7f00:1 is not a public address (IPv4-compatible (deprecated))" in str(dead.last_error)
    assert receiver.seen == []


def test_allowed_private_networks_still_resolve_once(
    hooks: Webhooks, receiver: Receiver, net: Net
) -> None:
    """TIDEPOOL_WEBHOOK_ALLOW_PRIVATE=1 (the tests' default): loopback receivers work, through
    the same one look-up per connection."""
    net.resolves(NAME, ["127.0.0.1"], [PUBLIC])
    hooks.deliver(job(url=receiver.url(host=NAME), body={}))
    assert net.lookups == [NAME] and net.connects == ["127.0.0.1"]
    assert receiver.seen[0].headers["host"] == named(receiver)


def test_the_backend_checks_before_connecting(net: Net) -> None:
    net.resolves(NAME, ["192.168.0.10"])
    with pytest.raises(AddressRefused, match="private"):
        GuardedBackend().connect_tcp(NAME, 80, timeout=1.0)
    allowing = GuardedBackend(allow_private=lambda: True)
    with pytest.raises(httpcore.ConnectError):  # allowed, but nothing listens there
        allowing.connect_tcp(NAME, 9, timeout=1.0)
    assert net.connects == ["192.168.0.10"]


# TLS: connected to the checked address, verified and introduced by name -----------------------
class TLSReceiver(Receiver):
    """The receiver behind TLS with a certificate for `names`; records the SNI it is sent."""

    def __init__(self, ca: trustme.CA, *names: str) -> None:
        super().__init__()
        self.sni: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        # the handshake in the request's thread; a refused one is not an error to print
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.server.handle_error = lambda *_: None

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return "https" + super().url(path, host)[4:]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.usefixtures("guarded")
def test_tls_verifies_and_sends_the_name_of_a_pinned_connection(
    store: Store, clock: FixedClock, net: Net, ca: trustme.CA
) -> None:
    net.resolves(NAME, [PUBLIC])
    net.routed.add(PUBLIC)
    hooks = Webhooks(store, clock, guarded_client(verify=trusting(ca)))
    with TLSReceiver(ca, NAME) as receiver:
        hooks.deliver(job(url=receiver.url(host=NAME), body={"tls": True}))
        assert receiver.sni == [NAME] and net.connects == [PUBLIC]
        (seen,) = receiver.seen
        assert seen.headers["host"] == named(receiver)
    with TLSReceiver(ca, "other.test") as receiver:
        with pytest.raises(Retry, match="could not reach"):
            hooks.deliver(job(url=receiver.url(host=NAME), body={}))
        assert receiver.sni == [NAME] and receiver.seen == []
    hooks.client.close()
