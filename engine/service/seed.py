"""Realistic demo records for any bundle, generated from its field definitions.

Nothing here knows a particular bundle: values come from each field's type, bounds and options,
with light hints from common field names (name, company, title, city…) so the demo reads well.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.conditions.stored import format_instant
from engine.config.model import Bundle, EntityDef, FieldDef
from engine.i18n import is_chinese
from engine.service.records import RecordService

ZH_CITIES = ["上海", "北京", "深圳", "杭州", "成都", "武汉", "南京", "苏州", "广州", "西安"]
ZH_WORDS = ["星辰", "华信", "博远", "同创", "恒通", "新锐", "云图", "瑞丰", "启明", "众合", "天成"]
ZH_KINDS = ["科技", "贸易", "制造", "教育", "医疗", "信息", "物流", "餐饮"]
ZH_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林")
ZH_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛"]
ZH_TITLES = ["总经理", "采购经理", "技术总监", "市场主管", "财务经理", "运营专员"]
EN_FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Sofia", "Mason"]
EN_LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Clark"]
EN_WORDS = ["Northwind", "Bluebird", "Summit", "Harbor", "Granite", "Lumen", "Vertex", "Cedar"]
EN_KINDS = ["Labs", "Systems", "Logistics", "Health", "Analytics", "Foods", "Energy", "Media"]
EN_TITLES = ["CEO", "VP Sales", "Head of IT", "Procurement Lead", "CFO", "Operations Manager"]
EN_CITIES = ["Boston", "Austin", "Denver", "Seattle", "Chicago", "London", "Berlin", "Toronto"]
TAGS = ["vip", "event-2026", "newsletter", "partner", "trial", "priority"]


class Faker:
    """Values for one field at a time; deterministic for a given seed."""

    def __init__(self, zh: bool, now: datetime, seed: int) -> None:
        self.zh = zh
        self.now = now
        self.rng = random.Random(seed)
        self.counter = 0

    def value(self, f: FieldDef, refs: Mapping[str, list[str]]) -> Any:
        self.counter += 1
        if f.type == "reference":
            pool = refs.get(f.ref_entity or "", [])
            return self.rng.choice(pool) if pool else None
        make: Callable[[FieldDef], Any] = getattr(self, f"_{f.type}")
        return make(f)

    def _person(self) -> str:
        if self.zh:
            return self.rng.choice(ZH_SURNAMES) + self.rng.choice(ZH_GIVEN) * self.rng.randint(1, 2)
        return f"{self.rng.choice(EN_FIRST)} {self.rng.choice(EN_LAST)}"

    def _company(self) -> str:
        if self.zh:
            return (
                self.rng.choice(ZH_CITIES)
                + self.rng.choice(ZH_WORDS)
                + self.rng.choice(ZH_KINDS)
                + "有限公司"
            )
        return f"{self.rng.choice(EN_WORDS)} {self.rng.choice(EN_KINDS)}"

    def _string(self, f: FieldDef) -> str:
        name = f.name
        text = self._named(name)
        if f.unique:
            text = f"{text} {self.counter}"
        text = text[: f.max_length or 255]
        if f.pattern and not re.fullmatch(f.pattern, text):
            text = sample_regex(f.pattern, self.rng)
        return text

    def _named(self, name: str) -> str:
        if re.search(r"first", name):
            return self.rng.choice(EN_FIRST) if not self.zh else self.rng.choice(ZH_GIVEN)
        if re.search(r"last|surname", name):
            return self.rng.choice(EN_LAST) if not self.zh else self.rng.choice(ZH_SURNAMES)
        if re.search(r"company|account|customer|org", name) or name == "name":
            return self._company()
        if re.search(r"contact|person|_name$", name):
            return self._person()
        if "title" in name:
            return self.rng.choice(ZH_TITLES if self.zh else EN_TITLES)
        if "city" in name:
            return self.rng.choice(ZH_CITIES if self.zh else EN_CITIES)
        if re.search(r"_no$|number|code", name):
            return f"{name[:2].upper()}-{self.now.year}-{self.counter:06d}"
        return self._words(3)

    def _words(self, n: int) -> str:
        words = ZH_WORDS + ZH_KINDS if self.zh else EN_WORDS + EN_KINDS
        return ("" if self.zh else " ").join(self.rng.choice(words) for _ in range(n))

    def _text(self, f: FieldDef) -> str:
        return ("，" if self.zh else ", ").join(self._words(3) for _ in range(3))

    def _integer(self, f: FieldDef) -> int:
        low = int(f.min) if isinstance(f.min, Decimal) else 0
        high = int(f.max) if isinstance(f.max, Decimal) else max(low + 1, 500)
        return self.rng.randint(low, high)

    def _decimal(self, f: FieldDef) -> str:
        low = float(f.min) if isinstance(f.min, Decimal) else 0.0
        high = float(f.max) if isinstance(f.max, Decimal) else max(low + 1.0, 1_000_000.0)
        value = low + (high - low) * self.rng.random() ** 3  # most deals are small
        return f"{value:.{f.scale if f.scale is not None else 2}f}"

    _money = _decimal

    def _boolean(self, f: FieldDef) -> bool:
        return self.rng.random() < 0.5

    def _date(self, f: FieldDef) -> str:
        return (self.now + timedelta(days=self.rng.randint(-365, 120))).date().isoformat()

    def _datetime(self, f: FieldDef) -> str:
        return format_instant(self.now - timedelta(minutes=self.rng.randint(0, 180 * 24 * 60)))

    def _enum(self, f: FieldDef) -> str:
        return self.rng.choice(f.option_values)

    def _multi_enum(self, f: FieldDef) -> list[str]:
        return self.rng.sample(list(f.option_values), k=min(len(f.options), self.rng.randint(1, 2)))

    def _tags(self, f: FieldDef) -> list[str]:
        return self.rng.sample(TAGS, k=self.rng.randint(0, 2))

    def _phone(self, f: FieldDef) -> str:
        if self.zh:
            return f"1{self.rng.choice('3456789')}{self.rng.randint(0, 999_999_999):09d}"
        return f"+1 555 {self.rng.randint(0, 9_999_999):07d}"

    def _email(self, f: FieldDef) -> str:
        return f"user{self.counter}.{self.rng.randint(1000, 9999)}@example." + (
            "cn" if self.zh else "com"
        )

    def _url(self, f: FieldDef) -> str:
        return f"https://www.example{self.counter}.{'cn' if self.zh else 'com'}"


def sample_regex(pattern: str, rng: random.Random) -> str:
    """A string matching a (simple) regular expression, for fields with a pattern."""
    from re import _parser as parser  # type: ignore[attr-defined]

    return _emit(parser.parse(pattern), rng, parser)


def _emit(items: Any, rng: random.Random, p: Any) -> str:
    out = []
    for op, arg in items:
        if op is p.LITERAL:
            out.append(chr(arg))
        elif op is p.IN:
            out.append(_pick_in(arg, rng, p))
        elif op is p.ANY:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif op in (p.MAX_REPEAT, p.MIN_REPEAT):
            low, high, sub = arg
            count = rng.randint(low, min(high, low + 4) if high != p.MAXREPEAT else low + 4)
            out.extend(_emit(sub, rng, p) for _ in range(count))
        elif op is p.SUBPATTERN:
            out.append(_emit(arg[-1], rng, p))
        elif op is p.BRANCH:
            out.append(_emit(rng.choice(arg[1]), rng, p))
    return "".join(out)


def _pick_in(arg: Any, rng: random.Random, p: Any) -> str:
    choices: list[str] = []
    for op, value in arg:
        if op is p.LITERAL:
            choices.append(chr(value))
        elif op is p.RANGE:
            choices.extend(chr(c) for c in range(value[0], min(value[1], value[0] + 60) + 1))
        elif op is p.CATEGORY:
            choices.extend("0123456789" if "DIGIT" in str(value) else "abcxyz")
    return rng.choice(choices or ["x"])


def entity_order(bundle: Bundle) -> list[EntityDef]:
    """Entities ordered so referenced ones come first (cycles broken arbitrarily)."""
    done: list[EntityDef] = []
    pending = dict(bundle.entities)
    while pending:
        ready = [
            e
            for e in pending.values()
            if all(f.ref_entity not in pending or f.ref_entity == e.name for f in e.fields.values())
        ]
        pick = ready or [next(iter(pending.values()))]
        for entity in pick:
            done.append(entity)
            pending.pop(entity.name)
    return done


def seed(
    records: RecordService, bundle: Bundle, count: int, now: datetime, seed_value: int = 7
) -> dict[str, int]:
    """Create about `count` records per entity through the service; returns stored counts."""
    faker = Faker(is_chinese(bundle.tenant.locale), now, seed_value)
    refs: dict[str, list[str]] = {}
    stored: dict[str, int] = {}
    for entity in entity_order(bundle):
        computed = bundle.computed(entity.name)
        items = [_fake_record(faker, entity, refs, computed) for _ in range(count)]
        _give_owners(faker, bundle, entity.name, items)
        result = records.create_many(bundle.id, entity.name, items, actor="seed").result
        ids = [r["record"]["id"] for r in result["results"] if r["status"] == 201]
        refs[entity.name] = ids
        stored[entity.name] = len(ids)
    return stored


def _give_owners(faker: Faker, bundle: Bundle, entity: str, items: list[dict[str, Any]]) -> None:
    """Most records of an entity with a public pool get an owner (an active user)."""
    pool_set = bundle.pool_set_of(entity)
    users = [u.id for u in bundle.tenant.users.values() if u.active]
    if pool_set is None or pool_set.public is None or not users:
        return
    for item in items:
        if faker.rng.random() < 0.7:
            item["owner"] = faker.rng.choice(users)


def _fake_record(
    faker: Faker, entity: EntityDef, refs: Mapping[str, list[str]], computed: frozenset[str]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in entity.fields.values():
        if f.name in computed or (not f.required and faker.rng.random() < 0.2):
            continue
        value = faker.value(f, refs)
        if value is not None:
            data[f.name] = value
    return data
