"""The bare baseline for the API bench: FastAPI + a compiled JSON Schema + one Core insert.

Same server setup as bench/_serve.py (one uvicorn worker, SQLite file in WAL mode, the same
records table) but none of Tidepool's layers: no API key, no config lookup, no uniqueness
rows, no history. Run by bench/ingest.py as `python bench/_bare.py --db PATH --port N`; when
stopped, its last line of stdout is one JSON object of what it served.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from _common import LEAD_SCHEMA, RequestCounter, serve_until_stopped, sqlite_url
from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator

from engine.storage.db import make_engine
from engine.storage.tables import records


def create_bare_app(engine: sa.Engine) -> FastAPI:
    validator = Draft202012Validator(LEAD_SCHEMA)  # compiled once, as a real service would
    app = FastAPI()

    @app.post("/api/v1/{tenant}/records/{entity}", status_code=201)
    def create(tenant: str, entity: str, data: Annotated[dict[str, Any], Body()]) -> JSONResponse:
        errors = [e.message for e in validator.iter_errors(data)]
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        now = datetime.now(UTC)
        row = {
            "tenant_id": tenant,
            "id": str(uuid.uuid4()),
            "entity": entity,
            "data": data,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        # Take the write lock up front like the engine does, so both wait for SQLite alike.
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                conn.execute(records.insert(), row)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {**row, "created_at": stamp, "updated_at": stamp}
        return JSONResponse(body, status_code=201)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    engine = make_engine(sqlite_url(args.db))
    records.create(engine)
    counter = RequestCounter(create_bare_app(engine))
    try:
        serve_until_stopped(counter, args.port)
    finally:  # stopped: what it served, as the last line
        print(json.dumps(counter.figures("bare"), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
