"""The hosted page's HTML (autoescaped Jinja2 templates in templates/hosted/) and its JSON
answers (problem-like, for a client site's own script)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, JSONResponse

from admin_ui.hosted import assets
from admin_ui.hosted.language import LangLink
from engine.i18n import text

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "hosted"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,  # a misspelt name fails the tests, not silently blank
    auto_reload=False,
)


@dataclass(frozen=True)
class Frame:
    """What every page around its content needs."""

    locale: str
    title: str
    root: str = ""  # the app's root path (behind a proxy under a prefix)
    languages: list[LangLink] = field(default_factory=list)
    kind: str = "message"  # form | thanks | message: the script's height messages say which


def html(name: str, frame: Frame, status: int = 200, **context: Any) -> HTMLResponse:
    """A template rendered in the visitor's language."""

    def t(key: str, **params: Any) -> str:
        return text(key, frame.locale, **params)

    page = env.get_template(name).render(
        frame=frame,
        t=t,
        css=assets.url(frame.root, "hosted.css"),
        js=assets.url(frame.root, "hosted.js"),
        **context,
    )
    return HTMLResponse(page, status_code=status, headers={"Vary": "Accept-Language"})


def message(frame: Frame, status: int, detail: str, back: str | None = None) -> HTMLResponse:
    """A page that only says something: a refusal, a form that is not there."""
    return html("message.html", frame, status, detail=detail, back=back)


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457-like error for a client site's script, in the visitor's language."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
