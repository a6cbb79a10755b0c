"""Masked data stays masked in what campaigns render for people (数据脱敏): each notification,
email and task as its reader sees the record; webhooks masked unless they say `pii: include`;
and the other things shown to a person — explain traces, history, the notifications of
someone else, job errors, dry-run examples, campaign stats — on SQLite and PostgreSQL.

tests/fixtures/masked_campaigns: rita (sales) sees phone and email masked, lena (team lead)
the phone, max (manager) everything, olga (ops, who configures) name, phone and score."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from engine.config.loader import load_bundle, load_bundle_dir, read_bundle_dir
from engine.service import Services
from engine.service.jobs import job_json
from engine.service.masking import STARS, Mask, scrub_text
from engine.service.simulate import dry_run
from engine.storage import tables as t
from tests.helpers import FIXTURES

T = "hush"
HERE = FIXTURES / "masked_campaigns"
PHONE, EMAIL = "13998765432", "ann@client.example"
HIDDEN_PHONE, HIDDEN_EMAIL = "139****5432", "a***@client.example"


@pytest.fixture
def hush(svc: Services) -> Services:
    svc.install_dirs([HERE])
    return svc


def contact(svc: Services, **data: Any) -> dict[str, Any]:
    values = {"name": "Ann", "phone": PHONE, "email": EMAIL, **data}
    made: dict[str, Any] = svc.records.create(T, "contact", values).result
    return made


def rows(svc: Services, table: sa.Table, *where: Any) -> list[Any]:
    with svc.store.read() as tx:
        return list(tx.conn.execute(sa.select(table).where(table.c.tenant_id == T, *where)))


def notes(svc: Services, record: str) -> dict[str, tuple[str, str | None]]:
    found = rows(svc, t.notifications, t.notifications.c.record_id == record)
    return {n.user_id: (n.title, n.body) for n in found}


def hooks(svc: Services) -> dict[str, Any]:
    return {j.payload["url"].rsplit("/", 1)[1]: j.payload["body"] for j in jobs(svc, "webhook")}


def jobs(svc: Services, kind: str) -> list[Any]:
    return rows(svc, t.jobs, t.jobs.c.kind == kind)


def mask(svc: Services, user: str | None) -> Mask:
    return Mask(svc.configs.active(T), user)


# campaigns: people -------------------------------------------------------------------------------
def test_each_reader_of_one_firing_gets_the_notification_as_they_see_the_record(
    hush: Services,
) -> None:
    made = contact(hush)
    (firing,) = rows(hush, t.campaign_firings, t.campaign_firings.c.campaign == "hello")
    assert notes(hush, made["id"]) == {
        "rita": (f"Call Ann at {HIDDEN_PHONE}", f"or write to {HIDDEN_EMAIL}"),
        "max": (f"Call Ann at {PHONE}", f"or write to {EMAIL}"),
    }
    assert firing.status == "sent"


def test_emails_to_users_are_rendered_with_their_mask(
    hush: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDEPOOL_SMTP_URL", "smtp://127.0.0.1:2525?from=crm@hush.example")
    contact(hush)
    sent = {j.payload["to"]: (j.payload["subject"], j.payload["body"]) for j in jobs(hush, "email")}
    assert sent == {
        "rita@hush.example": (f"Call Ann at {HIDDEN_PHONE}", f"or write to {HIDDEN_EMAIL}"),
        "max@hush.example": (f"Call Ann at {PHONE}", f"or write to {EMAIL}"),
    }


@pytest.mark.parametrize(
    ("owner", "title", "callback"),
    [
        ("rita", f"Call {HIDDEN_PHONE}", f"{HIDDEN_PHONE} / {HIDDEN_EMAIL}"),
        ("lena", f"Call {HIDDEN_PHONE}", f"{HIDDEN_PHONE} / {EMAIL}"),
        ("max", f"Call {PHONE}", f"{PHONE} / {EMAIL}"),
        (None, f"Call {HIDDEN_PHONE}", f"{HIDDEN_PHONE} / {HIDDEN_EMAIL}"),  # nobody: a stranger
    ],
)
def test_a_task_title_and_fields_are_rendered_as_its_assignee_sees_the_record(
    hush: Services, owner: str | None, title: str, callback: str
) -> None:
    made = contact(hush, owner=owner)
    (task,) = rows(hush, t.records, t.records.c.entity == "task")
    assert (task.owner, task.data["contact_id"]) == (owner, made["id"])
    assert (task.data["title"], task.data["callback"]) == (title, callback)


# campaigns: machines -----------------------------------------------------------------------------
def test_webhooks_are_masked_unless_they_say_pii_include(hush: Services) -> None:
    contact(hush)
    assert hooks(hush) == {
        # as a stranger sees it: every pii field, and `name`, which ops' role masks
        "masked": {"phone": HIDDEN_PHONE, "email": HIDDEN_EMAIL, "name": "A***"},
        "full": {"phone": PHONE, "email": EMAIL},
        "unsaid": {"phone": HIDDEN_PHONE},  # the default is mask (and loading warned)
    }
    (warning,) = hush.configs.active(T).bundle.warnings
    assert (warning.code, warning.pointer) == ("pii", "/campaigns/0/actions/4/webhook/body/phone")
    # the record keeps its values: masking is what leaves, not what is stored
    assert rows(hush, t.records, t.records.c.entity == "contact")[0].data["phone"] == PHONE


# what else is shown to a person ------------------------------------------------------------------
def test_explain_and_history_show_a_campaign_condition_as_the_viewer_may_see_it(
    hush: Services,
) -> None:
    made = contact(hush, owner="rita")
    hush.records.update(T, "contact", made["id"], {"status": "won"})
    assert notes(hush, made["id"])["rita"] == (f"Ann ({HIDDEN_PHONE}) won", None)
    shown = {}
    for user in ("rita", "max"):
        found = hush.records.explain(T, "contact", made["id"], "en", mask(hush, user))
        (won,) = [d for d in found["timeline"] if d["rule"] == "campaign.mobile_won"]
        shown[user] = json.dumps(won, ensure_ascii=False)
        history = hush.records.history(T, "contact", made["id"], mask(hush, user))
        shown[user + ".history"] = json.dumps(history, ensure_ascii=False)
    for text in (shown["rita"], shown["rita.history"]):
        assert PHONE not in text and HIDDEN_PHONE in text
    assert PHONE in shown["max"] and PHONE in shown["max.history"]


def test_someone_elses_notifications_are_masked_for_a_reader_who_sees_less(
    hush: Services,
) -> None:
    made = contact(hush)
    read = hush.campaigns.notifications
    full, masked = notes(hush, made["id"])["max"], notes(hush, made["id"])["rita"]

    def seen(user: str, by: str) -> tuple[str, str | None]:
        (note,) = read(T, user, False, 10, by=by)
        return note["title"], note["body"]

    assert seen("max", "max") == full
    assert seen("rita", "max") == masked  # a manager reading a rep's: as the rep got it
    assert seen("rita", "lena") == masked  # the rep sees less than lena: nothing to hide
    assert seen("max", "lena") == (STARS, STARS)  # lena would read max's phone: hidden
    assert seen("max", None) == full  # an integration key


def test_a_job_error_echoing_values_is_masked_for_a_masked_viewer(hush: Services) -> None:
    contact(hush)
    job = next(j for j in hush.jobs.find(T) if j.kind == "webhook")
    (claimed,) = hush.jobs.claim("w1", ["webhook"], 1, 30)
    echoed = f"HTTP 400: refused {PHONE} for {EMAIL}"
    assert hush.jobs.fail(claimed, "w1", echoed, retryable=False) == "dead"
    dead = hush.jobs.get(T, claimed.id)
    assert job_json(dead, mask(hush, None))["last_error"] == echoed
    hidden = f"HTTP 400: refused {HIDDEN_PHONE} for {HIDDEN_EMAIL}"
    assert job_json(dead, mask(hush, "olga"))["last_error"] == hidden
    assert job_json(dead)["last_error"] == hidden  # a viewer not named: as a masked one
    assert job_json(dead, mask(hush, "max"))["last_error"] == echoed  # sees every field
    assert job.payload  # the payload itself is never part of job_json
    assert "payload" not in job_json(dead)


def test_campaign_stats_and_the_overview_hold_no_record_values(hush: Services) -> None:
    contact(hush, owner="rita")
    shown = json.dumps(
        [hush.campaigns.stats(T, "hello"), hush.campaigns.overview(T)], ensure_ascii=False
    )
    assert json.loads(shown)[0]["variants"]["-"]["fired"] == 1
    assert not {PHONE, EMAIL, "Ann", HIDDEN_PHONE} & {w.strip('",:{}[]') for w in shown.split()}


def test_dry_run_examples_are_masked_for_a_masked_caller(hush: Services) -> None:
    for i in range(3):
        contact(hush, name=f"Ann{i}", phone=f"1399876543{i}", budget="5000")
    files = read_bundle_dir(HERE)
    files["pools.yaml"] = files["pools.yaml"].replace("points: 10", "points: 20")
    masked = dry_run(hush, T, files, by="olga").entity("contact")
    full = dry_run(hush, T, files, by="max").entity("contact")
    (score,) = full.field_changes
    assert score.transitions == ((10, 20, 3),)
    assert {(e.title, e.before, e.after) for e in score.examples} == {
        (f"Ann{i}", 10, 20) for i in range(3)
    }
    (hidden,) = masked.field_changes
    assert hidden.count == 3 and hidden.transitions == ((STARS, STARS, 3),)
    assert {(e.title, e.before, e.after) for e in hidden.examples} == {("A***", STARS, STARS)}
    report = json.dumps(dry_run(hush, T, files, by="olga").to_json(), ensure_ascii=False)
    assert "Ann" not in report and PHONE[:-1] not in report
    keyed = dry_run(hush, T, files).entity("contact")  # a tenant-wide key: in full
    assert keyed.field_changes == full.field_changes


def test_a_candidate_that_masks_more_masks_the_examples_already(hush: Services) -> None:
    contact(hush, budget="5000")
    files = read_bundle_dir(HERE)
    files["pools.yaml"] = files["pools.yaml"].replace("points: 10", "points: 20")
    files["tenant.yaml"] = files["tenant.yaml"].replace(
        "can: [assign, configure], see: all}",
        "can: [assign, configure], see: all, see_masked: [name]}",
    )
    (change,) = dry_run(hush, T, load_bundle(files), by="max").entity("contact").field_changes
    assert [(e.title, e.before) for e in change.examples] == [("A***", 10)]


# pure: no database -------------------------------------------------------------------------------
def test_a_failed_actions_error_text_is_scrubbed_for_a_masked_viewer() -> None:
    bundle = load_bundle_dir(HERE)
    row = SimpleNamespace(
        kind="campaign_error",
        before={},
        after={"step": 0},
        trace={
            "action": "/actions/3",
            "kind": "webhook",
            "error": f"line 1: {PHONE} is not a number",
            "errors": [
                {"code": "template", "params": {"detail": PHONE}, "message": f"{PHONE}?"},
                {"field": "phone", "code": "unique", "message": f"{PHONE} is taken"},
            ],
        },
    )
    rita = Mask(bundle, "rita").stored_decision("contact", row)
    assert rita.trace["error"] == f"line 1: {HIDDEN_PHONE} is not a number"
    assert rita.trace["errors"] == [
        {"code": "template", "params": {"detail": HIDDEN_PHONE}, "message": f"{HIDDEN_PHONE}?"},
        {"field": "phone", "code": "unique", "message": STARS},
    ]
    assert Mask(bundle, "max").stored_decision("contact", row) is row
    assert Mask(bundle, None).stored_decision("contact", row) is row


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"to {EMAIL}: 550 no such user", f"to {HIDDEN_EMAIL}: 550 no such user"),
        ("call +86 139 9876 5432 now", "call +86****5432 now"),
        ("HTTP 503", "HTTP 503"),
        ("order 62345678", "order 62****78"),
    ],
)
def test_free_text_is_scrubbed_of_addresses_and_phone_like_numbers(text: str, shown: str) -> None:
    assert scrub_text(text) == shown


def test_the_stranger_mask_masks_every_pii_field_and_every_field_a_role_masks() -> None:
    bundle = load_bundle_dir(HERE)
    assert Mask.stranger(bundle).fields("contact") == {"name", "phone", "email", "score"}
    assert Mask.stranger(bundle).fields("task") == set()  # nothing of a task is personal
