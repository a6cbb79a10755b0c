"""Template overlays: a bundle `extends` a template bundle and its files merge by id.

Each file kind names where its items live (mappings by name, lists by `id`). Items of a layer
override the template's item with the same id key by key (containers inside an item, such as
an entity's fields, merge one level further); new ids are added; `remove: [ids]` at the top of
a file drops template items first (so remove + redefine replaces an item whole). Every value of
the merged document remembers the layer and pointer it came from, so errors point at the file
that caused them and `tidepool show --resolved` can say where each item was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.config.errors import ConfigError
from engine.config.yamlload import SourceFile, join_pointer
from engine.i18n import choices_hint

MAP = "map"
Pattern = tuple[str, ...]
# Where items live, per file kind: container path -> "map" (keyed by name) or the id key.
CONTAINERS: dict[str, dict[Pattern, str]] = {
    "tenant": {("teams",): MAP, ("roles",): MAP, ("users",): "id"},
    "entities": {
        ("entities",): MAP,
        ("entities", "*", "fields"): MAP,
        ("forms",): MAP,
        ("views",): MAP,
    },
    "pools": {
        ("pool_sets",): MAP,
        ("pool_sets", "*", "pools"): MAP,
        ("pool_sets", "*", "promotions"): "id",
        ("scoring",): MAP,
        ("grades",): MAP,
        ("rollups",): MAP,
    },
    "assignment": {("assignment",): "id", ("queues",): MAP},
    "campaigns": {("segments",): MAP, ("campaigns",): "id"},
    "tests": {("tests",): "name", ("fixtures",): MAP},
}
LAYER_KEYS = ("extends", "remove")  # consumed by the overlay: not part of the merged data


@dataclass
class _Node:
    """A value while layers merge: containers and items keep children by id."""

    layer: SourceFile
    pointer: str  # where the value stands in its layer
    value: Any = None  # leaves: the raw value
    children: dict[str, _Node] | None = None  # containers and items
    id_key: str | None = None  # containers: MAP or the key of list items
    sources: list[tuple[SourceFile, str]] = field(default_factory=list)  # items: every layer


class MergedSource(SourceFile):
    """A merged file: its data, and for each value the file and pointer it came from."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__(path, text)
        self.origins: dict[str, tuple[SourceFile, str]] = {}
        self.items: dict[str, list[tuple[str, int]]] = {}  # item pointer -> (file, line) each

    def resolve(self, pointer: str) -> tuple[SourceFile, str]:
        probe = pointer
        while probe not in self.origins and probe:
            probe = probe.rsplit("/", 1)[0]
        layer, base = self.origins.get(probe, (self, probe))
        return layer, base + pointer[len(probe) :]

    def origin(self, pointer: str) -> tuple[str, str]:
        layer, inner = self.resolve(pointer)
        return layer.path, inner

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        layer, inner = self.resolve(pointer)
        return (1, 1) if layer is self else layer.locate(inner, key=key)

    def locate_in_text(self, pointer: str, offset: int) -> tuple[int, int]:
        layer, inner = self.resolve(pointer)
        return (1, 1) if layer is self else layer.locate_in_text(inner, offset)

    def error(
        self,
        pointer: str,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        code: str = "invalid",
        severity: str = "error",
    ) -> ConfigError:
        layer, inner = self.resolve(pointer)
        if layer is self:
            return ConfigError(self.path, 1, 1, pointer, message, hint, code, severity)
        return layer.error(inner, message, hint, key=key, code=code, severity=severity)


def merge_layers(kind: str, layers: list[SourceFile]) -> tuple[MergedSource, list[ConfigError]]:
    """Merge one file kind's layers, deepest template first; the last layer wins."""
    containers = CONTAINERS.get(kind, {})
    top = layers[-1]
    merged = MergedSource(top.path, top.text)
    errors = no_template(layers[0])
    root = _item(layers[0], "", _mapping(layers[0]), (), containers)
    for layer in layers[1:]:
        errors += _remove(root, layer)
        root = _merge(root, _item(layer, "", _mapping(layer), (), containers))
    merged.data = _finish(root, "", merged)
    return merged, errors


def _mapping(layer: SourceFile) -> dict[str, Any]:
    return layer.data if isinstance(layer.data, dict) else {}


def _node(
    layer: SourceFile, pointer: str, value: Any, pattern: Pattern, c: dict[Pattern, str]
) -> _Node:
    id_key = c.get(pattern)
    if id_key == MAP and isinstance(value, dict):
        kids = {
            k: _item(layer, join_pointer(pointer, k), v, (*pattern, "*"), c)
            for k, v in value.items()
        }
        return _Node(layer, pointer, children=kids, id_key=id_key)
    if id_key and id_key != MAP and isinstance(value, list):
        kids = {}
        for i, v in enumerate(value):
            ident = v.get(id_key) if isinstance(v, dict) else None
            name = (
                str(ident) if isinstance(ident, str | int) and str(ident) not in kids else f"#{i}"
            )
            kids[name] = _item(layer, join_pointer(pointer, i), v, (*pattern, "*"), c)
        return _Node(layer, pointer, children=kids, id_key=id_key)
    return _Node(layer, pointer, value=value)


def _item(
    layer: SourceFile, pointer: str, value: Any, pattern: Pattern, c: dict[Pattern, str]
) -> _Node:
    if not isinstance(value, dict):
        return _Node(layer, pointer, value=value)
    kids = {
        k: _node(layer, join_pointer(pointer, k), v, (*pattern, k), c)
        for k, v in value.items()
        if pattern or k not in LAYER_KEYS
    }
    return _Node(layer, pointer, children=kids, sources=[(layer, pointer)])


def _merge(base: _Node, over: _Node) -> _Node:
    """Over replaces base, except where both are containers or both are items (by id)."""
    if base.children is None or over.children is None or base.id_key != over.id_key:
        return over
    kids = dict(base.children)
    for name, child in over.children.items():
        kids[name] = _merge(kids[name], child) if name in kids else child
    return _Node(over.layer, over.pointer, None, kids, over.id_key, base.sources + over.sources)


def _finish(node: _Node, pointer: str, out: MergedSource) -> Any:
    out.origins[pointer] = (node.layer, node.pointer)
    if node.children is None:
        return node.value
    if node.sources:
        out.items[pointer] = [(s.path, s.locate(p, key=True)[0]) for s, p in node.sources]
    if node.id_key is not None and node.id_key != MAP:
        return [
            _finish(n, join_pointer(pointer, i), out) for i, n in enumerate(node.children.values())
        ]
    return {k: _finish(n, join_pointer(pointer, k), out) for k, n in node.children.items()}


def no_template(layer: SourceFile) -> list[ConfigError]:
    if isinstance(layer.data, dict) and "remove" in layer.data:
        return [
            layer.error(
                "/remove",
                "'remove' drops items of a template, and this file has none below it",
                "remove the 'remove:' key",
                key=True,
                code="remove",
            )
        ]
    return []


def _remove(root: _Node, layer: SourceFile) -> Iterator[ConfigError]:
    """Drop the template items a layer's `remove:` names (an id, or a path of ids)."""
    wanted = layer.data.get("remove") if isinstance(layer.data, dict) else None
    if wanted is None:
        return
    if not isinstance(wanted, list):
        yield layer.error("/remove", "'remove' is a list of item ids", "e.g. remove: [gone_quiet]")
        return
    found = list(_addresses(root, ()))
    for i, entry in enumerate(wanted):
        yield from _remove_one(found, entry, layer, join_pointer("/remove", i))


def _remove_one(
    found: list[tuple[tuple[str, ...], _Node, str]], entry: Any, layer: SourceFile, where: str
) -> Iterator[ConfigError]:
    if not isinstance(entry, str) or not entry.strip("/"):
        yield layer.error(where, "each entry of 'remove' is an item id", "e.g. gone_quiet")
        return
    parts = tuple(entry.strip("/").split("/"))
    hits = [(a, parent, name) for a, parent, name in found if a[-len(parts) :] == parts]
    if len(hits) > 1:
        paths = ", ".join("/".join(a) for a, _, _ in hits)
        yield layer.error(
            where,
            f"'{entry}' names several items: {paths}",
            "write the path of the one to remove",
            code="remove",
        )
    elif not hits:
        hint = str(choices_hint(parts[-1], {a[-1] for a, _, _ in found}, "template items"))
        yield layer.error(where, f"no template item '{entry}' to remove", hint, code="remove")
    else:
        _, parent, name = hits[0]
        assert parent.children is not None
        del parent.children[name]


def _addresses(node: _Node, at: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], _Node, str]]:
    """(path of ids, container, child name) of every item below a node."""
    for name, child in (node.children or {}).items():
        if node.id_key is not None:
            yield (*at, name), node, name
        if child.children is not None:
            yield from _addresses(child, (*at, name))
