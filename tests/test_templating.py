"""Message templates: filters, the sandbox, the bounds on time and memory, and the load-time
check."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.config.model import Label
from engine.i18n import CATALOGUE
from engine.templating import (
    FILTER_BOUNDS,
    FILTERS,
    JINJA_FILTERS,
    MAX_OUTPUT,
    METHODS,
    TemplateError,
    TemplateProblem,
    TemplateScope,
    check,
    check_value,
    error_text,
    render,
    render_value,
    shared_budget,
)
from tests.helpers import ROOT

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
        ("{{ range(1000000) | list }}", "range\\(\\) may hold at most 10000 numbers"),
        ("{{ 'x' * 100000 }}", "more than 65536 characters or items"),
        ("{{ [0] * 10 ** 6 }}", "more than 65536 characters or items"),
        ("{{ 2 ** 100000 }}", "exponents above"),
        ("{% for i in range(10000) %}0123456789{% endfor %}", "longer than 65536"),
    ],
)
def test_limits(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        r(text)


def test_output_just_under_the_cap() -> None:
    assert len(r(f"{{{{ 'x' * {MAX_OUTPUT} }}}}")) == MAX_OUTPUT


# --- bounded in time and memory -----------------------------------------------------------------

# Only the clock stops this one: 2**40 calls, 40 deep, printing nothing.
SPIN = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
# What an attacker (or a slip) writes into a campaign template, and the bounds that stop it.
PAYLOADS = {
    "nested ranges": (
        "{% for a in range(10000) %}{% for b in range(10000) %}{{ a }}{% endfor %}{% endfor %}",
        {"budget", "steps", "output"},
    ),
    "nested ranges, silent": (
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
        {"budget", "steps"},
    ),
    "a loop whose test is never true": (
        "{% for a in range(10000) %}{% for b in range(10000) if b < 0 %}{% endfor %}{% endfor %}",
        {"budget", "steps"},
    ),
    "loops over a long string": (
        "{% set s = 'ab' * 30000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        {"budget", "steps"},
    ),
    "loops over a long list": (
        "{% set l = [0] * 20000 %}{% for a in l %}{% for b in l %}{{ '' }}{% endfor %}{% endfor %}",
        {"budget", "steps"},
    ),
    "9**(9**9)": ("{{ 9 ** (9 ** 9) }}", {"exponent"}),
    "((9**1000)**1000)**4": ("{{ ((9 ** 1000) ** 1000) ** 4 }}", {"integer"}),
    "squaring in a loop": (
        "{% set ns = namespace(n=9 ** 999) %}{% for i in range(99) %}"
        "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}",
        {"integer"},
    ),
    "'a' * 2**20": ("{{ 'a' * 2 ** 20 }}", {"too_long"}),
    "doubling with ~": (
        "{% set ns = namespace(s='a') %}{% for i in range(28) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        {"too_long"},
    ),
    "doubling with +": (
        "{% set ns = namespace(s='a') %}{% for i in range(28) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
        {"too_long"},
    ),
    "a list holding a long list": (
        "{% set a = [0] * 60000 %}{% set b = [a] * 60000 %}{{ b | length }}",
        {"too_long"},
    ),
    "a list keeping what each step builds": (
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + [('x' * 60000) ~ i] %}{% endfor %}",
        {"too_long", "built"},
    ),
    "a namespace counter": (
        "{% set ns = namespace(i=0) %}{% for a in range(10000) %}{% for b in range(10000) %}"
        "{% set ns.i = ns.i + 1 %}{% endfor %}{% endfor %}{{ ns.i }}",
        {"budget", "steps"},
    ),
    "a macro calling itself twice": (SPIN, {"budget"}),
    "a macro calling itself forever": (
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        {"depth"},
    ),
    "a recursive loop without end": (
        "{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}",
        {"depth"},
    ),
    "a macro doubling its argument": (
        "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{% set ns = namespace(s='a') %}"
        "{% for i in range(30) %}{% set ns.s = d(ns.s) %}{% endfor %}{{ ns.s | length }}",
        {"output", "built"},
    ),
    "{% set %} blocks growing": (
        "{% set ns = namespace(s='ab') %}{% for i in range(30) %}"
        "{% set x %}{{ ns.s }}{{ ns.s }}{% endset %}{% set ns.s = x %}{% endfor %}",
        {"output", "built"},
    ),
    "a {% set %} block of repeated text": (
        "{% set x %}{% for i in range(10000) %}" + "x" * 1000 + "{% endfor %}{% endset %}",
        {"built"},
    ),
    "join": ("{{ range(10000) | join('x' * 60000) }}", {"too_long"}),
    "replace": ("{{ ('a' * 60000) | replace('a', 'b' * 60000) }}", {"too_long"}),
    "str.replace of ''": ("{{ ('a' * 60000).replace('', 'b' * 60000) }}", {"too_long"}),
    "str.join": ("{{ ('x' * 60000).join(['a'] * 60000) }}", {"too_long"}),
    "center": ("{{ 'x'.center(10 ** 9) }}", {"too_long"}),
    "expandtabs": ("{{ ('\t' * 60000).expandtabs(60000) }}", {"too_long"}),
    "translate": ("{{ ('a' * 60000).translate({97: 'b' * 60000}) }}", {"too_long"}),
    "to_bytes": ("{{ (1).to_bytes(10 ** 9, 'big') }}", {"too_long"}),
    "format width": ("{{ '{:>999999999}'.format(1) }}", {"too_long"}),
    "format width from an argument": ("{{ '{:>{w}}'.format(1, w=10 ** 9) }}", {"too_long"}),
    "format repeating a field": ("{{ ('{0}' * 1000).format('a' * 60000) }}", {"built"}),
    "% width": ("{{ '%0999999999d' % 1 }}", {"too_long"}),
    "% width from an argument": ("{{ '%*d' % (10 ** 9, 1) }}", {"too_long"}),
    "a list printed": ("{% set s = 'x' * 60000 %}{{ [s, s, s, s] }}", {"output"}),
    "tojson of a list": ("{% set s = 'x' * 60000 %}{{ [s, s] | tojson }}", {"too_long"}),
    "sum of lists": ("{{ ([[0]] * 60000) | sum(start=[]) | length }}", {"too_long"}),
    "range(10**30)": ("{{ range(10 ** 30) | list }}", {"range"}),
}


def _refused(text: str, budget_ms: int = 200) -> tuple[TemplateError, float]:
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        render(text, context(), tz=SHANGHAI, budget_ms=budget_ms)
    return caught.value, time.monotonic() - started


NO_CLOCK = 600_000  # ms: a budget no render reaches, to see the other bounds alone

# On a busy machine the clock may stop any of them first: that is a refusal too.
BOUNDS = {f"template.{code}" for codes in (c for _, c in PAYLOADS.values()) for code in codes}


@pytest.mark.parametrize("text", [text for text, _ in PAYLOADS.values()], ids=list(PAYLOADS))
def test_payloads_are_refused_within_the_budget(text: str) -> None:
    error, took = _refused(text)
    assert error.code in BOUNDS | {"template.budget"}, str(error)
    assert took < 10  # stopped, not run out: wall time on a machine others share is loose
    # the cap on the whole output (as against a text built on a line) has no one line
    assert error.line == 1 or (error.code == "template.output" and error.line is None)
    assert error.as_dict()["code"] == error.code


@pytest.mark.parametrize(
    ("text", "codes"),
    [(text, codes) for text, codes in PAYLOADS.values() if codes != {"budget"}],
    ids=[name for name, (_, codes) in PAYLOADS.items() if codes != {"budget"}],
)
def test_each_payload_meets_its_bound(text: str, codes: set[str]) -> None:
    """With time to spare, each is stopped by what it abuses, not by the clock (ten minutes:
    a machine others share may run it at a tenth of its speed)."""
    error, _ = _refused(text, budget_ms=NO_CLOCK)
    assert error.code in {f"template.{code}" for code in codes if code != "budget"}, str(error)


def test_the_payloads_together_grow_memory_less_than_50_mb() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text, _ in PAYLOADS.values():
            _refused(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 50 * 2**20


def test_pow_is_read_left_to_right() -> None:
    """Jinja's `9**9**9` is (9**9)**9: 78 digits, not the 369-million-digit number."""
    assert len(r("{{ 9 ** 9 ** 9 }}")) == 78


def test_the_budget_is_a_parameter() -> None:
    error, took = _refused(SPIN, budget_ms=50)
    assert error.code == "template.budget" and error.params == {"ms": 50}
    assert took < 5  # loose: a machine others share
    assert r("{{ record.name }}") == "张三"  # a later render has its own budget


def test_the_reasons_read_in_both_languages() -> None:
    error, _ = _refused(SPIN, budget_ms=50)
    assert str(error) == "line 1: the template took longer than its 50 ms budget"
    assert error.text("zh-CN") == "第 1 行：模板渲染超过了 50 毫秒的时间预算"
    assert error_text(error.as_dict(), "zh-CN") == error.text("zh-CN")
    too_long, _ = _refused("{{ 'a' * 2 ** 20 }}")
    assert too_long.text("zh-CN") == "第 1 行：文本或列表将超过 65536 个字符或元素"
    plain, _ = _refused("{{ 1 / 0 }}")  # Python's own words: the same in both
    assert plain.code is None and plain.text("zh-CN") == "第 1 行：division by zero"
    assert error_text(plain.as_dict(), "zh-CN") == "line 1: division by zero"  # as stored
    assert error.code in CATALOGUE and too_long.code in CATALOGUE


def test_render_value_spends_one_budget_on_all_its_strings() -> None:
    steps = "{% for i in range(8000) %}{% for j in range(5) %}{% endfor %}{% endfor %}ok"
    # 48,000 loop steps: within the 100,000 of one render
    assert render(steps, context(), tz=SHANGHAI, budget_ms=NO_CLOCK) == "ok"
    value = {"a": steps, "b": [steps, steps]}
    with pytest.raises(TemplateError) as caught:
        render_value(value, context(), tz=SHANGHAI, budget_ms=NO_CLOCK)
    assert caught.value.code == "template.steps"  # the third string: 144,000 in all


def test_renders_in_a_shared_budget_spend_it_together() -> None:
    with shared_budget(100):
        assert _refused(SPIN, budget_ms=5000)[0].params == {"ms": 100}  # the shared one
        error, took = _refused(SPIN, budget_ms=5000)
    assert error.params == {"ms": 100} and took < 4  # nothing was left: not 5 s more
    with shared_budget(100):
        assert r("{{ record.name }}") == "张三"


def test_only_rendering_spends_the_budget() -> None:
    """The database work between an action's renders (a slow write, a lock) and compiling a
    template never fail an ordinary text."""
    with shared_budget(50):
        assert r("{{ record.name }}") == "张三"
        time.sleep(0.2)  # an action's slow database work between two renders
        assert r("{{ record.name }} {{ 1 + 1 }}") == "张三 2"
        fresh = "{% for i in range(3) %}{{ i }}{% endfor %} " + str(time.monotonic())
        assert r(fresh).startswith("012 ")  # compiled now, outside the budget


def test_every_filter_is_sized() -> None:
    assert set(FILTER_BOUNDS) == {*JINJA_FILTERS, *FILTERS}


@pytest.mark.parametrize(("kind", "allowed"), METHODS, ids=[k.__name__ for k, _ in METHODS])
def test_every_method_of_the_builtin_types_is_known(kind: type, allowed: frozenset[str]) -> None:
    """A method a new Python adds is refused until someone says whether it can grow."""
    example = dict if kind is Mapping else kind
    public = {n for n in dir(example) if not n.startswith("_") and callable(getattr(example, n))}
    mutating = {"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update"}
    assert public - allowed - mutating - {"setdefault", "sort", "reverse"} == set()


def test_a_method_nobody_sized_is_refused() -> None:
    class Fancy(str):
        def shout(self) -> str:
            return self.upper() * 1000

    with pytest.raises(TemplateError) as caught:
        render("{{ x.shout() }}", {"x": Fancy("hi")}, tz=UTC)
    assert caught.value.code == "template.method" and "shout()" in str(caught.value)
    assert render("{{ x.upper() }}", {"x": Fancy("hi")}, tz=UTC) == "HI"


def _reference(text: str, ctx: dict[str, Any]) -> str:
    """The same template in Jinja's plain sandbox, without bounds: what it rendered before."""
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=lambda value: "" if value is None else value,
    )
    env.filters = {name: env.filters[name] for name in JINJA_FILTERS} | dict(FILTERS)
    env.globals = {"range": range, "dict": dict, "namespace": jinja2.utils.Namespace}
    variables = {
        k: {n: x.get("en") if isinstance(x, Label) else x for n, x in v.items()}
        if isinstance(v, dict)
        else v
        for k, v in ctx.items()
    }
    return env.from_string(text).render({**variables, "tidepool:tz": SHANGHAI})


ORDINARY = [
    "{% for t in record.tags %}{{ loop.index }}/{{ loop.length }} {{ t }}"
    "{% if not loop.last %}, {% endif %}{% endfor %}",
    "{% for k in record | sort %}{{ k }}={{ record[k] }};{% else %}none{% endfor %}",
    "{% macro hi(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}"
    "{{ hi(record.name) }} {{ hi('x', greeting='Hi') }}",
    "{% set ns = namespace(total=0) %}{% for n in [1, 2, 3] %}"
    "{% set ns.total = ns.total + n * 2 %}{% endfor %}{{ ns.total }}",
    "{{ record.name ~ ' (' ~ record.total_paid | money('CNY') ~ ')' }}",
    "{{ '%s has %d items, %.1f%%' % (record.name, 3, 12.345) }} {{ '%(id)s' % record }}",
    "{{ '{} / {:>8} / {:,.2f}'.format(record.name, 'right', 1234567.891) }}",
    "{{ record.tags | join(', ') | upper }} {{ [3, 1, 2] | sort | join('-') }} {{ [1, 2] | sum }}",
    "{{ [{'n': 'a'}, {'n': 'b'}] | join('+', attribute='n') }} {{ [[1], [2]] | sum(start=[]) }}",
    "{{ record.name | replace('张', 'Zhang ') }} {{ 'abc'.center(9, '*') }} {{ '7'.zfill(3) }}",
    "{{ 'a\tb'.expandtabs(4) }} {{ '-'.join(['x', 'y']) }} {{ 'aXa'.replace('a', 'bb', 1) }}",
    "{% for row in [[1, 2], [3]] recursive %}[{% if row is iterable %}{{ loop(row) }}"
    "{% else %}{{ row }}{% endif %}]{% endfor %}",
    "{{ (2 ** 10) // 3 }} {{ -7 % 3 }} {{ 10 / 4 }} {{ 2 * 3 + 1 - 4 }} {{ -(3) }} {{ +2 }}",
    "{% for i in range(3) if i != 1 %}{{ i }}{% endfor %}"
    "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
    "{% set x %}block {{ record.name }}{% endset %}{{ x | length }} {{ x }}",
    "{% filter upper %}shout {{ record.name }}{% endfilter %}",
    "{% macro wrap() %}<{{ caller() }}>{% endmacro %}"
    "{% call wrap() %}in {{ record.name }}{% endcall %}",
    "{{ [1, 2] + [3] }} {{ (1, 2) * 2 }} {{ 'ab' * 3 }} {{ record | length }}"
    " {{ {'a': 1}.get('a') }}",
    "{{ record.trial_end | date }} {{ now | datetime }} {{ record.trial_end | days_until }}",
    "{{ record.missing }}|{{ record.missing.deeper }}|{{ record.missing | default('-') }}",
    "{% for c in 'abc' %}{{ c | upper }}{{ loop.cycle('.', ':') }}{% endfor %}",
    "{{ record.tags | tojson }} {{ record.name | urlencode }} {{ 'x y' | title | trim }}",
    "{% autoescape true %}{{ '<b>' ~ record.name }}{% endautoescape %}",
]


def _demo_templates() -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((ROOT / "configs").rglob("campaigns.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def test_ordinary_templates_render_as_before() -> None:
    demo = _demo_templates()
    assert len(demo) >= 20  # the demo bundles' titles, bodies and webhook values
    ctx = context(
        tags=["vip", "east"],
        company="Acme",
        first_name="Li",
        last_name="Lei",
        arr="120000",
        contract_end="2026-03-01",
        last_paid_at="2025-12-01T10:00:00Z",
        title="回访",
        summary="物流太慢",
        phone="13998765432",
        email="li@example.com",
        customer_id="c1",
    )
    for text in [*ORDINARY, *demo]:
        assert render(text, ctx, tz=SHANGHAI) == _reference(text, ctx), text


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
