"""Forms: the tenant's forms (public or not) and, for one form and period, submissions per day
and channel, their outcomes and how far the records they made have come (figures from
engine.service.form_report); per public form its hosted URL, a QR code to download and the
snippets that embed it in another site (engine.service.qr).

Every signed-in user of the tenant may open it for the forms, their links, QR codes and
snippets (pages anyone may open). The submission figures count every submission and every
record a form made, whoever sees it: they are shown to roles that can `see_all_stats` or
`configure` (as the API's campaign stats and jobs), and to no one else.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from admin_ui.access import ALL_STATS, policy_of
from admin_ui.session import AdminRoute, Svc, Viewer, Who
from admin_ui.templating import render
from engine.config.model import FormDef
from engine.errors import Invalid, NotFound, Refused
from engine.i18n import text
from engine.service.form_report import (
    MAX_CHANNELS,
    MAX_DAYS,
    NONE,
    OTHER,
    OUTCOMES,
    Conversion,
    FormReport,
    Outcomes,
    Reached,
    channel_fields,
    report,
)
from engine.service.qr import (
    BadParams,
    checked_url,
    embed_script_url,
    form_path,
    qr_png,
)

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)
FIGURES = (ALL_STATS, "configure")  # either permission shows the submission figures
PERIODS = (7, 30, 90)  # days back, today included
DEFAULT_DAYS = 30
PARAM = "p."  # the page's own query names the form's URL parameters p.source, p.activity…
PUBLIC_URL = "TIDEPOOL_PUBLIC_URL"  # where visitors reach the hosted pages, if not this host


@router.get("/forms")
def forms_page(
    request: Request,
    who: Who,
    svc: Svc,
    form: str | None = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
    channel: str | None = None,
) -> Response:
    bundle = who.cfg.bundle
    if form and form not in bundle.forms:
        return _error(request, who, 404, _word(who, "forms.no_form", form=form))
    chosen = _chosen_form(who, form)
    if chosen is None:
        return render(request, who, "forms.html", forms=[], selected=None, **_periods(who, days))
    if channel and channel not in channel_fields(chosen):
        fields = ", ".join(channel_fields(chosen)) or "-"
        message = _word(who, "forms.unknown_channel", channel=channel, fields=fields)
        return _error(request, who, 422, _word(who, "forms.bad_request"), [message])
    policy = policy_of(svc, who)
    figures = any(policy.may(p) for p in FIGURES)
    per_form: Mapping[str, Outcomes] = {}
    selected, chosen_channel = None, channel or next(iter(channel_fields(chosen)), None)
    if figures:
        found = report(svc.store, who.cfg, chosen.name, days, svc.clock.now(), channel or None)
        per_form, selected, chosen_channel = found.per_form, report_view(who, found), found.channel
    base = public_base(request)
    forms = [
        form_row(who, f, base, per_form.get(f.name, Outcomes()), f.name == chosen.name)
        for f in bundle.forms.values()
    ]
    params = {k[len(PARAM) :]: v for k, v in request.query_params.items() if k.startswith(PARAM)}
    return render(
        request,
        who,
        "forms.html",
        forms=forms,
        figures=figures,
        figures_hidden=None if figures else _figures_hidden(who),
        selected=selected,
        links=links_view(who, chosen, base, params, days, chosen_channel),
        **_periods(who, days),
    )


def _figures_hidden(who: Viewer) -> str:
    """Why the viewer sees no submission figures, naming the roles that would."""
    roles = who.cfg.bundle.tenant.roles.values()
    named = sorted(r.id for r in roles if set(FIGURES) & set(r.can))
    return _word(who, "forms.figures_hidden", roles=", ".join(named) or "-")


@router.get("/forms/{form}/qr.png")
def form_qr(request: Request, form: str, who: Who) -> Response:
    """The public form's URL with the query's channel parameters, as a QR code to download;
    a 422 page for a parameter the form does not take or a value its hidden field refuses."""
    params = dict(request.query_params)
    try:
        url = checked_url(who.cfg, public_base(request), form, params)
    except BadParams as exc:
        return _error(request, who, 422, _word(who, "forms.bad_request"), bad_params(who, exc))
    except (NotFound, Refused):
        return _error(request, who, 404, _word(who, "forms.no_public_form", form=form))
    name = "-".join([who.tenant, form, *(v for v in params.values() if v)])
    try:
        png = qr_png(url)
    except Invalid:
        return _error(
            request, who, 422, _word(who, "forms.bad_request"), [_word(who, "forms.too_long")]
        )
    return Response(
        png,
        media_type="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{_file_name(name)}.png"',
            "Cache-Control": "no-store",
        },
    )


def public_base(request: Request) -> str:
    """Where visitors reach the hosted pages: $TIDEPOOL_PUBLIC_URL when set (the admin UI may
    sit behind another host name), else this request's own base URL."""
    return (os.environ.get(PUBLIC_URL) or str(request.base_url)).rstrip("/")


def _chosen_form(who: Viewer, name: str | None) -> FormDef | None:
    """The form asked for, else the first public one, else the first; None without forms."""
    forms = who.cfg.bundle.forms
    if name:
        return forms[name]
    public = [f for f in forms.values() if f.public]
    candidates = public or list(forms.values())
    return candidates[0] if candidates else None


def _word(who: Viewer, key: str, **params: Any) -> str:
    return text(key, who.locale, **params)


def _periods(who: Viewer, days: int) -> dict[str, Any]:
    periods = [(d, _word(who, f"forms.period.{d}")) for d in PERIODS]
    if days not in PERIODS:
        periods.append((days, _word(who, "forms.period.n", days=days)))
    return {"periods": periods, "days": days}


def _error(
    request: Request, who: Viewer, status: int, detail: str, messages: list[str] | None = None
) -> Response:
    """An error page in the viewer's language."""
    return render(
        request,
        who,
        "error.html",
        status=status,
        status_code=status,
        detail=detail,
        messages=messages or [],
    )


def bad_params(who: Viewer, exc: BadParams) -> list[str]:
    accepted = ", ".join(exc.accepted) or "-"
    unknown = [_word(who, "forms.unknown_param", param=p, accepted=accepted) for p in exc.unknown]
    refused = [
        _word(who, "forms.refused_value", param=e.field, message=e.message(who.locale))
        for e in exc.refused
    ]
    return unknown + refused


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120] or "form"


# the forms ---------------------------------------------------------------------------------
def form_row(
    who: Viewer, form: FormDef, base: str, outcomes: Outcomes, selected: bool
) -> dict[str, Any]:
    entity = who.cfg.bundle.entities[form.entity]
    return {
        "id": form.name,
        "label": who.label(form.label, form.name),
        "entity": who.label(entity.label, entity.name),
        "public": form.public,
        "url": base + form_path(who.tenant, form.name) if form.public else None,
        "submissions": outcomes.total,
        "selected": selected,
    }


# the report --------------------------------------------------------------------------------
def field_label(who: Viewer, form: FormDef, name: str) -> str:
    own = next((f.label for f in form.fields if f.name == name and f.label), None)
    defined = who.cfg.bundle.entities[form.entity].fields.get(name)
    return who.label(own or (defined.label if defined else None), name)


def value_label(who: Viewer, form: FormDef, field: str | None, value: str) -> str:
    """A channel value as people read it: an enum option's label, "(none)" for none."""
    if value == NONE:
        return _word(who, "forms.value_none")
    if value == OTHER:
        return _word(who, "forms.value_other", n=MAX_CHANNELS)
    defined = who.cfg.bundle.entities[form.entity].fields.get(field) if field else None
    option = next((o for o in defined.options if o.value == value), None) if defined else None
    return who.label(option.label, value) if option else value


def report_view(who: Viewer, found: FormReport) -> dict[str, Any]:
    form, subs = found.form, found.submissions

    def named(value: str) -> str:
        return value_label(who, form, found.channel, value)

    by_channel = subs.by_channel()
    by_day = subs.by_day()
    channels = list(by_channel)
    totals = subs.total()
    return {
        "id": form.name,
        "label": who.label(form.label, form.name),
        "entity": who.label(who.cfg.bundle.entities[form.entity].label, form.entity),
        "range": _word(
            who, "forms.range", first=found.period.first.isoformat(), last=found.period.last
        ),
        "fields": [(f, field_label(who, form, f)) for f in channel_fields(form)],
        "channel": found.channel,
        "channel_label": field_label(who, form, found.channel) if found.channel else "",
        "outcomes": [(o, _word(who, f"forms.outcome.{o}"), getattr(totals, o)) for o in OUTCOMES],
        "outcome_bars": [
            (_word(who, f"forms.outcome.{o}"), getattr(totals, o), "") for o in OUTCOMES
        ],
        "total": totals.total,
        "refused": totals.invalid + totals.spam,
        "per_channel": [
            {"value": c, "label": named(c), **_counts(o)} for c, o in by_channel.items()
        ],
        "channels": [named(c) for c in channels],
        "days": [
            (day.strftime("%m-%d"), [(named(c), n) for c, n in counts.items()])
            for day, counts in by_day.items()
        ],
        "day_rows": [
            {"day": day.isoformat(), "counts": list(counts.values()), "total": sum(counts.values())}
            for day, counts in by_day.items()
            if any(counts.values())
        ],
        "day_totals": [by_channel[c].total for c in channels],
        "conversion": conversion_view(who, found.conversion, named),
    }


def _counts(outcomes: Outcomes) -> dict[str, int]:
    return {**{o: getattr(outcomes, o) for o in OUTCOMES}, "total": outcomes.total}


def conversion_view(who: Viewer, conv: Conversion, named: Callable[[str], str]) -> dict[str, Any]:
    pools = conv.pool_set.pools if conv.pool_set else {}
    stages = [(s, who.label(pools[s].label, s)) for s in conv.stages]
    exits = [(p, who.label(pools[p].label, p)) for p in conv.exits]

    def row(reached: Reached, label: str) -> dict[str, Any]:
        return {
            "value": reached.channel,
            "label": label,
            "created": reached.created,
            "stages": [
                (reached.stages[s], _pct(reached.share(reached.stages[s]))) for s in conv.stages
            ],
            "exits": [reached.pools[p] for p in conv.exits],
            "other": reached.other,
            "live": reached.live,
            "deleted": reached.deleted,
        }

    total = conv.total
    funnel = [
        {
            "pool": s,
            "label": label,
            "reached": total.stages[s],
            "pct": _pct(_ratio(total.stages, conv.stages, i)),
            "hot": False,
        }
        for i, (s, label) in enumerate(stages)
    ]
    entity = who.cfg.bundle.entities[conv.entity]
    return {
        "stages": stages,
        "exits": exits,
        "has_pools": conv.pool_set is not None,
        "entity": who.label(entity.label, entity.name),
        "rows": [row(r, named(r.channel)) for r in conv.rows],
        "total": row(total, _word(who, "forms.all_channels")),
        "funnel": funnel,
        "other": total.other > 0,
    }


def _ratio(reached: Mapping[str, int], stages: tuple[str, ...], i: int) -> float | None:
    """Of the records at stage i, the share that reached the next one."""
    if i + 1 >= len(stages) or not reached[stages[i]]:
        return None
    return reached[stages[i + 1]] / reached[stages[i]]


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


# links, QR code and embedding ------------------------------------------------------------------
def links_view(
    who: Viewer,
    form: FormDef,
    base: str,
    params: dict[str, str],
    days: int,
    channel: str | None,
) -> dict[str, Any]:
    entity = who.cfg.bundle.entities[form.entity]
    inputs = []
    for param, name in form.url_params.items():
        defined = entity.fields.get(name)
        options = (
            [(o.value, who.label(o.label, o.value)) for o in defined.options] if defined else []
        )
        inputs.append(
            {
                "param": param,
                "name": PARAM + param,
                "label": field_label(who, form, name),
                "value": params.get(param, ""),
                "options": options,
                "max_length": defined.max_length if defined else None,
            }
        )
    view: dict[str, Any] = {
        "public": form.public,
        "inputs": inputs,
        "keep": [("form", form.name), ("days", str(days)), ("channel", channel or "")],
        "origins": list(form.embed_origins),
        "errors": [],
    }
    if not form.public:
        return view
    try:
        url = checked_url(who.cfg, base, form.name, params)
    except BadParams as exc:
        view["errors"] = bad_params(who, exc)
        view["url"] = base + form_path(who.tenant, form.name)
        return view
    chosen = [(p, v) for p, v in params.items() if v and p in form.url_params]
    query = urlencode(chosen)
    title = html.escape(who.label(form.label, form.name), quote=True)
    script = embed_script_url(base, who.tenant, form.name)
    data_params = f' data-params="{html.escape(query, quote=True)}"' if query else ""
    view.update(
        url=url,
        qr=f"/admin/forms/{quote(form.name, safe='')}/qr.png" + (f"?{query}" if query else ""),
        iframe=(
            f'<iframe src="{html.escape(url, quote=True)}" title="{title}" width="100%" '
            'height="720" style="border:0" loading="lazy"></iframe>'
        ),
        script=f'<script src="{html.escape(script, quote=True)}"{data_params}></script>',
    )
    return view
