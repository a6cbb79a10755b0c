"""Whose X-Forwarded-For to believe: the proxies in TIDEPOOL_TRUSTED_PROXIES, no one else.

The client address counts for the hosted forms' per-address limit and the sign-in limit. It is
the TCP peer, unless the peer is a listed proxy: then uvicorn's proxy-headers middleware takes
the right-most address in X-Forwarded-For that is not a listed proxy (what a visitor writes
in the header themselves stays to the left of it). Empty, the default, trusts no header:
uvicorn's own default would believe any connection from 127.0.0.1, which is every visitor
once a proxy runs on the same machine. Behind a proxy, list it, or every visitor shares the
proxy's address and its limits.
"""

from __future__ import annotations

import ipaddress
from typing import TypedDict

TRUSTED_PROXIES = "TIDEPOOL_TRUSTED_PROXIES"


class ProxySettings(TypedDict):
    """uvicorn.run / uvicorn.Config keyword arguments."""

    proxy_headers: bool
    forwarded_allow_ips: list[str]


def trusted_proxies(value: str) -> list[str]:
    """The comma-separated addresses and CIDR networks, each normalised; ValueError names an
    entry that is neither (uvicorn would take it for a literal no peer ever matches)."""
    found: list[str] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            if "/" in item:
                network = ipaddress.ip_network(item, strict=False)
            else:
                network = ipaddress.ip_network(ipaddress.ip_address(item))
        except ValueError:
            raise ValueError(
                f"{TRUSTED_PROXIES}: {item!r} is not an IP address or network "
                "(list the proxies' addresses, e.g. 10.0.0.5,192.168.0.0/24)"
            ) from None
        text = _text(network)
        if text not in found:
            found.append(text)
    return found


def proxy_settings(proxies: list[str]) -> ProxySettings:
    """How `tidepool serve` has uvicorn treat proxy headers: off unless a proxy is listed.
    An IPv4 proxy is listed as a dual-stack socket (--host ::) reports it too: ::ffff:a.b.c.d."""
    allowed = list(proxies)
    for proxy in proxies:
        network = ipaddress.ip_network(proxy)
        if isinstance(network, ipaddress.IPv4Network):
            mapped = ipaddress.IPv6Address(f"::ffff:{network.network_address}")
            allowed.append(_text(ipaddress.IPv6Network(f"{mapped}/{96 + network.prefixlen}")))
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": allowed}


def _text(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """A one-address network as the address (uvicorn matches those by equality)."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)
