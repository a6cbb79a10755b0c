"""Constants and small helpers shared by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_ENV = "TIDEPOOL_TEST_POSTGRES_URL"
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
