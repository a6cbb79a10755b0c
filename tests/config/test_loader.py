"""Whole bundles: the demo bundles load clean; every bad bundle fails with exactly its message.

The bad corpus lives in tests/config/bad/<case>/: the bundle's YAML files plus `expected.txt`,
the exact output of `"\\n".join(e.format() for e in exc.errors)` with paths relative to the
repository root. To refresh after an intended message change, run
`TIDEPOOL_REWRITE_EXPECTED=1 .venv/bin/pytest tests/config/test_loader.py` and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import pytest

from engine.config import BundleInvalid, ConfigError, load_bundle, load_bundle_dir
from engine.config.loader import digest_files, read_bundle_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path("tests/config")
BAD_CASES = sorted(p.name for p in (REPO_ROOT / HERE / "bad").iterdir() if p.is_dir())
WARN_CASES = sorted(p.name for p in (REPO_ROOT / HERE / "warn").iterdir() if p.is_dir())
REWRITE = os.environ.get("TIDEPOOL_REWRITE_EXPECTED") == "1"


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def formatted(errors: list[ConfigError] | tuple[ConfigError, ...]) -> str:
    return "\n".join(e.format() for e in errors) + "\n"


def check_expected(folder: Path, actual: str) -> None:
    expected_file = folder / "expected.txt"
    if REWRITE:
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


# --- the demo bundles --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["chaotu-demo", "acme-saas"])
def test_demo_bundle_loads_without_errors_or_warnings(name: str) -> None:
    bundle = load_bundle_dir(f"configs/{name}")
    assert bundle.id == name
    assert bundle.warnings == ()
    kinds = {"tenant", "entities", "pools", "assignment", "campaigns", "tests"}
    assert set(bundle.files) == {f"{kind}.yaml" for kind in kinds}
    for text in bundle.files.values():
        assert text.startswith("# yaml-language-server: $schema=../../schemas/")


def test_chaotu_demo_model() -> None:
    bundle = load_bundle_dir("configs/chaotu-demo")
    tenant = bundle.tenant
    assert (tenant.timezone, tenant.locale, tenant.locales) == (
        "Asia/Shanghai",
        "zh-CN",
        ("zh-CN", "en"),
    )
    assert tenant.name.get("zh-CN") == "超兔演示"
    assert set(tenant.teams) == {"east", "north", "south"}
    assert tenant.roles["sales"].see_masked == ("phone", "email")
    assert tenant.users["alice"].name == "王丽"
    assert tenant.users["alice"].capacity.open == 50
    assert all(set(u.teams) <= set(tenant.teams) for u in tenant.users.values())
    assert set(bundle.entities) == {"customer", "contact", "order", "activity", "task", "complaint"}
    assert set(bundle.segments) == {"high_value_loyal", "potential", "sleeping"}
    triggers = {c.id: c.trigger.kind for c in bundle.campaigns}
    assert triggers["wake_sleeping"] == "segment_enter" and triggers["overdue_task"] == "relative"
    wake = next(c for c in bundle.campaigns if c.id == "wake_sleeping")
    assert dict(wake.split) == {"coupon_50": 45, "coupon_100": 45, "holdout": 10}
    assert [s.wait.days for s in wake.steps] == [0, 3]

    customer = bundle.entities["customer"]
    assert customer.label.get("zh-CN") == "客户" and customer.label.get("en") == "Customer"
    phone = customer.fields["phone"]
    assert (phone.type, phone.unique, phone.pii) == ("phone", True, True)
    source = customer.fields["source"]
    assert source.option_values == (
        "website_form",
        "qr_scan",
        "referral",
        "market_activity",
        "cold_call",
    )
    assert source.options[1].label.get("zh-CN") == "地推扫码"
    region = customer.fields["region"]
    assert [o.label.get("zh-CN") for o in region.options] == ["华东", "华北", "华南", "西部"]
    budget = customer.fields["budget"]
    assert (budget.type, budget.currency, str(budget.min)) == ("money", "CNY", "0")
    assert bundle.entities["order"].fields["customer_id"].ref_entity == "customer"
    assert bundle.entities["order"].fields["status"].default == "pending"

    assert set(bundle.forms) == {"website_signup", "qr_signup", "order_entry", "followup_log"}
    signup = bundle.forms["website_signup"]
    assert signup.entity == "customer"
    assert signup.field_names == ("name", "phone", "region", "budget")
    assert dict(signup.defaults) == {"source": "website_form"}
    assert signup.fields[0].label is not None and signup.fields[0].label.get("en") == (
        "Company name"
    )
    assert signup.fields[1].required is True
    assert dict(bundle.forms["qr_signup"].defaults) == {"source": "qr_scan"}


def test_acme_saas_model() -> None:
    bundle = load_bundle_dir("configs/acme-saas")
    tenant = bundle.tenant
    assert (tenant.timezone, tenant.locale, tenant.locales) == (
        "America/New_York",
        "en",
        ("en", "zh-CN"),
    )
    assert set(tenant.teams) == {"amer", "emea"}
    assert set(tenant.roles) == {"sdr", "ae", "manager", "admin"}
    assert set(bundle.entities) == {"lead", "account", "opportunity", "activity", "task"}
    lead = bundle.entities["lead"]
    assert (lead.fields["email"].unique, lead.fields["email"].pii) == (True, True)
    score = lead.fields["score"]
    assert (str(score.min), str(score.max)) == ("0", "100")
    assert lead.fields["interested_in"].type == "multi_enum"
    # the industry options are shared with a YAML anchor
    account = bundle.entities["account"]
    assert account.fields["industry"].options == lead.fields["industry"].options
    assert account.fields["arr"].currency == "USD"
    stage = bundle.entities["opportunity"].fields["stage"]
    assert stage.option_values == (
        "prospecting",
        "qualification",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
    )
    assert stage.options[1].label.get("zh-CN") == "立项评估"
    assert bundle.entities["opportunity"].fields["close_date"].type == "date"
    assert set(bundle.forms) == {"demo_request", "contact_sales", "opportunity_entry"}
    assert bundle.forms["opportunity_entry"].entity == "opportunity"


def test_bundle_is_immutable() -> None:
    bundle = load_bundle_dir("configs/chaotu-demo")
    assert isinstance(bundle.entities, MappingProxyType)
    with pytest.raises(TypeError):
        bundle.entities["x"] = bundle.entities["customer"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        bundle.digest = "x"  # type: ignore[misc]


def test_digest_is_the_identity_of_the_files() -> None:
    files = read_bundle_dir("configs/chaotu-demo")
    bundle = load_bundle(files)
    assert bundle.digest == digest_files(files) == load_bundle_dir("configs/chaotu-demo").digest
    changed = dict(files, **{"tenant.yaml": files["tenant.yaml"] + "\n# a comment\n"})
    assert load_bundle(changed).digest != bundle.digest


# --- the bad corpus ----------------------------------------------------------------------------


def test_the_bad_corpus_is_there() -> None:
    assert len(BAD_CASES) >= 40


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_bundle_fails_with_the_expected_errors(case: str) -> None:
    path = HERE / "bad" / case
    with pytest.raises(BundleInvalid) as info:
        load_bundle_dir(str(path))
    errors = info.value.errors
    assert any(e.severity == "error" for e in errors)
    for error in errors:
        assert error.file.startswith(f"{path}/"), error.file
        assert error.line >= 1 and error.col >= 1
    assert info.value.format() + "\n" == formatted(errors)
    check_expected(REPO_ROOT / path, formatted(errors))


def test_the_corpus_covers_every_kind_of_problem() -> None:
    codes: set[str] = set()
    for case in BAD_CASES:
        with pytest.raises(BundleInvalid) as info:
            load_bundle_dir(str(HERE / "bad" / case))
        codes |= {e.code for e in info.value.errors}
    assert codes >= {
        "unknown_key",
        "required",
        "type",
        "enum",
        "pattern",
        "duplicate_key",
        "reference",
        "duplicate",
        "not_applicable",
        "field",
        "value",
        "reserved",
        "timezone",
        "unknown_file",
        "missing_file",
        "duplicate_file",
        "yaml",
        "yaml_tag",
        "uniqueItems",
        "minimum",
        "minProperties",
        "minItems",
        "minLength",
    }


# --- warnings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", WARN_CASES)
def test_warnings_do_not_stop_a_bundle(case: str) -> None:
    path = HERE / "warn" / case
    bundle = load_bundle_dir(str(path))
    assert bundle.warnings
    assert all(w.severity == "warning" for w in bundle.warnings)
    check_expected(REPO_ROOT / path, formatted(bundle.warnings))


TENANT = "tenant: t\nname: T\ntimezone: UTC\nlocale: zh-CN\nlocales: [zh-CN, en]\n"


def test_a_label_missing_a_locale_is_a_located_warning() -> None:
    entities = (
        "entities:\n  customer:\n    label: {zh-CN: 客户}\n    fields:\n"
        "      name: {type: string}\n"
    )
    bundle = load_bundle({"tenant.yaml": TENANT, "entities.yaml": entities})
    (warning,) = bundle.warnings
    assert (warning.file, warning.line, warning.col) == ("entities.yaml", 3, 12)
    assert (warning.severity, warning.code, warning.pointer) == (
        "warning",
        "label",
        "/entities/customer/label",
    )
    assert warning.message == "missing the en text"


def test_a_plain_string_label_is_any_language() -> None:
    entities = "entities:\n  customer:\n    label: 客户\n    fields:\n      name: {type: string}\n"
    assert load_bundle({"tenant.yaml": TENANT, "entities.yaml": entities}).warnings == ()


def test_warnings_come_after_errors_when_a_bundle_fails() -> None:
    entities = (
        "entities:\n  customer:\n    label: {zh-CN: 客户}\n    fields:\n"
        "      name: {type: string}\n      owner: {type: string}\n"
    )
    with pytest.raises(BundleInvalid) as info:
        load_bundle({"tenant.yaml": TENANT, "entities.yaml": entities})
    assert [(e.severity, e.line) for e in info.value.errors] == [("error", 6), ("warning", 3)]


# --- loader entry points -----------------------------------------------------------------------


def test_a_missing_folder_is_reported() -> None:
    with pytest.raises(BundleInvalid) as info:
        load_bundle_dir("configs/no-such-tenant")
    (error,) = info.value.errors
    assert (error.file, error.code, error.message) == (
        "configs/no-such-tenant",
        "not_found",
        "not a bundle folder",
    )


def test_load_bundle_without_display_root_names_files_plainly() -> None:
    with pytest.raises(BundleInvalid) as info:
        load_bundle({"tenant.yaml": "tenant: t\nname: T\ntimezone: Mars/Olympus\n"})
    assert info.value.format() == (
        "tenant.yaml:3:11: error: unknown time zone 'Mars/Olympus' (at /timezone)\n"
        "  hint: use an IANA time zone name such as Asia/Shanghai or America/New_York"
    )


def test_a_tenant_alone_is_a_bundle() -> None:
    bundle = load_bundle({"tenant.yaml": "tenant: t\nname: T\ntimezone: Europe/Paris\n"})
    assert (bundle.id, bundle.tenant.locale, bundle.tenant.locales) == ("t", "en", ("en",))
    assert dict(bundle.entities) == {} and dict(bundle.forms) == {}


def test_yml_suffix_is_accepted() -> None:
    bundle = load_bundle({"tenant.yml": "tenant: t\nname: T\ntimezone: UTC\n"})
    assert bundle.id == "t"


def test_a_file_that_fails_early_hides_no_other_file_errors() -> None:
    files = {
        "tenant.yaml": "tenant: t\nname: T\ntimezone: UTC\nusers:\n  - {id: a, name: A, "
        "roles: [boss]}\n",
        "entities.yaml": "entities:\n  customer:\n    fields: {name: {type: strng}}\n",
    }
    with pytest.raises(BundleInvalid) as info:
        load_bundle(files)
    assert [(e.file, e.code) for e in info.value.errors] == [
        ("entities.yaml", "enum"),
        ("tenant.yaml", "reference"),
    ]


def test_merge_keys_in_a_bundle() -> None:
    entities = (
        "entities:\n  customer:\n    fields:\n"
        "      name: &text {type: string, max_length: 100, required: true}\n"
        "      company: {<<: *text, max_length: 200}\n"
    )
    bundle = load_bundle(
        {"tenant.yaml": "tenant: t\nname: T\ntimezone: UTC\n", "entities.yaml": entities}
    )
    company = bundle.entities["customer"].fields["company"]
    assert (company.type, company.max_length, company.required) == ("string", 200, True)


def test_a_default_is_checked_against_its_field() -> None:
    entities = (
        "entities:\n  task:\n    fields:\n"
        "      due_at: {type: datetime, default: '2026-01-01T09:00:00+08:00'}\n"
        "      budget: {type: money, default: 12.555}\n"
        "      starts_on: {type: date, default: '2026-13-01'}\n"
    )
    with pytest.raises(BundleInvalid) as info:
        load_bundle(
            {"tenant.yaml": "tenant: t\nname: T\ntimezone: UTC\n", "entities.yaml": entities}
        )
    assert info.value.format() == (
        "entities.yaml:5:38: error: 12.555 is not a valid value for budget: must have at most "
        "2 decimal places (at /entities/task/fields/budget/default)\n"
        "entities.yaml:6:40: error: '2026-13-01' is not a valid value for starts_on: must be a "
        "date like 2026-01-31 (at /entities/task/fields/starts_on/default)"
    )
