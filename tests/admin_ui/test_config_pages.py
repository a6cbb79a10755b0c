"""Config pages: files, the editor with every error at its line, versions and their diff,
dry runs, activate (refused while the version's tests fail) and rollback; configure only."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.config.errors import ConfigError
from engine.service import Services
from engine.service.config_editing import marked, source_lines
from tests.admin_ui.conftest import SignIn, csrf_of

TENANT = "chaotu-demo"
# one quick case instead of the demo's 29, so activations in these tests take a second
LEAN_TESTS = """\
start: "2026-01-05T10:00:00+08:00"
tests:
  - name: a budget of 20,000 confirms the need
    given:
      entity: customer
      data: {name: 甲公司, phone: "13800138001", region: east, budget: 20000}
    expect: {pool: has_need, owner: alice}
"""
RULE = 'when: "budget >= 10000"'
TYPO = 'when: "budgit >= 5000"'
FIXED = 'when: "budget >= 5000"'


@pytest.fixture
def lean(ui_svc: Services) -> int:
    """chaotu-demo active with LEAN_TESTS as its tests.yaml (stored without running them)."""
    files = dict(ui_svc.configs.active(TENANT).bundle.files)
    files["tests.yaml"] = LEAN_TESTS
    number = int(ui_svc.push(TENANT, files)["number"])
    ui_svc.activate(TENANT, number, tests=False)
    return number


@pytest.fixture
def admin(sign_in: SignIn) -> TestClient:
    return english(sign_in(TENANT, "frank"))


def english(client: TestClient) -> TestClient:
    token = csrf_of(client.get("/admin/login").text)
    form = {"locale": "en", "csrf_token": token}
    client.post("/admin/language", data=form, follow_redirects=False)
    return client


def textarea(page: str) -> str:
    found = re.search(r"<textarea[^>]*>\n(.*?)</textarea>", page, re.S)
    assert found, "the page has no editor"
    return html.unescape(found.group(1))


def line_of(text: str, part: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if part in line)


def submit(client: TestClient, name: str, text: str, version: int, action: str = "validate") -> Any:
    page = client.get("/admin/config/files", params={"file": name, "version": version}).text
    form = {
        "csrf_token": csrf_of(page),
        "file": name,
        "version": str(version),
        "text": text,
        "action": action,
    }
    return client.post("/admin/config/files", data=form, follow_redirects=False)


def post(client: TestClient, url: str, **form: str) -> Any:
    token = csrf_of(client.get("/admin/login").text)
    return client.post(url, data={"csrf_token": token, **form}, follow_redirects=False)


def seed(svc: Services) -> None:
    """Customers in nurturing whose budgets a threshold of 5,000 would confirm (3), and two
    it would not move."""
    for i, budget in enumerate((6000, 7000, 8000, 3000, 20000)):
        data = {"name": f"客户{budget}", "phone": f"1380013900{i}", "region": "east"}
        svc.records.create(TENANT, "customer", {**data, "budget": budget}, actor="tests")


# the overview ----------------------------------------------------------------------------------
def test_the_overview_lists_the_active_version_its_files_and_the_versions(
    admin: TestClient, ui_svc: Services, lean: int
) -> None:
    page = admin.get("/admin/config")
    assert page.status_code == 200
    text = page.text
    assert f"Active version: {lean}" in text
    assert ui_svc.configs.active(TENANT).bundle.digest[:12] in text
    for name in ("tenant.yaml", "entities.yaml", "pools.yaml", "campaigns.yaml", "tests.yaml"):
        assert f'href="/admin/config/files?file={name}&amp;version={lean}"' in text
    assert 'id="version-1"' in text and f'id="version-{lean}" class="active"' in text
    assert 'action="/admin/config/versions/1/activate"' in text  # the inactive one
    assert f'action="/admin/config/versions/{lean}/activate"' not in text
    assert "Roll back to version 1" in text and 'data-confirm="Go back to version 1' in text


def test_template_files_are_listed_apart_and_editable_by_their_relative_name(
    ui_svc: Services, sign_in: SignIn
) -> None:
    bundle = ui_svc.configs.active("northwind-b2b").bundle
    client = english(sign_in(bundle.id, "henry"))
    text = unquote(client.get("/admin/config").text)
    own, templates = text.split("Template files", 1)
    assert "file=pools.yaml&amp;" in own and "_templates" not in own.split('id="files"')[1]
    assert "Template b2b-sales" in templates
    assert "file=../_templates/b2b-sales/pools.yaml&amp;" in templates
    name = "../_templates/b2b-sales/pools.yaml"
    page = client.get("/admin/config/files", params={"file": name})
    assert page.status_code == 200 and "comes from the template b2b-sales" in page.text
    source = textarea(page.text)
    assert source == bundle.files[name]
    broken = source.replace("from:", "frm:", 1)
    answer = submit(client, name, broken, 1)
    assert answer.status_code == 422
    line = line_of(broken, "frm:")
    assert f"{name}:{line}:" in answer.text and "did you mean &#39;from&#39;?" in answer.text
    assert f'<span id="L{line}" class="error"' in answer.text


# the editor ------------------------------------------------------------------------------------
def test_a_typo_is_shown_at_its_line_with_the_text_kept_and_nothing_stored(
    admin: TestClient, ui_svc: Services, lean: int
) -> None:
    source = textarea(admin.get("/admin/config/files?file=pools.yaml").text)
    assert source == ui_svc.configs.active(TENANT).bundle.files["pools.yaml"]
    typed = source.replace(RULE, TYPO).replace("field: industry, op", "field: industri, op")
    answer = submit(admin, "pools.yaml", typed.replace("\n", "\r\n"), lean, "save")
    assert answer.status_code == 422
    page = answer.text
    assert textarea(page) == typed  # the user's text, as typed
    field, other = line_of(typed, TYPO), line_of(typed, "industri")
    col = typed.split("\n")[field - 1].index("budgit") + 1
    assert f"pools.yaml:{field}:{col}" in page and "unknown field &#39;budgit&#39;" in page
    assert "did you mean &#39;budget&#39;?" in page
    assert f"pools.yaml:{other}:" in page and "did you mean &#39;industry&#39;?" in page
    assert "2 error(s)" in page
    for line in (field, other):
        assert f'<span id="L{line}" class="error"' in page  # marked in the gutter
    caret = re.search(r"<span class=\"ln\">     │ </span>( *)<span class=\"caret\">", page)
    assert caret and len(caret.group(1)) == col - 1  # under the misspelt field
    assert "Nothing was stored" in page
    assert [v["number"] for v in ui_svc.configs.versions(TENANT)] == [lean, 1]


def test_the_caret_stands_under_the_column_after_chinese_text() -> None:
    text = "a: 1\nlabel: {zh-CN: 客户池, en: Pools, xx: 1}\n"
    col = text.split("\n")[1].index("xx") + 1
    problem = ConfigError("pools.yaml", 2, col, "/label/xx", "unknown key 'xx'")
    elsewhere = ConfigError("tenant.yaml", 2, 1, "", "in another file")
    (found,) = marked(text, [problem, elsewhere], "pools.yaml")
    assert (found.line, found.text) == (2, text.split("\n")[1])
    assert len(found.pad) == col - 1 + 3  # the three characters of 客户池 are two columns wide
    lines = source_lines(text, [problem], "pools.yaml")
    assert [(x.number, x.severity) for x in lines] == [(1, None), (2, "error"), (3, None)]


def test_validate_shows_what_the_edit_changes_and_save_stores_an_inactive_version(
    admin: TestClient, ui_svc: Services, lean: int
) -> None:
    source = ui_svc.configs.active(TENANT).bundle.files["pools.yaml"]
    fixed = source.replace(RULE, FIXED)
    checked = submit(admin, "pools.yaml", fixed, lean)
    assert checked.status_code == 200 and "No errors: the bundle is valid." in checked.text
    assert "customer_pool.need_confirmed" in checked.text and "Need confirmed" in checked.text
    assert len(ui_svc.configs.versions(TENANT)) == 2  # validating stores nothing
    saved = submit(admin, "pools.yaml", fixed, lean, "save")
    assert saved.status_code == 303
    number = lean + 1
    assert saved.headers["location"] == f"/admin/config/versions/{number}?done=saved"
    newest = ui_svc.configs.versions(TENANT)[0]
    assert (newest["number"], newest["active"], newest["created_by"]) == (
        number,
        False,
        "admin:frank",
    )
    assert ui_svc.configs.active(TENANT).version == lean
    page = admin.get(saved.headers["location"]).text
    assert f"Stored as version {number}, not active yet" in page
    assert "customer_pool.need_confirmed" in page and "<code>when</code>" in page
    again = submit(admin, "pools.yaml", fixed, lean, "save")
    assert again.headers["location"] == f"/admin/config/versions/{number}?done=same"


def test_unknown_files_and_versions_are_not_found(admin: TestClient, lean: int) -> None:
    assert admin.get("/admin/config/files?file=nope.yaml").status_code == 404
    assert admin.get("/admin/config/files?file=../../etc/passwd").status_code == 404
    assert admin.get("/admin/config/versions/99").status_code == 404
    moved = admin.get("/admin/config/files/pools.yaml", follow_redirects=False)
    assert moved.headers["location"] == "/admin/config/files?file=pools.yaml"


# the whole way: fix, dry run, activate, roll back --------------------------------------------
def test_fix_dry_run_activate_and_roll_back(admin: TestClient, ui_svc: Services, lean: int) -> None:
    seed(ui_svc)
    source = ui_svc.configs.active(TENANT).bundle.files["pools.yaml"]
    assert submit(admin, "pools.yaml", source.replace(RULE, TYPO), lean, "save").status_code == 422
    saved = submit(admin, "pools.yaml", source.replace(RULE, FIXED), lean, "save")
    number = int(saved.headers["location"].split("/")[-1].split("?")[0])

    page = admin.get(f"/admin/config/versions/{number}").text
    assert 'id="run-dry-run"' in page and 'data-busy="Running…"' in page
    assert 'id="report"' not in page  # a dry run is a POST, never run on load
    report = post(admin, f"/admin/config/versions/{number}/dry-run")
    assert report.status_code == 200
    rows = table_rows(report.text, "Pool moves")
    assert rows[0][:4] == ["Nurturing (nurturing)", "Has need (has_need)", "3", "Need confirmed ×3"]
    assert set(rows[0][4].split(", ")) <= {"客户6000", "客户7000", "客户8000"}
    assert "5 record(s) scanned, 3 would change" in report.text

    activated = post(admin, f"/admin/config/versions/{number}/activate")
    assert activated.headers["location"] == f"/admin/config?activated={number}"
    assert ui_svc.configs.active(TENANT).version == number
    assert f"Version {number} is now active." in admin.get(activated.headers["location"]).text

    back = post(admin, "/admin/config/rollback")
    assert back.headers["location"] == f"/admin/config?rolled_back={lean}"
    assert ui_svc.configs.active(TENANT).version == lean
    overview = admin.get(back.headers["location"]).text
    assert f"Back to version {lean}." in overview and f"Roll back to version {number}" in overview


def table_rows(page: str, title: str) -> list[list[str]]:
    """The body rows of the report table under the heading `title`, as cell texts."""
    table = page.split(f"<h4>{title}</h4>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_a_dry_run_with_bad_options_says_so(admin: TestClient, lean: int) -> None:
    bad = post(admin, f"/admin/config/versions/{lean}/dry-run", sample="many")
    assert bad.status_code == 422 and "at least 1" in bad.text
    late = post(admin, f"/admin/config/versions/{lean}/dry-run", now="someday")
    assert late.status_code == 422 and "2026-12-01T09:00" in late.text
    sampled = post(
        admin, f"/admin/config/versions/{lean}/dry-run", sample="2", now="2026-12-01T09:00"
    )
    assert sampled.status_code == 200 and "as of 2026-12-01T01:00:00+00:00" in sampled.text


def test_a_version_whose_tests_fail_is_refused_with_the_failing_case(
    admin: TestClient, ui_svc: Services, lean: int
) -> None:
    failing = LEAN_TESTS.replace("pool: has_need", "pool: won")
    saved = submit(admin, "tests.yaml", failing, lean, "save")
    number = int(saved.headers["location"].split("/")[-1].split("?")[0])
    refused = post(admin, f"/admin/config/versions/{number}/activate")
    assert refused.status_code == 409
    page = refused.text
    assert f"Version {number} was not activated: 1 of its tests fail." in page
    assert "a budget of 20,000 confirms the need" in page
    assert "expected pool &#39;won&#39;, got &#39;has_need&#39;" in page
    assert "The record&#39;s decisions" in page and "need_confirmed" in page  # its "why"
    assert ui_svc.configs.active(TENANT).version == lean


# who may ---------------------------------------------------------------------------------------
GETS = (
    "/admin/config",
    "/admin/config/files?file=pools.yaml",
    "/admin/config/files/pools.yaml",
    "/admin/config/versions/1",
    "/admin/config/diff?a=1&b=1",
)
POSTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/admin/config/files", {"file": "pools.yaml", "version": "1", "text": "x", "action": "save"}),
    ("/admin/config/versions/1/activate", {}),
    ("/admin/config/versions/1/dry-run", {}),
    ("/admin/config/rollback", {}),
)


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_sales_and_managers_may_not_open_any_config_page(
    sign_in: SignIn, ui_svc: Services, user: str
) -> None:
    client = english(sign_in(TENANT, user))
    for url in GETS:
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 403, url
        assert "Roles that may: Administrator." in answer.text  # labels, not ids
    for url, form in POSTS:
        assert post(client, url, **form).status_code == 403, url
    assert 'href="/admin/config"' not in client.get("/admin/config").text  # no menu entry
    assert len(ui_svc.configs.versions(TENANT)) == 1


def test_posts_without_the_csrf_token_are_refused(admin: TestClient, ui_svc: Services) -> None:
    for url, form in POSTS:
        answer = admin.post(url, data=form, follow_redirects=False)
        assert answer.status_code == 403, url
        assert "CSRF" in answer.text
    assert len(ui_svc.configs.versions(TENANT)) == 1


# languages and speed ---------------------------------------------------------------------------
@pytest.fixture
def statements(ui_svc: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    sa.event.listen(ui_svc.store.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(ui_svc.store.engine, "before_cursor_execute", record)


def test_every_page_in_both_languages_without_reading_records(
    sign_in: SignIn, ui_svc: Services, lean: int, statements: list[str]
) -> None:
    client = sign_in(TENANT, "frank")
    seed(ui_svc)
    pages = (
        "/admin/config",
        "/admin/config/files?file=pools.yaml",
        "/admin/config/versions/1",
        f"/admin/config/versions/{lean}",
        f"/admin/config/diff?a=1&b={lean}",
    )
    words = {"zh-CN": ("配置", "当前生效版本"), "en": ("Config", "Active version")}
    for locale, (title, active) in words.items():
        token = csrf_of(client.get("/admin/login").text)
        form = {"locale": locale, "csrf_token": token}
        client.post("/admin/language", data=form, follow_redirects=False)
        statements.clear()
        for url in pages:
            page = client.get(url)
            assert page.status_code == 200, url
            assert not re.findall(r"config\.(?!css|js)[a-z_]+", page.text), url  # no raw keys
        overview = client.get("/admin/config").text
        assert f"<title>{title}" in overview and active in overview
        assert not [s for s in statements if re.search(r"\bFROM records\b", s)]
