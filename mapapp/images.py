"""Uploaded pictures made safe to store and show: bitmaps re-encoded as PNG (resized, every
metadata block such as EXIF and GPS dropped), SVG rebuilt from a whitelist of drawing elements
and attributes (no script, no event handler, no foreign content, no reference outside the file).

The kind is told by the content, never by the file's name. No maintained SVG sanitiser is
packaged for Python (nh3 and bleach are HTML-only), so the SVG is parsed with defusedxml (no
entity, no external reference) and a new tree is built holding only what is known to
draw and nothing that runs or fetches.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # nosec B405 # building and writing the new tree only: defusedxml parses
from typing import NamedTuple

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from .translate import N_, Message

MAX_BYTES = 1024 * 1024
MAX_SIDE = 512
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"


class ImageRefused(ValueError):
    """The file is not a picture this site keeps; the message says what to send instead."""


def clean(data: bytes) -> tuple[str, bytes]:
    """(media type, cleaned bytes) of an uploaded picture: PNG for any bitmap, SVG for SVG.
    Raises ``ImageRefused`` for anything else, or too large."""
    if len(data) > MAX_BYTES:
        raise ImageRefused(Message(N_("the file is larger than 1 MB: send a smaller picture")))
    if _looks_like_svg(data):
        return "image/svg+xml", sanitise_svg(data)
    return "image/png", reencode_bitmap(data)


def extension(media_type: str) -> str:
    """The file name extension of a stored picture's media type."""
    return "svg" if media_type == "image/svg+xml" else "png"


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--") \
        or head.startswith(b"<!doctype svg")


def reencode_bitmap(data: bytes) -> bytes:
    """The picture (PNG, JPEG, WebP, GIF's first frame) as a new PNG at most ``MAX_SIDE`` px
    wide and tall, with no metadata (EXIF, GPS, text chunks, colour profiles) carried over."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP", "GIF")) as img:
            if img.width * img.height > MAX_PIXELS:  # read from the header, before anything is decoded
                raise ValueError("too many pixels")
            img.load()
            img = ImageOps.exif_transpose(img)  # the photo the right way up, before EXIF is dropped
            img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info
                              else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ImageRefused(Message(N_("this file is not a PNG, JPEG, WebP or SVG picture: send one of those"))) from e
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    clean_img = Image.new(img.mode, img.size)  # pixels only: no info dictionary follows
    clean_img.paste(img)
    out = io.BytesIO()
    clean_img.save(out, format="PNG", optimize=True)
    return out.getvalue()


# What an SVG logo may hold: shapes, text, gradients, groups and their reuse within the file.
_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
    "pattern", "style",
}
_ATTRIBUTES = {
    "id", "class", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "width", "height",
    "d", "points", "viewBox", "preserveAspectRatio", "transform", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-dasharray", "stroke-dashoffset", "opacity", "clip-path", "clip-rule", "mask", "offset",
    "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "patternUnits",
    "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits",
    "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline",
    "letter-spacing", "dx", "dy", "rotate", "textLength", "lengthAdjust", "style", "visibility", "display",
    "color", "version", "role", "aria-label", "aria-hidden", "href",
}
# CSS that could fetch or run something: url() other than #fragment, @import, expression(),
# behaviours and bindings of old browsers, escapes that could hide any of them.
_URL = re.compile(r"url\s*\(\s*(['\"]?)\s*(?!#)", re.I)
_CSS_DANGER = re.compile(r"@import|expression\s*\(|behavior\s*:|-moz-binding|javascript:|\\", re.I)
_IRI_REF = re.compile(r"^#[A-Za-z_][\w.-]*$")


def _safe_css(value: str) -> bool:
    return not (_URL.search(value) or _CSS_DANGER.search(value))


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def sanitise_svg(data: bytes) -> bytes:
    """The SVG rebuilt with only whitelisted SVG elements and attributes: no script, no
    foreignObject, no ``on*`` handler, no link but to a ``#fragment`` of the file itself, no CSS
    ``url()`` but to a fragment. Entity declarations and external references refuse the file."""
    try:
        # A bare DOCTYPE (as Illustrator writes) is harmless; entities and external references are not.
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, DET.ParseError, ValueError) as e:
        raise ImageRefused(Message(N_("this SVG cannot be read safely (it is malformed, or declares entities "
                                      "or a DTD): export it again as plain SVG"))) from e
    if _local(root.tag) not in ((SVG_NS, "svg"), (None, "svg")):
        raise ImageRefused(Message(N_("this file is not an SVG picture: its first element must be <svg>")))
    try:
        clean_root = _copy(root)
    except RecursionError as e:
        raise ImageRefused(Message(N_("this SVG nests its elements too deeply: simplify its groups and export it "
                                      "again"))) from e
    ET.register_namespace("", SVG_NS)
    return ET.tostring(clean_root, encoding="utf-8", xml_declaration=True)


def _copy(element: ET.Element) -> ET.Element:
    _, tag = _local(element.tag)
    out = ET.Element(f"{{{SVG_NS}}}{tag}")
    for name, value in element.attrib.items():
        ns, attr = _local(name)
        if ns not in (None, XLINK_NS) or attr not in _ATTRIBUTES or (ns == XLINK_NS and attr != "href"):
            continue
        if attr == "href":
            if _IRI_REF.match(value.strip()):
                out.set("href", value.strip())
            continue
        if not _safe_css(value):
            continue
        out.set(attr, value)
    if tag == "style":
        text = element.text or ""
        out.text = text if _safe_css(text) else ""
        return out
    out.text = element.text
    for child in element:
        ns, child_tag = _local(child.tag)
        if ns in (SVG_NS, None) and child_tag in _ELEMENTS:
            copied = _copy(child)
            copied.tail = child.tail
            out.append(copied)
        # anything else (script, foreignObject, image, a, animations, other namespaces) is dropped
        # with all it holds
    return out


# An organisation's logo and photos: bigger than the site's logo, and kept as WebP, which every
# browser the site supports shows, keeps a logo's transparency, and weighs about a third less than a
# JPEG of the same look (a PNG of a photo would weigh several times more).
PICTURE_SIDE = 1600
THUMB_SIDE = 320
PICTURE_MEDIA_TYPE = "image/webp"
_PICTURE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


class Picture(NamedTuple):
    """A cleaned picture: WebP bytes at most ``PICTURE_SIDE`` px, its ``THUMB_SIDE`` px thumbnail,
    and the picture's size."""

    media_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int


def clean_picture(data: bytes, max_bytes: int) -> Picture:
    """An organisation's logo or photo, re-encoded as WebP: turned the way its EXIF says, resized,
    with a thumbnail, and with nothing of the original file kept but its pixels (no EXIF, GPS,
    XMP, comment or colour profile). Refuses with ``ImageRefused``: files over ``max_bytes``,
    anything but a PNG, JPEG, WebP or still GIF (SVG included), animations, decompression bombs."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise ImageRefused(Message(N_("the file is larger than %(mb)s MB: send a smaller picture"),
                                   mb=max(1, max_bytes // (1024 * 1024))))
    if _looks_like_svg(data):
        raise ImageRefused(Message(N_("SVG drawings are not taken for an organisation's pictures: send a PNG, "
                                      "JPEG or WebP")))
    try:
        with Image.open(io.BytesIO(data), formats=_PICTURE_FORMATS) as img:
            if img.width * img.height > MAX_PIXELS:  # read from the header, before anything is decoded
                raise ImageRefused(Message(N_("the picture has more than 40 million pixels: send a "
                                              "smaller one")))
            if getattr(img, "n_frames", 1) > 1:
                raise ImageRefused(Message(N_("animated pictures are not taken: send a still PNG, JPEG or WebP")))
            img.load()
            img = ImageOps.exif_transpose(img)  # the right way up, before EXIF is dropped
            img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info
                              else "RGB")
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ImageRefused(Message(N_("this file is not a PNG, JPEG or WebP picture: send one of those"))) from e
    img.thumbnail((PICTURE_SIDE, PICTURE_SIDE), Image.Resampling.LANCZOS)
    pixels = Image.new(img.mode, img.size)  # pixels only: no info dictionary follows
    pixels.paste(img)
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Picture(PICTURE_MEDIA_TYPE, _webp(pixels), _webp(thumb), pixels.width, pixels.height)


def _webp(img) -> bytes:
    out = io.BytesIO()
    img.save(out, format="WEBP", quality=82, method=4, exif=b"", xmp=b"", icc_profile=None)
    return out.getvalue()


def picture_path(image_id: int, sha256: str, *, thumb: bool = False) -> str:
    """The path an organisation's picture is served at: its id and the start of its sha256, so
    that new bytes get a new address and the old one can be cached for ever."""
    return f"/images/{image_id}-{sha256[:8]}{'-thumb' if thumb else ''}.webp"
