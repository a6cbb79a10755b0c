"""One visitor on one public form: the form (or none: a 404 in their language), their
language, the page's URL parameters, and the answers every /f/ route shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from admin_ui.hosted import body, headers, pages
from admin_ui.hosted.language import query_with, switch_links, visitor_locale, without_form_locale
from engine.config.model import FieldDef, FormDef, Label
from engine.errors import NotFound
from engine.i18n import text
from engine.service import Services
from engine.service.public_forms import PublicForm


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def wants_json(request: Request) -> bool:
    """A client site's script (a JSON body, or asking for JSON only) gets JSON answers."""
    if body.is_json(request.headers):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@dataclass(frozen=True)
class Visit:
    request: Request
    svc: Services
    found: PublicForm

    @property
    def tenant(self) -> str:
        return self.found.bundle.id

    @property
    def form(self) -> FormDef:
        return self.found.form

    @property
    def fields(self) -> Mapping[str, FieldDef]:
        return self.found.entity.fields

    @property
    def origins(self) -> Sequence[str]:
        return self.found.form.embed_origins

    @cached_property
    def locale(self) -> str:
        tenant = self.found.bundle.tenant
        header = self.request.headers.get("accept-language", "")
        return visitor_locale(self.request.query_params, header, tenant.locales, tenant.locale)

    @property
    def base(self) -> str:
        """The form page's path (under the app's root path)."""
        root = str(self.request.scope.get("root_path", ""))
        return f"{root}/f/{quote(self.tenant, safe='')}/{quote(self.form.name, safe='')}"

    @property
    def params(self) -> dict[str, str]:
        """The page URL's parameters: they fill the form's hidden fields."""
        return dict(self.request.query_params)

    @property
    def address(self) -> str | None:
        client = self.request.client
        return client.host if client else None

    def url(self, suffix: str = "", **changes: str | None) -> str:
        """A path of this form's pages with the page's query, some parameters changed."""
        query = query_with(self.request.query_params, **changes)
        return f"{self.base}{suffix}?{query}" if query else f"{self.base}{suffix}"

    def t(self, key: str, **params: Any) -> str:
        """The page's own words in the visitor's language."""
        return text(key, self.locale, **params)

    def label(self, label: Label | None) -> str:
        """A text of the bundle in the visitor's language ("" for none)."""
        return label.get(self.locale, self.found.bundle.tenant.locale) if label else ""

    def frame(self, kind: str, title: str | None = None) -> pages.Frame:
        languages = switch_links(
            self.base, self.request.query_params, self.found.bundle.tenant.locales, self.locale
        )
        root = str(self.request.scope.get("root_path", ""))
        return pages.Frame(self.locale, title or self.label(self.form.label), root, languages, kind)

    def secure(self, response: Response) -> Response:
        return headers.secure(response, self.request, self.origins)


async def visit_of(request: Request, tenant: str, form: str) -> Visit | None:
    """The visit when the form is public under the tenant's active config, else None."""
    svc = services(request)
    try:
        found = await run_in_threadpool(svc.forms.get, tenant, form)
    except NotFound:
        return None
    return Visit(request, svc, found)


def not_found(request: Request) -> Response:
    """A 404 in the visitor's language: an unknown tenant or form and a private form alike."""
    header = request.headers.get("accept-language", "")
    locale = without_form_locale(request.query_params, header)
    title, detail = text("hosted.not_found_title", locale), text("hosted.not_found", locale)
    response: Response
    if wants_json(request):
        response = pages.problem(404, title, detail)
    else:
        response = pages.message(pages.Frame(locale, title), 404, detail)
    return headers.secure(response, request, ())
