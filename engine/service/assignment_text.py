"""An assignment decision as people read it, in Chinese or English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.conditions.trace import trace_from_dict
from engine.i18n import text


def render_assignment(explanation: Mapping[str, Any], locale: str) -> str:
    """The decision's lines (a strategy or a reason the catalogue does not know shows its
    name)."""
    sep = text("list.sep", locale)
    passed = explanation.get("passed", ())
    lines = [text("assignment.passed", locale, rule=p["rule"]) for p in passed]
    if explanation.get("rule") is None:
        return "\n".join([*lines, text("assignment.none", locale, queue=explanation.get("queue"))])
    name = explanation.get("strategy", "")
    strategy = text(f"assignment.strategy.{name}", locale, message=name)
    lines.append(text("assignment.rule", locale, rule=explanation["rule"], strategy=strategy))
    if explanation.get("group"):
        lines.append(text("assignment.group", locale, group=explanation["group"]))
    sticky = explanation.get("sticky")
    if sticky:
        record = sticky["record"]
        lines.append(text("assignment.sticky", locale, field=sticky["field"], record=record))
    elif explanation.get("considered"):
        users = sep.join(explanation["considered"])
        lines.append(text("assignment.considered", locale, users=users))
    skipped = [
        text("assignment.skip", locale, user=s["user"], reason=_reason(s["reason"], locale))
        for s in explanation.get("skipped", ())
    ]
    if skipped:
        lines.append(text("assignment.skipped", locale, items=sep.join(skipped)))
    if explanation.get("because"):
        lines.append(text("assignment.because", locale))
        trace = trace_from_dict(explanation["because"]).render(locale)
        lines += ["  " + line for line in trace.splitlines()]
    if explanation.get("owner"):
        lines.append(text("assignment.owner", locale, owner=explanation["owner"]))
    else:
        lines.append(text("assignment.queue", locale, queue=explanation.get("queue")))
    return "\n".join(lines)


def _reason(reason: str, locale: str) -> str:
    return text(f"assignment.reason.{reason}", locale, message=reason)
