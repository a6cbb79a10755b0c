"""Test fixtures: named lists of records that tests.yaml cases include with {fixture: name}.

A template's fixtures are shared by every bundle that extends it (tests.yaml merges like any
file), and a fixture may include others, so a client's fixture can extend the template's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.config.errors import ConfigError
from engine.config.yamlload import SourceFile, join_pointer
from engine.i18n import choices_hint


def given_items(spec: Mapping[str, Any], given: Any) -> list[Mapping[str, Any]]:
    """A case's `given` as the records to write, fixtures expanded in place."""
    items = given if isinstance(given, list) else [given]
    return [record for item in items for record in _expand(spec, item, ())]


def _expand(spec: Mapping[str, Any], item: Any, seen: tuple[str, ...]) -> Iterator[Any]:
    name = item.get("fixture") if isinstance(item, dict) else None
    if name is None:
        yield item
        return
    if name in seen:  # refused at load time; never loop here
        return
    for inner in (spec.get("fixtures") or {}).get(name) or []:
        yield from _expand(spec, inner, (*seen, name))


def check_fixtures(source: SourceFile) -> Iterator[ConfigError]:
    """Every {fixture: name} names a fixture, and no fixture includes itself."""
    data = source.data if isinstance(source.data, dict) else {}
    fixtures = data.get("fixtures") or {}
    for name, items in fixtures.items():
        pointer = join_pointer("/fixtures", name)
        yield from _refs(source, pointer, items, fixtures)
        if _includes(fixtures, name, name, ()):
            yield source.error(
                pointer,
                f"fixture '{name}' includes itself",
                "a fixture may include others, never (through them) itself",
                key=True,
                code="fixture",
            )
    for i, case in enumerate(data.get("tests") or []):
        given = case.get("given") if isinstance(case, dict) else None
        pointer = f"/tests/{i}/given"
        if isinstance(given, dict):
            yield from _refs(source, pointer, [given], fixtures, single=True)
        elif isinstance(given, list):
            yield from _refs(source, pointer, given, fixtures)


def _refs(
    source: SourceFile,
    pointer: str,
    items: list[Any],
    fixtures: Mapping[str, Any],
    single: bool = False,
) -> Iterator[ConfigError]:
    for i, item in enumerate(items):
        name = item.get("fixture") if isinstance(item, dict) else None
        if name is not None and name not in fixtures:
            where = f"{pointer}/fixture" if single else f"{pointer}/{i}/fixture"
            hint = str(choices_hint(name, fixtures, "fixtures"))
            yield source.error(where, f"unknown fixture '{name}'", hint, code="fixture")


def _includes(fixtures: Mapping[str, Any], start: str, name: str, seen: tuple[str, ...]) -> bool:
    for item in fixtures.get(name) or []:
        inner = str(item.get("fixture")) if isinstance(item, dict) and "fixture" in item else ""
        if inner == start:
            return True
        fresh = inner in fixtures and inner not in seen
        if fresh and _includes(fixtures, start, inner, (*seen, inner)):
            return True
    return False
