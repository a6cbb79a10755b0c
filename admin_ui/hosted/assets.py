"""The hosted page's stylesheet and script, and the embed script client sites include. Served
under /f/ (not /admin/static/, which a deployment may keep to its office network), with a
content hash in the page's links so a new version is fetched at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.responses import Response

STATIC = Path(__file__).resolve().parents[1] / "static"
PREFIX = "/f/_assets"  # "_" cannot start a tenant id, so no form's URL is ever this
MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
PAGE_ASSETS = ("hosted.css", "hosted.js")
EMBED = "embed.js"
MAX_AGE = 3600


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str  # the first hex digits of the content's sha256


@cache
def asset(name: str) -> Asset:
    path = STATIC / name
    body = path.read_bytes()
    return Asset(body, MEDIA[path.suffix], hashlib.sha256(body).hexdigest()[:12])


def url(root: str, name: str) -> str:
    """The link to a page asset, changed with its content."""
    return f"{root}{PREFIX}/{name}?v={asset(name).version}"


def served(name: str) -> Response | None:
    """The asset's response; None for a name that is not one of them."""
    if name not in PAGE_ASSETS and name != EMBED:
        return None
    found = asset(name)
    headers = {"Cache-Control": f"public, max-age={MAX_AGE}", "ETag": f'"{found.version}"'}
    return Response(found.body, media_type=found.media_type, headers=headers)
