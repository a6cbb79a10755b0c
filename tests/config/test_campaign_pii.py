"""Campaign actions that carry personal data out of the engine: a webhook says `pii:` (mask, the
default, or include), or loading warns naming the field; a `set` that copies a masked field
into one some users see in full warns too. No payload changes silently."""

from __future__ import annotations

import pytest

from engine.config import BundleInvalid, load_bundle, load_bundle_dir
from engine.config.campaign_checks import record_reads
from engine.config.model import Bundle
from tests.helpers import ROOT

TENANT = """tenant: t
name: T
timezone: UTC
roles:
  sales: {see_masked: [phone, budget]}
users:
  - {id: alice, name: Alice, roles: [sales]}
"""
ENTITIES = """entities:
  lead:
    fields:
      name: {type: string}
      phone: {type: phone, pii: true}
      email: {type: email, pii: true}
      budget: {type: money}
      note: {type: text}
"""


def bundle(action: str) -> Bundle:
    campaigns = (
        "campaigns:\n  - id: c\n    entity: lead\n    trigger: {created: true}\n"
        f"    actions:\n      - {action}\n"
    )
    return load_bundle(
        {"tenant.yaml": TENANT, "entities.yaml": ENTITIES, "campaigns.yaml": campaigns}
    )


def warnings(action: str) -> list[tuple[int, int, str, str]]:
    found = bundle(action).warnings
    assert all(w.severity == "warning" and w.code == "pii" for w in found)
    return [(w.line, w.col, w.pointer, w.message) for w in found]


URL = "https://h.example/x"
HOOK = f'webhook: {{url: "{URL}", body: {{p: "{{{{ record.phone }}}}", n: "{{{{ record.name }}}}"}}'


def test_a_webhook_reading_a_pii_field_without_saying_pii_warns_naming_the_field() -> None:
    assert warnings(HOOK + "}") == [
        (
            6,
            57,  # the value of p
            "/campaigns/0/actions/0/webhook/body/p",
            "the webhook body reads phone (personal data) and does not say pii: the receiver "
            "gets it masked",
        )
    ]


@pytest.mark.parametrize("said", ["mask", "include"])
def test_saying_pii_silences_the_warning(said: str) -> None:
    assert warnings(f"{HOOK}, pii: {said}}}") == []


def test_a_field_a_role_masks_counts_though_not_pii_and_the_whole_record_names_them_all() -> None:
    budget = warnings('webhook: {url: "https://h.example/x", body: {b: "{{ record.budget }}"}}')
    assert [m for *_, m in budget] == [
        "the webhook body reads budget (personal data) and does not say pii: the receiver "
        "gets it masked"
    ]
    whole = warnings('webhook: {url: "https://h.example/x", body: "{{ record | tojson }}"}')
    assert [(p, m) for _, _, p, m in whole] == [
        (
            "/campaigns/0/actions/0/webhook/body",
            "the webhook body reads the whole record, with budget, email, phone (personal data) "
            "and does not say pii: the receiver gets them masked",
        )
    ]


def test_a_webhook_without_personal_data_and_other_actions_do_not_warn() -> None:
    assert warnings('webhook: {url: "https://h.example/x", body: {n: "{{ record.name }}"}}') == []
    assert warnings('webhook: {url: "https://h.example/x"}') == []  # the default body: the id
    # people's texts are rendered with each reader's mask: nothing to say
    assert warnings('notify: {to: owner, title: "call {{ record.phone }}"}') == []


def test_a_set_copying_a_masked_field_into_one_seen_in_full_warns() -> None:
    assert warnings('set: {note: "call {{ record.phone }}", name: "{{ record.name }}"}') == [
        (
            6,
            21,
            "/campaigns/0/actions/0/set/note",
            "copies phone into 'note', which some users see unmasked while they see phone masked",
        )
    ]
    assert warnings('set: {budget: "{{ record.budget }}"}') == []  # masked for the same users


def test_pii_takes_mask_or_include_only() -> None:
    with pytest.raises(BundleInvalid) as info:
        bundle(f"{HOOK}, pii: yes}}")
    (error,) = info.value.errors
    assert error.pointer == "/campaigns/0/actions/0/webhook/pii"
    assert "mask" in error.format() and "include" in error.format()


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("{{ record.phone }} {{ record['email'] }}", {"phone", "email"}),
        ("{{ owner.email }} {{ record.id }}", {"id"}),
        ("{{ record | tojson }}", None),
        ("{% set r = record %}{{ r.phone }}", None),
        ("{% for k in ['phone'] %}{{ record[k] }}{% endfor %}", None),
        ("{{ unclosed", set()),  # a syntax error of its own
    ],
)
def test_what_a_template_reads_of_the_record(text: str, read: set[str] | None) -> None:
    found = record_reads(text)
    assert found == (None if read is None else frozenset(read))


def test_the_demo_coupon_webhooks_include_the_phone_they_need() -> None:
    demo = load_bundle_dir(ROOT / "configs" / "chaotu-demo")
    wake = next(c for c in demo.campaigns if c.id == "wake_sleeping")
    hooks = [a.params for s in wake.steps for a in s.actions if a.kind == "webhook"]
    assert len(hooks) == 2
    assert all("{{ record.phone }}" in h["body"]["phone"] and h["pii"] == "include" for h in hooks)
    assert demo.warnings == ()
