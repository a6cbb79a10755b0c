"""The forms report (SQLite and PG): submissions per form, channel and local day, their
outcomes, and where the records they created are now (per channel, in funnel order)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.errors import Invalid, NotFound, Spam
from engine.service import Services
from engine.service import form_report as fr
from engine.service.form_report import NONE, Outcomes

T = "fr"
D22, D23, D24 = date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 24)

TENANT = """\
tenant: fr
name: {en: Form report, zh-CN: 表单报表}
timezone: Asia/Shanghai
locale: zh-CN
locales: [zh-CN, en]
"""
ENTITIES = """\
entities:
  lead:
    fields:
      name: {type: string, required: true}
      phone: {type: phone}
      paid: {type: boolean, default: false}
      source: {type: enum, options: [qr_scan, website]}
      activity: {type: string, max_length: 100}
forms:
  signup:
    entity: lead
    public: true
    fields:
      - name
      - phone
      - {field: source, hidden: true, from_url: source}
      - {field: activity, hidden: true, from_url: act}
    duplicates: {by: [phone], within_minutes: 30}
    limits: {per_ip: 1000, per_form: 1000, window_minutes: 10}
  other:
    entity: lead
    public: true
    fields: [name]
"""
POOLS = """\
pool_sets:
  lead_pool:
    entity: lead
    initial: new
    pools:
      new: {label: {en: New, zh-CN: 新线索}}
      contacted: {label: {en: Contacted, zh-CN: 已联系}, manual: true}
      customer: {label: {en: Customer, zh-CN: 客户}, manual: true}
      won: {label: {en: Won, zh-CN: 成交}, manual: true}
      lost: {label: {en: Lost, zh-CN: 流失}, manual: true}
    promotions:
      - {id: paid, from: [new, contacted, customer], to: won, when: "paid == true"}
"""


def bundle(root: Path) -> Path:
    folder = root / "fr"
    folder.mkdir()
    (folder / "tenant.yaml").write_text(TENANT)
    (folder / "entities.yaml").write_text(ENTITIES)
    (folder / "pools.yaml").write_text(POOLS)
    return folder


def at(clock: FixedClock, moment: str) -> None:
    clock.moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)


def submit(svc: Services, data: dict[str, Any], params: dict[str, str], **kw: Any) -> str:
    form = kw.pop("form", "signup")
    return svc.forms.submit(T, form, data, params, address="10.0.0.1", **kw).record_id


@pytest.fixture
def made(svc: Services, clock: FixedClock, tmp_path: Path) -> dict[str, str]:
    """Submissions over three days in Shanghai (UTC+8), some before the week, then moves.

    22nd: r1 (qr_scan, 2026-expo) and its duplicate, r2 (website, no activity)
    23rd: r3 (qr_scan, 2026-expo), r4 (no channel), one invalid, one spam
    24th: r5 (qr_scan, 2026-spring); "other": one on the 17th, one on the 18th, one today
    Then r1 → customer, r3 → won, r2 → lost, r4 deleted; r5 stays new.
    """
    svc.install_dirs([bundle(tmp_path)])
    expo, spring = (
        {"source": "qr_scan", "act": "2026-expo"},
        {"source": "qr_scan", "act": "2026-spring"},
    )
    at(clock, "2026-11-21T16:30:00")  # 00:30 on the 22nd in Shanghai
    r1 = submit(svc, {"name": "A", "phone": "13800000001"}, expo)
    assert submit(svc, {"name": "A", "phone": "13800000001"}, expo) == r1  # duplicate
    r2 = submit(svc, {"name": "B", "phone": "13800000002"}, {"source": "website"})
    at(clock, "2026-11-23T15:59:00")  # 23:59 on the 23rd
    r3 = submit(svc, {"name": "C", "phone": "13800000003"}, expo)
    r4 = submit(svc, {"name": "D", "phone": "13800000004"}, {})
    with pytest.raises(Invalid):
        submit(svc, {"phone": "13800000009"}, expo)  # no name
    with pytest.raises(Spam):
        submit(svc, {"name": "bot"}, expo, honeypot="http://spam.example")
    at(clock, "2026-11-17T15:59:59")  # 23:59:59 on the 17th: a day before the week
    submit(svc, {"name": "E"}, {}, form="other")
    at(clock, "2026-11-17T16:00:00")  # midnight: the week's first instant
    submit(svc, {"name": "F"}, {}, form="other")
    at(clock, "2026-11-24T08:00:00")  # 16:00 on the 24th: now
    r5 = submit(svc, {"name": "G", "phone": "13800000005"}, spring)
    submit(svc, {"name": "H"}, {}, form="other")
    svc.records.move(T, "lead", r1, "customer")
    svc.records.move(T, "lead", r3, "won")
    svc.records.move(T, "lead", r2, "lost")
    svc.records.delete(T, "lead", r4)
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5}


def report(svc: Services, days: int = 7, channel: str | None = None) -> fr.FormReport:
    cfg = svc.configs.active(T)
    return fr.report(svc.store, cfg, "signup", days, svc.clock.now(), channel)


def test_the_period_is_whole_local_days() -> None:
    from zoneinfo import ZoneInfo

    week = fr.period(ZoneInfo("Asia/Shanghai"), datetime(2026, 11, 24, 8, tzinfo=UTC), 7)
    assert (week.first, week.last) == (date(2026, 11, 18), D24)
    assert week.start == datetime(2026, 11, 17, 16, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert len(week.days) == 7
    with pytest.raises(Invalid):
        fr.period(ZoneInfo("UTC"), datetime(2026, 11, 24, tzinfo=UTC), 0)


def test_submissions_per_channel_and_local_day(svc: Services, made: dict[str, str]) -> None:
    week = report(svc)
    assert week.channel == "source"  # the form's first hidden field
    assert dict(week.submissions.cells) == {
        ("signup", "qr_scan", D22): Outcomes(created=1, duplicate=1),
        ("signup", "website", D22): Outcomes(created=1),
        ("signup", "qr_scan", D23): Outcomes(created=1),
        ("signup", NONE, D23): Outcomes(created=1, invalid=1, spam=1),
        ("signup", "qr_scan", D24): Outcomes(created=1),
    }
    assert week.submissions.by_channel() == {
        "qr_scan": Outcomes(created=3, duplicate=1),
        "website": Outcomes(created=1),
        NONE: Outcomes(created=1, invalid=1, spam=1),
    }
    days = week.submissions.by_day()
    assert list(days) == [date(2026, 11, d) for d in range(18, 25)]
    assert days[D22] == {"qr_scan": 2, "website": 1, NONE: 0}
    assert days[D23] == {"qr_scan": 1, "website": 0, NONE: 3}
    assert days[D24] == {"qr_scan": 1, "website": 0, NONE: 0}
    assert days[date(2026, 11, 18)] == {"qr_scan": 0, "website": 0, NONE: 0}
    assert week.submissions.total() == Outcomes(created=5, duplicate=1, invalid=1, spam=1)
    # every form's totals: "other" on the 18th (midnight) and today, not the 17th
    assert week.per_form == {
        "signup": Outcomes(created=5, duplicate=1, invalid=1, spam=1),
        "other": Outcomes(created=2),
    }


def test_another_channel_field_and_a_longer_period(svc: Services, made: dict[str, str]) -> None:
    week = report(svc, channel="activity")
    assert week.submissions.by_channel() == {
        "2026-expo": Outcomes(created=2, duplicate=1),
        "2026-spring": Outcomes(created=1),
        NONE: Outcomes(created=2, invalid=1, spam=1),
    }
    month = fr.report(svc.store, svc.configs.active(T), "other", 30, svc.clock.now())
    assert month.channel is None  # "other" has no hidden fields
    assert month.submissions.by_day()[date(2026, 11, 17)] == {NONE: 1}
    assert month.submissions.total() == Outcomes(created=3)
    with pytest.raises(NotFound):
        report(svc, channel="name")  # not a hidden field
    with pytest.raises(NotFound):
        fr.report(svc.store, svc.configs.active(T), "nope", 7, svc.clock.now())


def test_conversion_per_channel_in_funnel_order(svc: Services, made: dict[str, str]) -> None:
    conv = report(svc).conversion
    assert (conv.form, conv.entity) == ("signup", "lead")
    assert conv.stages == ("new", "contacted", "customer", "won")
    assert conv.exits == ("lost",)
    rows = {r.channel: r for r in conv.rows}
    assert [r.channel for r in conv.rows] == ["qr_scan", "website", NONE]
    qr = rows["qr_scan"]  # r1 customer, r3 won, r5 new; the duplicate is not counted again
    assert (qr.created, qr.deleted, qr.other) == (3, 0, 0)
    assert dict(qr.pools) == {"new": 1, "contacted": 0, "customer": 1, "won": 1, "lost": 0}
    assert dict(qr.stages) == {"new": 3, "contacted": 2, "customer": 2, "won": 1}
    assert qr.share(qr.stages["won"]) == pytest.approx(1 / 3)
    assert dict(rows["website"].pools)["lost"] == 1 and rows["website"].stages["new"] == 0
    assert (rows[NONE].created, rows[NONE].deleted, rows[NONE].live) == (1, 1, 0)
    total = conv.total
    assert (total.created, total.deleted) == (5, 1)
    assert dict(total.pools) == {"new": 1, "contacted": 0, "customer": 1, "won": 1, "lost": 1}

    by_activity = {r.channel: r for r in report(svc, channel="activity").conversion.rows}
    assert by_activity["2026-expo"].stages == {"new": 2, "contacted": 2, "customer": 2, "won": 1}
    assert by_activity["2026-spring"].stages == {"new": 1, "contacted": 0, "customer": 0, "won": 0}


def test_a_record_that_moves_on_moves_in_the_report(svc: Services, made: dict[str, str]) -> None:
    svc.records.update(T, "lead", made["r5"], {"paid": True})  # the promotion wins it
    qr = next(r for r in report(svc).conversion.rows if r.channel == "qr_scan")
    assert dict(qr.stages) == {"new": 3, "contacted": 3, "customer": 3, "won": 2}


def test_other_tenants_are_not_counted(svc: Services, made: dict[str, str]) -> None:
    from engine.storage import tables as t

    with svc.store.write() as tx:  # a row of another tenant with the same form name
        tx.conn.execute(
            sa.insert(t.form_submissions).values(
                tenant_id="shop", form="signup", at=svc.clock.now(), outcome="created"
            )
        )
    assert report(svc).submissions.total().total == 8


def test_channel_values_as_text() -> None:
    assert fr.channel_value({"a": True}, "a") == "true"
    assert fr.channel_value({"a": ["x", "y"]}, "a") == "x, y"
    assert fr.channel_value({"a": 5}, "a") == "5"
    assert fr.channel_value({"a": ""}, "a") == NONE
    assert fr.channel_value(None, "a") == NONE
    assert fr.ordered({"b": 1, NONE: 9, "a": 1, "c": 3}) == ["c", "a", "b", NONE]


@pytest.mark.parametrize(
    "zone",
    ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"],
)
def test_days_in_any_zone_match_each_submission_read_alone(svc: Services, zone: str) -> None:
    """Submissions every 37 minutes over seven weeks that include daylight saving changes
    (New York on 1 November, Lord Howe by half an hour on 4 October): the days the
    database's buckets give are the days of each submission read alone in the zone."""
    from zoneinfo import ZoneInfo

    from engine.storage import tables as t

    tz = ZoneInfo(zone)
    first = datetime(2026, 9, 28, tzinfo=UTC)
    moments = [first + i * timedelta(minutes=37) for i in range(7 * 7 * 24 * 60 // 37)]
    rows = [
        {"tenant_id": "zones", "form": "f", "at": m, "outcome": "created", "channel": None}
        for m in moments
    ]
    with svc.store.write() as tx:
        tx.conn.execute(sa.insert(t.form_submissions), rows)
    within = fr.Period(date(2026, 9, 29), date(2026, 11, 14), tz)
    changes = zone in ("America/New_York", "Australia/Lord_Howe")
    assert fr._step(within)[0] == (fr.BUCKET if changes else fr.DAY)  # both ways are tested
    with svc.store.read() as tx:
        found = fr.submissions(tx, "zones", within, channel="source")
    expected: dict[date, int] = dict.fromkeys(within.days, 0)
    for m in moments:
        day = m.astimezone(tz).date()
        if day in expected:
            expected[day] += 1
    assert {d: c[NONE] for d, c in found.by_day().items()} == expected
    assert found.total().created == sum(expected.values())


def test_channel_values_beyond_the_busiest_are_counted_together(
    svc: Services, clock: FixedClock, tmp_path: Path
) -> None:
    svc.install_dirs([bundle(tmp_path)])
    at(clock, "2026-11-24T08:00:00")
    for i in range(fr.MAX_CHANNELS + 5):  # one activity per link: 25 values
        for n in range(2 if i < fr.MAX_CHANNELS else 1):  # the first 20 are the busiest
            data = {"name": f"{i}-{n}", "phone": f"1380000{i:02d}{n:02d}"}
            svc.forms.submit(T, "signup", data, {"act": f"act-{i:02d}"}, address=f"10.9.{i}.{n}")
    found = report(svc, channel="activity")
    by_channel = found.submissions.by_channel()
    assert len(by_channel) == fr.MAX_CHANNELS + 1
    assert by_channel[fr.OTHER].created == 5 and by_channel["act-00"].created == 2
    assert all(len(day) == fr.MAX_CHANNELS + 1 for day in found.submissions.by_day().values())
    rows = {r.channel: r for r in found.conversion.rows}
    assert list(rows)[-1] == fr.OTHER and len(rows) == fr.MAX_CHANNELS + 1
    assert (rows[fr.OTHER].created, rows[fr.OTHER].pools["new"]) == (5, 5)
    assert found.conversion.total.created == 45
