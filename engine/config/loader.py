"""Load a bundle: files → YAML with positions → JSON Schema → model → semantic checks.

All errors of all stages are gathered (a later stage runs on every file that passed the earlier
ones) and raised together, best first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from engine.config import build, checks
from engine.config.assignment import check_assignment
from engine.config.campaign_checks import Context as CampaignContext
from engine.config.campaign_checks import check_campaigns, check_segments
from engine.config.campaigns import build_campaigns, build_segments
from engine.config.conditions import check_views
from engine.config.errors import BundleInvalid, ConfigError, choices_hint, sort_errors
from engine.config.model import (
    AssignmentRuleDef,
    Bundle,
    CampaignDef,
    DerivedDef,
    EntityDef,
    FormDef,
    Label,
    PoolSetDef,
    RollupDef,
    SegmentDef,
    ViewDef,
)
from engine.config.pools import check_derived, check_pool_sets
from engine.config.rollups import check_rollups
from engine.config.schema import FILE_KINDS, validate_file
from engine.config.yamlload import SourceFile, load_yaml

MAX_FILE_BYTES = 2_000_000
YAML_SUFFIXES = (".yaml", ".yml")


def read_bundle_dir(path: str | Path) -> dict[str, str]:
    """The bundle's YAML files as {file name: text}."""
    folder = Path(path)
    if not folder.is_dir():
        raise BundleInvalid(
            [
                ConfigError(
                    str(folder),
                    1,
                    1,
                    "",
                    "not a bundle folder",
                    "give the path of a folder such as configs/acme-saas",
                    code="not_found",
                )
            ]
        )
    files: dict[str, str] = {}
    errors: list[ConfigError] = []
    for item in sorted(folder.iterdir()):
        if item.is_file() and item.suffix in YAML_SUFFIXES:
            data = item.read_bytes()[: MAX_FILE_BYTES + 1]
            try:
                files[item.name] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(_not_utf8(str(item), data, exc))
    if errors:
        raise BundleInvalid(errors)
    return files


def _not_utf8(shown: str, data: bytes, exc: UnicodeDecodeError) -> ConfigError:
    """Where a file stops being UTF-8, and a guess at what it is instead."""
    before = data[: exc.start]
    line = before.count(b"\n") + 1
    col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    try:
        data.decode("gb18030")
        guess = " (it looks like GBK/GB18030)"
    except UnicodeDecodeError:
        guess = ""
    return ConfigError(
        shown,
        line,
        col,
        "",
        f"the file is not UTF-8 text{guess}",
        "save it as UTF-8 (most editors: File → Save with Encoding → UTF-8)",
        code="encoding",
    )


def load_bundle_dir(path: str | Path) -> Bundle:
    files = read_bundle_dir(path)
    return load_bundle(files, display_root=str(path))


def digest_files(files: Mapping[str, str]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(files):
        hasher.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return hasher.hexdigest()


def load_bundle(files: Mapping[str, str], display_root: str = "") -> Bundle:
    """Validate a bundle given as {file name: YAML text}; raise BundleInvalid with every error."""
    errors: list[ConfigError] = []
    sources: dict[str, SourceFile] = {}
    by_kind: dict[str, SourceFile] = {}
    seen: dict[str, str] = {}
    for name, text in sorted(files.items()):
        shown = str(Path(display_root) / name) if display_root else name
        source, found = _parse_one(name, shown, text)
        errors += found
        sources[shown] = source
        kind = Path(name).stem
        if kind in seen:  # tenant.yaml next to tenant.yml: which one counts?
            errors.append(
                ConfigError(
                    shown,
                    1,
                    1,
                    "",
                    f"a second {kind} file",
                    f"keep one of {seen[kind]} and {shown}",
                    code="duplicate_file",
                )
            )
        elif not found:
            by_kind[kind] = source
        seen.setdefault(kind, shown)
    errors += _missing_tenant(files, display_root)
    bundle = _build(by_kind, sources, files, errors) if "tenant" in by_kind else None
    errors = sort_errors(errors)
    if any(e.severity == "error" for e in errors) or bundle is None:
        raise BundleInvalid(errors)
    return replace(bundle, warnings=tuple(errors))


def _parse_one(name: str, shown: str, text: str) -> tuple[SourceFile, list[ConfigError]]:
    kind = Path(name).stem
    if kind not in FILE_KINDS:
        known = [f"{k}.yaml" for k in FILE_KINDS]
        hint = choices_hint(name, known, "bundle files")
        return SourceFile(shown, text), [
            ConfigError(shown, 1, 1, "", f"unknown bundle file '{name}'", hint, code="unknown_file")
        ]
    if len(text.encode()) > MAX_FILE_BYTES:
        return SourceFile(shown, text), [
            ConfigError(
                shown, 1, 1, "", f"file is larger than {MAX_FILE_BYTES} bytes", code="too_large"
            )
        ]
    source, found = load_yaml(shown, text)
    if found:
        return source, found
    return source, validate_file(source, FILE_KINDS[kind])


def _missing_tenant(files: Mapping[str, str], root: str) -> list[ConfigError]:
    if any(Path(n).stem == "tenant" for n in files):
        return []
    shown = str(Path(root) / "tenant.yaml") if root else "tenant.yaml"
    return [
        ConfigError(
            shown,
            1,
            1,
            "",
            "the bundle has no tenant.yaml",
            "every bundle starts with tenant.yaml: tenant id, name and timezone",
            code="missing_file",
        )
    ]


def _build(
    by_kind: dict[str, SourceFile],
    sources: dict[str, SourceFile],
    files: Mapping[str, str],
    errors: list[ConfigError],
) -> Bundle | None:
    tenant_src = by_kind["tenant"]
    tenant = build.build_tenant(tenant_src.data, tenant_src.path)
    entities: dict[str, EntityDef] = {}
    forms: dict[str, FormDef] = {}
    views: dict[str, ViewDef] = {}
    pool_sets: dict[str, PoolSetDef] = {}
    derived: tuple[DerivedDef, ...] = ()
    rollups: tuple[RollupDef, ...] = ()
    assignment: tuple[AssignmentRuleDef, ...] = ()
    queues: dict[str, Label] = {}
    if "assignment" in by_kind:
        src = by_kind["assignment"]
        assignment = build.build_assignment(src.data, src.path)
        queues = build.build_queues(src.data, src.path)
    segments: dict[str, SegmentDef] = {}
    campaigns: tuple[CampaignDef, ...] = ()
    if "campaigns" in by_kind:
        src = by_kind["campaigns"]
        segments = build_segments(src.data, src.path)
        campaigns = build_campaigns(src.data, src.path, segments)
    if "entities" in by_kind:
        src = by_kind["entities"]
        entities = build.build_entities(src.data, src.path, checks.zone_of(tenant.timezone))
        forms = build.build_forms(src.data, src.path)
        views = build.build_views(src.data, src.path)
    if "pools" in by_kind:
        pool_sets = build.build_pool_sets(by_kind["pools"].data, by_kind["pools"].path)
        derived = build.build_derived(by_kind["pools"].data, by_kind["pools"].path)
        rollups = build.build_rollups(by_kind["pools"].data, by_kind["pools"].path)
    located = checks.Sources(sources)
    errors += checks.check_tenant(tenant, located)
    if len(by_kind) == len(files):  # see_masked names fields: only check against all of them
        errors += checks.check_roles(tenant, entities, located)
    errors += checks.check_entities(entities, tenant, located)
    errors += checks.check_forms(forms, entities, tenant, located)
    errors += check_views(views, entities, tenant, located)
    errors += check_pool_sets(pool_sets, entities, tenant, located)
    errors += check_derived(derived, entities, tenant, located)
    errors += check_rollups(rollups, derived, entities, tenant, located)
    errors += check_assignment(assignment, queues, entities, tenant, located)
    computed = {
        name: frozenset(
            [d.field for d in derived if d.entity == name]
            + [r.field for r in rollups if r.entity == name]
        )
        for name in entities
    }
    complete = len(by_kind) == len(files)
    ctx = CampaignContext(
        entities, tenant, pool_sets, segments, assignment, computed, located, complete
    )
    errors += check_segments(ctx)
    errors += check_campaigns(campaigns, ctx)
    if len(by_kind) < len(files):
        return None  # some file failed earlier: do not hand out a partial bundle
    return Bundle(
        tenant=tenant,
        entities=MappingProxyType(entities),
        forms=MappingProxyType(forms),
        views=MappingProxyType(views),
        pool_sets=MappingProxyType(pool_sets),
        derived=derived,
        rollups=rollups,
        assignment=assignment,
        queues=MappingProxyType(queues),
        segments=MappingProxyType(segments),
        campaigns=campaigns,
        files=MappingProxyType(dict(files)),
        digest=digest_files(files),
    )
