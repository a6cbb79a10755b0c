"""Load a bundle: files → YAML with positions → JSON Schema → model → semantic checks.

All errors of all stages are gathered (a later stage runs on every file that passed the earlier
ones) and raised together, best first.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.config import build, checks
from engine.config.assignment import check_assignment
from engine.config.campaign_checks import Context as CampaignContext
from engine.config.campaign_checks import check_campaigns, check_segments
from engine.config.campaigns import build_campaigns, build_segments
from engine.config.conditions import check_views
from engine.config.errors import BundleInvalid, ConfigError, sort_errors
from engine.config.fixtures import check_fixtures
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
from engine.config.overlay import merge_layers, no_template
from engine.config.pools import check_derived, check_pool_sets
from engine.config.rollups import check_rollups
from engine.config.schema import FILE_KINDS, validate_file
from engine.config.yamlload import SourceFile, load_yaml
from engine.i18n import choices_hint

MAX_FILE_BYTES = 2_000_000
YAML_SUFFIXES = (".yaml", ".yml")
MAX_TEMPLATE_DEPTH = 5  # a bundle, its template, that template's template…


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
    _read_folder(folder, "", files, errors)
    for template in _templates(folder, files):
        _read_folder(folder / template, template, files, errors)
    if errors:
        raise BundleInvalid(errors)
    return files


def _read_folder(
    folder: Path, prefix: str, files: dict[str, str], errors: list[ConfigError]
) -> None:
    """The folder's YAML files into files, named under prefix (a template's relative path)."""
    for item in sorted(folder.iterdir()):
        if item.is_file() and item.suffix in YAML_SUFFIXES:
            data = item.read_bytes()[: MAX_FILE_BYTES + 1]
            try:
                files[posixpath.join(prefix, item.name)] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(_not_utf8(str(item), data, exc))


def _templates(folder: Path, files: Mapping[str, str]) -> Iterator[str]:
    """The template folders a bundle extends, in turn, as paths relative to it. Stops at the
    first that is missing or loops: load_bundle says what is wrong there."""
    current, seen = "", {""}
    for _ in range(MAX_TEMPLATE_DEPTH + 1):
        target = _extends_in(files, current)
        if target is None or target in seen or not (folder / target).is_dir():
            return
        seen.add(target)
        yield target
        current = target


def _extends_in(files: Mapping[str, str], folder: str) -> str | None:
    text = files.get(posixpath.join(folder, "tenant.yaml")) or files.get(
        posixpath.join(folder, "tenant.yml")
    )
    source, found = load_yaml("tenant.yaml", text or "")
    raw = source.data.get("extends") if not found and isinstance(source.data, dict) else None
    return posixpath.normpath(posixpath.join(folder, raw)) if isinstance(raw, str) else None


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
    """Validate a bundle given as {file name: YAML text}; raise BundleInvalid with every error.

    Names with a folder ("../_templates/b2b-sales/pools.yaml") are the files of the templates
    the bundle extends; each file kind is merged over its templates before it is checked."""
    return load_resolved(files, display_root)[0]


def load_resolved(
    files: Mapping[str, str], display_root: str = ""
) -> tuple[Bundle, dict[str, SourceFile], list[str]]:
    """The bundle, each file kind as merged (values know the file they came from), and the
    folders it is made of: its own ("") first, then each template it extends."""
    errors: list[ConfigError] = []
    folders: dict[str, dict[str, SourceFile]] = {}
    parsed_ok = True
    for name, text in sorted(files.items()):
        shown = _shown(name, display_root)
        source, found = _parse_one(name, shown, text)
        errors += found
        parsed_ok = parsed_ok and not found
        kinds = folders.setdefault(posixpath.dirname(posixpath.normpath(name)), {})
        kind = Path(name).stem
        if kind in kinds:  # tenant.yaml next to tenant.yml: which one counts?
            errors.append(_second_file(kind, kinds[kind].path, shown))
            parsed_ok = False
        elif kind in FILE_KINDS:
            kinds[kind] = source
    errors += _missing_tenant(files, display_root)
    chain, found = _chain(folders)
    errors += found + _strays(folders, chain)
    sources, found = _layered(folders, chain)
    errors += found
    by_kind: dict[str, SourceFile] = {}
    for kind, source in sources.items():
        found = validate_file(source, FILE_KINDS[kind]) if source.data is not None else []
        errors += found
        if not found and source.data is not None:
            by_kind[kind] = source
    complete = parsed_ok and not found_any(errors) and len(by_kind) == len(sources)
    bundle = None
    if "tenant" in by_kind:
        located = {s.path: s for s in sources.values()}
        bundle = _build(by_kind, located, files, errors, complete, set(sources))
    errors = sort_errors(errors)
    if any(e.severity == "error" for e in errors) or bundle is None:
        raise BundleInvalid(errors)
    resolved = MappingProxyType({kind: s.data for kind, s in sources.items()})
    return replace(bundle, warnings=tuple(errors), resolved=resolved), sources, chain


def found_any(errors: list[ConfigError]) -> bool:
    return any(e.severity == "error" for e in errors)


def _shown(name: str, root: str) -> str:
    return posixpath.normpath(posixpath.join(root, name)) if root else name


def _second_file(kind: str, first: str, shown: str) -> ConfigError:
    return ConfigError(
        shown,
        1,
        1,
        "",
        f"a second {kind} file",
        f"keep one of {first} and {shown}",
        code="duplicate_file",
    )


def _chain(folders: Mapping[str, Mapping[str, SourceFile]]) -> tuple[list[str], list[ConfigError]]:
    """The bundle's folder, then each template it extends in turn ("" is the bundle's own)."""
    chain = [""]
    while True:
        tenant = folders.get(chain[-1], {}).get("tenant")
        data = tenant.data if tenant is not None and isinstance(tenant.data, dict) else {}
        raw = data.get("extends")
        if tenant is None or raw is None:
            return chain, []
        problem = _bad_extends(raw, chain, folders)
        if problem:
            return chain, [tenant.error("/extends", *problem, code="extends")]
        chain.append(posixpath.normpath(posixpath.join(chain[-1], raw)))


def _bad_extends(
    raw: Any, chain: list[str], folders: Mapping[str, Mapping[str, SourceFile]]
) -> tuple[str, str] | None:
    """What is wrong with an `extends:` value: (message, hint), or None."""
    example = "a folder relative to this one, e.g. extends: ../_templates/b2b-sales"
    if not isinstance(raw, str) or not raw.strip():
        return "'extends' names a template folder", example
    target = posixpath.normpath(posixpath.join(chain[-1], raw))
    if target in chain:
        return f"'{raw}' extends itself (a template cannot extend a bundle it is part of)", (
            "point 'extends' at another folder"
        )
    if target not in folders:
        return f"template folder '{raw}' not found (or it has no YAML files)", example
    if len(chain) > MAX_TEMPLATE_DEPTH:
        return f"templates extend each other more than {MAX_TEMPLATE_DEPTH} deep", (
            "merge some of the templates"
        )
    return None


def _strays(folders: Mapping[str, Mapping[str, SourceFile]], chain: list[str]) -> list[ConfigError]:
    """Files in folders that no tenant.yaml of the bundle extends."""
    return [
        ConfigError(
            source.path,
            1,
            1,
            "",
            f"'{source.path}' is not part of this bundle",
            f"no tenant.yaml here extends '{folder}'",
            code="unknown_file",
        )
        for folder, kinds in folders.items()
        if folder not in chain
        for source in kinds.values()
    ]


def _layered(
    folders: Mapping[str, Mapping[str, SourceFile]], chain: list[str]
) -> tuple[dict[str, SourceFile], list[ConfigError]]:
    """Each file kind, merged over the templates (deepest first); unmerged without them."""
    out: dict[str, SourceFile] = {}
    errors: list[ConfigError] = []
    for kind in FILE_KINDS:
        layers = [folders[f][kind] for f in reversed(chain) if kind in folders.get(f, {})]
        if not layers:
            continue
        odd = [layer for layer in layers if not isinstance(layer.data, dict)]
        if len(layers) == 1 or odd:  # nothing to merge, or a file the schema refuses whole
            out[kind] = (odd or layers)[-1]
            errors += no_template(layers[-1]) if len(layers) == 1 else []
            continue
        merged, found = merge_layers(kind, layers)
        out[kind], errors = merged, errors + found
    return out, errors


def _parse_one(name: str, shown: str, text: str) -> tuple[SourceFile, list[ConfigError]]:
    kind = Path(name).stem
    if kind not in FILE_KINDS:
        known = [f"{k}.yaml" for k in FILE_KINDS]
        hint = str(choices_hint(name, known, "bundle files"))
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
        source.data = None  # reported; not merged or checked further
    return source, found


def _missing_tenant(files: Mapping[str, str], root: str) -> list[ConfigError]:
    if any(n in ("tenant.yaml", "tenant.yml") for n in files):
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
    complete: bool,
    kinds: set[str],
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
    bundle = Bundle(
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

    errors += checks.check_tenant(tenant, located)
    if complete:  # see_masked names fields: only check against all of them
        errors += checks.check_roles(tenant, entities, located)
    # Without its entities (entities.yaml has errors) every rule would be "unknown entity":
    # the entities' own errors say all there is to fix first.
    if "entities" in by_kind or "entities" not in kinds:
        errors += _references(bundle, located, complete)
    if "tests" in by_kind:
        errors += check_fixtures(by_kind["tests"])
    return bundle if complete else None  # never hand out a partial bundle


def _references(b: Bundle, located: checks.Sources, complete: bool) -> list[ConfigError]:
    """The checks of everything that names entities and their fields."""
    found: list[ConfigError] = []
    found += checks.check_entities(b.entities, b.tenant, located)
    found += checks.check_forms(b.forms, b.entities, b.tenant, located)
    found += check_views(b.views, b.entities, b.tenant, located)
    found += check_pool_sets(b.pool_sets, b.entities, b.tenant, located)
    found += check_derived(b.derived, b.entities, b.tenant, located)
    found += check_rollups(b.rollups, b.derived, b.entities, b.tenant, located)
    found += check_assignment(b.assignment, b.queues, b.entities, b.tenant, located)
    computed = {name: b.computed(name) for name in b.entities}
    ctx = CampaignContext(
        b.entities, b.tenant, b.pool_sets, b.segments, b.assignment, computed, located, complete
    )
    found += check_segments(ctx)
    found += check_campaigns(b.campaigns, ctx)
    return found


def is_template_dir(path: str | Path) -> bool:
    """A template folder: no tenant.yaml, or one without a tenant id (its bundles add it)."""
    folder = Path(path)
    tenant = next(
        (folder / n for n in ("tenant.yaml", "tenant.yml") if (folder / n).is_file()), None
    )
    if tenant is None:
        return any(folder.glob("*.y*ml"))
    source, found = load_yaml(str(tenant), tenant.read_text(encoding="utf-8", errors="replace"))
    return not found and isinstance(source.data, dict) and "tenant" not in source.data


def load_template_dir(path: str | Path) -> Bundle:
    """Check a template as a bundle that extends it and adds nothing but a tenant would."""
    own = (
        "extends: ..\ntenant: template-check\n"
        "name: {en: Template check, zh-CN: 模板检查}\ntimezone: UTC\n"
    )
    files = {"tenant.yaml": own}
    files.update({f"../{name}": text for name, text in read_bundle_dir(path).items()})
    return load_bundle(files, display_root=str(Path(path) / "(check)"))
