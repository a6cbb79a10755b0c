"""The hosted form page as a visitor first sees it: every field type's input in both languages,
sections, labels escaped, the visitor's language, initial visibility from the URL, the page's
field state as values change (POST …/state), and a 404 for anything that is not a public form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.i18n import CATALOGUE
from engine.service import Services
from tests.admin_ui.test_hosted_support import (
    FORM,
    PAGE,
    field_html,
    hosted_template,
    is_hidden,
    is_required,
    services_on,
    visible_text,
    visitor,
)
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def template(_ui_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hosted_template(_ui_template, tmp_path_factory.mktemp("hosted_page"))


@pytest.fixture
def svc(template: Path, tmp_path: Path) -> Iterator[Services]:
    yield from services_on(template, tmp_path)


def page_in(svc: Services, locale: str, path: str = PAGE) -> str:
    answer = visitor(svc).get(path, headers={"Accept-Language": locale})
    assert answer.status_code == 200, answer.text
    return answer.text


# every field type ------------------------------------------------------------------------------
def tag(name: str, kind: str, *attrs: str) -> str:
    """An input's markup as the page writes it."""
    more = "".join(f" {a}" for a in attrs)
    return f'<input type="{kind}" id="f-{name}" name="{name}" value=""{more}>'


# field → (the markup of its input, its label in en, its label in zh-CN)
INPUTS = {
    "name": (tag("name", "text", 'maxlength="80"', "required"), "Name", "姓名"),
    "phone": (
        tag(
            "phone",
            "tel",
            'autocomplete="tel"',
            'inputmode="tel"',
            "required",
            'aria-describedby="f-phone-help"',
        ),
        "Mobile",
        "手机",
    ),
    "email": (tag("email", "email", 'autocomplete="email"', 'inputmode="email"'), "Email", "邮箱"),
    "website": (
        tag("website", "url", 'inputmode="url"', 'placeholder="https://"'),
        "Website",
        "网站",
    ),
    "headcount": (
        tag("headcount", "number", 'step="1"', 'inputmode="numeric"', 'min="1"', 'max="100000"'),
        "Headcount",
        "员工人数",
    ),
    "budget": (
        tag("budget", "number", 'step="any"', 'inputmode="decimal"', 'min="0"'),
        "Budget",
        "预算",
    ),
    "rating": (
        tag("rating", "number", 'step="any"', 'inputmode="decimal"', 'min="0"', 'max="10"'),
        "Rating",
        "评分",
    ),
    "referrer": (tag("referrer", "text", 'autocomplete="off"'), "Referred by", "推荐人"),
    "visit_on": (tag("visit_on", "date", 'min="2026-01-01"'), "Visit date", "到访日期"),
    "call_at": (tag("call_at", "datetime-local"), "Call back at", "回电时间"),
    "labels": (tag("labels", "text", 'aria-describedby="f-labels-help"'), "Tags", "标签"),
    "note": (
        '<textarea id="f-note" name="note" rows="4" maxlength="20000"></textarea>',
        None,
        None,
    ),
}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_field_type_has_its_input_and_label(svc: Services, locale: str) -> None:
    page = page_in(svc, locale)
    assert f'<html lang="{locale}">' in page
    for name, (markup, en, zh) in INPUTS.items():
        field = field_html(page, name)
        assert markup in field, (name, field)
        label = en if locale == "en" else zh
        if label is not None:
            assert f'<label for="f-{name}">{label}<span class="req"' in field, field


@pytest.mark.parametrize(
    ("locale", "choose", "options"),
    [
        ("en", "Please choose", ["Retail", "Manufacturing"]),
        ("zh-CN", "请选择", ["零售", "制造业"]),
    ],
)
def test_an_enum_is_a_select_with_an_empty_choice_and_option_labels(
    svc: Services, locale: str, choose: str, options: list[str]
) -> None:
    field = field_html(page_in(svc, locale), "industry")
    assert '<select id="f-industry" name="industry">' in field
    found = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', field)
    retail, manufacturing = options
    assert found == [
        ("", " selected", choose),
        ("retail", "", retail),
        ("manufacturing", "", manufacturing),
    ]


@pytest.mark.parametrize(
    ("locale", "labels", "legend"),
    [
        ("en", ["CRM", "ERP", "Analytics"], "Interests"),
        ("zh-CN", ["客户管理", "进销存", "数据分析"], "感兴趣的产品"),
    ],
)
def test_a_multi_enum_is_checkboxes(
    svc: Services, locale: str, labels: list[str], legend: str
) -> None:
    field = field_html(page_in(svc, locale), "interests")
    assert f"<legend>{legend}<span" in field
    boxes = re.findall(
        r'<input type="checkbox" name="interests" value="([^"]+)"><span>([^<]+)</span>', field
    )
    assert boxes == list(zip(["crm", "erp", "bi"], labels, strict=True))
    assert " required" not in field  # `required` on a checkbox would mean "tick every one"


@pytest.mark.parametrize(("locale", "yes", "no"), [("en", "Yes", "No"), ("zh-CN", "是", "否")])
def test_a_boolean_is_yes_no_radios_with_no_answer_first(
    svc: Services, locale: str, yes: str, no: str
) -> None:
    field = field_html(page_in(svc, locale), "newsletter")
    radios = re.findall(r'<input type="radio" name="newsletter" value="(\w+)"><span>([^<]+)', field)
    assert radios == [("true", yes), ("false", no)]
    assert "checked" not in field  # not answered until the visitor picks one


def test_help_texts_and_the_tags_hint_in_both_languages(svc: Services) -> None:
    en, zh = page_in(svc, "en"), page_in(svc, "zh-CN")
    assert '<p class="help" id="f-phone-help">Only to call you back</p>' in en
    assert '<p class="help" id="f-phone-help">仅用于回电</p>' in zh
    assert "Separate several with commas." in field_html(en, "labels")
    assert "多个请用逗号分隔。" in field_html(zh, "labels")


def test_labels_from_the_bundle_are_escaped(svc: Services) -> None:
    en, zh = page_in(svc, "en"), page_in(svc, "zh-CN")
    assert "Notes &lt;b&gt;&amp; &#34;more&#34;&lt;/b&gt;<span" in field_html(en, "note")
    assert "备注 &lt;i&gt;&amp;&lt;/i&gt;<span" in field_html(zh, "note")
    assert "<b>&" not in en and "<i>&" not in zh


def test_required_fields_are_marked_and_others_not(svc: Services) -> None:
    page = page_in(svc, "en")
    assert [n for n in INPUTS if is_required(page, n)] == ["name", "phone"]
    assert '<span class="sr"> (required)</span>' in field_html(page, "name")
    assert "Fields marked * are required." in page


def test_sections_in_bundle_order_with_their_fields(svc: Services) -> None:
    page = page_in(svc, "en")
    titles = re.findall(r"<h2>([^<]+)</h2>", page)
    assert titles == ["Contact", "Company", "More"]
    order = re.findall(r'data-field="(\w+)"', page)
    assert order == [
        *("name", "phone", "email", "website"),
        *("industry", "headcount", "interests", "budget", "rating", "referrer"),
        *("visit_on", "call_at", "newsletter", "labels", "note"),
    ]
    assert "Expo sign-up" in re.findall(r"<h1>([^<]+)</h1>", page)
    assert '<p class="description">Leave your details and we will call you.</p>' in page


def test_without_sections_one_list_in_form_order_with_defaults_chosen(svc: Services) -> None:
    page = page_in(svc, "en", "/f/formdemo/plain")
    assert "<h2>" not in page
    assert re.findall(r'data-field="(\w+)"', page) == ["name", "industry", "newsletter"]
    assert is_required(page, "industry")
    assert '<select id="f-industry" name="industry" required>' in page
    # the form's default shows as the answer (the visitor sees what will be stored)
    assert '<input type="radio" name="newsletter" value="true" checked>' in page


def test_hidden_fields_are_no_inputs_and_the_url_stays_on_the_action(svc: Services) -> None:
    page = page_in(svc, "en")
    assert 'name="source"' not in page and 'name="activity"' not in page
    assert f'action="{FORM}?source=qr_scan&amp;act=2026-expo"' in page
    assert f'data-state-url="{FORM}/state?source=qr_scan&amp;act=2026-expo"' in page


def test_conditional_fields_start_hidden_and_show_without_javascript(svc: Services) -> None:
    page = page_in(svc, "en")
    assert is_hidden(page, "headcount")
    assert not is_hidden(page, "industry")
    assert "<noscript><style>.field[hidden] { display: block; }</style></noscript>" in page


def test_the_honeypot_is_off_screen_and_out_of_reach(svc: Services) -> None:
    page = page_in(svc, "en")
    trap = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page, re.S)
    assert trap is not None
    assert (
        '<input type="text" id="f-hp" name="website-url" value="" tabindex="-1" '
        'autocomplete="off">' in trap.group(0)
    )
    css = visitor(svc).get("/f/_assets/hosted.css").text
    assert ".hp { position: absolute; left: -10000px;" in css


# the visitor's language -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("?lang=en", "zh-CN,zh;q=0.9", "en"),  # ?lang= wins
        ("?lang=EN", "", "en"),
        ("?lang=fr", "en-US,en;q=0.8", "en"),  # not a tenant locale: the header decides
        ("", "fr-FR, en;q=0.5, zh-CN;q=0.7", "zh-CN"),  # by q
        ("", "zh-TW", "zh-CN"),  # the same language
        ("", "en-GB;q=0.9, de", "en"),
        ("", "", "zh-CN"),  # the tenant's locale
        ("", "de, fr;q=bad, *", "zh-CN"),
    ],
)
def test_the_language_is_chosen_from_the_url_the_browser_then_the_tenant(
    svc: Services, query: str, header: str, expected: str
) -> None:
    page = page_in(svc, header, f"{FORM}{query}")
    assert f'<html lang="{expected}">' in page


def test_language_links_keep_the_other_parameters(svc: Services) -> None:
    page = page_in(svc, "en", f"{PAGE}&lang=en")
    links = re.findall(r'<a href="([^"]+)" lang="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert links == [
        (f"{FORM}?source=qr_scan&amp;act=2026-expo&amp;lang=zh-CN", "zh-CN", "中文"),
        (f"{FORM}?source=qr_scan&amp;act=2026-expo&amp;lang=en", "en", "English"),
    ]
    assert 'lang="en" hreflang="en" aria-current="true"' in page


# the field state as the visitor types --------------------------------------------------------
def state(svc: Services, data: object, query: str = "?source=qr_scan&act=2026-expo") -> object:
    answer = visitor(svc).post(f"{FORM}/state{query}", json=data)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_state_shows_and_requires_the_conditional_fields(svc: Services) -> None:
    first = state(svc, {})
    assert isinstance(first, dict)
    assert "headcount" not in first["visible"] and first["required"] == ["name", "phone"]
    chosen = state(svc, {"industry": "manufacturing", "newsletter": "true"})
    assert isinstance(chosen, dict)
    assert "headcount" in chosen["visible"]
    assert chosen["required"] == ["email", "headcount", "name", "phone"]
    assert "source" not in chosen["visible"]  # hidden fields are never shown


def test_state_takes_values_that_do_not_parse_yet(svc: Services) -> None:
    answer = state(svc, {"industry": "manuf", "headcount": "1e", "interests": "x", "new": 1})
    assert isinstance(answer, dict) and "headcount" not in answer["visible"]
    answer = state(svc, {"industry": ["manufacturing"], "newsletter": {"a": 1}}, "?x=%ff")
    assert isinstance(answer, dict) and answer["required"] == ["name", "phone"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"[1, 2]", "application/json", 422),
        (b"null", "application/json", 422),
        (b"{bad json", "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (b"industry=manufacturing", "application/x-www-form-urlencoded", 415),
        (b"{}", "text/plain", 415),
        (b"[" * 5000, "application/json", 413),
    ],
)
def test_state_refuses_what_is_not_a_json_object(
    svc: Services, body: bytes, content_type: str, status: int
) -> None:
    answer = visitor(svc).post(
        f"{FORM}/state", content=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status


def test_the_demo_qr_form_hides_company_size_until_manufacturing(svc: Services) -> None:
    path = "/f/chaotu-demo/qr_signup?source=qr_scan&activity=2026-expo"
    page = page_in(svc, "zh-CN", path)
    assert is_hidden(page, "company_size") and not is_hidden(page, "industry")
    assert '<option value="manufacturing">制造业</option>' in page
    assert 'name="source"' not in page and 'name="activity"' not in page
    answer = visitor(svc).post(
        "/f/chaotu-demo/qr_signup/state?source=qr_scan&activity=2026-expo",
        json={"industry": "manufacturing"},
    )
    assert "company_size" in answer.json()["visible"]


# not a public form ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/f/formdemo/private",
        "/f/formdemo/nothing",
        "/f/nobody/signup",
        "/f/chaotu-demo/website_signup",  # a form, but not public
        "/f/formdemo/private/thanks",
        "/f/%00/%ff",
        "/f/_assets/embed.js",
        "/f/_assets/..%2fadmin.css",
    ],
)
def test_anything_but_a_public_form_is_a_404_in_the_visitors_language(
    svc: Services, path: str
) -> None:
    zh = visitor(svc).get(path, headers={"Accept-Language": "zh-CN"})
    en = visitor(svc).get(path, headers={"Accept-Language": "en"})
    assert (zh.status_code, en.status_code) == (404, 404)
    assert "该表单不存在或已停止收集。请检查链接是否正确。" in visible_text(zh.text)
    assert "This form does not exist or is no longer open." in visible_text(en.text)
    assert en.headers["x-frame-options"] == "SAMEORIGIN"


def test_a_private_form_is_not_submittable_either(svc: Services) -> None:
    client = visitor(svc, Accept="application/json")
    answer = client.post("/f/formdemo/private", json={"name": "x"})
    assert answer.status_code == 404 and answer.json()["title"] == "Form not found"
    assert client.post("/f/formdemo/private/state", json={}).status_code == 404
    assert client.options("/f/formdemo/private").status_code == 404


def test_the_page_assets_are_served_with_their_types(svc: Services) -> None:
    page = page_in(svc, "en")
    css = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    js = re.search(r'<script src="([^"]+)" defer></script>', page)
    assert css and js
    styles, script = visitor(svc).get(css.group(1)), visitor(svc).get(js.group(1))
    assert styles.status_code == script.status_code == 200
    assert styles.headers["content-type"] == "text/css; charset=utf-8"
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "data-state-url" in script.text
    assert "tidepool:form-height" in script.text


def test_every_text_the_pages_use_exists_in_both_languages() -> None:
    used = set()
    for template in (ROOT / "admin_ui" / "templates" / "hosted").glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_.]+)'", template.read_text()))
    for module in (ROOT / "admin_ui" / "hosted").glob("*.py"):
        found = re.findall(r'"(hosted\.[a-z_]+)"', module.read_text())
        used |= {code for code in found if code not in ("hosted.css", "hosted.js")}  # assets
    assert used and used <= set(CATALOGUE), sorted(used - set(CATALOGUE))
    hosted = [texts for code, texts in CATALOGUE.items() if code.startswith("hosted.")]
    assert all(t["en"] and t["zh-CN"] and t["en"] != t["zh-CN"] for t in hosted)
