"""Data for bench/pools.py: chaotu-demo customers in their stored form, and the event mix.

Everything is generated from fixed seeds against a fixed NOW, so every run (and both databases
of a run) sees exactly the same records and operations.
"""

from __future__ import annotations

import atexit
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEMO_SOURCE = REPO / "configs" / "chaotu-demo"
# What this bench measures: pools, scores, grades, rollups. Campaigns (bench/campaigns.py) and
# the bundle's own tests would add work and sweep results of their own.
NOT_MEASURED = ("campaigns.yaml", "tests.yaml")
ENTITY = "customer"


def demo_copy(*without: str) -> Path:
    """chaotu-demo without campaigns and tests (and without `without` files), in a folder
    removed when the bench ends."""
    folder = Path(tempfile.mkdtemp(prefix="tidepool-pools-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    target = folder / "chaotu-demo"
    shutil.copytree(DEMO_SOURCE, target, ignore=shutil.ignore_patterns(*NOT_MEASURED, *without))
    return target


DEMO_DIR = demo_copy()
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
_NOW_EPOCH = int(NOW.timestamp())
_DAY = 86400
DUE_EVERY = 10  # customer i is due for recycle_unattended when i % DUE_EVERY == DUE_AT: 10%
DUE_AT = 7
USERS = ("alice", "bob", "dave", "erin")  # the demo's sales reps

_CITIES = ("上海", "北京", "杭州", "深圳", "成都", "苏州", "南京", "广州", "武汉", "西安")
_WORDS = ("华信", "恒达", "远航", "鼎盛", "新创", "博元", "瑞丰", "天成", "中科", "嘉禾")
_TRADES = ("科技", "贸易", "制造", "物流", "医疗", "教育", "软件", "食品")
_SOURCES = ("website_form", "qr_scan", "referral", "market_activity", "cold_call")
_NOT_REFERRAL = ("website_form", "qr_scan", "market_activity", "cold_call")
_REGIONS = ("east", "north", "south", "west")
_INDUSTRIES = (
    "manufacturing",
    "retail",
    "it",
    "education",
    "healthcare",
    "finance",
    "logistics",
    "other",
)
_KEY_INDUSTRIES = frozenset(("manufacturing", "finance", "healthcare"))
_TAGS = ((), (), (), ("重点",), ("展会", "华东"), ("老客户",), ("渠道",))
# Pools a not-due customer with an old follow-up sits in: the due condition holds for them,
# but recycle_unattended does not start there (so the sweep must skip them).
_OTHER_POOLS = ("public", "public", "won", "won", "lost", "invalid", "key_follow_up", "targeted")
_STREETS = ("人民路", "中山路", "解放路", "建设路", "长江路")


def instant(epoch: int) -> str:
    """A datetime as the engine stores it: UTC text to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# customers for the sweep ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    data: dict[str, Any]
    pool: str
    owner: str | None
    due: bool


def client_fields(i: int, rand: Callable[[], float], *, has_need: bool) -> dict[str, Any]:
    """The fields a client writes, stored form. `has_need` customers can never reach score 60
    (no referral, no WeChat), so high_score/hot_contact never fire for them."""
    data: dict[str, Any] = {
        "name": f"{_CITIES[i % 10]}{_WORDS[i // 10 % 10]}{_TRADES[i // 100 % 8]}有限公司",
        "phone": f"1{3 + i % 6}{i:09d}",
        "source": (_NOT_REFERRAL[int(rand() * 4)] if has_need else _SOURCES[int(rand() * 5)]),
        "region": _REGIONS[int(rand() * 4)],
        "industry": _INDUSTRIES[int(rand() * 8)],
        "company_size": 1 + int(rand() * 5000),
        "wechat_followed": False if has_need else rand() < 0.3,
    }
    if rand() < 0.5:
        data["email"] = f"contact{i}@example{i % 97}.com"
    if rand() < 0.6:
        data["address"] = f"{_CITIES[i % 10]}市{_STREETS[i % 5]}{1 + i % 999}号"
    if tags := _TAGS[int(rand() * len(_TAGS))]:
        data["tags"] = list(tags)
    if rand() < 0.2:
        data["note"] = "客户关注价格和交付周期，下次带上案例资料。"
    return data


def _score(data: dict[str, Any], ago: int | None) -> int:
    """chaotu-demo's lead_score by hand, `ago` the follow-up's age in seconds (checked against
    the engine by pools.check_customers)."""
    points = 30 if data.get("source") == "referral" else 0
    budget = data.get("budget")
    points += 30 if budget is not None and float(budget) >= 100000 else 0
    points += 20 if data.get("wechat_followed") else 0
    points += 10 if data.get("industry") in _KEY_INDUSTRIES else 0
    recent = ago is not None and ago // _DAY <= 7
    return points + (10 if recent else 0)


def _old_followup(rand: Callable[[], float]) -> int:
    """Seconds ago of a follow-up at least 31 days back (due if the pool is right); 2% sit
    exactly on the bound (days_since = 31)."""
    return 31 * _DAY if rand() < 0.02 else 31 * _DAY + int(rand() * 330 * _DAY)


def _recent_followup(rand: Callable[[], float]) -> int:
    """Seconds ago of a follow-up that is not due; 2% one second short of the bound."""
    return 31 * _DAY - 1 if rand() < 0.02 else int(rand() * 31 * _DAY - 1)


def make_customer(i: int, rand: Callable[[], float]) -> Customer:
    """Customer i, stored form. Exactly every DUE_EVERY-th one is due: in nurturing or
    has_need with no follow-up for 31 days or more. Of the rest, about half sit in those
    pools with a recent or no follow-up, the others in other pools (many with old follow-ups).
    No other promotion of chaotu-demo holds for any of them."""
    due = i % DUE_EVERY == DUE_AT
    kind = rand()
    if due:
        pool = "nurturing" if kind < 0.6 else "has_need"
        ago: int | None = _old_followup(rand)
    elif kind < 0.55:
        pool = "nurturing" if kind < 0.35 else "has_need"
        ago = None if rand() < 0.2 else _recent_followup(rand)
    else:
        pool = _OTHER_POOLS[int(rand() * len(_OTHER_POOLS))]
        ago = _old_followup(rand) if rand() < 0.7 else _recent_followup(rand)
    data = client_fields(i, rand, has_need=pool == "has_need")
    if pool == "nurturing":  # need_confirmed would fire from 10,000
        cents = int(rand() * 1_000_000) if rand() < 0.7 else None
    elif pool == "has_need":  # key_account would fire from 500,000 (in some industries)
        cents = 1_000_000 + int(rand() * 49_000_000)
    else:
        cents = int(rand() * 200_000_000)
    if cents is not None:
        data["budget"] = money(cents)
    if ago is not None:
        data["last_followup_at"] = instant(_NOW_EPOCH - ago)
    paid = 1 + int(rand() * 3) if pool == "won" else 0  # first_payment starts everywhere else
    data["paid_orders"] = paid
    data["total_paid"] = money(paid * 1_250_000)
    if paid:
        data["last_paid_at"] = instant(_NOW_EPOCH - 40 * _DAY)
    data["score"] = _score(data, ago)
    data["customer_grade"] = "repeat" if paid >= 2 else "signed" if paid == 1 else "potential"
    owner = None if pool == "public" or rand() < 0.15 else USERS[i % len(USERS)]
    return Customer(f"c{i:09d}", data, pool, owner, due)


LOAD_BATCH = 5_000


def customer_batch(start: int, count: int, seed: int = 41) -> list[Customer]:
    """Customers start … start+count-1: the same whatever else is generated."""
    rand = random.Random(seed * 1_000_003 + start).random
    return [make_customer(i, rand) for i in range(start, start + count)]


def customer_batches(total: int) -> Iterator[list[Customer]]:
    for start in range(0, total, LOAD_BATCH):
        yield customer_batch(start, min(LOAD_BATCH, total - start))


def dumps(data: dict[str, Any]) -> str:
    """JSON as make_engine's json_serializer writes it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# the event mix ----------------------------------------------------------------------------
# (kind, share). Most writes fire nothing; some promote; some roll up into their customer.
MIX: tuple[tuple[str, float], ...] = (
    ("note", 0.45),  # update a customer's note: fires nothing
    ("address", 0.15),  # update a customer's address: fires nothing
    ("create", 0.05),  # a new customer: initial pool, score and grade
    ("promote", 0.10),  # budget >= 10,000 on a nurturing customer: need_confirmed → has_need
    ("activity", 0.15),  # a follow-up: the customer's last_followup_at rollup, then its score
    ("order", 0.10),  # a paid order: paid_orders, total_paid, last_paid_at, grade, → won
)
KINDS = tuple(kind for kind, _ in MIX)


@dataclass(frozen=True, slots=True)
class Op:
    kind: str
    customer: int | None  # index of an existing (seeded) customer, or None for "create"
    payload: dict[str, Any]  # customer_id is filled in at run time (ids differ per database)


def base_customers(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """The customers every event run starts from, as a client sends them: all land in
    nurturing (budgets under 10,000, or none) and can never score 60."""
    rand = random.Random(seed).random
    out = []
    for i in range(count):
        data = client_fields(i, rand, has_need=True)
        if rand() < 0.7:
            data["budget"] = money(int(rand() * 999_999))
        out.append(data)
    return out


def make_ops(count: int, customers: int, first_new: int, seed: int = 9) -> list[Op]:
    """`count` operations drawn from MIX over `customers` seeded customers. Each customer is
    promoted at most once; new customers and orders get distinct phones and order numbers."""
    rand = random.Random(seed)
    unpromoted = list(range(customers))
    rand.shuffle(unpromoted)
    kinds, weights = zip(*MIX, strict=True)
    ops: list[Op] = []
    for n in range(count):
        kind = rand.choices(kinds, weights)[0]
        if kind == "promote" and not unpromoted:
            kind = "note"
        who = rand.randrange(customers)
        if kind == "note":
            ops.append(Op(kind, who, {"note": f"第{n}次沟通：客户希望下周看演示。"}))
        elif kind == "address":
            ops.append(Op(kind, who, {"address": f"上海市人民路{n % 999 + 1}号{n}室"}))
        elif kind == "create":
            i = first_new + n
            data = client_fields(i, rand.random, has_need=True)
            ops.append(Op(kind, None, data))
        elif kind == "promote":
            budget = money(1_000_000 + rand.randrange(8_000_000))
            ops.append(Op(kind, unpromoted.pop(), {"budget": budget}))
        elif kind == "activity":
            happened = instant(_NOW_EPOCH - rand.randrange(20 * _DAY))
            payload = {"kind": "call", "summary": f"电话沟通 {n}", "happened_at": happened}
            ops.append(Op(kind, who, payload))
        else:
            payload = {
                "order_no": f"SO-{20260000 + n // 10000:08d}-{n % 10000:04d}",
                "amount": money(100_000 + rand.randrange(10_000_000)),
                "status": "paid",
                "paid_at": instant(_NOW_EPOCH - rand.randrange(5 * _DAY)),
            }
            ops.append(Op(kind, who, payload))
    return ops
