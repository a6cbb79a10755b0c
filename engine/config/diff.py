"""A semantic diff of two bundles: which fields, forms, pools, rules, users, segments and
campaigns were added, removed or changed (and which of their keys) — not a text diff.

Items are compared by id as the YAML says them, so moving text around or reformatting a file
is no change, and a changed item names the keys that differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from engine.config.model import Bundle

# Where the items of each file live: (kind shown, path of keys to a mapping or id-list)
COLLECTIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "tenant": (("user", ("users",)), ("team", ("teams",)), ("role", ("roles",))),
    "entities": (("entity", ("entities",)), ("form", ("forms",)), ("view", ("views",))),
    "pools": (
        ("pool set", ("pool_sets",)),
        ("score", ("scoring",)),
        ("grade", ("grades",)),
        ("rollup", ("rollups",)),
    ),
    "assignment": (("assignment rule", ("assignment",)), ("queue", ("queues",))),
    "campaigns": (("segment", ("segments",)), ("campaign", ("campaigns",))),
}
# items whose parts are diffed one level down: kind -> ((key, kind of its items), …)
NESTED: dict[str, tuple[tuple[str, str], ...]] = {
    "entity": (("fields", "field"),),
    "pool set": (("pools", "pool"), ("promotions", "promotion")),
}


@dataclass(frozen=True)
class Change:
    kind: str  # "field", "campaign", …
    id: str  # "customer.budget", "wake_sleeping"
    change: str  # added | removed | changed
    keys: tuple[str, ...] = ()  # for changed: which keys differ

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "id": self.id, "change": self.change}
        if self.keys:
            out["keys"] = list(self.keys)
        return out


def diff_bundles(old: Bundle, new: Bundle) -> list[Change]:
    """The changes from one bundle to another, as resolved over their templates."""
    return diff_data(old.resolved, new.resolved)


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """The changes from one bundle's own files to another's (no templates)."""
    return diff_data(_parsed(old), _parsed(new))


def diff_data(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """The changes between two bundles' data by file kind (both already valid)."""
    changes: list[Change] = []
    for stem in sorted(set(before) | set(after)):
        for kind, path in COLLECTIONS.get(stem, ()):
            a = _items(_at(before.get(stem, {}), path))
            b = _items(_at(after.get(stem, {}), path))
            changes += _compare(kind, a, b)
    if before.get("tenant", {}).get("timezone") != after.get("tenant", {}).get("timezone"):
        changes.append(Change("tenant", "timezone", "changed"))
    return changes


def _parsed(files: Mapping[str, str]) -> dict[str, Any]:
    out = {}
    for name, text in files.items():
        stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
        out[stem] = yaml.safe_load(text) or {}
    return out


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _items(raw: Any) -> dict[str, Any]:
    """A mapping by name, or a list of items with `id`, as {id: item}."""
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(item.get("id")): item for item in raw if isinstance(item, dict)}
    return {}


def _compare(kind: str, a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> Iterator[Change]:
    for name in sorted(set(a) | set(b)):
        ident = f"{prefix}{name}"
        if name not in a:
            yield Change(kind, ident, "added")
        elif name not in b:
            yield Change(kind, ident, "removed")
        elif a[name] != b[name]:
            yield from _changed(kind, ident, a[name], b[name])


def _changed(kind: str, ident: str, old: Any, new: Any) -> Iterator[Change]:
    parts = NESTED.get(kind, ())
    if isinstance(old, dict) and isinstance(new, dict):
        inner = {key for key, _ in parts}
        keys = tuple(
            sorted(k for k in set(old) | set(new) if k not in inner and old.get(k) != new.get(k))
        )
        if keys or not parts:
            yield Change(kind, ident, "changed", keys)
        for key, child in parts:
            yield from _compare(child, _items(old.get(key)), _items(new.get(key)), f"{ident}.")
        return
    yield Change(kind, ident, "changed")
