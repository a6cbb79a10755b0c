"""The viewer's access policy (engine/service/policy.py) for the pages: which records they see,
which they may change, which figures they get. Every page builds it once per request."""

from __future__ import annotations

from admin_ui.session import Viewer
from engine.service import Services
from engine.service.policy import Policy
from engine.storage.store import Record

# Figures over every record of the tenant (the dashboard's, the assignment page's, campaign
# and form reports) need this; without it a viewer's figures count the records they see.
ALL_STATS = "see_all_stats"


def policy_of(svc: Services, who: Viewer) -> Policy:
    """The viewer's policy under the tenant's active config, with what they see masked
    (`.mask`). Forbidden (a 403 page) for a user switched off meanwhile."""
    return svc.records.policy_for(who.tenant, who.user.id)


def may(svc: Services, policy: Policy, record: Record, action: str) -> bool:
    """Whether the policy's caller may `see`, `edit` or `delete` the record (a record seen
    through its `visible_via` parent: that parent is read)."""
    with svc.store.read() as tx:
        parents = tx.parents_of(record.tenant)
        if action == "see":
            return policy.may_see(record, parents)
        if action == "edit":
            return policy.may_edit(record, parents)
        return policy.may_delete(record, parents)


def all_stats(policy: Policy) -> bool:
    """Whether the viewer's figures count every record (else those they see)."""
    return policy.may(ALL_STATS)
