"""Config versions: stored whole and immutable, activated atomically, rolled back in one step,
compared item by item."""

from __future__ import annotations

import pytest

from engine.config.errors import BundleInvalid
from engine.config.loader import load_bundle, read_bundle_dir
from engine.errors import Forbidden, Invalid, NotFound
from engine.service import Services
from tests.helpers import FIXTURES


def _files(change: tuple[str, str, str] | None = None) -> dict[str, str]:
    files = read_bundle_dir(FIXTURES / "shop")
    if change is not None:
        name, old, new = change
        assert old in files[name]
        files[name] = files[name].replace(old, new)
    return files


def test_push_stores_without_activating_and_activate_switches(svc: Services) -> None:
    budget = (
        "pools.yaml",
        "\"budget > 0 and region == 'east'\"",
        "\"budget > 10 and region == 'east'\"",
    )
    pushed = svc.push("shop", _files(budget), actor="consultant")
    assert pushed["created"] and pushed["number"] == 2
    assert svc.configs.active("shop").version == 1  # not active yet
    assert svc.push("shop", _files(budget))["created"] is False  # same files, same version
    made = svc.records.create("shop", "customer", {"name": "a", "budget": "5", "region": "east"})
    assert made.result["pool"] == "has_need"  # version 1's rule
    assert svc.activate("shop", 2, "consultant") is True
    later = svc.records.create("shop", "customer", {"name": "b", "budget": "5", "region": "east"})
    assert later.result["pool"] == "nurturing" and later.result["config_version"] == 2
    listed = svc.configs.versions("shop")
    assert [(v["number"], v["active"]) for v in listed] == [(2, True), (1, False)]
    assert svc.rollback("shop", "consultant") == 1
    assert svc.configs.active("shop").version == 1
    assert svc.activate("shop", 1) is False  # active already


def test_a_bad_bundle_is_refused_whole_and_nothing_is_stored(svc: Services) -> None:
    with pytest.raises(BundleInvalid) as refused:
        svc.push("shop", _files(("pools.yaml", "to: won", "to: wonn")))
    assert refused.value.errors[0].file == "pools.yaml" and refused.value.errors[0].line > 1
    with pytest.raises(Invalid):
        svc.push("shop", read_bundle_dir(FIXTURES / "other"))  # another tenant's bundle
    assert len(svc.configs.versions("shop")) == 1
    with pytest.raises(NotFound):
        svc.activate("shop", 9)
    with pytest.raises(NotFound):
        svc.rollback("other")  # never switched


def test_a_semantic_diff_names_items_and_keys(svc: Services) -> None:
    svc.push("shop", _files(("entities.yaml", "max_length: 50", "max_length: 80")))
    changes = svc.diff("shop", 1, 2)
    assert changes == [
        {"kind": "field", "id": "customer.name", "change": "changed", "keys": ["max_length"]}
    ]
    files = _files(("pools.yaml", "      - id: paid\n", "      - id: paid_once\n"))
    svc.push("shop", files)
    kinds = {(c["kind"], c["id"], c["change"]) for c in svc.diff("shop", 1, 3)}
    assert kinds == {
        ("promotion", "customer_pool.paid", "removed"),
        ("promotion", "customer_pool.paid_once", "added"),
    }


def test_only_roles_that_can_configure_push(svc: Services) -> None:
    with pytest.raises(Forbidden):
        svc.push("shop", _files(), by="alice")  # a sales rep
    number = svc.push("shop", _files(("entities.yaml", "max_length: 50", "max_length: 60")))
    with pytest.raises(Forbidden):
        svc.activate("shop", number["number"], by="alice")
    with pytest.raises(Forbidden):
        svc.rollback("shop", by="alice")
    assert svc.configs.active("shop").version == 1


def test_a_bundle_that_extends_a_template_is_stored_with_it_and_diffed_resolved(
    svc: Services,
) -> None:
    files = read_bundle_dir(FIXTURES.parents[1] / "configs" / "northwind-b2b")
    assert "../_templates/b2b-sales/pools.yaml" in files  # the version is self-contained
    svc.install_bundle(load_bundle(files), actor="consultant")
    changed = dict(files)
    name = "../_templates/b2b-sales/pools.yaml"
    changed[name] = changed[name].replace("employees >= 500", "employees >= 250")
    pushed = svc.push("northwind-b2b", changed, actor="consultant")
    assert pushed["created"]
    assert svc.configs.bundle("northwind-b2b", pushed["number"]).files[name] == changed[name]
    # Northwind redefines the scoring rules: the template's change does not reach it.
    assert svc.diff("northwind-b2b", 1, pushed["number"]) == []
    changed[name] = changed[name].replace("Disqualified leads are", "Disqualified leads get")
    third = svc.push("northwind-b2b", changed, actor="consultant")["number"]
    assert svc.diff("northwind-b2b", 1, third) == [
        {
            "kind": "promotion",
            "id": "lead_lifecycle.disqualified",
            "change": "changed",
            "keys": ["label"],
        }
    ]
