"""The access policy: who sees, edits and deletes which record, on SQLite and PostgreSQL.

tests/fixtures/access: ann (rep, own) and amy (senior, team) report to bea (boss, subtree, can
assign), who reports to cal (boss); wes (rep) is in another team and reports to cal; nob has no
role; ada is an admin; old is marked inactive. The public pool is for the east team and bosses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.config.errors import BundleInvalid
from engine.config.loader import load_bundle_dir
from engine.errors import Forbidden, Invalid, NotFound
from engine.service import Services
from engine.service.listing import Search
from engine.service.policy import Policy, subtree_of, team_of
from tests.helpers import FIXTURES, START

T = "access"


@dataclass
class World:
    svc: Services
    ids: dict[str, str]  # name → record id


def _make(svc: Services, entity: str, data: dict[str, object]) -> str:
    return str(svc.records.create(T, entity, data).result["id"])


@pytest.fixture
def world(engine: sa.Engine) -> World:
    svc = Services.open(engine=engine, clock=FixedClock(START))
    svc.install_dirs([FIXTURES / "access"])
    ids = {}
    for owner in ("ann", "amy", "bea", "wes", "cal", "nob"):
        ids[f"c_{owner}"] = _make(svc, "customer", {"name": owner, "owner": owner})
    ids["c_unowned"] = _make(svc, "customer", {"name": "nobody's"})
    ids["c_public"] = _make(svc, "customer", {"name": "public", "owner": "wes"})
    svc.owners.release(T, "customer", ids["c_public"], None)
    ids["f_ann"] = _make(svc, "followup", {"customer_id": ids["c_ann"], "note": "x"})
    ids["f_wes_by_ann"] = _make(
        svc, "followup", {"customer_id": ids["c_wes"], "note": "y", "owner": "ann"}
    )
    ids["f_wes"] = _make(svc, "followup", {"customer_id": ids["c_wes"], "note": "z"})
    ids["d_wes"] = _make(svc, "deal", {"title": "big", "owner": "wes"})
    return World(svc, ids)


SEES = {
    "ann": {"c_ann", "c_public", "f_ann", "f_wes_by_ann"},
    "amy": {"c_ann", "c_amy", "c_bea", "c_public", "f_ann", "f_wes_by_ann"},
    "bea": {"c_ann", "c_amy", "c_bea", "c_public", "c_unowned", "f_ann", "f_wes_by_ann", "d_wes"},
    "wes": {"c_wes", "f_wes_by_ann", "f_wes", "d_wes"},
    "cal": {
        *("c_ann", "c_amy", "c_bea", "c_wes", "c_cal", "c_public", "c_unowned"),
        *("f_ann", "f_wes_by_ann", "f_wes", "d_wes"),
    },
    "nob": {"c_nob"},
}


def _listed(w: World, policy: Policy) -> set[str]:
    names = {v: k for k, v in w.ids.items()}
    found = set()
    for entity in ("customer", "followup", "deal"):
        page = w.svc.records.search(T, entity, Search([], limit=500), policy=policy)
        found |= {names[r.id] for r in page.records}
    return found


@pytest.mark.parametrize("user", sorted(SEES))
def test_lists_gets_and_the_policy_agree_on_who_sees_what(world: World, user: str) -> None:
    policy = world.svc.records.policy_for(T, user)
    assert _listed(world, policy) == SEES[user]
    for name, record_id in world.ids.items():
        entity = {"c": "customer", "f": "followup", "d": "deal"}[name[0]]
        if name in SEES[user]:
            assert world.svc.records.get(T, entity, record_id, policy).id == record_id
        else:
            with pytest.raises(NotFound):  # as if it did not exist
                world.svc.records.get(T, entity, record_id, policy)


def test_integration_keys_and_admins_see_everything(world: World) -> None:
    everything = set(world.ids)
    assert _listed(world, world.svc.records.policy_for(T, None)) == everything
    assert _listed(world, world.svc.records.policy_for(T, "ada")) == everything


def test_inactive_unknown_and_switched_off_users_are_refused(world: World) -> None:
    for user in ("old", "nosuch"):
        with pytest.raises(Forbidden) as caught:
            world.svc.records.policy_for(T, user)
        assert caught.value.errors[0].code == "user_off"
    world.svc.owners.set_active(T, "ann", False)
    with pytest.raises(Forbidden):
        world.svc.records.policy_for(T, "ann")


def test_editing_needs_the_edit_scope_and_says_which_roles_have_it(world: World) -> None:
    amy = world.svc.records.policy_for(T, "amy")  # sees her team's, edits her own
    with pytest.raises(Forbidden) as caught:
        world.svc.records.update(T, "customer", world.ids["c_ann"], {"name": "x"}, policy=amy)
    assert caught.value.errors[0].params["permission"] == "edit"
    assert caught.value.errors[0].params["roles"] == "admin"
    assert world.svc.records.get(T, "customer", world.ids["c_ann"]).data["name"] == "ann"
    mine = world.svc.records.update(T, "customer", world.ids["c_amy"], {"name": "A"}, policy=amy)
    assert mine.data["name"] == "A"
    bea = world.svc.records.policy_for(T, "bea")  # her subtree, and unowned ones (assign)
    world.svc.records.update(T, "customer", world.ids["c_ann"], {"name": "B"}, policy=bea)
    world.svc.records.update(T, "customer", world.ids["c_unowned"], {"name": "U"}, policy=bea)
    with pytest.raises(NotFound):  # wes is not under bea
        world.svc.records.update(T, "customer", world.ids["c_wes"], {"name": "x"}, policy=bea)
    with pytest.raises(Forbidden):  # the public pool: claimed, not edited
        world.svc.records.update(T, "customer", world.ids["c_public"], {"name": "x"}, policy=bea)


def test_moves_and_deletes_follow_their_scopes(world: World) -> None:
    amy, bea = (world.svc.records.policy_for(T, u) for u in ("amy", "bea"))
    with pytest.raises(Forbidden):
        world.svc.records.move(T, "customer", world.ids["c_ann"], "open", policy=amy)
    with pytest.raises(Forbidden):  # bea deletes her own only
        world.svc.records.delete(T, "customer", world.ids["c_ann"], policy=bea)
    world.svc.records.delete(T, "customer", world.ids["c_bea"], policy=bea)
    with pytest.raises(Forbidden):  # a rep deletes nothing, not even her own
        ann = world.svc.records.policy_for(T, "ann")
        world.svc.records.delete(T, "customer", world.ids["c_ann"], policy=ann)


def test_follow_ups_follow_their_customer_or_their_own_owner(world: World) -> None:
    ann = world.svc.records.policy_for(T, "ann")
    updated = world.svc.records.update(
        T, "followup", world.ids["f_ann"], {"note": "called"}, policy=ann
    )
    assert updated.data["note"] == "called"  # unowned, but on her customer
    history = world.svc.records.history(T, "followup", world.ids["f_ann"], policy=ann)
    assert [h["action"] for h in history] == ["create", "update"]
    with pytest.raises(NotFound):
        world.svc.records.history(T, "followup", world.ids["f_wes"], policy=ann)


def test_references_to_unseen_records_are_refused_as_missing(world: World) -> None:
    ann = world.svc.records.policy_for(T, "ann")
    with pytest.raises(Invalid) as caught:
        world.svc.records.create(
            T, "followup", {"customer_id": world.ids["c_wes"], "note": "sneaky"}, policy=ann
        )
    assert caught.value.errors[0].code == "reference"
    made = world.svc.records.create(
        T, "followup", {"customer_id": world.ids["c_ann"], "note": "ok"}, policy=ann
    )
    assert made.result["data"]["customer_id"] == world.ids["c_ann"]


def test_owners_change_by_hand_only_with_assign(world: World) -> None:
    ann, bea = (world.svc.records.policy_for(T, u) for u in ("ann", "bea"))
    with pytest.raises(Forbidden) as caught:
        world.svc.records.update(T, "customer", world.ids["c_ann"], {"owner": "wes"}, policy=ann)
    assert caught.value.errors[0].params["permission"] == "assign"
    with pytest.raises(Forbidden):  # nor create a record for someone else
        world.svc.records.create(T, "customer", {"name": "n", "owner": "wes"}, policy=ann)
    own = world.svc.records.create(T, "customer", {"name": "n", "owner": "ann"}, policy=ann)
    assert own.result["owner"] == "ann"
    batch = world.svc.records.create_many(
        T, "customer", [{"name": "a", "owner": "ann"}, {"name": "b", "owner": "wes"}], policy=ann
    )
    statuses = [r["status"] for r in batch.result["results"]]
    assert statuses == [201, 422]
    moved = world.svc.records.update(
        T, "customer", world.ids["c_ann"], {"owner": "amy"}, policy=bea
    )
    assert moved.owner == "amy"


def test_claims_are_for_the_pools_claimers(world: World) -> None:
    with pytest.raises(NotFound):  # wes (west, rep) does not even see the east's public pool
        world.svc.owners.claim(T, "customer", world.ids["c_public"], "wes", by="wes")
    claimed = world.svc.owners.claim(T, "customer", world.ids["c_public"], "ann", by="ann")
    assert claimed.owner == "ann"
    with pytest.raises(NotFound):  # ann does not see wes's record, so cannot release it
        world.svc.owners.release(T, "customer", world.ids["c_wes"], None, by="ann")
    with pytest.raises(Forbidden):  # amy sees ann's record (team) but it is not hers
        world.svc.owners.release(T, "customer", world.ids["c_public"], None, by="amy")
    with pytest.raises(Forbidden):  # hand assignment needs assign
        world.svc.owners.assign(T, "customer", world.ids["c_ann"], "amy", by="amy")
    assert world.svc.owners.assign(T, "customer", world.ids["c_ann"], "amy", by="bea").owner == (
        "amy"
    )


def test_switching_users_off_needs_manage_users(world: World) -> None:
    with pytest.raises(Forbidden) as caught:
        world.svc.owners.set_active(T, "wes", False, by="bea")
    assert caught.value.errors[0].params["permission"] == "manage_users"
    assert world.svc.owners.set_active(T, "wes", False, by="ada")["active"] is False


def test_a_duplicate_refusal_never_shows_a_masked_value(world: World) -> None:
    world.svc.records.create(T, "customer", {"name": "p", "phone": "13812345678", "owner": "wes"})
    ann = world.svc.records.policy_for(T, "ann")  # sees phones masked
    with pytest.raises(Exception) as caught:
        world.svc.records.create(
            T, "customer", {"name": "q", "phone": "13812345678", "owner": "ann"}, policy=ann
        )
    error = caught.value.errors[0]  # type: ignore[attr-defined]
    assert (error.code, error.params["value"]) == ("unique", "138****5678")
    assert "13812345678" not in error.message("en") and "13812345678" not in error.message("zh-CN")


def test_team_and_subtree_reach() -> None:
    tenant = load_bundle_dir(FIXTURES / "access").tenant
    assert team_of(tenant, "ann") == {"ann", "amy", "bea"}
    assert team_of(tenant, "cal") == {"cal"}  # no team: their own
    assert subtree_of(tenant, "bea") == {"bea", "ann", "amy"}
    assert subtree_of(tenant, "cal") == {"cal", "bea", "ann", "amy", "wes"}


def _broken(tmp_path: Path, **changes: tuple[str, str]) -> BundleInvalid:
    """The access bundle with `file_yaml=(old, new)` changes; its load must fail."""
    for name in ("tenant.yaml", "entities.yaml", "pools.yaml"):
        text = (FIXTURES / "access" / name).read_text(encoding="utf-8")
        old, new = changes.get(name.replace(".", "_"), ("", ""))
        assert old in text
        (tmp_path / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BundleInvalid) as caught:
        load_bundle_dir(tmp_path)
    return caught.value


def test_org_chart_mistakes_are_errors_at_their_line(tmp_path: Path) -> None:
    users = (
        "  - {id: ada,",
        "  - {id: x1, name: X1, manager: x2}\n"
        "  - {id: x2, name: X2, manager: x3}\n"
        "  - {id: x3, name: X3, manager: x1}\n"
        "  - {id: x4, name: X4, manager: ghost}\n"
        "  - {id: ada,",
    )
    errors = _broken(tmp_path, tenant_yaml=users).errors
    shown = sorted((e.line, e.message) for e in errors)
    assert shown == [
        (30, "the org chart has a cycle: x1 → x2 → x3 → x1"),
        (33, "unknown user 'ghost'"),
    ]
    assert all(e.file.endswith("tenant.yaml") for e in errors)


def test_scope_references_are_checked(tmp_path: Path) -> None:
    via = ("visible_via: customer_id", "visible_via: note")
    messages = {e.message for e in _broken(tmp_path, entities_yaml=via).errors}
    assert messages == {"'note' is not a reference"}
    role = ("deal: {see: all}", "deals: {see: all}")
    messages = {e.message for e in _broken(tmp_path, tenant_yaml=role).errors}
    assert messages == {"unknown entity 'deals'"}
    claimers = ("teams: [east]", "teams: [eest]")
    messages = {e.message for e in _broken(tmp_path, pools_yaml=claimers).errors}
    assert messages == {"unknown team 'eest'"}
