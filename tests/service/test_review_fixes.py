"""Defects a review found: uniqueness across versions, batch claims, idempotent races on
PostgreSQL, list sorting and cursors, ReDoS in field patterns, bundle encodings."""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from engine.config import BundleInvalid, load_bundle_dir
from engine.errors import BadQuery, DuplicateValue
from engine.service import Idem, ListQuery, Services
from tests.helpers import FIXTURES


def _with_unique_name(tmp_path: Path, unique: bool) -> Path:
    copy = tmp_path / ("u" if unique else "n")
    shutil.copytree(FIXTURES / "shop", copy)
    entities = copy / "entities.yaml"
    text = entities.read_text(encoding="utf-8")
    flag = ", unique: true" if unique else ""
    entities.write_text(
        text.replace(
            "name: {type: string, required: true, max_length: 50}",
            f"name: {{type: string, required: true, max_length: 50{flag}}}",
        ),
        encoding="utf-8",
    )
    return copy


def test_a_field_that_becomes_unique_claims_its_stored_values(
    svc: Services, tmp_path: Path
) -> None:
    svc.records.create("shop", "customer", {"name": "Same"})
    svc.install_bundle(load_bundle_dir(_with_unique_name(tmp_path, True)))
    with pytest.raises(DuplicateValue):
        svc.records.create("shop", "customer", {"name": "Same"})


def test_a_version_that_stored_data_breaks_is_refused(svc: Services, tmp_path: Path) -> None:
    svc.records.create("shop", "customer", {"name": "Twin"})
    svc.records.create("shop", "customer", {"name": "Twin"})
    with pytest.raises(BundleInvalid) as caught:
        svc.install_bundle(load_bundle_dir(_with_unique_name(tmp_path, True)))
    assert "cannot become unique" in caught.value.errors[0].message
    assert "'Twin' ×2" in caught.value.errors[0].message
    assert svc.configs.active("shop").version == 1  # nothing changed


def test_a_field_no_longer_unique_releases_its_values(svc: Services, tmp_path: Path) -> None:
    svc.install_bundle(load_bundle_dir(_with_unique_name(tmp_path, True)))
    svc.records.create("shop", "customer", {"name": "Once"})
    svc.install_bundle(load_bundle_dir(_with_unique_name(tmp_path, False)))
    svc.records.create("shop", "customer", {"name": "Once"})  # allowed now
    with pytest.raises(BundleInvalid):  # and back: the repeat is found, not missed
        svc.install_bundle(load_bundle_dir(_with_unique_name(tmp_path / "again", True)))


def test_a_failed_batch_item_holds_no_unique_value(svc: Services) -> None:
    items = [
        {"phone": "13800000001"},
        {"name": "b", "phone": "13800000001"},
        {"name": "c", "phone": "13800000001"},
    ]
    results = svc.records.create_many("shop", "customer", items).result["results"]
    assert [r["status"] for r in results] == [422, 201, 409]


def test_only_emails_are_unique_regardless_of_case(svc: Services) -> None:
    svc.records.create(
        "shop", "customer", {"name": "a", "phone": "13800000002", "email": "Bob@Example.com"}
    )
    with pytest.raises(DuplicateValue):
        svc.records.create("shop", "customer", {"name": "b", "email": "bob@example.com"})


def test_retries_racing_the_first_write_replay_it(svc: Services) -> None:
    body = {"name": "Idem", "phone": "13900000000"}
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        try:
            outcomes.append(
                svc.records.create("shop", "customer", body, idem=Idem.of("race", body))
            )
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes


@pytest.mark.parametrize("sort", ["tags", "interests", "--name"])
def test_sorting_by_a_list_or_a_bad_name_is_a_bad_query(svc: Services, sort: str) -> None:
    with pytest.raises(BadQuery):
        svc.records.query("shop", "customer", ListQuery(sort=sort))


def test_paging_by_a_boolean_field(svc: Services) -> None:
    for i in range(5):
        svc.records.create("shop", "customer", {"name": f"n{i}", "vip": i % 2 == 0})
    seen, cursor = [], None
    for _ in range(5):
        page = svc.records.query("shop", "customer", ListQuery((), "-vip", 2, cursor))
        seen += [r.data["name"] for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == [f"n{i}" for i in range(5)] and len(seen) == 5


@pytest.mark.parametrize(
    "payload",
    [
        ["-budget", "abc", "x"],
        ["-created_at", "abc", "x"],
        ["-budget", {"a": 1}, "x"],
        ["name", "a", "x"],
    ],
)
def test_foreign_cursors_are_bad_queries(svc: Services, payload: list[object]) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(BadQuery):
        sort = "-created_at" if payload[0] == "-created_at" else "-budget"
        svc.records.query("shop", "customer", ListQuery((), sort, 2, cursor))


def test_field_patterns_take_linear_time(tmp_path: Path) -> None:
    copy = tmp_path / "b"
    shutil.copytree(FIXTURES / "other", copy)
    entities = copy / "entities.yaml"
    entities.write_text(
        entities.read_text(encoding="utf-8").replace(
            "      name: {type: string, required: true, max_length: 50}",
            "      name: {type: string, required: true, max_length: 250, "
            "pattern: '([a-zA-Z0-9]+\\.?)+@x\\.com'}",
        ),
        encoding="utf-8",
    )
    bundle = load_bundle_dir(copy)
    from engine.conditions.values import EPOCH
    from engine.fields.validator import EntityValidator

    validator = EntityValidator(bundle.entities["customer"], EPOCH.tzinfo)  # type: ignore[arg-type]
    started = time.perf_counter()
    _, errors = validator.for_create({"name": "a" * 200 + "!"})
    assert errors and time.perf_counter() - started < 0.5


def test_bundles_must_be_utf8(tmp_path: Path) -> None:
    copy = tmp_path / "gbk"
    shutil.copytree(FIXTURES / "other", copy)
    (copy / "entities.yaml").write_bytes(
        "entities:\n  customer:\n    label: 客户\n    fields: {name: {type: string}}\n".encode(
            "gbk"
        )
    )
    with pytest.raises(BundleInvalid) as caught:
        load_bundle_dir(copy)
    error = caught.value.errors[0]
    assert (error.line, error.col) == (3, 12)
    assert error.message == "the file is not UTF-8 text (it looks like GBK/GB18030)"
