"""Outbound HTTP to addresses a tenant chose (webhooks): public addresses only, pinned.

A tenant's URL must not reach the servers' own network (loopback, the cloud's metadata
service, private ranges), however the address is written. The check and the connection use
one DNS answer: `GuardedBackend.connect_tcp` resolves the host once, refuses the connection if
any address is not public, and connects to the addresses it checked, so a name that answers
public first and private next (DNS rebinding) cannot slip between check and connect. TLS
still verifies the certificate for the host name and sends it as SNI (httpcore does that from
the URL, which keeps the name); every new connection, redirects included, goes through it.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Final

import httpcore
import httpx

from engine.errors import Signal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_BROADCAST: Final = ipaddress.IPv4Address("255.255.255.255")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL: Final = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215 local use
_IPV4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")  # deprecated, RFC 4291
_TEREDO: Final = ipaddress.IPv6Network("2001::/32")
_SITE_LOCAL: Final = ipaddress.IPv6Network("fec0::/10")
_ULA: Final = ipaddress.IPv6Network("fc00::/7")
# ::1 and :: lie inside ::/96 but are named for what they are.
_SPECIAL_V6: Final = frozenset({ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")})
_REFUSED_V6: Final = (
    (_IPV4_COMPATIBLE, "IPv4-compatible (deprecated)"),
    (_NAT64_LOCAL, "local-use NAT64"),
    (_TEREDO, "Teredo tunnel"),
    (_ULA, "unique local (private)"),
)
_FLAGS: Final = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)


def refusal(address: IPAddress) -> str | None:
    """Why an outbound connection may not go to `address`; None for a public address.

    The stdlib's `is_global` alone is not enough (Python 3.11): it counts multicast
    (224.0.0.1, ff02::1) and site-local fec0::/10 as global, and judges the IPv6 forms that
    carry an IPv4 address (::127.0.0.1, 64:ff9b::7f00:1, 2002:7f00:1::) by the IPv6 prefix,
    not by the IPv4 address inside, which is where the packets end up."""
    if isinstance(address, ipaddress.IPv6Address) and address not in _SPECIAL_V6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, inner = embedded
            why = refusal(inner)
            return f"{form} {inner}: {why}" if why else None
        for network, why in _REFUSED_V6:
            if address in network:
                return why
    if address == _BROADCAST:
        return "broadcast"
    for flag, why in _FLAGS:
        if getattr(address, flag):
            return why
    if isinstance(address, ipaddress.IPv6Address) and address in _SITE_LOCAL:
        return "site-local"
    if not address.is_global:  # shared 100.64/10, documentation, benchmark...
        return "special-purpose, not globally reachable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 form delivers to, for the forms judged by it."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in _NAT64:  # the stdlib has no property for it
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    return None


class AddressRefused(Signal):
    """The host resolved to an address outbound connections may not reach."""

    def __init__(self, host: str, address: IPAddress, why: str) -> None:
        super().__init__(f"{host} resolved to {address}, not a public address ({why})")
        self.host = host
        self.address = address
        self.why = why


class CannotResolve(Signal):
    """The host name has no address (now: DNS may answer later)."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CannotResolve(f"cannot resolve {host}: {exc}") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if address not in found:
            found.append(address)
    if not found:
        raise CannotResolve(f"cannot resolve {host}: no address")
    return found


def checked(host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
    """The addresses, if every one is public (a name mixing public and private answers is
    refused as a whole: which one gets used is not ours to guess)."""
    found = list(addresses)
    for address in found:
        why = refusal(address)
        if why is not None:
            raise AddressRefused(host, address, why)
    return found


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves once, checks every address, connects to a checked address (each in turn
    while the connect timeout lasts)."""

    def __init__(self, allow_private: Callable[[], bool] = lambda: False) -> None:
        self.allow_private = allow_private
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        if not self.allow_private():
            addresses = checked(host, addresses)
        deadline = None if timeout is None else time.monotonic() + timeout
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            try:
                return self._backend.connect_tcp(
                    str(address), port, left, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # refused or unreachable: the next one
                failure = exc
        if failure is None:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}")
        raise failure

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connections made by GuardedBackend."""

    def __init__(
        self,
        allow_private: Callable[[], bool] = lambda: False,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, limits=limits)
        # httpx 0.29 takes no network backend: the pool it built, again with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private),
        )


def guarded_client(
    allow_private: Callable[[], bool] = lambda: False, verify: ssl.SSLContext | bool = True
) -> httpx.Client:
    """A client whose every connection goes through GuardedBackend. It ignores HTTP(S)_PROXY
    from the environment: a proxy would resolve the name again, out of our sight."""
    return httpx.Client(
        transport=GuardedTransport(allow_private, verify),
        follow_redirects=False,
        trust_env=False,
    )
