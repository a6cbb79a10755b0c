"""Template overlays: a bundle extends a template; items merge by id; errors point at the
file that caused them; the resolved bundle says where each item came from."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.config import BundleInvalid, load_bundle
from engine.config.errors import ConfigError
from engine.config.loader import load_bundle_dir, load_resolved, read_bundle_dir
from engine.config.resolved import resolved_json, resolved_yaml
from engine.service.bundle_tests import run_bundle_tests

ROOT = Path(__file__).resolve().parents[2] / "configs"
T = "../_templates/base"

TEMPLATE = {
    f"{T}/tenant.yaml": "locale: en\nroles:\n  rep: {label: {en: Rep, zh-CN: 销售}}\n",
    f"{T}/entities.yaml": """\
entities:
  lead:
    label: {en: Lead, zh-CN: 线索}
    fields:
      name: {type: string, label: {en: Name, zh-CN: 名称}, required: true}
      employees: {type: integer, label: {en: Employees, zh-CN: 员工}}
      status:
        type: enum
        label: {en: Status, zh-CN: 状态}
        options: {new: {en: New, zh-CN: 新}, won: {en: Won, zh-CN: 赢单}}
        default: new
""",
    f"{T}/pools.yaml": """\
pool_sets:
  life:
    entity: lead
    label: {en: Life, zh-CN: 生命周期}
    initial: fresh
    pools:
      fresh: {label: {en: Fresh, zh-CN: 新}}
      big: {label: {en: Big, zh-CN: 大客户}}
      done: {label: {en: Done, zh-CN: 完成}}
    promotions:
      - id: large
        from: [fresh]
        to: big
        when: "employees >= 1000"
        label: {en: Large companies, zh-CN: 大公司}
      - id: won
        from: [fresh, big]
        to: done
        when: "status == 'won'"
""",
}
OWN = {
    "tenant.yaml": f"extends: {T}\ntenant: t1\nname: {{en: T1, zh-CN: 一}}\ntimezone: UTC\n"
    "users:\n  - {id: ann, name: Ann, roles: [rep]}\n",
}


def bundle_of(**own: str) -> dict[str, str]:
    return {**TEMPLATE, **OWN, **{f"{k}.yaml": v for k, v in own.items()}}


def errors_of(files: dict[str, str], root: str = "") -> list[ConfigError]:
    with pytest.raises(BundleInvalid) as caught:
        load_bundle(files, root)
    return [e for e in caught.value.errors if e.severity == "error"]


def promotion(bundle: Any, rule: str) -> Any:
    return next(p for p in bundle.pool_sets["life"].promotions if p.id == rule)


def test_a_bundle_without_files_of_its_own_takes_the_templates() -> None:
    bundle = load_bundle(bundle_of())
    assert set(bundle.entities["lead"].fields) == {"name", "employees", "status"}
    assert [p.id for p in bundle.pool_sets["life"].promotions] == ["large", "won"]
    assert bundle.tenant.roles["rep"].label.texts["en"] == "Rep"
    assert list(bundle.tenant.users) == ["ann"]


def test_items_override_by_id_key_by_key_and_new_ids_are_added() -> None:
    pools = """\
pool_sets:
  life:
    pools:
      lost: {label: {en: Lost, zh-CN: 丢单}}
    promotions:
      - {id: large, when: "employees >= 500"}
      - {id: gone, from: [fresh], to: lost, when: "status == 'new' and employees < 5"}
"""
    entities = """\
entities:
  lead:
    fields:
      name: {label: {en: Company, zh-CN: 公司}}
      budget: {type: integer, label: {en: Budget, zh-CN: 预算}}
"""
    bundle = load_bundle(bundle_of(pools=pools, entities=entities))
    large = promotion(bundle, "large")
    assert (large.when, large.from_pools, large.to) == ("employees >= 500", ("fresh",), "big")
    assert [p.id for p in bundle.pool_sets["life"].promotions] == ["large", "won", "gone"]
    assert list(bundle.pool_sets["life"].pools) == ["fresh", "big", "done", "lost"]
    name = bundle.entities["lead"].fields["name"]
    assert (name.type, name.required, name.label.texts["en"]) == ("string", True, "Company")
    assert "budget" in bundle.entities["lead"].fields


def test_remove_drops_template_items_by_id_or_path() -> None:
    pools = "remove: [won, life/pools/done]\n"
    bundle = load_bundle(bundle_of(pools=pools))
    assert [p.id for p in bundle.pool_sets["life"].promotions] == ["large"]
    assert list(bundle.pool_sets["life"].pools) == ["fresh", "big"]


def test_remove_and_redefine_replaces_an_item_whole() -> None:
    pools = (
        "remove: [large]\npool_sets:\n  life:\n    promotions:\n"
        '      - {id: large, from: [fresh], to: done, when: "employees >= 2000"}\n'
    )
    large = promotion(load_bundle(bundle_of(pools=pools)), "large")
    assert large.label is None  # nothing of the template's item is left
    assert (large.to, large.when) == ("done", "employees >= 2000")


def test_remove_of_an_unknown_id_says_what_is_close() -> None:
    (error,) = errors_of(bundle_of(pools="remove: [wno]\n"))
    assert (error.file, error.line, error.col) == ("pools.yaml", 1, 10)
    assert error.message == "no template item 'wno' to remove"
    assert error.hint == "did you mean 'won'?"


def test_remove_of_an_id_two_items_share_asks_for_the_path() -> None:
    template = dict(TEMPLATE)
    template[f"{T}/pools.yaml"] = template[f"{T}/pools.yaml"].replace("id: won", "id: big")
    (error,) = errors_of({**template, **OWN, "pools.yaml": "remove: [big]\n"})
    assert "names several items" in error.message
    assert "pool_sets/life/pools/big" in error.message
    assert "pool_sets/life/promotions/big" in error.message


def test_remove_without_a_template_is_an_error() -> None:
    own = OWN["tenant.yaml"].replace(f"extends: {T}\n", "")
    errors = errors_of({"tenant.yaml": own + "remove: [rep]\n"})
    (error,) = [e for e in errors if e.code == "remove"]
    assert (error.file, error.line, error.code) == ("tenant.yaml", 6, "remove")


def test_an_error_in_an_override_points_at_the_overriding_file() -> None:
    pools = 'pool_sets:\n  life:\n    promotions:\n      - {id: large, when: "employes >= 5"}\n'
    (error,) = errors_of(bundle_of(pools=pools), "configs/t1")
    assert (error.file, error.line) == ("configs/t1/pools.yaml", 4)
    assert error.pointer == "/pool_sets/life/promotions/0/when"
    assert error.hint == "did you mean 'employees'?"


def test_an_error_in_a_template_item_points_at_the_template() -> None:
    # Removing a field the template's rule reads: the rule is where it breaks.
    entities = "remove: [employees]\n"
    (error,) = errors_of(bundle_of(entities=entities), "configs/t1")
    assert error.file == "configs/_templates/base/pools.yaml"
    assert (error.line, error.pointer) == (14, "/pool_sets/life/promotions/0/when")
    assert "employees" in error.message


def test_a_partial_new_item_is_refused_at_the_overlay() -> None:
    entities = "entities:\n  lead:\n    fields:\n      fax: {label: {en: Fax, zh-CN: 传真}}\n"
    (error,) = errors_of(bundle_of(entities=entities))
    assert (error.file, error.line, error.code) == ("entities.yaml", 4, "required")
    assert "'type'" in error.message


def test_a_missing_template_folder_is_reported_at_extends() -> None:
    (error,) = [e for e in errors_of(OWN) if e.code != "reference"]
    assert (error.file, error.line, error.col, error.code) == ("tenant.yaml", 1, 10, "extends")
    assert "not found" in error.message


def test_a_template_that_extends_the_bundle_is_a_loop() -> None:
    template = {**TEMPLATE, f"{T}/tenant.yaml": "extends: ../../t1\n"}
    own = OWN["tenant.yaml"]
    files = {**template, "tenant.yaml": own}
    # ../../t1 from ../_templates/base is the bundle's own folder only when named so: use "."
    files[f"{T}/tenant.yaml"] = "extends: .\n"
    (error,) = [e for e in errors_of(files) if e.code == "extends"]
    assert error.file == f"{T}/tenant.yaml"
    assert "extends itself" in error.message


def test_files_no_extends_names_are_refused() -> None:
    errors = errors_of({**bundle_of(), "../other/pools.yaml": "pool_sets: {}\n"})
    assert [e.code for e in errors] == ["unknown_file"]
    assert errors[0].file == "../other/pools.yaml"


def test_templates_can_extend_templates() -> None:
    base = {k.replace("base", "core"): v for k, v in TEMPLATE.items() if "pools" not in k}
    middle = {
        f"{T}/tenant.yaml": "extends: ../core\n",
        f"{T}/pools.yaml": TEMPLATE[f"{T}/pools.yaml"],
    }
    bundle, _, chain = load_resolved({**base, **middle, **OWN})
    assert chain == ["", T, "../_templates/core"]
    assert "life" in bundle.pool_sets and "lead" in bundle.entities


def test_changing_the_template_changes_the_digest() -> None:
    before = load_bundle(bundle_of())
    template = {**TEMPLATE, f"{T}/tenant.yaml": TEMPLATE[f"{T}/tenant.yaml"] + "locales: [en]\n"}
    after = load_bundle({**template, **OWN})
    assert before.digest != after.digest


def test_resolved_yaml_marks_each_item_and_reads_back_as_the_bundle() -> None:
    pools = 'pool_sets:\n  life:\n    promotions:\n      - {id: large, when: "employees > 9"}\n'
    _, sources, _ = load_resolved(bundle_of(pools=pools), "configs/t1")
    text = resolved_yaml(sources)
    assert (
        "- id: large  # configs/t1/pools.yaml:4 (over configs/_templates/base/pools.yaml:11)"
        in (text)
    )
    assert "- id: won  # configs/_templates/base/pools.yaml:16" in text
    for part in text.split("# ─── ")[1:]:
        kind, body = part.split(".yaml", 1)
        assert yaml.safe_load(body.split("\n", 1)[1]) == sources[kind].data
    items = resolved_json(sources)["pools"]["items"]
    assert items["/pool_sets/life/promotions/0"] == [
        {"file": "configs/_templates/base/pools.yaml", "line": 11},
        {"file": "configs/t1/pools.yaml", "line": 4},
    ]


def test_fixtures_are_shared_by_the_template_and_extended_by_the_client() -> None:
    template_tests = """\
fixtures:
  big_one:
    - {entity: lead, data: {name: Globex, employees: 5000}, as: big}
tests:
  - name: a big lead is big
    given: {fixture: big_one}
    expect: {record: big, pool: big}
"""
    own_tests = """\
fixtures:
  two:
    - {fixture: big_one}
    - {entity: lead, data: {name: Tiny, employees: 3, status: won}, as: tiny}
tests:
  - name: both
    given: [{fixture: two}]
    expect:
      - {record: big, pool: big}
      - {record: tiny, pool: done}
"""
    files = {**bundle_of(tests=own_tests), f"{T}/tests.yaml": template_tests}
    results = run_bundle_tests(load_bundle(files))
    assert [(r.name, r.passed) for r in results] == [("a big lead is big", True), ("both", True)]


def test_an_unknown_or_looping_fixture_is_refused() -> None:
    tests = """\
fixtures:
  a: [{fixture: b}]
  b: [{fixture: a}]
tests:
  - {name: x, given: {fixture: bigone}, expect: {pool: big}}
"""
    errors = errors_of(bundle_of(tests=tests))
    assert [e.message for e in errors] == [
        "fixture 'a' includes itself",
        "fixture 'b' includes itself",
        "unknown fixture 'bigone'",
    ]
    assert errors[2].line == 5


def test_the_example_client_bundle_resolves_and_passes_its_tests(tmp_path: Path) -> None:
    bundle = load_bundle_dir(ROOT / "northwind-b2b")
    assert any(name.startswith("../_templates/b2b-sales/") for name in bundle.files)
    assert "gone_quiet" not in [p.id for p in bundle.pool_sets["lead_lifecycle"].promotions]
    results = run_bundle_tests(bundle)
    assert len(results) >= 5 and all(r.passed for r in results), [r.failures for r in results]


def test_reading_a_folder_follows_extends(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "_templates", tmp_path / "_templates")
    shutil.copytree(ROOT / "northwind-b2b", tmp_path / "nw")
    files = read_bundle_dir(tmp_path / "nw")
    assert "../_templates/b2b-sales/pools.yaml" in files
    (tmp_path / "nw" / "tenant.yaml").write_text(
        (tmp_path / "nw" / "tenant.yaml").read_text().replace("b2b-sales", "b2b-sale")
    )
    with pytest.raises(BundleInvalid) as caught:
        load_bundle_dir(tmp_path / "nw")
    (error,) = [e for e in caught.value.errors if e.code == "extends"]
    assert error.file.endswith("nw/tenant.yaml") and "not found" in error.message
