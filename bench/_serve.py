"""The full Tidepool stack for the ingest bench: one uvicorn worker on a SQLite file.

Run by bench/ingest.py as `python bench/_serve.py --db PATH --port N --key-file PATH`; the API
key for the bench tenant is written to --key-file before the server starts listening. When it
is stopped, its last line of stdout is one JSON object of what it served (requests, statuses).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import BUNDLE_DIR, RequestCounter, serve_until_stopped, sqlite_url

from engine.api.app import create_app
from engine.service import Services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    args = parser.parse_args()
    svc = Services.open(sqlite_url(args.db))
    [(bundle, _, _)] = svc.install_dirs([BUNDLE_DIR], actor="bench")
    args.key_file.write_text(svc.keys.create(bundle.id, "bench"))
    counter = RequestCounter(create_app(svc))
    try:
        serve_until_stopped(counter, args.port)
    finally:  # stopped: what it served, as the last line
        print(json.dumps(counter.figures("tidepool"), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
