"""A scope over the test bundle's customer entity, in Asia/Shanghai."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.conditions import Scope, entity_scope
from engine.config import load_bundle_dir
from tests.helpers import FIXTURES


@pytest.fixture(scope="session")
def scope() -> Scope:
    bundle = load_bundle_dir(FIXTURES / "shop")
    return entity_scope(bundle.entities["customer"], ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="session")
def update_scope(scope: Scope) -> Scope:
    return Scope(scope.fields, scope.tz, update=True)
