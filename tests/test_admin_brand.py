"""The site's logo and EU funding block as an admin sets them on /admin/settings/brand and as
visitors, e-mail readers and report readers see them: pictures cleaned before they are kept,
the logo everywhere the site's name is, the funding block in the reader's language."""

from __future__ import annotations

import io
import re

import altcha
import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader
from smtp_box import html_of
from support import csrf_from, make_org, sign_in

from mapapp import catalogue, create_app, images
from mapapp.catalogue import site as store
from mapapp.mapdata import exports

HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${1+1} <script>alert(1)</script> javascript:alert(1) =1+1 \r\nA\ufffe"

SVG_ATTACK = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <a href="javascript:alert(3)"><rect width="5" height="5"/></a>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <use xlink:href="https://evil.example/sprite.svg#x"/>
  <use href="#dot"/>
  <rect id="dot" width="4" height="4" fill="url(https://evil.example/x)" onclick="alert(4)" style="fill: red"/>
  <circle cx="5" cy="5" r="2" fill="#003399" style="background: url(//evil.example/y)"/>
</svg>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>"""


@pytest.fixture
def site(db_path, tmp_path, smtp):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                       "PUBLIC_URL": "https://map.example.org"})


@pytest.fixture
def admin(site, staff):
    client = site.test_client()
    sign_in(client, "admin@example.org")
    return client


def photo_with_gps(size=(1600, 900)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (45.0, 45.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 50.0, 24.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client, data: bytes, filename: str):
    token = csrf_from(client.get("/admin/settings/brand").get_data(as_text=True))
    return client.post("/admin/settings/brand/logo", data={"csrf_token": token, "logo": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def save_funding(client, enabled=True, **disclaimers):
    token = csrf_from(client.get("/admin/settings/brand").get_data(as_text=True))
    data = {"csrf_token": token, **{f"disclaimer_{code}": text for code, text in disclaimers.items()}}
    if enabled:
        data["funding_enabled"] = "1"
    return client.post("/admin/settings/brand/funding", data=data)


def logo_address(page: str) -> str:
    return re.search(r'<img class="site-logo" src="([^"]+)"', page).group(1)


def test_a_photo_is_kept_as_a_small_png_without_its_exif_and_gps(admin, db):
    original = photo_with_gps()
    assert b"SpyCam" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert upload(admin, original, "me.jpg").status_code == 302
    kept = store.read_file(db, "logo")
    assert kept["media_type"] == "image/png"
    img = Image.open(io.BytesIO(kept["data"]))
    assert img.format == "PNG" and max(img.size) == 512 and img.size == (512, 288)
    assert not img.getexif() and not img.info.get("exif") and b"SpyCam" not in kept["data"]
    served = admin.get(logo_address(admin.get("/").get_data(as_text=True)))
    assert served.data == kept["data"] and served.mimetype == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_an_svg_loses_scripts_handlers_foreign_content_and_outside_references(admin, db):
    assert upload(admin, SVG_ATTACK, "logo.svg").status_code == 302
    kept = store.read_file(db, "logo")
    text = kept["data"].decode()
    assert kept["media_type"] == "image/svg+xml"
    for gone in ("script", "alert", "foreignObject", "onload", "onclick", "javascript:", "evil.example", "<image",
                 "xhtml", "<a "):
        assert gone not in text, gone
    illustrator = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                   b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + SVG_ATTACK.split(b"?>", 1)[1])
    assert images.clean(illustrator)[1] == kept["data"]  # an editor's DOCTYPE alone is no reason to refuse
    assert 'href="#dot"' in text and 'fill="#003399"' in text and 'style="fill: red"' in text  # the drawing stays
    address = logo_address(admin.get("/").get_data(as_text=True))
    assert re.fullmatch(r"/site/logo-[0-9a-f]{16}\.svg", address)
    served = admin.get(address)
    assert served.headers["Content-Type"].startswith("image/svg+xml")
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert admin.get(address.replace(".svg", ".png")).status_code == 404  # only its own address


def test_entities_and_disguised_files_are_refused(admin, db):
    refused = upload(admin, XXE, "logo.svg")
    assert refused.status_code == 400 and "declares entities" in refused.get_data(as_text=True)
    deep = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 5000 + b"</g>" * 5000 + b"</svg>"
    assert "nests its elements too deeply" in upload(admin, deep, "deep.svg").get_data(as_text=True)
    html = b"<html><body><script>alert(1)</script></body></html>"
    refused = upload(admin, html, "logo.png")
    assert refused.status_code == 400 and "is not a PNG, JPEG, WebP or SVG picture" in refused.get_data(as_text=True)
    too_big = upload(admin, b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024 + 1), "big.png")
    assert too_big.status_code == 413 or "larger than 1 MB" in too_big.get_data(as_text=True)
    assert store.read_file(db, "logo") is None


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_the_logo_shows_in_the_header_the_embed_an_email_and_the_pdf(admin, db, site, smtp, tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (60, 30), (0, 51, 153)).save(png, format="PNG")
    upload(admin, png.getvalue(), "logo.png")
    page = admin.get("/?lang=fr").get_data(as_text=True)
    address = logo_address(page)
    assert re.search(r'<img class="site-logo" src="/site/logo-[0-9a-f]{16}\.png" alt="mapapp"', page)
    assert logo_address(admin.get("/embed").get_data(as_text=True)) == address

    visitor = site.test_client()
    token = csrf_from(visitor.get("/contribute?lang=fr").get_data(as_text=True))
    challenge = altcha.Challenge.from_dict(visitor.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    sent = visitor.post("/contribute?lang=fr", data={"csrf_token": token, "altcha": proof, "contact": "ana@example.org",
                                                     "name": "Vélo", "city": "Lyon", "country": "FR"})
    assert sent.status_code == 302
    [mail] = smtp.box.wait(1)
    assert "Confirmez" in mail["Subject"]
    # From the configured public address, never the request's host.
    assert f'<img class="site-logo" src="https://map.example.org{address}" alt="mapapp"' in html_of(mail)

    catalogue.save_project(db, {"slug": "p", "name": "Project P"})
    target = tmp_path / "r.pdf"
    result = site.test_cli_runner().invoke(args=["report", "p", "-o", str(target), "--lang", "fr"])
    assert result.exit_code == 0, result.output
    pdf = PdfReader(target)
    # The logo, carried inline: one picture (the tagged PDF lists it twice among the page's objects).
    assert len({image.data for p in pdf.pages for image in p.images}) == 1

    token = csrf_from(admin.get("/admin/settings/brand").get_data(as_text=True))
    admin.post("/admin/settings/brand/logo/remove", data={"csrf_token": token})
    assert 'class="site-logo"' not in admin.get("/").get_data(as_text=True)
    assert admin.get(address).status_code == 404


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_the_funding_block_in_french_on_pages_the_pdf_and_the_export(admin, db, site, tmp_path):
    assert 'class="funding' not in admin.get("/?lang=fr").get_data(as_text=True)
    save_funding(admin)
    page = admin.get("/?lang=fr").get_data(as_text=True)
    assert "Financé par l&#39;Union européenne</span>" in page and re.search(r'src="/static/eu/eu-emblem.svg[?"]', page)
    assert "Les points de vue et avis exprimés n&#39;engagent toutefois" in page  # the EU's standard disclaimer
    assert "Gefinancierd door de Europese Unie" in admin.get("/directory?lang=nl").get_data(as_text=True)
    assert "Financé par l&#39;Union européenne" in admin.get("/embed?lang=fr").get_data(as_text=True)

    catalogue.save_project(db, {"slug": "p", "name": "Project P"})
    target = tmp_path / "r.pdf"
    assert site.test_cli_runner().invoke(args=["report", "p", "-o", str(target), "--lang", "fr"]).exit_code == 0
    text = " ".join(p.extract_text() for p in PdfReader(target).pages)
    assert "Financé par l'Union européenne" in text and "autorité chargée de l'octroi" in " ".join(text.split())

    make_org(db, "Atelier")
    export = admin.get("/api/organisations.html?lang=fr").get_data(as_text=True)
    assert "Financé par l&#39;Union européenne</span>" in export and 'src="data:image/svg+xml;base64,' in export

    save_funding(admin, enabled=False)
    assert "Union européenne" not in admin.get("/?lang=fr").get_data(as_text=True)
    assert "Union européenne" not in admin.get("/api/organisations.html?lang=fr").get_data(as_text=True)
    assert site.test_cli_runner().invoke(args=["report", "p", "-o", str(target), "--lang", "fr"]).exit_code == 0
    assert "Union européenne" not in " ".join(p.extract_text() for p in PdfReader(target).pages)


def test_a_hostile_disclaimer_shows_as_inert_text(admin, db):
    assert save_funding(admin, fr=HOSTILE, en="Our own disclaimer").status_code == 302
    page = admin.get("/?lang=fr").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }} {% if 1 %}x{% endif %} ${1+1}" in page and "49" not in page.split("funding-disclaimer")[1][:200]
    assert "\ufffe" not in page and "\r" not in page.split("funding-disclaimer")[1][:400]
    assert "Our own disclaimer" in admin.get("/?lang=en").get_data(as_text=True)
    about = exports.About(site=store.current(db, admin.application.config))
    export = exports.to_html([], lang="fr", base_url="https://example.org", tile_url="", attribution="",
                             about=about).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in export and "<script>alert(1)" not in export


def test_too_long_a_disclaimer_is_refused_and_kept_as_typed(admin, db):
    refused = save_funding(admin, it="x" * 1001)
    assert refused.status_code == 400 and "At most 1000 characters" in refused.get_data(as_text=True)
    assert "x" * 1001 in refused.get_data(as_text=True)
    assert not store.read_settings(db).get("funding_enabled")


def test_editors_and_visitors_cannot_change_the_brand(site, staff, db):
    editor = site.test_client()
    sign_in(editor, "editor@example.org")
    assert editor.get("/admin/settings/brand").status_code == 403
    token = csrf_from(editor.get("/").get_data(as_text=True)) if 'name="csrf_token"' in editor.get("/").get_data(
        as_text=True) else ""
    assert editor.post("/admin/settings/brand/funding", data={"csrf_token": token,
                                                              "funding_enabled": "1"}).status_code == 403
    assert site.test_client().get("/admin/settings/brand").status_code in (302, 401)
    assert not store.read_settings(db).get("funding_enabled")


def test_forms_without_a_csrf_token_are_refused(admin, db):
    assert admin.post("/admin/settings/brand/funding", data={"funding_enabled": "1"}).status_code == 400
    assert not store.read_settings(db).get("funding_enabled")
