"""Forms' conditional logic in the bundle: visible_when/required_when, hidden fields filled
from the URL, public pages and sections — built into the model and checked at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.errors import BundleInvalid, ConfigError
from engine.config.loader import load_bundle_dir
from tests.helpers import FIXTURES

TENANT = "tenant: acme\nname: Acme\ntimezone: UTC\n"
ENTITY = """\
entities:
  lead:
    fields:
      name: {type: string, required: true}
      interest: {type: enum, options: [basic, enterprise]}
      budget: {type: money}
      source: {type: enum, options: [web, qr_scan]}
      note: {type: text}
forms:
  signup:
    entity: lead
"""


def errors_of(tmp_path: Path, form: str) -> list[ConfigError]:
    (tmp_path / "tenant.yaml").write_text(TENANT, encoding="utf-8")
    (tmp_path / "entities.yaml").write_text(ENTITY + form, encoding="utf-8")
    with pytest.raises(BundleInvalid) as info:
        load_bundle_dir(str(tmp_path))
    return [e for e in info.value.errors if e.severity == "error"]


def test_fixture_form_builds_the_model() -> None:
    form = load_bundle_dir(str(FIXTURES / "forms")).forms["signup"]
    assert form.public is True
    assert form.thank_you is not None and form.thank_you.get("zh-CN") == "谢谢！"
    assert form.redirect == "https://example.com/thanks"
    budget = form.fields[3]
    assert (budget.name, budget.visible_when) == ("budget", "interest == 'enterprise'")
    note = form.fields[5]
    assert note.required_when == {"field": "interest", "op": "eq", "value": "enterprise"}
    assert [(f.name, f.hidden, f.from_url) for f in form.fields if f.hidden] == [
        ("source", True, "source"),
        ("activity", True, "act"),
    ]
    assert form.url_params == {"source": "source", "act": "activity"}
    assert [s.fields for s in form.sections] == [
        ("name", "phone"),
        ("interest", "budget", "seats", "note"),
    ]
    assert form.sections[1].label is not None and form.sections[1].label.get("en") == "Needs"


def test_chaotu_demo_forms_use_the_logic() -> None:
    forms = load_bundle_dir("configs/chaotu-demo").forms
    assert forms["website_signup"].fields[2].required_when == "budget >= 100000"
    qr = forms["qr_signup"]
    assert qr.public and qr.url_params == {"source": "source", "activity": "activity"}


def test_bad_condition_in_visible_when_is_located(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "    fields:\n"
        "      - name\n"
        "      - interest\n"
        "      - {field: budget, visible_when: \"interest == 'enterprize'\"}\n"
        '      - {field: note, required_when: "budgte > 1"}\n',
    )
    shown = [e.format() for e in errors]
    assert shown[0].startswith(
        f"{tmp_path}/entities.yaml:15:52: error: 'enterprize' is not an option of interest "
        "(at /forms/signup/fields/2/visible_when)"
    )
    assert "did you mean 'enterprise'?" in shown[0]
    assert shown[1].startswith(
        f"{tmp_path}/entities.yaml:16:39: error: unknown field 'budgte' "
        "(at /forms/signup/fields/3/required_when)"
    )
    assert len(errors) == 2


def test_structured_condition_error_points_at_its_node(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "    fields:\n"
        "      - name\n"
        "      - {field: note, visible_when: {field: interest, op: eq, value: enterprize}}\n",
    )
    assert [(e.line, e.pointer) for e in errors] == [
        (14, "/forms/signup/fields/1/visible_when/value")
    ]


def test_from_url_needs_a_hidden_known_field(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "    fields:\n"
        "      - name\n"
        "      - {field: source, from_url: source}\n"
        "      - {field: sourse, hidden: true, from_url: src}\n"
        "      - {field: note, hidden: true}\n"
        "      - {field: interest, hidden: true, from_url: src}\n",
    )
    assert [(e.line, e.pointer) for e in errors] == [
        (14, "/forms/signup/fields/1/from_url"),
        (15, "/forms/signup/fields/2/field"),
        (16, "/forms/signup/fields/3/hidden"),
        (17, "/forms/signup/fields/4/from_url"),
    ]
    assert [e.message for e in errors] == [
        "'source' is filled from the URL but is not hidden",
        "entity 'lead' has no field 'sourse'",
        "hidden field 'note' says nowhere where its value comes from",
        "URL parameter 'src' already fills 'sourse'",
    ]


def test_from_url_is_a_parameter_name(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path, "    fields: [name, {field: source, hidden: true, from_url: 'bad param!'}]\n"
    )
    assert [(e.line, e.pointer, e.message) for e in errors] == [
        (12, "/forms/signup/fields/1/from_url", "'bad param!' is not a valid URL parameter name")
    ]


def test_sections_name_fields_of_the_form(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "    fields: [name, interest, budget, {field: source, hidden: true, from_url: s}]\n"
        "    sections:\n"
        "      - {label: A, fields: [name, budgte]}\n"
        "      - {label: B, fields: [name, source, note]}\n",
    )
    got = [(e.line, e.pointer, e.message, e.hint) for e in errors]
    assert got == [
        (14, "/forms/signup/sections", "no section shows 'interest', 'budget'", got[0][3]),
        (
            14,
            "/forms/signup/sections/0/fields/1",
            "'budgte' is not a field of form 'signup'",
            "did you mean 'budget'?",
        ),
        (15, "/forms/signup/sections/1/fields/0", "'name' is in more than one section", got[2][3]),
        (
            15,
            "/forms/signup/sections/1/fields/1",
            "'source' is hidden: the page does not show it",
            got[3][3],
        ),
        (
            15,
            "/forms/signup/sections/1/fields/2",
            "'note' is not a field of form 'signup'",
            got[4][3],
        ),
    ]


def test_a_condition_cannot_hide_a_field_the_entity_requires(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path, "    fields:\n      - {field: name, visible_when: \"interest == 'basic'\"}\n"
    )
    assert [(e.pointer, e.code) for e in errors] == [
        ("/forms/signup/fields/0/visible_when", "required")
    ]


def test_redirect_must_be_https(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "    fields: [name]\n    redirect: http://example.com/x\n")
    assert [(e.pointer, e.message) for e in errors] == [
        ("/forms/signup/redirect", "'http://example.com/x' is not a valid redirect URL")
    ]


def test_public_form_guards_build_the_model() -> None:
    forms = load_bundle_dir(str(FIXTURES / "public_forms")).forms
    expo = forms["expo"]
    assert expo.duplicates is not None
    assert (expo.duplicates.by, expo.duplicates.within_minutes) == (("phone",), 30)
    limits = expo.limits
    assert (limits.per_ip, limits.per_form, limits.window_minutes) == (3, 5, 10)
    assert limits.max_body_bytes == 32 * 1024  # the default
    both = forms["by_both"]
    assert both.duplicates is not None and both.duplicates.within_minutes == 30
    assert (both.limits.per_ip, both.limits.per_form, both.limits.window_minutes) == (20, 2000, 60)
    assert forms["private"].duplicates is None and forms["private"].embed_origins == ()
    chaotu = load_bundle_dir("configs/chaotu-demo").forms["qr_signup"]
    assert chaotu.embed_origins == ("https://www.chaotu.example",)


def test_duplicates_name_fields_of_the_form(tmp_path: Path) -> None:
    form = "    fields: [name, note]\n    duplicates: {by: [note, nmae, budget]}\n"
    errors = errors_of(tmp_path, form)
    got = [(e.line, e.pointer, e.message, e.hint) for e in errors]
    assert got == [
        (
            13,
            "/forms/signup/duplicates/by/1",
            "'nmae' is not a field of form 'signup'",
            "did you mean 'name'?",
        ),
        (
            13,
            "/forms/signup/duplicates/by/2",
            "'budget' is not a field of form 'signup'",
            "add 'budget' to the form's fields",
        ),
    ]


def test_embed_origins_are_origins_of_a_public_form(tmp_path: Path) -> None:
    form = (
        "    fields: [name]\n"
        "    embed: {origins: ['https://ok.example', 'https://x.example/path', 'ftp://x.example']}\n"
    )
    errors = errors_of(tmp_path, form)
    assert [(e.pointer, e.message) for e in errors] == [
        (
            "/forms/signup/embed/origins/1",
            "'https://x.example/path' is not a valid origin",
        ),
        ("/forms/signup/embed/origins/2", "'ftp://x.example' is not a valid origin"),
    ]
    assert (
        errors[0].hint == "an origin such as https://www.example.com (no path, no trailing slash)"
    )
    errors = errors_of(
        tmp_path, "    fields: [name]\n    embed: {origins: ['https://ok.example']}\n"
    )
    assert [(e.pointer, e.message, e.hint) for e in errors] == [
        (
            "/forms/signup/embed",
            "form 'signup' is embedded but not public",
            "add public: true (only a public form has a page to embed)",
        )
    ]


def test_limits_are_positive_and_known(tmp_path: Path) -> None:
    form = "    fields: [name]\n    limits: {per_ip: 0, per_minute: 5}\n"
    errors = errors_of(tmp_path, form)
    assert sorted((e.pointer, e.code, e.message) for e in errors) == [
        ("/forms/signup/limits/per_ip", "minimum", "must be at least 1, got 0"),
        ("/forms/signup/limits/per_minute", "unknown_key", "unknown key 'per_minute'"),
    ]
