"""Installing bundles as numbered, immutable config versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.config import BundleInvalid, load_bundle_dir
from engine.errors import NotFound
from engine.service import Services
from tests.helpers import FIXTURES


def test_installing_the_same_bundle_again_changes_nothing(svc: Services) -> None:
    number, changed = svc.install_bundle(load_bundle_dir(FIXTURES / "shop"))
    assert (number, changed) == (1, False)


def test_a_changed_bundle_becomes_the_next_active_version(svc: Services, tmp_path: Path) -> None:
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", copy)
    entities = copy / "entities.yaml"
    entities.write_text(
        entities.read_text().replace("      source:", "      stage: {type: string}\n      source:")
    )
    assert svc.install_bundle(load_bundle_dir(copy)) == (2, True)
    # the new field is usable at once, and records carry the version they were written under
    record = svc.records.create("shop", "customer", {"name": "a", "stage": "new"}).result
    assert record["config_version"] == 2


def test_an_invalid_bundle_is_never_installed(svc: Services, tmp_path: Path) -> None:
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", copy)
    (copy / "entities.yaml").write_text("entities: {customer: {fields: {x: {type: nope}}}}\n")
    with pytest.raises(BundleInvalid):
        svc.install_dirs([copy])
    assert svc.configs.active("shop").version == 1


def test_unknown_tenant(svc: Services) -> None:
    with pytest.raises(NotFound):
        svc.configs.active("nobody")
    assert svc.configs.tenants() == ["other", "shop"]
