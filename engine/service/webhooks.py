"""Webhook delivery: a signed JSON POST per job, at least once, keyed for the receiver.

Receivers check `X-Tidepool-Signature` (HMAC-SHA256 over "<timestamp>.<body>" with the
tenant's secret, see `verify`) and drop repeats by `Idempotency-Key`: after a worker crash a
webhook may arrive twice. Connections go to public addresses only, checked and pinned per
connection (engine/service/outbound.py), redirects included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.clock import Clock
from engine.errors import NotFound
from engine.service.jobs import GiveUp, JobRow, Retry
from engine.service.outbound import AddressRefused, CannotResolve, guarded_client
from engine.storage import tables as t
from engine.storage.store import Store, Tx

SECRET_KEY = "webhook_secret"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
SECRET_CACHE_SECONDS = 10.0
ALLOW_PRIVATE = "TIDEPOOL_WEBHOOK_ALLOW_PRIVATE"
MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 4096  # enough for an error message; the rest is never read
RETRY_STATUSES = {408, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether a received signature is ours (constant-time, for receivers and tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _payload_body(payload: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(payload.get("body"), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise GiveUp(f"webhook body is not JSON: {exc}") from None
    return text.encode()


def _target(payload: Mapping[str, Any]) -> httpx.URL:
    url = payload.get("url")
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise GiveUp(f"webhook url must be an absolute http(s) URL, got {url!r}")
    return parsed


def private_allowed() -> bool:
    """Webhooks to loopback and private networks are refused (a tenant's URL must not reach
    the servers' own network) unless TIDEPOOL_WEBHOOK_ALLOW_PRIVATE=1 (development, tests)."""
    return os.environ.get(ALLOW_PRIVATE, "").strip() in ("1", "true", "yes")


def _timeout(payload: Mapping[str, Any]) -> float:
    value = payload.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise GiveUp(f"webhook timeout must be a positive number of seconds, got {value!r}")
    return min(float(value), MAX_TIMEOUT)


def _extra_headers(payload: Mapping[str, Any]) -> dict[str, str]:
    headers = payload.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise GiveUp("webhook headers must map names to text")
    return dict(headers)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the receiver asks us to wait (at least one), if it said so in seconds."""
    value = response.headers.get("retry-after", "").strip()
    return max(1.0, float(value)) if value.isdigit() else None


class Webhooks:
    """Signs and sends webhook jobs; keeps each tenant's signing secret."""

    def __init__(self, store: Store, clock: Clock, client: httpx.Client | None = None) -> None:
        self.store = store
        self.clock = clock
        # A client given here is used as it is: only the default one guards addresses.
        self.client = client or guarded_client(private_allowed)
        self._secrets: dict[str, tuple[float, str]] = {}  # tenant -> (read at, secret)

    # the signing secret ---------------------------------------------------------------------
    def secret(self, tenant: str) -> str:
        """The tenant's secret (remembered for SECRET_CACHE_SECONDS: a rotation elsewhere
        reaches a running worker within that)."""
        cached = self._secrets.get(tenant)
        if cached is not None and time.monotonic() - cached[0] < SECRET_CACHE_SECONDS:
            return cached[1]
        found = self._secret(tenant)
        self._secrets[tenant] = (time.monotonic(), found)
        return found

    def _secret(self, tenant: str) -> str:
        """The tenant's secret, made on first use (two first uses at once agree on one)."""
        with self.store.read() as tx:
            found = self._stored(tx, tenant)
        if found is not None:
            return found
        with self.store.write() as tx:
            self._known(tx, tenant)
            insert = (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(t.tenant_state)
            row = insert.values(**self._row(tenant, secrets.token_urlsafe(32)))
            tx.conn.execute(row.on_conflict_do_nothing())
            stored = self._stored(tx, tenant)
        assert stored is not None  # inserted, or another writer's insert won
        return stored

    def rotate_secret(self, tenant: str) -> str:
        """A new secret for the tenant; webhooks sent from now on are signed with it."""
        new = secrets.token_urlsafe(32)
        c = t.tenant_state.c
        with self.store.write() as tx:
            self._known(tx, tenant)
            where = sa.and_(c.tenant_id == tenant, c.key == SECRET_KEY)
            tx.conn.execute(t.tenant_state.delete().where(where))
            tx.conn.execute(t.tenant_state.insert().values(**self._row(tenant, new)))
        self._secrets[tenant] = (time.monotonic(), new)
        return new

    def _row(self, tenant: str, secret: str) -> dict[str, Any]:
        value = {"secret": secret}
        return {
            "tenant_id": tenant,
            "key": SECRET_KEY,
            "value": value,
            "updated_at": self.clock.now(),
        }

    @staticmethod
    def _stored(tx: Tx, tenant: str) -> str | None:
        c = t.tenant_state.c
        query = sa.select(c.value).where(c.tenant_id == tenant, c.key == SECRET_KEY)
        value = tx.conn.execute(query).scalar()
        return str(value["secret"]) if value is not None else None

    @staticmethod
    def _known(tx: Tx, tenant: str) -> None:
        if tx.tenant(tenant) is None:
            raise NotFound(f"unknown tenant '{tenant}'")

    # delivery -------------------------------------------------------------------------------
    def deliver(self, job: JobRow) -> None:
        """Send one webhook job: returns on 2xx; raises Retry (408, 429, 5xx, timeouts,
        network errors) or GiveUp (other statuses, a bad payload)."""
        url, body = _target(job.payload), _payload_body(job.payload)
        timeout = _timeout(job.payload)
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            **_extra_headers(job.payload),
            "Content-Type": "application/json",
            "Idempotency-Key": job.key,
            "X-Tidepool-Tenant": job.tenant,
            "X-Tidepool-Timestamp": timestamp,
            "X-Tidepool-Signature": sign(self.secret(job.tenant), timestamp, body),
        }
        status, text = self._post(url, body, headers, timeout)
        _judge(status, text)

    def _post(
        self, url: httpx.URL, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, str]:
        """POST, following at most a few 307/308 redirects on the same origin (a redirect's
        new connection resolves and is checked again)."""
        for _ in range(MAX_REDIRECTS + 1):
            status, text, location = self._send_once(url, body, headers, timeout)
            if status not in (307, 308) or location is None:
                return status, text
            following = url.join(location)
            if not _same_origin(url, following):
                raise GiveUp(
                    f"HTTP {status}: redirected to another host ({following}); "
                    f"redirects are only followed on the same host, update the webhook url"
                )
            url = following
        raise GiveUp(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _send_once(
        self, url: httpx.URL, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, str, str | None]:
        try:
            request = self.client.build_request(
                "POST", url, content=body, headers=headers, timeout=timeout
            )
            response = self.client.send(request, stream=True)
        except AddressRefused as exc:
            raise GiveUp(
                f"webhook to {url.host} refused: {exc.address} is not a public address "
                f"({exc.why}); set {ALLOW_PRIVATE}=1 to allow private networks"
            ) from None
        except CannotResolve as exc:
            raise Retry(str(exc)) from None
        except httpx.TimeoutException:
            raise Retry(f"no answer from {url} within {timeout:g}s") from None
        except httpx.TransportError as exc:
            raise Retry(f"could not reach {url}: {exc or exc.__class__.__name__}") from None
        try:
            text = _read_capped(response)
        finally:
            response.close()
        if response.status_code in (429, 503) and (after := _retry_after(response)) is not None:
            raise Retry(f"HTTP {response.status_code}: {text}".strip(), after=after)
        return response.status_code, text, response.headers.get("location")


def _read_capped(response: httpx.Response) -> str:
    """At most MAX_RESPONSE_BYTES of the body (a receiver's error message), never more."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status is what counts; a broken body only shortens the message
    return b"".join(chunks)[:MAX_RESPONSE_BYTES].decode("utf-8", "replace").strip()


def _judge(status: int, text: str) -> None:
    """2xx: delivered. 408, 429, 5xx: try again later. Anything else: the receiver refuses."""
    if 200 <= status < 300:
        return
    message = f"HTTP {status}" + (f": {text[:500]}" if text else "")
    if status in RETRY_STATUSES or status >= 500:
        raise Retry(message)
    if 300 <= status < 400:
        raise GiveUp(f"{message} (redirects are not followed; update the webhook url)")
    raise GiveUp(message)
