"""QR codes of public forms: the PNG holds the QR code of the URL (read back module by module,
with its error correction level from the format bits), and the URL takes only the form's own
channel parameters with values its hidden fields accept."""

from __future__ import annotations

import struct
import zlib
from urllib.parse import parse_qsl, urlsplit

import pytest
import segno

from engine.config.loader import load_bundle_dir
from engine.errors import Invalid, NotFound, Refused
from engine.rules.compiled import CompiledConfig
from engine.service.qr import (
    BORDER,
    BadParams,
    checked_url,
    embed_script_url,
    form_url,
    qr_png,
)
from tests.helpers import ROOT

PNG = b"\x89PNG\r\n\x1a\n"
URL = "https://crm.example.com/f/chaotu-demo/qr_signup?source=qr_scan&activity=2026-expo"


def png_pixels(data: bytes) -> list[list[int]]:
    """A greyscale PNG's pixels, rows of 0 (black) … 1 (white) for 1-bit images: a small
    reader (signature, IHDR, IDAT, the five row filters), enough for the codes segno writes."""
    assert data[:8] == PNG, "not a PNG"
    at, chunks, header = 8, [], b""
    while at < len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + size]
        assert (
            zlib.crc32(kind + body) == struct.unpack(">I", data[at + 8 + size : at + 12 + size])[0]
        )
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + size
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (1, 0, 0), "expected 1-bit greyscale, not interlaced"
    raw, stride = zlib.decompress(b"".join(chunks)), (width + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left, up = line[x - 1] if x else 0, previous[x]
            corner = previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[x] = (line[x] + guess) & 0xFF
        rows.append([(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = line
    return rows


def modules(data: bytes, scale: int, border: int = BORDER) -> list[list[bool]]:
    """The code's modules (True: dark) read at each module's centre."""
    pixels = png_pixels(data)
    count = len(pixels) // scale - 2 * border
    assert len(pixels) == (count + 2 * border) * scale
    at = [(border + i) * scale + scale // 2 for i in range(count)]
    return [[pixels[y][x] == 0 for x in at] for y in at]


def error_level(matrix: list[list[bool]]) -> str:
    """The error correction level the code's format bits (beside the top-left finder) name."""
    cells = [(8, c) for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [(r, 8) for r in (7, 5, 4, 3, 2, 1, 0)]
    bits = int("".join("1" if matrix[r][c] else "0" for r, c in cells), 2) ^ 0b101010000010010
    return {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}[bits >> 13]


def test_the_png_is_the_qr_code_of_the_url() -> None:
    data = qr_png(URL, scale=6)
    matrix = modules(data, 6)
    expected = [[bool(v) for v in row] for row in segno.make(URL, error="m", micro=False).matrix]
    assert matrix == expected
    assert len(matrix) >= 29 and (len(matrix) - 17) % 4 == 0  # a QR code's sizes: 21, 25, 29…
    assert all(matrix[r][c] for r, c in ((0, 0), (0, 6), (6, 0), (6, 6)))  # a finder's corners
    assert error_level(matrix) in ("M", "Q", "H")  # at least 15% may be damaged
    other = modules(qr_png(URL.replace("2026-expo", "2026-fair"), scale=6), 6)
    assert other != matrix


def test_scale_and_border() -> None:
    small, large = qr_png(URL, scale=2), qr_png(URL, scale=10)
    assert len(png_pixels(large)) == 5 * len(png_pixels(small))
    assert png_pixels(small)[0] == [1] * len(png_pixels(small)[0])  # the quiet zone is white
    with pytest.raises(Invalid):
        qr_png(URL, scale=0)


@pytest.fixture(scope="module")
def chaotu() -> CompiledConfig:
    return CompiledConfig.compile(load_bundle_dir(ROOT / "configs" / "chaotu-demo"), 1)


def test_the_form_url_takes_the_forms_parameters_in_order(chaotu: CompiledConfig) -> None:
    form = chaotu.bundle.forms["qr_signup"]
    url = form_url(
        "https://crm.example.com/",
        "chaotu-demo",
        form,
        {"activity": "春季 展会&1", "source": "qr_scan"},
    )
    assert url.startswith(
        "https://crm.example.com/f/chaotu-demo/qr_signup?source=qr_scan&activity="
    )
    assert parse_qsl(urlsplit(url).query) == [("source", "qr_scan"), ("activity", "春季 展会&1")]
    assert form_url("http://h:8000", "t", form, {"source": ""}) == "http://h:8000/f/t/qr_signup"
    with pytest.raises(BadParams) as caught:
        form_url("https://h", "t", form, {"source": "x", "utm": "y"})
    assert caught.value.unknown == ("utm",) and caught.value.accepted == ("source", "activity")
    assert "takes no URL parameter 'utm' (it takes: source, activity)" in caught.value.detail
    with pytest.raises(Invalid):
        form_url("ftp://h", "t", form)
    assert embed_script_url("https://h/", "t", "qr_signup") == "https://h/f/t/qr_signup/embed.js"


def test_a_checked_url_needs_a_public_form_and_accepted_values(chaotu: CompiledConfig) -> None:
    params = {"source": "qr_scan", "activity": "2026-expo"}
    assert checked_url(chaotu, "https://h", "qr_signup", params) == (
        "https://h/f/chaotu-demo/qr_signup?source=qr_scan&activity=2026-expo"
    )
    with pytest.raises(BadParams) as caught:
        checked_url(chaotu, "https://h", "qr_signup", {"source": "billboard"})
    assert [e.field for e in caught.value.refused] == ["source"]
    assert "source: must be one of" in caught.value.detail
    with pytest.raises(BadParams):
        checked_url(chaotu, "https://h", "qr_signup", {"activity": "x" * 101})  # max_length 100
    with pytest.raises(Refused) as refused:
        checked_url(chaotu, "https://h", "website_signup")
    assert "is not public" in refused.value.detail
    with pytest.raises(NotFound):
        checked_url(chaotu, "https://h", "nope")


def test_a_url_too_long_for_a_qr_code_is_refused_in_words() -> None:
    with pytest.raises(Invalid) as caught:
        qr_png("https://crm.example.cn/f/t/f?activity=" + "%E5%B1%95" * 900)
    assert caught.value.detail.startswith("the URL is too long for a QR code (8138 characters)")
