"""What editing a tenant's config in a UI needs beyond `Services`: a stored version's files,
the activation history, bundles by digest (versions are immutable, so loaded once), a bundle
checked with one file replaced, a file's lines with its problems marked, and the failing
cases of a refused activation. Pure: no web framework."""

from __future__ import annotations

import posixpath
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.config.diff import COLLECTIONS, NESTED, diff_bundles
from engine.config.errors import BundleInvalid, ConfigError
from engine.config.loader import load_bundle
from engine.config.model import Bundle
from engine.errors import NotFound, Refused
from engine.service.bundle_tests import tests_of
from engine.storage import tables as t
from engine.storage.store import Store

CACHED_BUNDLES = 32


# stored versions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredVersion:
    number: int
    digest: str
    files: Mapping[str, str]
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class Activation:
    number: int
    previous: int | None
    at: datetime
    by: str | None


def stored_version(store: Store, tenant: str, number: int) -> StoredVersion:
    """A stored version with its files; NotFound when the tenant has no such version."""
    v = t.config_versions.c
    query = sa.select(v.number, v.digest, v.files, v.created_at, v.created_by).where(
        v.tenant_id == tenant, v.number == number
    )
    with store.read() as tx:
        row = tx.conn.execute(query).first()
    if row is None:
        raise NotFound(f"tenant '{tenant}' has no config version {number}")
    return StoredVersion(
        int(row.number), str(row.digest), dict(row.files), row.created_at, row.created_by
    )


def activations(store: Store, tenant: str, limit: int = 20) -> list[Activation]:
    """The tenant's latest activations, newest first (rollbacks are activations too)."""
    a = t.config_activations.c
    query = (
        sa.select(a.number, a.previous, a.at, a.by)
        .where(a.tenant_id == tenant)
        .order_by(a.id.desc())
        .limit(limit)
    )
    with store.read() as tx:
        rows = tx.conn.execute(query).all()
    return [Activation(int(r.number), r.previous, r.at, r.by) for r in rows]


_BUNDLES: OrderedDict[str, Bundle] = OrderedDict()
_LOCK = threading.Lock()


def bundle_of(version: StoredVersion) -> Bundle:
    """The version's bundle, loaded once per digest (a load takes ~0.1 s)."""
    with _LOCK:
        found = _BUNDLES.get(version.digest)
        if found is not None:
            _BUNDLES.move_to_end(version.digest)
            return found
    bundle = load_bundle(version.files)
    remember(bundle)
    return bundle


def remember(bundle: Bundle) -> None:
    """Keep a loaded bundle for bundle_of (a version stored with its digest loads as it)."""
    with _LOCK:
        _BUNDLES[bundle.digest] = bundle
        while len(_BUNDLES) > CACHED_BUNDLES:
            _BUNDLES.popitem(last=False)


def changes(old: Bundle, new: Bundle) -> list[dict[str, Any]]:
    """The semantic diff from old to new, as Services.diff gives it, each change with the
    item's label as the bundle writes it (`label`: text or texts by locale; None without)."""
    labels = {**item_labels(old), **item_labels(new)}
    return [{**c.as_dict(), "label": labels.get((c.kind, c.id))} for c in diff_bundles(old, new)]


def item_labels(bundle: Bundle) -> dict[tuple[str, str], Any]:
    """The labels of the items a diff names, by (kind, id): users by their name."""
    found: dict[tuple[str, str], Any] = {}
    for stem, collections in COLLECTIONS.items():
        for kind, path in collections:
            for ident, item in _items(_at(bundle.resolved.get(stem), path)).items():
                found[(kind, ident)] = item.get("name" if kind == "user" else "label")
                for key, child in NESTED.get(kind, ()):
                    for inner, part in _items(item.get(key)).items():
                        found[(child, f"{ident}.{inner}")] = part.get("label")
    return {k: v for k, v in found.items() if v is not None}


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _items(raw: Any) -> dict[str, Mapping[str, Any]]:
    """A mapping by name, or a list of items with `id`, as {id: item} (items that are
    mappings: the others have no label)."""
    if isinstance(raw, Mapping):
        return {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}
    if isinstance(raw, list):
        return {str(i.get("id")): i for i in raw if isinstance(i, Mapping) and "id" in i}
    return {}


# files -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateFiles:
    folder: str  # "../_templates/b2b-sales"
    name: str  # "b2b-sales"
    files: tuple[str, ...]


def split_files(names: Sequence[str]) -> tuple[list[str], list[TemplateFiles]]:
    """The bundle's own files, and the files of each template it extends (stored with it)."""
    own = sorted(n for n in names if not posixpath.dirname(n))
    folders: dict[str, list[str]] = {}
    for name in sorted(names):
        folder = posixpath.dirname(name)
        if folder:
            folders.setdefault(folder, []).append(name)
    templates = [
        TemplateFiles(folder, posixpath.basename(folder), tuple(found))
        for folder, found in folders.items()
    ]
    return own, templates


def normalized_text(text: str) -> str:
    """A textarea's text as the file: browsers send CRLF line ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# checking an edit ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    bundle: Bundle | None  # None: it has errors
    problems: tuple[ConfigError, ...]  # errors first, then warnings

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def check_edit(files: Mapping[str, str], name: str, text: str, tenant: str) -> Check:
    """The bundle with one file's text replaced, validated whole: every error and warning,
    located. A bundle of another tenant is an error at its `tenant:` line."""
    edited = {**files, name: text}
    try:
        bundle = load_bundle(edited)
    except BundleInvalid as exc:
        return Check(None, tuple(exc.errors))
    if bundle.id != tenant:
        return Check(None, (_other_tenant(edited, bundle.id, tenant), *bundle.warnings))
    remember(bundle)
    return Check(bundle, bundle.warnings)


def _other_tenant(files: Mapping[str, str], found: str, tenant: str) -> ConfigError:
    name = "tenant.yaml" if "tenant.yaml" in files else "tenant.yml"
    lines = files.get(name, "").split("\n")
    line = next((i for i, text in enumerate(lines, 1) if re.match(r"tenant\s*:", text)), 1)
    return ConfigError(
        name,
        line,
        1,
        "/tenant",
        f"this bundle is tenant '{found}', not '{tenant}'",
        f"a tenant's config keeps its id: write 'tenant: {tenant}'",
        code="tenant",
    )


def same_file(a: str, b: str) -> bool:
    return posixpath.normpath(a) == posixpath.normpath(b)


# a file's lines, marked ------------------------------------------------------------------------
@dataclass(frozen=True)
class Marked:
    """A problem shown under its line: the line's text and a caret at its column."""

    problem: ConfigError
    line: int  # within the file (clamped to its lines)
    text: str
    pad: str  # spaces up to the column, as wide as the text before it in a monospace font


@dataclass(frozen=True)
class SourceLine:
    number: int
    severity: str | None  # "error", "warning" or None
    messages: tuple[str, ...]


def marked(text: str, problems: Sequence[ConfigError], name: str) -> list[Marked]:
    """The problems in file `name`, each with its line and a caret under its column."""
    lines = text.split("\n")
    out = []
    for problem in problems:
        if not same_file(problem.file, name):
            continue
        line = min(max(problem.line, 1), len(lines))
        source = lines[line - 1]
        before = source[: max(problem.col - 1, 0)]
        out.append(Marked(problem, line, source, " " * _width(before)))
    return out


def source_lines(text: str, problems: Sequence[ConfigError], name: str) -> list[SourceLine]:
    """Every line of the file, with the problems on it (for a gutter beside the editor)."""
    count = text.count("\n") + 1
    found: dict[int, list[ConfigError]] = {}
    for problem in problems:
        if same_file(problem.file, name):
            found.setdefault(min(max(problem.line, 1), count), []).append(problem)
    out = []
    for number in range(1, count + 1):
        here = found.get(number, [])
        severity = None
        if here:
            severity = "error" if any(p.severity == "error" for p in here) else "warning"
        out.append(SourceLine(number, severity, tuple(p.message for p in here)))
    return out


def _width(text: str) -> int:
    """Columns a monospace font gives the text (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


# a refused activation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FailedCase:
    name: str
    failures: tuple[str, ...]
    why: tuple[str, ...]  # the record's decisions, when the engine still has them


def failed_cases(bundle: Bundle, refused: Refused) -> list[FailedCase]:
    """The failing cases of the bundle's tests that refused its activation."""
    names = [str(c.get("name")) for c in (tests_of(bundle) or {}).get("tests", [])]
    remembered = {r.name: r for r in _remembered_failures(bundle)}
    out = []
    for error in refused.errors:
        if error.code != "test_failed":
            continue
        message = str(error.params.get("message", ""))
        name = next((n for n in names if message.startswith(f"{n}: ")), "")
        failures = message[len(name) + 2 :] if name else message
        result = remembered.get(name)
        if result is not None:
            out.append(FailedCase(name, tuple(result.failures), tuple(result.why)))
        else:
            out.append(FailedCase(name, tuple(failures.split("; ")), ()))
    return out


def _remembered_failures(bundle: Bundle) -> tuple[Any, ...]:
    """The results activation just computed (remembered by digest: not run again)."""
    from engine.service.app import failing_tests  # the façade imports this module's callers

    return failing_tests(bundle)
