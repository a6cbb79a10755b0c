"""Helpers of the sign-in tests: cheap argon2 parameters with a record of what is verified."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from engine.service import passwords as pw


def use_fast_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Cheap argon2 parameters (the real ones cost ~0.5 s a check, on purpose) for the rest
    of the test; the list returned records every hash verified, in order."""
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(pw, "_HASHER", hasher)
    monkeypatch.setattr(pw, "DUMMY_HASH", hasher.hash("dummy"))
    verified: list[str] = []
    real = pw.verify

    def spied(hashed: str, password: str) -> bool:
        verified.append(hashed)
        return real(hashed, password)

    monkeypatch.setattr(pw, "verify", spied)
    return verified
