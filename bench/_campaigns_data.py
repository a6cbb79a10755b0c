"""The campaigns bench's data (bench/campaigns.py): its 100 campaigns, its customers and the
stream of writes.

bench/campaigns_bundle holds the tenant, the customer entity and its pools; campaigns.yaml is
generated here (`campaigns_yaml`) into a copy of it, from a fixed seed, so every run measures
the same campaigns. Customers and writes are generated from fixed seeds against a fixed NOW and
passed once through the engine's validator (stored form), so both paths — campaigns on, and the
same bundle without campaigns.yaml — get exactly the same writes.

Run alone, `python bench/_campaigns_data.py [--writes N]` prints the campaigns by trigger, how
many writes of each kind a stream of N has, and as its last line one JSON object of those.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from engine.config.loader import load_bundle_dir
from engine.rules.compiled import CompiledConfig

BUNDLE_DIR = Path(__file__).resolve().parent / "campaigns_bundle"
TENANT = "bench-campaigns"
ENTITY = "customer"
ACTOR = "bench"
# A fixed clock, in working hours: no quiet hours defer anything, no daily cap rolls over.
NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
REPS = ("alice", "bruno", "chen", "dara", "emil", "fay")
CAMPAIGNS = 100
# The webhook campaign bench/campaigns.py fires on purpose to make jobs for the worker.
SIGNUP_HOOK = "partner_signup_hook"
SIGNUP_PATH = "/hooks/partner-signup"

_FIRST = ("Ana", "Ben", "Cleo", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jade", "Kofi")
_LAST = ("Novak", "Okoye", "Petrov", "Quinn", "Reyes", "Sato", "Tran", "Ulloa", "Voss", "Weber")
_WORDS = ("North", "Blue", "Iron", "Bright", "Cedar", "Delta", "Harbor", "Summit", "Pixel", "Atlas")
_KINDS = ("Labs", "Systems", "Foods", "Logistics", "Health", "Capital", "Works", "Media")
_SOURCES = (("website", 35), ("referral", 15), ("event", 15), ("paid_ads", 20), ("cold_call", 10))
_REGIONS = ("east", "north", "south", "west")
_INDUSTRIES = (
    "software",
    "retail",
    "manufacturing",
    "finance",
    "healthcare",
    "education",
    "logistics",
)
_TAGS = ("newsletter", "webinar", "trial", "eu", "priority", "upsell", "renewal")
_NOTES = (
    "Asked for a demo next week.",
    "Budget approved for Q2, waiting for legal.",
    "Prefers email over calls; follow up after the conference.",
    "Compared us with two other vendors, price is the main concern.",
    "Champion left the company, need a new contact.",
    "Interested in the reporting module and the API.",
)


# campaigns.yaml ------------------------------------------------------------------------------
SEGMENTS: dict[str, str] = {
    "big_budget": "budget >= 400000",
    "enterprise": "employees >= 5000 and status in ['qualified', 'won']",
    "gone_cold": "days_since(last_contact_at) > 180 and status in ['new', 'contacted']",
    "vip_tagged": "'vip' in tags",
    "partner_pipeline": "source == 'partner' and status == 'qualified'",
}


def _notify(title: str, to: Any = "owner") -> dict[str, Any]:
    return {"notify": {"to": to, "title": title}}


def _tag(*tags: str) -> dict[str, Any]:
    return {"set": {"tags": {"add": list(tags)}}}


def _hook(url: str, path: str, **body: str) -> dict[str, Any]:
    fields = body or {"customer": "{{ record.id }}", "name": "{{ record.name }}"}
    return {"webhook": {"url": url + path, "body": fields}}


MANAGER = {"role": "manager"}


def firing_campaigns(url: str) -> list[dict[str, Any]]:
    """The campaigns that do fire in the stream (a small share of its writes), and a few
    that fire only off the write path (relative plans, schedules). `url`: the receiver."""
    hook_body = {
        "customer": "{{ record.id }}",
        "name": "{{ record.name }}",
        "company": "{{ record.company }}",
        "employees": "{{ record.employees }}",
    }
    return [
        {
            "id": SIGNUP_HOOK,
            "entity": ENTITY,
            "trigger": {"created": True},
            "when": "source == 'partner' and employees >= 1000",
            "actions": [
                {"webhook": {"url": url + SIGNUP_PATH, "body": hook_body}},
                _notify("New partner sign-up: {{ record.company }}"),
            ],
            "limits": {"once_per_record": True},
        },
        {
            "id": "won_alert",
            "entity": ENTITY,
            "trigger": {"field_changed": {"field": "status", "to": "won"}},
            "when": "budget >= 20000",
            "actions": [
                _notify("{{ record.company }} won ({{ record.budget | money('USD') }})", MANAGER),
                _hook(url, "/hooks/won"),
            ],
        },
        {
            "id": "lost_big_deal",
            "entity": ENTITY,
            "trigger": {"field_changed": {"field": "status", "to": "lost"}},
            "when": "budget >= 100000",
            "split": {"A": 45, "B": 45, "holdout": 10},
            "actions": [
                _notify("Lost {{ record.company }}: ask why"),
                {**_hook(url, "/hooks/winback-a"), "variant": "A"},
                {**_hook(url, "/hooks/winback-b"), "variant": "B"},
            ],
        },
        {
            "id": "key_account_entered",
            "entity": ENTITY,
            "trigger": {"pool_entered": "key"},
            "actions": [_notify("Key account: {{ record.company }}"), _tag("key-account")],
            "goal": {"when": "status == 'won'", "within": "30d"},
        },
        {
            "id": "vip_flagged",
            "entity": ENTITY,
            "trigger": {"field_changed": {"field": "vip", "to": True}},
            "actions": [_tag("vip"), _notify("{{ record.name }} is now VIP")],
        },
        {
            "id": "vip_segment_hook",
            "trigger": {"segment_enter": "vip_tagged"},
            "actions": [_hook(url, "/hooks/vip")],
            "limits": {"once_per_record": True},
        },
        {
            "id": "enterprise_entered",
            "trigger": {"segment_enter": "enterprise"},
            "actions": [
                _notify("Enterprise account: {{ record.company }}", MANAGER),
                _hook(url, "/hooks/enterprise"),
            ],
            "goal": {"when": "status == 'won'", "within": "60d"},
        },
        {
            "id": "big_budget_entered",
            "trigger": {"segment_enter": "big_budget"},
            "actions": [_notify("Budget over 400k: {{ record.company }}")],
            "limits": {"max_per_day": 500},
        },
        {
            "id": "back_from_cold",
            "trigger": {"segment_leave": "gone_cold"},
            "when": "budget >= 100000",
            "actions": [_tag("re-engaged")],
            "limits": {"cooldown": "7d"},
        },
        {
            "id": "qualified_east_north",
            "entity": ENTITY,
            "trigger": {
                "field_changed": {"field": "status", "from": "contacted", "to": "qualified"}
            },
            "when": "budget >= 50000 and region in ['east', 'north']",
            "actions": [_notify("Qualified: {{ record.company }}, call within a day")],
            "steps": [
                {
                    "wait": "3d",
                    "when": "status == 'qualified'",
                    "actions": [_notify("{{ record.company }} still qualified, not won")],
                }
            ],
        },
        {
            "id": "referral_welcome",
            "entity": ENTITY,
            "trigger": {"created": True},
            "when": "source == 'referral' and region == 'east' and budget >= 50000",
            "actions": [_notify("Referral from the east: {{ record.name }}")],
            "limits": {"once_per_record": True},
        },
        {
            "id": "big_win_hook",
            "entity": ENTITY,
            "trigger": {"pool_entered": "won"},
            "when": "budget >= 250000",
            "actions": [_hook(url, "/hooks/big-win")],
        },
        {
            "id": "partner_pipeline_entered",
            "trigger": {"segment_enter": "partner_pipeline"},
            "actions": [_notify("Partner deal qualified: {{ record.company }}", MANAGER)],
        },
        {
            "id": "renewal_reminder",
            "entity": ENTITY,
            "trigger": {"relative": {"field": "contract_end", "before": "30d"}},
            "actions": [_notify("{{ record.company }} renews on {{ record.contract_end | date }}")],
        },
        {
            "id": "contract_lapsed",
            "entity": ENTITY,
            "trigger": {"relative": {"field": "contract_end", "after": "1d"}},
            "when": "status == 'won'",
            "actions": [_hook(url, "/hooks/lapsed")],
        },
        {
            "id": "monday_pipeline",
            "entity": ENTITY,
            "trigger": {"schedule": "0 9 * * mon"},
            "when": "status == 'qualified' and days_since(last_contact_at) > 14",
            "actions": [_notify("No contact for two weeks: {{ record.company }}")],
        },
        {
            "id": "month_start_big_budgets",
            "entity": ENTITY,
            "trigger": {"schedule": "0 8 1 * *"},
            "when": "budget >= 500000 and status != 'won'",
            "actions": [_notify("Open big budget: {{ record.company }}", MANAGER)],
        },
    ]


_RARE_TAGS = ("trade-show-2019", "churn-risk-high", "gdpr-hold", "beta-program", "legacy-plan")
_TLDS = ("museum", "aero", "coop", "travel", "jobs")


def _rare_when(rng: random.Random, kind: str) -> str:
    """A condition that (almost) never holds for the bench's customers; some read the old
    values, as update campaigns do."""
    r, i = rng.choice(_REGIONS), rng.choice(_INDUSTRIES)
    s = rng.choice([s for s, _ in _SOURCES])
    budget = rng.randrange(600, 990) * 1000
    forms = [
        f"budget >= {budget} and region == '{r}' and industry == '{i}'",
        f"employees >= {rng.randrange(50, 400) * 1000} and source == '{s}'",
        f"email ends_with '@{rng.choice(_WORDS).lower()}{rng.randrange(100, 999)}.example'",
        f"company starts_with '{rng.choice('QXZ')}{rng.choice('aeiou')}{rng.choice('qxz')}'",
        f"'{rng.choice(_RARE_TAGS)}' in tags and status == 'qualified'",
        f"days_since(last_contact_at) > {rng.randrange(450, 900)} and budget >= {budget}",
        f"len(note) > {rng.randrange(5, 9) * 1000}",
        f"phone matches '^\\+{rng.randrange(970, 999)}[0-9]{{8}}$'",
        f"score >= {rng.randrange(96, 100)} and vip and region == '{r}'",
        f"budget between {budget} and {budget + 500} and employees between 10 and 20",
        f"lower(name) contains '{rng.choice(('xylo', 'qwer', 'zzyz', 'vrbl'))}'",
        f"contract_end < today() - {rng.randrange(400, 800)}d and status == 'won'",
        f"coalesce(employees, 0) >= {rng.randrange(200, 900) * 1000} and industry == '{i}'",
        f"website ends_with '.{rng.choice(_TLDS)}' and budget >= 10000",
    ]
    if kind in ("updated", "field_changed"):
        forms += [
            f"changed(budget) and budget >= old(budget) * {rng.randrange(200, 500)}",
            f"changed(region) and old(region) == '{r}' and budget >= {budget}",
            "changed(status) and old(status) == 'won' and status == 'new' and vip",
        ]
    return rng.choice(forms)


def _rare_trigger(rng: random.Random, n: int) -> dict[str, Any]:
    roll = n % 10
    if roll < 3:
        return {"created": True}
    if roll < 6:
        return {"updated": True}
    field = rng.choice(("note", "budget", "status", "region", "tags", "last_contact_at", "source"))
    return {"field_changed": {"field": field}}


def rare_campaigns(url: str, count: int, seed: int = 6) -> list[dict[str, Any]]:
    """`count` campaigns of the usual triggers whose `when` rarely holds: what a tenant's
    long tail of campaigns looks like, and what makes matching, not actions, the cost."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        trigger = _rare_trigger(rng, n)
        kind = next(iter(trigger))
        action = n % 3
        actions = (
            [_notify(f"Rule {n}: look at {{{{ record.company }}}}")]
            if action == 0
            else [_tag(f"rule-{n}")]
            if action == 1
            else [_hook(url, f"/hooks/rule-{n}")]
        )
        campaign: dict[str, Any] = {
            "id": f"rule_{n:03d}",
            "entity": ENTITY,
            "trigger": trigger,
            "when": _rare_when(rng, kind),
            "actions": actions,
        }
        if n % 7 == 0:
            campaign["limits"] = {"once_per_record": True}
        elif n % 11 == 0:
            campaign["limits"] = {"cooldown": "1d", "max_per_day": 50}
        if n % 17 == 0:
            campaign["goal"] = {"when": "status == 'won'", "within": "14d"}
        out.append(campaign)
    return out


def campaigns_doc(url: str) -> dict[str, Any]:
    fixed = firing_campaigns(url)
    segments = {
        name: {"entity": ENTITY, "label": {"en": name.replace("_", " ")}, "when": when}
        for name, when in SEGMENTS.items()
    }
    return {"segments": segments, "campaigns": fixed + rare_campaigns(url, CAMPAIGNS - len(fixed))}


def write_bundles(folder: Path, url: str) -> tuple[Path, Path]:
    """The bench bundle with the generated campaigns.yaml, and the same without it."""
    with_campaigns, plain = folder / "campaigns-on", folder / "campaigns-off"
    for target in (with_campaigns, plain):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(BUNDLE_DIR, target)
    header = (
        "# yaml-language-server: $schema=../../schemas/campaigns.schema.json\n"
        "# Generated by bench/_campaigns_data.py: 100 campaigns, most of which rarely fire.\n"
    )
    text = yaml.safe_dump(campaigns_doc(url), sort_keys=False, allow_unicode=True, width=100)
    (with_campaigns / "campaigns.yaml").write_text(header + text, encoding="utf-8")
    return with_campaigns, plain


# customers and writes ------------------------------------------------------------------------
def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(rng: random.Random) -> str:
    cents = int(10 ** rng.uniform(5, 7.75))  # $1,000 … $562,000: 1.8% from $500,000 up
    return f"{cents // 100}.{cents % 100:02d}"


def _source(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for name, share in _SOURCES:
        if roll < share:
            return name
        roll -= share
    return "partner"  # the last 5%


def customer(number: int, rng: random.Random, **overrides: Any) -> dict[str, Any]:
    """One customer as a client sends it (raw; the validator makes it stored form)."""
    word, kind = rng.choice(_WORDS), rng.choice(_KINDS)
    domain = f"{word}{kind}{number}".lower()
    data: dict[str, Any] = {
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "company": f"{word} {kind}",
        "email": f"contact{number}@{domain}.example",
        "phone": f"+1{rng.randrange(200, 999)}{rng.randrange(1000000, 9999999)}",
        "source": _source(rng),
        "region": rng.choice(_REGIONS),
        "industry": rng.choice(_INDUSTRIES),
        "employees": max(1, int(10 ** rng.uniform(0.5, 4.2))),
        "score": rng.randrange(0, 91),
        "tags": rng.sample(_TAGS, rng.randrange(0, 3)),
        "last_contact_at": _instant(NOW - timedelta(days=rng.uniform(0, 400))),
        "website": f"https://www.{domain}.example",
        "note": rng.choice(_NOTES),
        "owner": REPS[number % len(REPS)],
    }
    if rng.random() < 0.7:
        data["budget"] = _money(rng)
    if rng.random() < 0.3:
        data["contract_end"] = (NOW + timedelta(days=rng.randrange(-200, 400))).date().isoformat()
    if rng.random() < 0.02:
        data["vip"] = True
    data.update(overrides)
    return data


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # one of KINDS
    customer: int | None  # index of a seeded customer; None for a create
    payload: dict[str, Any]  # create: the customer; update: the patch


# share of the stream (percent), per kind of write
MIX: dict[str, int] = {
    "create": 15,
    "note": 28,
    "contact": 14,
    "status": 12,
    "budget": 9,
    "tags": 8,
    "employees": 5,
    "email": 3,
    "contract_end": 3,
    "vip": 3,
}
KINDS = tuple(MIX)
_NEXT_STATUS = {"new": ("contacted",), "contacted": ("qualified", "lost"), "qualified": ("won",)}
NEW_FROM = 1_000_000  # customer numbers of the stream's creates


class Stream:
    """Seeded customers and the writes made on them, tracking each one's status so status
    writes follow the pipeline (new → contacted → qualified → won, or lost)."""

    def __init__(self, seed: int = 42) -> None:
        self.rng = random.Random(seed)
        self.status: list[str] = []
        self.created = 0
        self.emails = 0

    def base(self, count: int) -> list[dict[str, Any]]:
        statuses = ("new",) * 4 + ("contacted",) * 3 + ("qualified",) * 2 + ("won", "lost")
        out = []
        for number in range(count):
            status = self.rng.choice(statuses)
            self.status.append(status)
            out.append(customer(number, self.rng, status=status))
        return out

    def ops(self, count: int) -> list[Op]:
        kinds, weights = list(MIX), list(MIX.values())
        return [self._op(self.rng.choices(kinds, weights)[0]) for _ in range(count)]

    def _op(self, kind: str) -> Op:
        rng = self.rng
        if kind == "create":
            self.created += 1
            return Op(kind, None, customer(NEW_FROM + self.created, rng))
        index = rng.randrange(len(self.status))
        if kind == "status":
            nexts = _NEXT_STATUS.get(self.status[index])
            if nexts is None:  # won or lost: nothing to move, write a note instead
                kind = "note"
            else:
                status = nexts[0] if len(nexts) == 1 or rng.random() < 0.7 else nexts[1]
                if status == "won" and rng.random() < 0.25:
                    status = "lost"
                self.status[index] = status
                return Op(kind, index, {"status": status})
        patch: dict[str, Any]
        if kind == "note":
            patch = {"note": f"{rng.choice(_NOTES)} ({rng.randrange(1, 10**6)})"}
        elif kind == "contact":
            patch = {"last_contact_at": _instant(NOW - timedelta(hours=rng.uniform(1, 720)))}
        elif kind == "budget":
            patch = {"budget": _money(rng)}
        elif kind == "tags":
            patch = {"tags": rng.sample(_TAGS, rng.randrange(1, 4))}
        elif kind == "employees":
            patch = {"employees": max(1, int(10 ** rng.uniform(0.5, 4.2)))}
        elif kind == "email":
            self.emails += 1
            patch = {"email": f"moved{self.emails}.{index}@mail{index}.example"}
        elif kind == "contract_end":
            days = rng.randrange(20, 500)
            patch = {"contract_end": (NOW + timedelta(days=days)).date().isoformat()}
        else:  # vip
            patch = {"vip": rng.random() < 0.5}
        return Op(kind, index, patch)


def signup_customers(count: int, start: int, seed: int = 7) -> list[dict[str, Any]]:
    """Customers that fire SIGNUP_HOOK (partners of 1,000+ employees): one webhook job each."""
    rng = random.Random(seed + start)
    return [
        customer(
            start + k, rng, source="partner", employees=rng.randrange(1000, 5000), status="new"
        )
        for k in range(count)
    ]


def stored(values: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each payload through the engine's validator once, untimed: the stored form (the owner
    is kept apart from the values, as the record service takes it)."""
    bundle = load_bundle_dir(BUNDLE_DIR)
    validator = CompiledConfig.compile(bundle, 1).validator(ENTITY)
    out = []
    for raw in values:
        owner = raw.get("owner")
        data, errors = validator.for_create({k: v for k, v in raw.items() if k != "owner"})
        if errors:
            raise ValueError(f"the bench customer {raw} is invalid: {errors}")
        out.append({**data, "owner": owner} if owner else data)
    return out


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    campaigns = doc["campaigns"]
    triggers = Counter(next(iter(c["trigger"])) for c in campaigns)
    actions = Counter(next(k for k in a if k != "variant") for c in campaigns for a in c["actions"])
    return {
        "campaigns": len(campaigns),
        "segments": len(doc["segments"]),
        "by_trigger": dict(sorted(triggers.items())),
        "actions": dict(sorted(actions.items())),
        "with_when": sum(1 for c in campaigns if "when" in c),
        "with_goal": sum(1 for c in campaigns if "goal" in c),
        "with_limits": sum(1 for c in campaigns if "limits" in c),
        "with_split": sum(1 for c in campaigns if "split" in c),
        "with_steps": sum(1 for c in campaigns if "steps" in c),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="the campaigns bench's generated data")
    parser.add_argument("--writes", type=int, default=3000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        on, _ = write_bundles(Path(tmp), "http://127.0.0.1:9")
        bundle = load_bundle_dir(on)  # raises if a generated campaign is invalid
        doc = yaml.safe_load((on / "campaigns.yaml").read_text(encoding="utf-8"))
    stream = Stream()
    stream.base(500)
    ops = stream.ops(args.writes)
    figures = {**summary(doc), "loaded": len(bundle.campaigns)}
    figures["writes"] = dict(Counter(op.kind for op in ops))
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
