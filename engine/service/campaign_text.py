"""A campaign decision as people read it, in Chinese or English: what triggered it, the
condition's trace, the variant, a limit that said no, an action that failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.conditions.trace import trace_from_dict
from engine.i18n import text
from engine.templating import error_text

CAMPAIGN_KINDS = frozenset(
    {"campaign", "campaign_limited", "campaign_error", "campaign_step", "campaign_step_skipped"}
)


def render_campaign(
    kind: str, rule: str, after: Mapping[str, Any], trace: Mapping[str, Any] | None, locale: str
) -> str:
    trace = trace or {}
    limit = str(after.get("limit"))
    values = {
        "campaign": rule.removeprefix("campaign."),
        "trigger": _trigger(trace.get("trigger") or {}, locale),
        "limit": text(f"campaign.limit.{limit}", locale, message=limit),
        "action": trace.get("kind", ""),
        "error": _error(trace, locale),
        "step": after.get("step", trace.get("step", 0)),
    }
    lines = [text(f"campaign.decision.{kind}", locale, **values)]
    if after.get("variant"):
        lines.append(text("campaign.variant", locale, variant=after["variant"]))
    if after.get("deferred_until"):
        lines.append(text("campaign.deferred", locale, until=after["deferred_until"]))
    if isinstance(trace.get("when"), dict):
        lines.append(text("campaign.when", locale))
        lines += [
            "  " + line for line in trace_from_dict(trace["when"]).render(locale).splitlines()
        ]
    return "\n".join(lines)


def _trigger(raw: Mapping[str, Any], locale: str) -> str:
    kind = str(raw.get("kind", ""))
    names = {k: raw.get(k, "") for k in ("field", "pool", "segment", "at")}
    return text(f"campaign.trigger.{kind}", locale, message=kind, **names)


def _error(trace: Mapping[str, Any], locale: str) -> str:
    """A failed action's reason; a template's is stored with its code, so it reads in
    either language."""
    for item in trace.get("errors") or []:
        if isinstance(item, Mapping) and str(item.get("code", "")).startswith("template"):
            return error_text(item, locale)
    return str(trace.get("error", ""))
