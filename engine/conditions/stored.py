"""How values are kept in a record's JSON, which conditions read and compile against: instants
as fixed-width UTC text, and only text a database can store. engine.fields writes them so."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL) and unpaired surrogates


@lru_cache(maxsize=4096)
def format_instant(moment: datetime) -> str:
    """The stored form of an instant: UTC, to the second, fixed width (sorts as text)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def storable(value: Any) -> bool:
    """False for text no database keeps: NUL bytes (PostgreSQL) or unpaired surrogates."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is None
    if isinstance(value, list):  # one level: deeper lists are refused by the field types
        return all(UNSTORABLE.search(v) is None for v in value if isinstance(v, str))
    return True
