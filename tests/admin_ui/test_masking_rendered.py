"""What a campaign rendered, as the admin UI shows it (数据脱敏): a sales rep who sees phones and
emails masked finds them masked in the record's "why" (a campaign condition that read the
phone), in the task a campaign made for her and its export, and nowhere in full on any page
she opens; an admin sees the condition in full."""

from __future__ import annotations

import pytest

from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.storage import tables as t
from tests.admin_ui.conftest import SignIn
from tests.helpers import ROOT

T = "chaotu-demo"
PHONE, MASKED = "13998765432", "139****5432"
EMAIL, MASKED_EMAIL = "ann@client.example", "a***@client.example"
MOBILE_CHECK = """
  - id: mobile_check
    label: {zh-CN: 核对手机, en: Check the mobile}
    entity: customer
    trigger: {created: true}
    when: "phone starts_with '139'"
    actions:
      - create_task: {title: "核对 {{ record.phone }} / {{ record.email }}", assignee: owner}
      - notify: {to: owner, title: "新客户 {{ record.phone }}"}
"""


@pytest.fixture
def made(ui_svc: Services) -> dict[str, str]:
    """The demo with one more campaign, and a customer of alice's that fires it."""
    files = read_bundle_dir(ROOT / "configs" / T)
    files["campaigns.yaml"] += MOBILE_CHECK
    ui_svc.install_bundle(load_bundle(files), actor="tests", tests=False)
    data = {"name": "安妮", "phone": PHONE, "email": EMAIL, "region": "east", "owner": "alice"}
    customer = ui_svc.records.create(T, "customer", data, actor="tests").result["id"]
    with ui_svc.store.read() as tx:
        task = tx.conn.execute(
            t.records.select().where(t.records.c.tenant_id == T, t.records.c.entity == "task")
        ).one()
    return {"customer": str(customer), "task": str(task.id)}


def test_a_sales_rep_finds_campaign_texts_masked_on_every_page(
    sign_in: SignIn, made: dict[str, str]
) -> None:
    alice = sign_in(T, "alice")
    record = alice.get(f"/admin/records/customer/{made['customer']}").text
    # the why: the campaign's condition and the value it read, masked
    assert f"phone starts_with &#39;139&#39;\n    phone = &#39;{MASKED}&#39;" in record
    tasks = alice.get("/admin/records/task").text
    assert f"核对 {MASKED} / {MASKED_EMAIL}" in tasks  # rendered as alice sees the customer
    pages = [
        record,
        tasks,
        alice.get(f"/admin/records/task/{made['task']}").text,
        alice.get("/admin/records/task/export.csv").text,
        alice.get("/admin/records/customer/export.csv").text,
        alice.get("/admin/dashboard").text,
        alice.get("/admin/pools").text,
        alice.get("/admin/assignment").text,
        alice.get("/admin/campaigns").text,
    ]
    for page in pages:
        assert PHONE not in page and EMAIL not in page


def test_an_admin_sees_the_condition_in_full_and_the_task_as_it_was_made(
    sign_in: SignIn, made: dict[str, str]
) -> None:
    frank = sign_in(T, "frank")
    record = frank.get(f"/admin/records/customer/{made['customer']}").text
    assert f"phone starts_with &#39;139&#39;\n    phone = &#39;{PHONE}&#39;" in record
    # the task was written for alice: what she may read is all it holds
    task = frank.get(f"/admin/records/task/{made['task']}").text
    assert f"核对 {MASKED} / {MASKED_EMAIL}" in task and PHONE not in task
