"""Bundle tests (tests.yaml): run by the real engine on a throw-away store; a version whose
tests fail is not activated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.config.loader import load_bundle_dir, read_bundle_dir
from engine.errors import Refused
from engine.service import Services
from engine.service.bundle_tests import run_bundle_tests
from tests.helpers import FIXTURES

WRONG = (
    "expect: {pool: has_need, fields: {score: 0, grade: potential}}",
    "expect: {pool: key, fields: {score: 10, grade: potential}}",
)


def _broken(tmp_path: Path) -> Path:
    folder = tmp_path / "promo"
    shutil.copytree(FIXTURES / "campaigns", folder)
    text = (folder / "tests.yaml").read_text()
    assert WRONG[0] in text
    (folder / "tests.yaml").write_text(text.replace(*WRONG))
    return folder


def test_the_fixture_cases_pass() -> None:
    results = run_bundle_tests(load_bundle_dir(FIXTURES / "campaigns"))
    assert len(results) == 6 and all(r.passed for r in results), [r.failures for r in results]


def test_a_failing_case_says_what_differs_and_why(tmp_path: Path) -> None:
    results = run_bundle_tests(load_bundle_dir(_broken(tmp_path)))
    (failed,) = [r for r in results if not r.passed]
    assert failed.failures == ("expected pool 'key', got 'has_need'", "expected score 10, got 0")
    assert any("budget >= 100000" in line for line in failed.why)


def test_a_given_record_the_entity_refuses_fails_the_case(tmp_path: Path) -> None:
    folder = _broken(tmp_path)
    (folder / "tests.yaml").write_text(
        "tests:\n  - name: bad\n    given: {entity: customer, data: {name: x, budjet: 5}}\n"
        "    expect: {pool: nurturing}\n"
    )
    (result,) = run_bundle_tests(load_bundle_dir(folder))
    assert "budjet" in result.failures[0] and "refused" in result.failures[0]


def test_a_version_whose_tests_fail_is_not_activated(svc: Services, tmp_path: Path) -> None:
    svc.install_dirs([FIXTURES / "campaigns"])
    pushed = svc.push("promo", read_bundle_dir(_broken(tmp_path)))
    with pytest.raises(Refused) as refused:
        svc.activate("promo", pushed["number"])
    assert "1 of its tests fail" in refused.value.detail
    assert refused.value.errors[0].params["message"].startswith("an east budget")
    assert svc.configs.active("promo").version == 1
