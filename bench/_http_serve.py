"""The servers of bench/http_load.py: one uvicorn worker on a SQLite file or a PostgreSQL schema.

    python bench/_http_serve.py tidepool --url URL [--schema S] --bundle DIR --key-file F --port N
    python bench/_http_serve.py bare --url URL [--schema S] --port N

`tidepool`: the full app (`create_app(services)`) with the bundle in DIR installed and a
tenant-wide API key written to --key-file before it listens (as `tidepool keys create` makes
one). No job worker runs: campaign jobs are written, never delivered. `bare`: bench/_bare.py's
route, unchanged, with the customer's JSON Schema in place of the lead's (the same fields and
checks as chaotu-demo's customer). When stopped, the last line of stdout is one JSON object of
what it served.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from unittest import mock

import _bare
import sqlalchemy as sa
from _common import _EMAIL, _INSTANT, RequestCounter, _text, serve_until_stopped
from _pools_data import _INDUSTRIES, _REGIONS

from engine.api.app import create_app
from engine.service import Services
from engine.storage.db import make_engine
from engine.storage.tables import records

_MONEY = r"^-?[0-9]{1,13}\.[0-9]{2}$"


def _enum(*options: str) -> dict[str, Any]:
    return {"enum": list(options)}


# chaotu-demo's customer as JSON Schema, for the bare baseline: every field, roughly the checks
# the engine makes (types, lengths, options, bounds, formats as patterns).
CUSTOMER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": _text(200),
        "phone": {"type": "string", "pattern": r"^\+?[0-9]{5,20}$"},
        "email": {"type": "string", "maxLength": 254, "pattern": _EMAIL},
        "source": _enum("website_form", "qr_scan", "referral", "market_activity", "cold_call"),
        "activity": _text(100),
        "region": _enum(*_REGIONS),
        "industry": _enum(*_INDUSTRIES),
        "budget": {"type": "string", "pattern": _MONEY},
        "company_size": {"type": "integer", "minimum": 1},
        "website": {"type": "string", "maxLength": 2048, "pattern": r"^https?://[^\s/]+"},
        "address": _text(300),
        "tags": {"type": "array", "maxItems": 20, "uniqueItems": True, "items": _text(64)},
        "wechat_followed": {"type": "boolean"},
        "last_followup_at": {"type": "string", "pattern": _INSTANT},
        "last_order_at": {"type": "string", "pattern": _INSTANT},
        "note": _text(5000),
        "score": {"type": "integer"},
        "paid_orders": {"type": "integer"},
        "total_paid": {"type": "string", "pattern": _MONEY},
        "last_paid_at": {"type": "string", "pattern": _INSTANT},
        "customer_grade": _enum("potential", "signed", "repeat"),
    },
}


def open_engine(url: str, schema: str | None) -> sa.Engine:
    if schema is None:
        return make_engine(url)
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def tidepool_app(engine: sa.Engine, bundle: Path, key_file: Path) -> Any:
    svc = Services.open(engine=engine)
    [(installed, _, _)] = svc.install_dirs([bundle], actor="bench")
    key_file.write_text(svc.keys.create(installed.id, "bench"))
    return create_app(svc)


def bare_app(engine: sa.Engine) -> Any:
    records.create(engine)
    # _bare builds its validator from its module's LEAD_SCHEMA when the app is made
    with mock.patch.object(_bare, "LEAD_SCHEMA", CUSTOMER_SCHEMA):
        return _bare.create_bare_app(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kind", choices=["tidepool", "bare"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", help="PostgreSQL schema to work in")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--key-file", type=Path)
    args = parser.parse_args()
    engine = open_engine(args.url, args.schema)
    if args.kind == "tidepool":
        if args.bundle is None or args.key_file is None:
            parser.error("tidepool needs --bundle and --key-file")
        app = tidepool_app(engine, args.bundle, args.key_file)
    else:
        app = bare_app(engine)
    counter = RequestCounter(app)
    try:
        serve_until_stopped(counter, args.port)
    finally:  # stopped: what it served, as the last line
        print(json.dumps(counter.figures(args.kind), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
