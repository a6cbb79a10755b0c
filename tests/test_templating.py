"""Message templates: filters, the sandbox, the output cap and the load-time check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config.model import Label
from engine.templating import (
    MAX_OUTPUT,
    TemplateError,
    TemplateProblem,
    TemplateScope,
    check,
    check_value,
    render,
    render_value,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)  # 2026-02-01 04:00 in Shanghai
RECORD = {
    "id": "r1",
    "owner": "u1",
    "pool": "active",
    "name": "张三",
    "total_paid": "1234.5",
    "trial_end": "2026-02-03",
    "created_at": "2026-01-31T17:30:00Z",
    "items": "three boxes",
}
SCOPE = TemplateScope(
    {
        "name": "text",
        "total_paid": "money",
        "trial_end": "date",
        "company": "reference",
        "items": "text",
        "tags": "tags",
    },
    entity="customer",
)


def context(**record: Any) -> dict[str, Any]:
    return {
        "record": {**RECORD, **record},
        "owner": {"id": "u1", "name": "Li Lei", "email": "li@example.com"},
        "campaign": {"id": "winback", "label": Label.of({"en": "Win back", "zh-CN": "挽回"}, "")},
        "variant": "a",
        "now": NOW,
        "tenant": {"id": "acme", "name": "Acme"},
    }


def r(text: str, locale: str = "en", **record: Any) -> str:
    return render(text, context(**record), tz=SHANGHAI, locale=locale)


# --- rendering --------------------------------------------------------------------------------


def test_fields_and_variables() -> None:
    assert r("回访 {{ record.name }}") == "回访 张三"
    assert r("{{ owner.name }} <{{ owner.email }}> for {{ tenant.name }}, {{ variant }}") == (
        "Li Lei <li@example.com> for Acme, a"
    )


def test_a_field_named_like_a_dict_method_is_the_field() -> None:
    assert r("{{ record.items }}") == "three boxes"


def test_labels_render_in_the_locale() -> None:
    assert r("{{ campaign.label }}", locale="zh-CN") == "挽回"
    assert r("{{ campaign.label }}") == "Win back"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ record.created_at | date }}", "2026-02-01"),  # 17:30 UTC is the next day there
        ("{{ record.created_at | datetime }}", "2026-02-01 01:30"),
        ("{{ record.created_at | date('%m月%d日') }}", "02月01日"),
        ("{{ record.created_at | datetime(fmt='%H:%M %Z') }}", "01:30 CST"),
        ("{{ record.trial_end | date }}", "2026-02-03"),  # a date stays that date
        ("{{ record.trial_end | date('%d/%m/%Y') }}", "03/02/2026"),
        ("{{ '2026-01-31T23:30:00' | datetime }}", "2026-01-31 23:30"),  # naive: local time
        ("{{ now | date }}", "2026-02-01"),
        ("{{ 'soon' | date }}", "soon"),  # cannot be formatted: unchanged
        ("{{ 42 | datetime }}", "42"),
    ],
)
def test_date_filters(text: str, expected: str) -> None:
    assert r(text) == expected


def test_date_filters_take_python_values() -> None:
    ctx = context(signed=datetime(2026, 3, 1, 16, 0, tzinfo=UTC), due=date(2026, 3, 9))
    text = "{{ record.signed | datetime }} / {{ record.due | date }}"
    assert render(text, ctx, tz=SHANGHAI) == "2026-03-02 00:00 / 2026-03-09"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ record.total_paid | money('CNY') }}", "¥1,234.50"),
        ("{{ record.total_paid | money('USD') }}", "$1,234.50"),
        ("{{ record.total_paid | money }}", "1,234.50"),
        ("{{ record.total_paid | money('usd', 0) }}", "$1,235"),
        ("{{ record.total_paid | money(currency='EUR', places=3) }}", "€1,234.500"),
        ("{{ record.total_paid | money('CHF') }}", "CHF 1,234.50"),
        ("{{ -1234567.005 | money('CNY') }}", "-¥1,234,567.01"),  # half up, as money rounds
        ("{{ 1000000 | money }}", "1,000,000.00"),
        ("{{ 'n/a' | money('CNY') }}", "n/a"),  # not a number: unchanged
        ("{{ true | money }}", "True"),
        ("{{ 1 | money('CNY', 'two') }}", "1"),
        ("{{ '1e40' | money }}", "1e40"),  # more digits than an amount has
    ],
)
def test_money(text: str, expected: str) -> None:
    assert r(text) == expected


def test_money_takes_decimals() -> None:
    assert render("{{ x | money('CNY') }}", {"x": Decimal("0.5")}, tz=UTC) == "¥0.50"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ record.trial_end | days_until }}", "2"),  # calendar days: today is Feb 1 there
        ("{{ record.trial_end | days_since }}", "-2"),
        ("{{ record.created_at | days_since }}", "0"),  # 2.5 hours: no whole day yet
        ("{{ '2026-01-29T19:00:00Z' | days_since }}", "2"),
        ("{{ '2026-01-29T21:00:00Z' | days_since }}", "1"),
        ("{{ '2026-02-02T19:00:00Z' | days_until }}", "1"),  # 47 hours
        ("{{ '2026-02-01T19:00:00Z' | days_until }}", "0"),
        ("{{ 'never' | days_until }}", "never"),
    ],
)
def test_days(text: str, expected: str) -> None:
    assert r(text) == expected


def test_days_without_now_are_unchanged() -> None:
    ctx = {"record": {"due": "2026-02-03"}}
    assert render("{{ record.due | days_until }}", ctx, tz=SHANGHAI) == "2026-02-03"


def test_missing_values_render_empty() -> None:
    text = "[{{ record.phone }}|{{ record.phone | money('CNY') }}|{{ record.phone | date }}]"
    assert r(text) == "[||]"
    assert r("{{ record.company.name }}|{{ owner.missing }}") == "|"
    assert r("{{ record.phone | default('no phone') }}") == "no phone"
    assert render("{{ owner.name }}", {"owner": None}, tz=UTC) == ""


def test_json_bodies() -> None:
    body = {
        "customer": "{{ record.id }}",
        "amount": "{{ record.total_paid | money }}",
        "lines": ["{{ record.name }}", 3, None, True],
        "{{ record.id }}": {"deep": "{{ variant }}"},
        "count": 2.5,
    }
    assert render_value(body, context(), tz=SHANGHAI) == {
        "customer": "r1",
        "amount": "1,234.50",
        "lines": ["张三", 3, None, True],
        "{{ record.id }}": {"deep": "a"},  # keys are not templates
        "count": 2.5,
    }
    assert render_value(7, context(), tz=SHANGHAI) == 7


@given(st.text(alphabet=st.characters(blacklist_characters="{%#\r")))
def test_text_without_markers_renders_to_itself(text: str) -> None:
    assert render(text, {}, tz=UTC) == text


# --- the sandbox ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{{ record.__class__ }}",
        "{{ record['__class__'] }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ owner.name.__class__.__base__ }}",
        "{{ now.__reduce__() }}",
        "{{ '{0.__class__}'.format(record) }}",
        "{{ [1] | join(attribute='__class__') }}",
        "{{ range.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_internals(text: str) -> None:
    with pytest.raises(TemplateError, match=r"cannot be read|no attribute") as caught:
        r(text)
    assert "<class" not in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_the_sandbox_refuses_changes() -> None:
    record = {"name": "A"}
    with pytest.raises(TemplateError):
        render("{{ record.update({'name': 'B'}) }}", {"record": record}, tz=UTC)
    assert record == {"name": "A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ range(1000000) | list }}", "Range too big"),
        ("{{ 'x' * 100000 }}", "repeating text"),
        ("{{ [0] * 10 ** 6 }}", "repeating text"),
        ("{{ 2 ** 100000 }}", "exponents above"),
        ("{% for i in range(100000) %}0123456789{% endfor %}", "longer than 65536"),
    ],
)
def test_limits(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        r(text)


def test_output_just_under_the_cap() -> None:
    assert len(r(f"{{{{ 'x' * {MAX_OUTPUT} }}}}")) == MAX_OUTPUT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one\n{{ 1 / 0 }}", "line 2: division by zero"),
        ("{{ 'a' + 1 }}", 'line 1: can only concatenate str (not "int") to str'),
        ("{{ record.name.nope() }}", "line 1: 'str object' has no attribute 'nope'"),
        ("{% if %}", "line 1: Expected an expression, got 'end of statement block'"),
        ("{{ 1 | nope }}", "line 1: No filter named 'nope'."),
    ],
)
def test_runtime_errors_are_short(text: str, expected: str) -> None:
    with pytest.raises(TemplateError) as caught:
        r(text)
    assert str(caught.value) == expected


# --- checking ---------------------------------------------------------------------------------

KNOWN_VARIABLES = "known variables: campaign, now, owner, record, tenant, variant"


def test_a_clean_template_has_no_problems() -> None:
    text = (
        "{{ record.name }} {{ record['total_paid'] | money('CNY') }} {{ record.created_at | date }}"
        "{{ owner.email }} {{ campaign.label }} {{ tenant.id }} {{ variant }} {{ now | datetime }}"
        "{% for tag in record.tags %}{{ loop.index }}{{ tag | upper }}{% endfor %}"
        "{% set n = record.name | length %}{{ n }}{% macro m(x) %}{{ x }}{% endmacro %}{{ m(1) }}"
        "{{ record.name.upper() }} {{ record.name is defined }} {{ record.trial_end | days_until }}"
    )
    assert check(text, SCOPE) == []


def test_a_syntax_error_with_its_line() -> None:
    [problem] = check("Hello\n{{ record.name }}\n{% if record.name %}", SCOPE)
    assert (problem.line, problem.column, problem.hint) == (3, 1, None)
    assert problem.message.startswith("Unexpected end of template.")
    [problem] = check("{{ record.name }}\n{{ record.name + }}", SCOPE)
    assert (problem.line, problem.message) == (2, "unexpected 'end of print statement'")


def test_an_unknown_field_with_did_you_mean() -> None:
    assert check("Hi {{ record.nmae }}", SCOPE) == [
        TemplateProblem(1, 14, "unknown field 'nmae' of customer", "did you mean 'name'?")
    ]
    assert check("{{ record['nmae'] }}", SCOPE)[0].hint == "did you mean 'name'?"


def test_an_unknown_field_lists_the_fields_when_nothing_is_close() -> None:
    [problem] = check("{{ record.zzz }}", SCOPE)
    assert problem.hint == (
        "known fields: company, created_at, id, items, name, owner, pool, queue, tags,"
        " total_paid, trial_end, updated_at"
    )


def test_an_unknown_filter_lists_the_filters() -> None:
    [problem] = check("{{ record.total_paid | mony('CNY') }}", SCOPE)
    assert (problem.line, problem.column, problem.message) == (1, 24, "unknown filter 'mony'")
    assert problem.hint is not None
    assert problem.hint.startswith("did you mean 'money'? known filters: abs, capitalize,")
    for name in ("date", "datetime", "money", "days_until", "days_since", "default"):
        assert f" {name}," in problem.hint or problem.hint.endswith(name)


def test_an_unknown_variable() -> None:
    assert check("{{ customer.name }}", SCOPE) == [
        TemplateProblem(1, 4, "unknown variable 'customer'", KNOWN_VARIABLES)
    ]


def test_an_unknown_attribute_of_owner_campaign_tenant() -> None:
    text = "{{ owner.phone }} {{ campaign.lable }} {{ tenant['nmae'] }}"
    assert [(p.column, p.message, p.hint) for p in check(text, SCOPE)] == [
        (10, "owner has no attribute 'phone'", "known attributes of owner: email, id, name"),
        (
            31,
            "campaign has no attribute 'lable'",
            "did you mean 'label'? known attributes of campaign: id, label",
        ),
        (
            51,
            "tenant has no attribute 'nmae'",
            "did you mean 'name'? known attributes of tenant: id, name",
        ),
    ]


def test_several_problems_at_once() -> None:
    text = (
        "Dear {{ record.nmae }},\n{{ ownr.name }} {{ record.total_paid | mony }}\n{{ x.__class__ }}"
    )
    assert [(p.line, p.column, p.message) for p in check(text, SCOPE)] == [
        (1, 16, "unknown field 'nmae' of customer"),
        (2, 4, "unknown variable 'ownr'"),
        (2, 40, "unknown filter 'mony'"),
        (3, 4, "unknown variable 'x'"),
        (3, 6, "'__class__' cannot be read in a template"),
    ]


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "{{ ''.__class__.__mro__ }}",
            "'__class__' cannot be read in a template",
            "names starting with _ and Python internals are refused by the sandbox",
        ),
        (
            "{{ record.owner.name }}",
            "record.owner is an id; it has no attribute 'name'",
            "the owner user is `owner`: owner.name, owner.email",
        ),
        (
            "{{ record.company.name }}",
            "record.company is an id; it has no attribute 'name'",
            "a template reads only this record's fields",
        ),
        (
            "{{ record.tags.append('x') }}",
            "append() would change a value; templates only read",
            "build the text with ~ and filters",
        ),
        (
            "{% include 'footer' %}",
            "a template cannot include, import or extend other templates",
            "write the text in place",
        ),
        (
            "{{ record.total_paid | money('CNY', 2, 3) }}",
            "filter 'money' takes 2 argument(s), not 3",
            "use money(currency, places)",
        ),
        (
            "{{ record.trial_end | date(fromat='%Y') }}",
            "filter 'date' has no argument 'fromat'",
            "did you mean 'fmt'?",
        ),
        ("{{ record.name is strng }}", "unknown test 'strng'", None),
        ("{% filter shout %}hi{% endfilter %}", "unknown filter 'shout'", None),
        ("{% block a %}{% endblock %}{% block a %}{% endblock %}", "block 'a' defined twice", None),
    ],
)
def test_what_the_check_finds(text: str, message: str, hint: str | None) -> None:
    problem = check(text, SCOPE)[0]
    assert problem.message == message
    if hint is not None:
        assert problem.hint == hint


def test_a_narrower_scope() -> None:
    scope = TemplateScope({"name": "text"}, variables=frozenset({"record", "now"}))
    assert [p.message for p in check("{{ campaign.id }} {{ record.name }}", scope)] == [
        "unknown variable 'campaign'"
    ]


def test_check_value_gives_pointers() -> None:
    action = {
        "title": "{{ record.nmae }}",
        "body": {"customer": "{{ recrd.id }}", "a/b": ["ok", 1, "{{ q }}"]},
        "retries": 3,
    }
    found = [(pointer, p.message) for pointer, p in check_value(action, SCOPE)]
    assert found == [
        ("/title", "unknown field 'nmae' of customer"),
        ("/body/customer", "unknown variable 'recrd'"),
        ("/body/a~1b/2", "unknown variable 'q'"),
    ]
    assert check_value("{{ x }}", SCOPE, pointer="/body")[0][0] == "/body"
    assert check_value({"n": 1, "s": "plain"}, SCOPE) == []
