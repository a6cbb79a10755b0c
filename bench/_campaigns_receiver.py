"""The webhook receiver of bench/campaigns.py: a `ThreadingHTTPServer` on 127.0.0.1 that checks
every POST's signature and counts its Idempotency-Key, in a process of its own (the way a
receiver runs on another machine: it does not share the bench's interpreter).

    TIDEPOOL_BENCH_WEBHOOK_SECRET=… python bench/_campaigns_receiver.py PORT

POST <any path>: 200 when `X-Tidepool-Signature` is the tenant secret's HMAC of
"<X-Tidepool-Timestamp>.<body>" (checked with the engine's `verify`), else 401. Keep-alive
(HTTP/1.1), as a real receiver. GET /_stats answers what it saw; POST /_reset forgets it.
On SIGTERM or SIGINT it prints its totals as one JSON line and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.service.webhooks import verify

SECRET_ENV = "TIDEPOOL_BENCH_WEBHOOK_SECRET"


class Seen:
    """What the receiver got since the last reset (and in all)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: Counter[str] = Counter()
        self.requests = self.bad_signature = self.no_key = self.total = 0

    def add(self, key: str | None, signed: bool) -> None:
        with self.lock:
            self.requests += 1
            self.total += 1
            if not signed:
                self.bad_signature += 1
            elif key is None:
                self.no_key += 1
            else:
                self.keys[key] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "bad_signature": self.bad_signature,
                "no_key": self.no_key,
                "keys": dict(self.keys),
            }

    def reset(self) -> None:
        with self.lock:
            self.keys.clear()
            self.requests = self.bad_signature = self.no_key = 0


def handler(secret: str, seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection per worker's client
        # headers and body go out in two writes: without TCP_NODELAY the second waits for
        # the client's delayed ACK (40 ms a request)
        disable_nagle_algorithm = True

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/_stats":
                self._answer(200, json.dumps(seen.stats()).encode())
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/_reset":
                seen.reset()
                self._answer(200, b"{}")
                return
            timestamp = self.headers.get("X-Tidepool-Timestamp") or ""
            signature = self.headers.get("X-Tidepool-Signature") or ""
            signed = verify(secret, timestamp, body, signature)
            seen.add(self.headers.get("Idempotency-Key"), signed)
            self._answer(200 if signed else 401, b'{"ok":true}' if signed else b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would cost more than the request

    return Handler


def main(argv: list[str]) -> int:
    port = int(argv[0])
    secret = os.environ[SECRET_ENV]
    seen = Seen()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(secret, seen))
    server.daemon_threads = True

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
        print(json.dumps({"receiver": "webhooks", "requests": seen.total}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
