"""Config pages, for roles that `can: [configure]` only: the active version and its files, an
editor that checks the whole bundle on every submit and shows each problem at its line, the
stored versions with their semantic diff, dry runs, activate and roll back.

Nothing here reads records except the dry run, a POST; a bundle is loaded at most once per
digest (engine.service.config_editing), so the GET pages stay fast."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from admin_ui.session import AdminRoute, Checked, Svc, Viewer, Who
from admin_ui.templating import render
from engine.api.params import VersionNumber
from engine.config.model import Label
from engine.errors import NotFound, Refused
from engine.service import Services
from engine.service.config_editing import (
    Check,
    StoredVersion,
    activations,
    bundle_of,
    changes,
    check_edit,
    failed_cases,
    marked,
    normalized_text,
    source_lines,
    split_files,
    stored_version,
)
from engine.service.simulate import dry_run
from engine.service.simulate_report import SimulationReport
from engine.service.simulate_text import entity_line, header, notes, sections

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)
PERMISSION = "configure"

# Form fields -------------------------------------------------------------------------------------
Text = Annotated[str, Form()]


# the active version, its files, the versions ---------------------------------------------------
@router.get("/config")
def overview(request: Request, who: Who, svc: Svc) -> Response:
    who.require(PERMISSION)
    versions = svc.configs.versions(who.tenant)
    history = activations(svc.store, who.tenant, limit=10)
    own, templates = split_files(list(who.cfg.bundle.files))
    current = next((v for v in versions if v["number"] == who.cfg.version), None)
    return render(
        request,
        who,
        "config.html",
        active=current,
        activation=next((a for a in history if a.number == who.cfg.version), None),
        own_files=own,
        templates=templates,
        versions=versions,
        history=history,
        previous=history[0].previous if history else None,
        flash=_flash(request),
        **_helpers(who),
    )


@router.post("/config/rollback")
def rollback(request: Request, who: Checked, svc: Svc) -> Response:
    who.require(PERMISSION)
    target = svc.configs.previous(who.tenant)
    try:
        number = svc.rollback(who.tenant, _by(who), by=who.user.id)
    except Refused as exc:
        return _refused(request, who, svc, target, exc)
    return _to_overview(rolled_back=number)


@router.post("/config/versions/{number}/activate")
def activate(request: Request, who: Checked, svc: Svc, number: VersionNumber) -> Response:
    who.require(PERMISSION)
    try:
        changed = svc.activate(who.tenant, number, _by(who), by=who.user.id)
    except Refused as exc:
        return _refused(request, who, svc, number, exc)
    return _to_overview(**{"activated" if changed else "already": number})


# one version: its diff against the active one, dry runs ----------------------------------------
@router.get("/config/versions/{number}")
def version_page(request: Request, who: Who, svc: Svc, number: VersionNumber) -> Response:
    who.require(PERMISSION)
    version = stored_version(svc.store, who.tenant, number)
    return _version(request, who, version, flash=_flash(request))


@router.post("/config/versions/{number}/dry-run")
def dry_run_page(
    request: Request,
    who: Checked,
    svc: Svc,
    number: VersionNumber,
    sample: Text = "",
    now: Text = "",
) -> Response:
    """The dry run of a stored version against every stored record (seconds with many)."""
    who.require(PERMISSION)
    version = stored_version(svc.store, who.tenant, number)
    form = {"sample": sample, "now": now}
    try:
        count, moment = _sample(sample), _moment(who, now)
    except BadOption as bad:
        return _version(request, who, version, status=422, dry_error=bad.key, dry_form=form)
    report = dry_run(svc, who.tenant, number, now=moment, sample=count, by=who.user.id)
    return _version(request, who, version, report=_report(report, who.locale), dry_form=form)


@router.get("/config/diff")
def diff_page(request: Request, who: Who, svc: Svc, a: VersionNumber, b: VersionNumber) -> Response:
    who.require(PERMISSION)
    old, new = stored_version(svc.store, who.tenant, a), stored_version(svc.store, who.tenant, b)
    found = changes(bundle_of(old), bundle_of(new))
    versions = [v["number"] for v in svc.configs.versions(who.tenant)]
    return render(
        request, who, "config_diff.html", a=a, b=b, changes=found, numbers=versions, **_helpers(who)
    )


# the editor ------------------------------------------------------------------------------------
@router.get("/config/files")
def editor(
    request: Request, who: Who, svc: Svc, file: str = "", version: VersionNumber | None = None
) -> Response:
    """One file of a stored version (the active one unless `version` says) in an editor;
    names of template files hold '../', so the name is a query parameter."""
    who.require(PERMISSION)
    base = stored_version(svc.store, who.tenant, version or who.cfg.version)
    _require_file(base, file)
    return _editor(request, who, base, file, base.files[file])


@router.get("/config/files/{name:path}")
def editor_by_path(who: Who, name: str) -> Response:
    who.require(PERMISSION)
    return RedirectResponse(f"/admin/config/files?{urlencode({'file': name})}", status_code=303)


@router.post("/config/files")
def edit(
    request: Request,
    who: Checked,
    svc: Svc,
    file: Text,
    version: Annotated[VersionNumber, Form()],
    text: Text = "",
    action: Text = "validate",
) -> Response:
    """Validate the bundle with this file as written, and with "save" store it as a new
    version (not active). Errors are shown at their lines; nothing is stored then."""
    who.require(PERMISSION)
    base = stored_version(svc.store, who.tenant, version)
    _require_file(base, file)
    text = normalized_text(text)
    check = check_edit(base.files, file, text, who.tenant)
    if action == "save" and check.bundle is not None:
        return _save(svc, who, {**base.files, file: text})
    status = 200 if check.bundle is not None else 422
    active = who.cfg.bundle
    diff = changes(active, check.bundle) if check.bundle is not None else None
    return _editor(request, who, base, file, text, check=check, diff=diff, status=status)


def _save(svc: Services, who: Viewer, files: dict[str, str]) -> Response:
    stored = svc.push(who.tenant, files, actor=_by(who), by=who.user.id)
    flash = "saved" if stored["created"] else "same"
    target = f"/admin/config/versions/{stored['number']}?{urlencode({'done': flash})}"
    return RedirectResponse(target, status_code=303)


def _require_file(version: StoredVersion, name: str) -> None:
    if name not in version.files:
        raise NotFound(f"version {version.number} has no file '{name}'")


def _editor(
    request: Request,
    who: Viewer,
    base: StoredVersion,
    name: str,
    text: str,
    *,
    check: Check | None = None,
    diff: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    problems = check.problems if check is not None else ()
    own, templates = split_files(list(base.files))
    template = next((tp for tp in templates if name in tp.files), None)
    here = marked(text, problems, name)
    return render(
        request,
        who,
        "config_file.html",
        status=status,
        file=name,
        text=text,
        base=base,
        template=template,
        own_files=own,
        templates=templates,
        lines=source_lines(text, problems, name),
        check=check,
        here=here,
        elsewhere=[p for p in problems if p not in {m.problem for m in here}],
        warnings=sum(1 for p in problems if p.severity != "error"),
        changes=diff,
        **_helpers(who),
    )


# pieces ----------------------------------------------------------------------------------------
def _version(
    request: Request, who: Viewer, version: StoredVersion, status: int = 200, **extra: Any
) -> Response:
    active = who.cfg.version
    diff = None if version.number == active else changes(who.cfg.bundle, bundle_of(version))
    own, templates = split_files(list(version.files))
    context = {"report": None, "refused": None, "dry_error": None, "dry_form": {}} | extra
    return render(
        request,
        who,
        "config_version.html",
        status=status,
        version=version,
        active_number=active,
        changes=diff,
        own_files=own,
        templates=templates,
        **context,
        **_helpers(who),
    )


def _refused(request: Request, who: Viewer, svc: Services, number: int, exc: Refused) -> Response:
    """Activation refused because the version's tests fail: the version with the cases."""
    version = stored_version(svc.store, who.tenant, number)
    failed = failed_cases(bundle_of(version), exc)
    refused = {"detail": exc.detail, "cases": failed, "number": number}
    return _version(request, who, version, status=409, refused=refused)


def _report(report: SimulationReport, locale: str) -> dict[str, Any]:
    """The dry run as the page shows it: the summary, each entity's tables, the notes."""
    return {
        "lines": header(report, locale)[:2],
        "entities": [(entity_line(e, locale), sections(e, locale)) for e in report.entities],
        "notes": notes(report, locale),
    }


class BadOption(ValueError):
    """A dry-run option the page cannot use."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key  # the text saying what is wrong


def _sample(raw: str) -> int | None:
    """Records per entity to scan (None: all)."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise BadOption("config.bad_sample")
    return int(raw)


def _moment(who: Viewer, raw: str) -> datetime | None:
    """A time to run "as of" (the tenant's local time unless it has an offset; None: now)."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadOption("config.bad_now") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=who.cfg.tz)


def _by(who: Viewer) -> str:
    """The actor recorded on versions and activations made in these pages."""
    return f"admin:{who.user.id}"


def _actor(who: Viewer, actor: str | None) -> str:
    """Who made a version or an activation, by name when it was a user of these pages."""
    if actor and actor.startswith("admin:"):
        user = who.cfg.bundle.tenant.users.get(actor[6:])
        return f"{user.name} ({user.id})" if user is not None else actor[6:]
    return actor or "—"


def _when(who: Viewer, moment: datetime | str | None) -> str:
    """A time in the tenant's zone, to the minute."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(who.cfg.tz).strftime("%Y-%m-%d %H:%M")


def _helpers(who: Viewer) -> dict[str, Any]:
    def item_label(raw: Any) -> str:
        return who.label(Label.of(raw, "")) if raw is not None else ""

    return {
        "when": lambda moment: _when(who, moment),
        "actor": lambda name: _actor(who, name),
        "item_label": item_label,
    }


def _flash(request: Request) -> tuple[str, dict[str, Any]] | None:
    """A message after a redirect, from the query: ?activated=3, ?done=saved (version page)."""
    done = request.query_params.get("done")
    if done in ("saved", "same"):
        return f"config.flash.{done}", {"n": request.path_params.get("number")}
    for key in ("activated", "already", "rolled_back"):
        value = request.query_params.get(key, "")
        if value.isdigit():
            return f"config.flash.{key}", {"n": int(value)}
    return None


def _to_overview(**done: int) -> Response:
    return RedirectResponse(f"/admin/config?{urlencode(done)}", status_code=303)
