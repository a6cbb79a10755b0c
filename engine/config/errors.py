"""Config errors: located, explained, sortable — every problem of a bundle at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import CallerError


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One problem in a bundle, pointing at the exact place in the YAML."""

    file: str
    line: int
    col: int
    pointer: str
    message: str
    hint: str | None = None
    code: str = "invalid"
    severity: str = "error"

    def format(self) -> str:
        where = f" (at {self.pointer})" if self.pointer else ""
        head = f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}{where}"
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "pointer": self.pointer,
            "message": self.message,
            "hint": self.hint,
            "code": self.code,
            "severity": self.severity,
        }


class BundleInvalid(CallerError):
    """Raised when a bundle has errors; carries all of them, best first."""

    status = 422
    code = "bundle_invalid"

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in bundle")

    def format(self) -> str:
        return "\n".join(e.format() for e in self.errors)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def sort_errors(errors: Iterable[ConfigError]) -> list[ConfigError]:
    """Errors first, then warnings; within each, by file and position.

    The same problem at the same place is kept once (a key merged with `<<: *anchor` into
    several mappings is one typo, not several)."""
    ordered = sorted(errors, key=lambda e: (e.severity != "error", e.file, e.line, e.col))
    seen: set[tuple[str, int, int, str, str | None]] = set()
    out = []
    for error in ordered:
        where = (error.file, error.line, error.col, error.message, error.hint)
        if where not in seen:
            seen.add(where)
            out.append(error)
    return out
