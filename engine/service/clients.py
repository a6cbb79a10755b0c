"""Who a client is, for counting: a keyed hash of its address, never the address itself."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress


def client_key(secret: bytes, address: str | None) -> str | None:
    """A keyed hash of a client's address (counted, never stored as such); IPv6 addresses
    count by their /64, the block one subscriber is given."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
        if ip.version == 6:
            address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass  # not an address (a test client): counted as written
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]
