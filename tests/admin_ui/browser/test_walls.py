"""Who sees what, in a real browser (issue 16): a sales rep signs in and finds on the pool board
only her own customers and the public pool; a colleague's card is not there to move, and a
move forged with her session is refused and changes nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine.service.listing import Search
from engine.storage.store import Record
from tests.admin_ui.browser.conftest import Live, shot, signed_in

pytestmark = pytest.mark.browser

TENANT = "chaotu-demo"
REP, COLLEAGUE = "alice", "bob"
REP_NAME = "王丽"  # how the board names alice as an owner


def customers(live: Live, owner: str) -> list[Record]:
    """The tenant's live customers `owner` holds."""
    found = live.svc.records.search(TENANT, "customer", Search([("owner", owner)], limit=500))
    return list(found.records)


def test_a_sales_rep_sees_her_own_and_the_public_pool_and_cannot_move_a_colleagues_card(
    page: Page, live: Live
) -> None:
    mine, theirs = customers(live, REP), customers(live, COLLEAGUE)
    assert mine and theirs, "the seeded data gives both reps customers"
    signed_in(page, TENANT, REP)
    page.get_by_role("link", name="Pool board").click()
    expect(page.locator("#board")).to_be_visible()
    shot(page, "walls-board-sales")

    # every card: hers (she may move it) or the public pool's (she may claim it)
    cards = page.locator("article.cardlet")
    assert cards.count() > 0
    for i in range(cards.count()):
        card = cards.nth(i)
        column = card.locator("xpath=ancestor::section[1]")
        if column.get_attribute("data-pool") == "public":
            expect(card.get_by_role("button", name="Claim")).to_be_visible()
            expect(card.locator("form.move")).to_have_count(0)
        else:
            expect(card).to_contain_text(f"Owner: {REP_NAME}")
    shown = set(cards.evaluate_all("cards => cards.map(c => c.dataset.id)"))
    assert not shown & {r.id for r in theirs}, "a colleague's card is on her board"
    assert {r.id for r in mine if r.pool != "public"} & shown, "her own cards are shown"
    total = sum(
        int(n) for n in page.locator("#board h3 .count").all_inner_texts() if n.strip().isdigit()
    )
    public = int(page.locator("#pool-public h3 .count").inner_text())
    assert total == len(mine) + public

    # a move forged with her session and its CSRF token: refused, nothing changed
    target = theirs[0]
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    answer = page.request.post(
        "/admin/pools/move",
        max_redirects=0,  # the board it leads to shows the refusal once: read it below
        headers={"accept-language": "en-US"},  # as the browser's own requests say
        form={
            "csrf_token": token,
            "entity": "customer",
            "record_id": target.id,
            "pool": "won",
            "version": str(target.version),
            "next": "/admin/pools",
        },
    )
    assert answer.status == 303
    page.goto(answer.headers["location"])
    flash = page.locator("#flash")
    # as for a record that does not exist: nothing tells her it does
    expect(flash).to_have_text("Move refused: there is no such record, or it is not yours to see")
    expect(flash).to_have_class(re.compile(r"\berror\b"))
    after = live.svc.records.get(TENANT, "customer", target.id)
    assert (after.pool, after.owner, after.version) == (target.pool, COLLEAGUE, target.version)
    shot(page, "walls-move-refused")

    # nor can she open the colleague's record: the page of a record that is not there
    answer = page.goto(f"/admin/records/customer/{target.id}")
    assert answer is not None and answer.status == 404
