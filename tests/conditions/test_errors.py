"""Every mistake in a condition is a located error with a useful message (exact texts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.conditions import ConditionError, Scope, compile_text

CASES = Path(__file__).with_name("bad_conditions.txt")


def cases() -> list[tuple[str, str]]:
    """(condition, expected error text) pairs from the corpus file."""
    out: list[tuple[str, str]] = []
    condition, expected = None, []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line.startswith("== "):
            if condition is not None:
                out.append((condition, "\n".join(expected).strip("\n")))
            condition, expected = line[3:], []
        elif condition is not None:
            expected.append(line)
    if condition is not None:
        out.append((condition, "\n".join(expected).strip("\n")))
    return out


def error_text(condition: str, scope: Scope) -> str:
    try:
        compile_text(condition, scope)
    except ConditionError as exc:
        return f"{exc}\n{exc.caret(condition)}"
    return "(no error)"


def test_corpus(scope: Scope) -> None:
    """One test over the file, so it can be rewritten in one go when messages improve."""
    got = [(condition, error_text(condition, scope)) for condition, _ in cases()]
    if os.environ.get("TIDEPOOL_REWRITE_EXPECTED"):
        header = [
            line for line in CASES.read_text(encoding="utf-8").splitlines() if line.startswith("#")
        ]
        body = [f"== {c}\n{text}" for c, text in got]
        CASES.write_text("\n".join(header + body) + "\n", encoding="utf-8")
        pytest.skip("expected texts rewritten")
    for (condition, expected), (_, actual) in zip(cases(), got, strict=True):
        assert actual == expected, f"condition: {condition}"
    assert all(text != "(no error)" for _, text in got)
