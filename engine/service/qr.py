"""A public form's URL with its channel parameters, and that URL as a QR code (PNG).

The hosted page is `/f/{tenant}/{form}`; its query fills the form's hidden fields
(`?source=qr_scan&activity=2026-expo`). The page drops a value its hidden field refuses, so a
misprinted code would lose its channel without a word: here such a value, or a parameter the
form does not take, is refused before a URL (or a code to print) is made.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

import segno

from engine.config.model import FormDef
from engine.errors import Invalid, NotFound, Refused
from engine.fields.validator import FieldError
from engine.rules.compiled import CompiledConfig

SCALE = 8  # pixels per module: a version-3 code (29 modules + border) is 296 px wide
MAX_SCALE = 40
BORDER = 4  # the quiet zone the QR standard asks for, in modules
ERROR = "m"  # 15% of the code may be damaged; segno raises it when the size allows


class BadParams(Invalid):
    """Parameters the form's URL does not take, or values its hidden fields refuse."""

    status = 422
    code = "bad_params"
    title = "Bad URL parameters"

    def __init__(
        self,
        detail: str,
        unknown: tuple[str, ...],
        refused: tuple[FieldError, ...],
        accepted: tuple[str, ...],
    ) -> None:
        errors = [
            FieldError(p, "url_param", {"message": f"the form takes no parameter '{p}'"})
            for p in unknown
        ]
        super().__init__(detail, [*errors, *refused])
        self.unknown = unknown
        self.refused = refused  # each error's `field` is the URL parameter
        self.accepted = accepted  # the parameters the form takes


def qr_png(url: str, scale: int = SCALE, border: int = BORDER) -> bytes:
    """The URL as a QR code, black on white, in PNG."""
    if not 1 <= scale <= MAX_SCALE:
        raise Invalid(f"a QR code's scale is 1 to {MAX_SCALE} pixels per module, not {scale}")
    try:
        code = segno.make(url, error=ERROR, micro=False)
    except segno.DataOverflowError:
        raise Invalid(
            f"the URL is too long for a QR code ({len(url)} characters): use shorter values"
        ) from None
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def base_url(url: str) -> str:
    """An http(s) base URL without its trailing slash (Invalid otherwise)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise Invalid(f"the base URL must look like https://crm.example.com, not {url!r}")
    return url.strip().rstrip("/")


def form_path(tenant: str, form: str) -> str:
    return f"/f/{quote(tenant, safe='')}/{quote(form, safe='')}"


def form_url(base: str, tenant: str, form: FormDef, params: Mapping[str, str] | None = None) -> str:
    """The hosted page's URL with the given channel parameters (only the form's `from_url`
    ones, in the form's order; empty values left out). BadParams for any other parameter."""
    given = {k: v for k, v in (params or {}).items()}
    accepted = tuple(form.url_params)
    unknown = tuple(p for p in given if p not in form.url_params)
    if unknown:
        takes = ", ".join(accepted) or "none"
        detail = (
            f"form '{form.name}' takes no URL parameter {', '.join(map(repr, unknown))} "
            f"(it takes: {takes})"
        )
        raise BadParams(detail, unknown, (), accepted)
    query = urlencode([(p, given[p]) for p in accepted if given.get(p)])
    return base_url(base) + form_path(tenant, form.name) + (f"?{query}" if query else "")


def embed_script_url(base: str, tenant: str, form: str) -> str:
    """The script a client's site includes to show the form in an iframe."""
    return base_url(base) + form_path(tenant, form) + "/embed.js"


def public_form(cfg: CompiledConfig, form: str) -> FormDef:
    """The form, if the tenant's config has it and serves it as a hosted page."""
    found = cfg.bundle.forms.get(form)
    if found is None:
        known = ", ".join(cfg.bundle.forms) or "none"
        raise NotFound(f"tenant '{cfg.tenant}' has no form '{form}' (forms: {known})")
    if not found.public:
        raise Refused(
            f"form '{form}' is not public, so it has no hosted page: "
            "set 'public: true' on it in the bundle"
        )
    return found


def refused_values(
    cfg: CompiledConfig, form: FormDef, params: Mapping[str, str]
) -> tuple[FieldError, ...]:
    """The values the hidden fields would refuse (the hosted page would drop them), each
    error named by its URL parameter."""
    validator = cfg.validator(form.entity)
    errors: list[FieldError] = []
    for param, name in form.url_params.items():
        value = params.get(param)
        if not value:
            continue
        _, found = validator.clean({name: value})
        errors.extend(FieldError(param, e.code, e.params) for e in found)
    return tuple(errors)


def checked_url(
    cfg: CompiledConfig, base: str, form: str, params: Mapping[str, str] | None = None
) -> str:
    """A public form's URL for a code to print or a snippet to embed: the form must be
    public, every parameter its own and every value one its hidden field takes."""
    found = public_form(cfg, form)
    url = form_url(base, cfg.tenant, found, params)
    refused = refused_values(cfg, found, params or {})
    if refused:
        named = "; ".join(f"{e.field}: {e.message()}" for e in refused)
        raise BadParams(
            f"form '{form}' would drop these values: {named}", (), refused, tuple(found.url_params)
        )
    return url
