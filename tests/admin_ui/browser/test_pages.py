"""The issue's scenario in a real browser: filter records, read a record's "why", claim from the
public pool until the cap refuses, edit a bundle file with a typo and see the error at its line,
fix it, dry-run, activate and see the pool board move; a sales rep sees masked phones; every
page renders in both languages.

The tests share one server (module scope) and run in this order: the claims and the new config
version change what later tests see, which they take into account.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine.i18n import CATALOGUE
from tests.admin_ui.browser.conftest import (
    BOARD_COUNT,
    BOARD_PREFIX,
    CLAIMER,
    KNOWN_MASKED,
    KNOWN_NAME,
    KNOWN_PHONE,
    Live,
    shot,
    signed_in,
    text_of,
)

pytestmark = pytest.mark.browser

TENANT = "chaotu-demo"
DAILY_CLAIMS = 20  # configs/chaotu-demo/pools.yaml: public.daily_claims
NEW_RULE = """\
      - id: big_company
        label: {zh-CN: 大公司加入目标, en: Big companies become targets}
        from: [has_need]
        to: targeted
        when: "company_sise >= 9000"
"""
TYPO, FIXED = "company_sise", "company_size"


def _count(page: Page, pool: str) -> int:
    return int(page.locator(f"#pool-{pool} h3 .count").inner_text())


def _filter(page: Page, where: str) -> None:
    page.locator("#filter input[name=where]").fill(where)
    page.locator("#filter").get_by_role("button", name="Filter").click()


# records ---------------------------------------------------------------------------------------
def test_filter_records_with_the_where_box(page: Page) -> None:
    signed_in(page, TENANT, "frank")
    page.get_by_role("link", name="Records", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/records/customer$"))
    expect(page.locator("#records tbody tr").first).to_be_visible()
    shot(page, "records-list")

    _filter(page, "budget >= 20000 and company_size >= 9000")
    expect(page).to_have_url(re.compile(r"\?where=budget"))
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(BOARD_COUNT)
    for i in range(BOARD_COUNT):
        expect(page.locator("#records")).to_contain_text(f"{BOARD_PREFIX}{i}")
    expect(page.locator("#filter input[name=where]")).to_have_value(
        "budget >= 20000 and company_size >= 9000"
    )
    shot(page, "records-filtered")

    # a mistake is shown where it is: the column, the word marked, a did-you-mean
    _filter(page, "budget >= 100 and regoin == 'east'")
    alert = page.locator("#problems")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("The condition has an error at column 19")
    expect(alert).to_contain_text("did you mean 'region'?")
    expect(alert.locator("mark.bad")).to_have_text("regoin")
    expect(alert.locator("pre.condition")).to_have_attribute("data-start", "18")
    expect(page.locator("#filter input[name=where]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#records")).to_have_count(0)
    shot(page, "records-filter-error")


def test_open_a_record_and_read_why(page: Page, live: Live) -> None:
    signed_in(page, TENANT, "frank")
    page.goto("/admin/records/customer")
    _filter(page, f"name == '{KNOWN_NAME}'")
    page.get_by_role("link", name=KNOWN_NAME).click()
    expect(page).to_have_url(re.compile(rf"/admin/records/customer/{live.seeded.known}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(KNOWN_NAME)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Has need")
    expect(page.locator("#fields")).to_contain_text(KNOWN_PHONE)  # an admin sees it all

    # why it is in "Has need": the promotion, the change and the evaluated condition
    moved = page.locator('#timeline li[data-rule="customer_pool.need_confirmed"]')
    expect(moved).to_contain_text("Need confirmed")
    expect(moved).to_contain_text("Pool: Nurturing → Has need")
    expect(moved.locator("pre.trace")).to_contain_text("✓ budget >= 10000")
    expect(moved.locator("pre.trace")).to_contain_text("budget = 20000")
    assigned = page.locator('#timeline li[data-rule="assignment.by_region"]')
    expect(assigned).to_contain_text("Round robin within the region")
    # and why not further: each promotion out of its pool, with the condition that fails
    why_not = page.locator('#why-not .why-not[data-rule="key_account"]')
    expect(why_not).to_contain_text("Large budget becomes a target → Targeted")
    expect(why_not).to_contain_text("does not hold")
    expect(why_not.locator("pre.trace")).to_contain_text("✗ budget >= 500000")
    expect(page.locator("#history")).to_contain_text("created")
    shot(page, "record-why")


# the public pool -------------------------------------------------------------------------------
def test_claim_from_the_public_pool_until_the_cap_refuses(page: Page, live: Live) -> None:
    signed_in(page, TENANT, CLAIMER)
    page.get_by_role("link", name="Pool board").click()
    public = page.locator("#pool-public")
    expect(public.locator(".pill.hot")).to_have_text("public pool")
    expect(page.locator("#claims")).to_contain_text(f"Your claims today: 0/{DAILY_CLAIMS}")
    before = _count(page, "public")
    assert before >= DAILY_CLAIMS + 1, "the public pool needs more cards than the cap"
    shot(page, "pools-board")

    for n in range(1, DAILY_CLAIMS + 1):
        card = public.locator("article.cardlet").first
        title = card.locator(".card-title").inner_text()
        card.get_by_role("button", name="Claim").click()
        expect(page.locator("#flash")).to_have_text(f"{title} is yours now (Has need).")
        expect(page.locator("#flash")).to_have_class(re.compile(r"\bok\b"))
        expect(page.locator("#claims")).to_contain_text(f"{n}/{DAILY_CLAIMS}")
        if n == 1:
            shot(page, "pools-claimed")
    assert _count(page, "public") == before - DAILY_CLAIMS

    public.locator("article.cardlet").first.get_by_role("button", name="Claim").click()
    flash = page.locator("#flash")
    expect(flash).to_have_text(f"Claim refused: cap of {DAILY_CLAIMS} claims reached today")
    expect(flash).to_have_class(re.compile(r"\berror\b"))
    assert _count(page, "public") == before - DAILY_CLAIMS
    shot(page, "pools-claim-refused")


# config: a typo, the fix, a dry run, activation ------------------------------------------------
def test_edit_a_typo_fix_it_dry_run_activate_and_the_board_moves(page: Page, live: Live) -> None:
    signed_in(page, TENANT, "frank")
    page.goto("/admin/pools")
    has_need, targeted = _count(page, "has_need"), _count(page, "targeted")

    page.get_by_role("link", name="Config", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Config")
    shot(page, "config")
    page.goto("/admin/config/files?file=pools.yaml")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit pools.yaml")
    source = page.locator("#source")
    original = source.input_value()
    anchor = "        then: [unassign]\n"
    assert anchor in original
    edited = original.replace(anchor, anchor + NEW_RULE, 1)
    line = edited.split("\n").index(f'        when: "{TYPO} >= 9000"') + 1

    source.fill(edited)
    page.get_by_role("button", name="Validate").click()
    problems = page.locator("#problems")
    expect(problems).to_have_attribute("role", "alert")
    expect(problems).to_contain_text("Nothing was stored")
    problem = problems.locator(f'li.problem[data-line="{line}"]')
    expect(problem.locator("a.where")).to_have_text(re.compile(rf"^pools\.yaml:{line}:\d+$"))
    expect(problem.locator(".message")).to_contain_text(f"unknown field '{TYPO}'")
    expect(problem.locator(".hint")).to_contain_text(f"did you mean '{FIXED}'?")
    expect(problem.locator("pre.snippet")).to_contain_text(TYPO)
    expect(page.locator(f"#L{line}")).to_have_class(re.compile(r"\berror\b"))
    expect(source).to_have_value(edited)  # nothing typed is lost
    shot(page, "config-typo")

    source.fill(edited.replace(TYPO, FIXED))
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#problems")).to_contain_text("No errors: the bundle is valid.")
    expect(page.locator("#problems")).not_to_have_attribute("role", "alert")
    page.get_by_role("button", name="Save as new version").click()
    expect(page).to_have_url(re.compile(r"/admin/config/versions/(\d+)\?done=saved$"))
    number = int(re.findall(r"/versions/(\d+)", page.url)[0])
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Version {number}")
    expect(page.locator("#diff")).to_contain_text("big_company")
    shot(page, "config-saved")

    page.locator("#run-dry-run").click()
    report = page.locator("#report")
    expect(report).to_contain_text("Big companies become targets")
    move = report.locator("tr", has_text="Big companies become targets")
    expect(move).to_contain_text("Has need")
    expect(move).to_contain_text("Targeted")
    expect(move.locator("td").nth(2)).to_have_text(str(BOARD_COUNT))
    shot(page, "config-dry-run")

    page.once("dialog", lambda dialog: dialog.accept())  # "Activate version N?"
    page.locator("#facts").get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(rf"/admin/config\?activated={number}$"))
    expect(page.locator("main")).to_contain_text(f"Version {number} is now active.")
    shot(page, "config-activated")

    # what `tidepool serve`'s sweep loop does every minute: promotions on values, per version
    live.svc.sweep(TENANT)
    page.get_by_role("link", name="Pool board").click()
    expect(page.locator("#pool-targeted h3 .count")).to_have_text(str(targeted + BOARD_COUNT))
    expect(page.locator("#pool-has_need h3 .count")).to_have_text(str(has_need - BOARD_COUNT))
    shot(page, "pools-moved")
    page.goto(f"/admin/records/customer/{live.seeded.board[0]}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Targeted")
    moved = page.locator('#timeline li[data-rule="customer_pool.big_company"]')
    expect(moved).to_contain_text("Big companies become targets")
    expect(moved).to_contain_text(f"config v{number}")
    expect(moved.locator("pre.trace")).to_contain_text("company_size = 9500")
    shot(page, "record-moved")


# masking ---------------------------------------------------------------------------------------
def test_a_sales_rep_sees_masked_phones(page: Page, live: Live) -> None:
    signed_in(page, TENANT, "alice")
    page.goto("/admin/records/customer")
    expect(page.locator(".masked-note")).to_contain_text("Phone")
    phones = page.locator("#records td.field-phone").all_inner_texts()
    assert phones, "the list shows the phone column"
    assert all(re.fullmatch(r"—|\d{3}\*{4}\d{4}", p.strip()) for p in phones), phones
    emails = page.locator("#records td.field-email").all_inner_texts()
    assert not [e for e in emails if re.match(r"[^*]{2,}@", e.strip())], emails
    body = text_of(page)
    assert not re.search(r"1\d{10}", body), "a full phone number on a sales rep's page"
    row = page.locator("#records tbody tr", has_text=KNOWN_NAME)
    expect(row.locator("td.field-phone")).to_have_text(KNOWN_MASKED)
    shot(page, "records-masked")

    row.get_by_role("link", name=KNOWN_NAME).click()
    expect(page.locator("#fields")).to_contain_text(KNOWN_MASKED)
    assert KNOWN_PHONE not in page.content()
    shot(page, "record-masked")

    # nor can the number be guessed with a filter
    page.goto("/admin/records/customer")
    _filter(page, f"phone == '{KNOWN_PHONE}'")
    expect(page.locator("#problems")).to_contain_text(
        re.compile(r"phone: masked for you, so you cannot filter or sort by it\.", re.I)
    )
    expect(page.locator("#records")).to_have_count(0)
    shot(page, "records-masked-filter")


# both languages --------------------------------------------------------------------------------
NAV = {"en": ("Dashboard", "Pool board", "Records"), "zh-CN": ("概览", "客户池看板", "记录")}
UI_KEYS = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(k) for k in sorted(CATALOGUE, key=len, reverse=True) if "." in k)
    + r")(?![\w])"
)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_page_renders_in_both_languages(page: Page, live: Live, locale: str) -> None:
    signed_in(page, TENANT, "frank")
    button = "EN" if locale == "en" else "中文"
    page.get_by_role("button", name=button).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    pages = {
        "dashboard": "/admin/dashboard",
        "pools": "/admin/pools",
        "records": "/admin/records/customer",
        "record": f"/admin/records/customer/{live.seeded.known}",
        "assignment": "/admin/assignment",
        "campaigns": "/admin/campaigns",
        "config": "/admin/config",
        "config-file": "/admin/config/files?file=tenant.yaml",
        "config-version": "/admin/config/versions/1",
        "config-diff": "/admin/config/diff?a=1&b=1",
    }
    # words each page shows in this language (its heading, or a label from the bundle)
    words = {
        "en": {
            "dashboard": "Dashboard",
            "pools": "Customer pools",
            "records": "Condition",
            "record": "Has need",
            "assignment": "Assignment",
            "campaigns": "Campaigns",
            "config": "Config",
            "config-file": "Edit tenant.yaml",
            "config-version": "Version 1",
            "config-diff": "From version 1 to version 1",
        },
        "zh-CN": {
            "dashboard": "概览",
            "pools": "客户池",
            "records": "条件",
            "record": "有需求池",
            "assignment": "分配",
            "campaigns": "营销活动",
            "config": "配置",
            "config-file": "编辑 tenant.yaml",
            "config-version": "版本 1",
            "config-diff": "从版本 1 到版本 1",
        },
    }[locale]
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        expect(page.locator("html")).to_have_attribute("lang", locale)
        for word in NAV[locale]:
            expect(page.locator("header nav")).to_contain_text(word)
        if name == "records":
            expect(page.locator("#filter")).to_contain_text(words[name])
        else:
            expect(page.get_by_role("heading", level=1)).to_contain_text(words[name])
        body = page.locator("body").inner_text()
        keys = sorted(set(UI_KEYS.findall(body)))
        assert not keys, f"{path} ({locale}) shows UI text keys: {keys}"
        has_chinese = bool(re.search(r"[\u4e00-\u9fff]", page.locator("header nav").inner_text()))
        assert has_chinese == (locale == "zh-CN"), f"{path}: the menu is not in {locale}"
        shot(page, f"lang-{locale}-{name}")
