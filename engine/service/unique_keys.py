"""The key under which a unique value is held (one row per value: race-free uniqueness)."""

from __future__ import annotations

import hashlib
from typing import Any


def unique_key(value: Any, fold: bool = False) -> str:
    """The key a unique value is held under: case-folded for emails, hashed when long."""
    text = str(value).lower() if fold else str(value)
    return text if len(text) <= 200 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()
