"""Organisations' logos and photos (#28): uploaded by staff with alt text, cleaned (re-encoded as
WebP, resized, no EXIF or GPS left), served at versioned addresses with long cache headers, shown
on the organisation's page, its popup's data and its linked data; limits and attacks refused."""

from __future__ import annotations

import io
import re

import pytest
from PIL import ExifTags, Image
from support import csrf_from, make_org, shows_49, sign_in

from mapapp import accounts, catalogue, create_app, images
from mapapp.catalogue import images as store
from mapapp.catalogue import imports as import_records
from mapapp.catalogue import personaldata as personal_store
from mapapp.contributing import personaldata
from mapapp.importing import jobs

HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${1+1} <script>alert(1)</script> javascript:alert(1) =1+1 \r\nA\ufffe"


def photo_with_gps(size=(2400, 1200), orientation: int | None = None) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # blue on the left, to see a turn
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (45.0, 45.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 50.0, 24.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size=(50, 40), colour=(0, 120, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": "https://map.example.org",
                       "IMAGE_MAX_MB": 1})


@pytest.fixture
def admin(site, staff):
    client = site.test_client()
    sign_in(client, "admin@example.org")
    return client


def add_picture(client, org_id: int, data: bytes, *, alt="A red workshop front", role="photo", name="p.jpg"):
    token = csrf_from(client.get(f"/admin/organisations/{org_id}/edit").get_data(as_text=True))
    return client.post(f"/admin/organisations/{org_id}/pictures",
                       data={"csrf_token": token, "role": role, "alt": alt, "picture": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def change_picture(client, org_id: int, image_id: int, action: str, **fields):
    token = csrf_from(client.get(f"/admin/organisations/{org_id}/edit").get_data(as_text=True))
    return client.post(f"/admin/pictures/{image_id}", data={"csrf_token": token, "action": action, **fields},
                       content_type="multipart/form-data", follow_redirects=True)


def image_links(html: str) -> list[str]:
    return re.findall(r'(/images/\d+-[0-9a-f]{8}(?:-thumb)?\.webp)', html)


def test_a_photo_with_gps_is_served_turned_resized_and_without_any_metadata(admin, db):
    org = make_org(db, "Atelier Rouge", slug="atelier-rouge")
    # Orientation 6: the camera was turned; the picture must come out upright (taller than wide).
    answer = add_picture(admin, org.id, photo_with_gps(orientation=6))
    assert "The photo is added." in answer.get_data(as_text=True)
    page = admin.get("/organisations/atelier-rouge").get_data(as_text=True)
    full = next(link for link in image_links(page) if not link.endswith("-thumb.webp"))
    thumb = next(link for link in image_links(page) if link.endswith("-thumb.webp"))
    served = admin.get(full)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    body = served.get_data()
    assert b"GPS" not in body and b"Exif" not in body and b"SpyCam" not in body and b"XMP" not in body
    picture = Image.open(io.BytesIO(body))
    assert picture.format == "WEBP" and not dict(picture.getexif())
    assert picture.size == (800, 1600)  # turned upright, then at most 1600 px
    small = Image.open(io.BytesIO(admin.get(thumb).get_data()))
    assert max(small.size) == 320 and not dict(small.getexif())
    assert 'alt="A red workshop front"' in page


def test_logo_beside_the_name_photos_in_a_gallery_and_in_the_api_and_linked_data(admin, site, db):
    org = make_org(db, "Atelier Bleu", slug="atelier-bleu")
    add_picture(admin, org.id, png(), role="logo", alt="Logo of Atelier Bleu", name="l.png")
    add_picture(admin, org.id, png(colour=(9, 9, 9)), alt="The shop window")
    visitor = site.test_client()
    page = visitor.get("/organisations/atelier-bleu").get_data(as_text=True)
    assert re.search(r'class="org-logo" src="/images/\d+-[0-9a-f]{8}-thumb\.webp" alt="Logo of Atelier Bleu"', page)
    assert re.search(r'<a href="/images/\d+-[0-9a-f]{8}\.webp"><img src="/images/\d+-[0-9a-f]{8}-thumb\.webp" '
                     r'alt="The shop window"', page)
    api = visitor.get("/api/organisations/atelier-bleu").get_json()
    assert [(p["role"], p["alt"]) for p in api["pictures"]] == [("logo", "Logo of Atelier Bleu"),
                                                                ("photo", "The shop window")]
    assert visitor.get(api["pictures"][0]["thumb"]).status_code == 200
    jsonld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1]
    assert re.search(r'"logo": ?"https://map\.example\.org/images/\d+-[0-9a-f]{8}\.webp"', jsonld)
    assert re.search(r'"image": ?\["https://map\.example\.org/images/\d+-[0-9a-f]{8}\.webp"\]', jsonld)


def test_a_new_logo_replaces_the_old_and_its_old_address_is_gone(admin, db):
    org = make_org(db, "Atelier Vert", slug="atelier-vert")
    add_picture(admin, org.id, png(), role="logo", alt="Old logo")
    old = image_links(admin.get("/organisations/atelier-vert").get_data(as_text=True))[0]
    add_picture(admin, org.id, png(colour=(1, 2, 3)), role="logo", alt="New logo")
    page = admin.get("/organisations/atelier-vert").get_data(as_text=True)
    assert "New logo" in page and "Old logo" not in page
    assert admin.get(old).status_code == 404


def test_at_most_four_photos_alt_text_required_and_size_limit_said(admin, db):
    org = make_org(db, "Atelier Gris")
    for n in range(4):
        add_picture(admin, org.id, png(colour=(n, n, n)), alt=f"Photo {n}")
    fifth = add_picture(admin, org.id, png(), alt="One too many").get_data(as_text=True)
    assert "at most 4 photos" in fifth
    assert len(store.pictures_of(db, org.id)) == 4
    no_alt = make_org(db, "Atelier Noir")
    answer = add_picture(admin, no_alt.id, png(), alt="   ").get_data(as_text=True)
    assert "alt text" in answer and store.pictures_of(db, no_alt.id) == []
    too_long = add_picture(admin, no_alt.id, png(), alt="x" * 301).get_data(as_text=True)
    assert "longer than 300 characters" in too_long
    big = add_picture(admin, no_alt.id, b"\xff\xd8" + b"0" * (1024 * 1024 + 10)).get_data(as_text=True)
    assert "larger than 1 MB" in big and store.pictures_of(db, no_alt.id) == []


@pytest.mark.parametrize("data, said", [
    (b"GIF89a<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>", "SVG"),
    (b"%PDF-1.4 hello", "not a PNG, JPEG or WebP"),
])
def test_non_pictures_polyglots_and_svg_are_refused(admin, db, data, said):
    org = make_org(db, "Atelier Ocre")
    answer = add_picture(admin, org.id, data).get_data(as_text=True)
    assert said in answer and store.pictures_of(db, org.id) == []


def test_a_polyglot_gif_that_decodes_is_re_encoded_without_its_html():
    img = io.BytesIO()
    Image.new("P", (4, 4)).save(img, format="GIF", comment=b"<script>alert(1)</script>")
    cleaned = images.clean_picture(img.getvalue() + b"<html><script>alert(2)</script>", 1024 * 1024)
    assert b"script" not in cleaned.data and cleaned.data[8:12] == b"WEBP"


def test_animations_and_decompression_bombs_are_refused():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(images.ImageRefused, match="animated"):
        images.clean_picture(out.getvalue(), 1024 * 1024)
    bomb = io.BytesIO()
    Image.new("1", (7000, 7000)).save(bomb, format="PNG")  # 49 million pixels in a few kilobytes
    with pytest.raises(images.ImageRefused, match="40 million pixels"):
        images.clean_picture(bomb.getvalue(), 1024 * 1024)


def test_reorder_alt_change_and_remove(admin, db):
    org = make_org(db, "Atelier Brun", slug="atelier-brun")
    add_picture(admin, org.id, png(), alt="First")
    add_picture(admin, org.id, png(colour=(5, 5, 5)), alt="Second")
    second = store.pictures_of(db, org.id)[1]["id"]
    change_picture(admin, org.id, second, "earlier")
    page = admin.get("/organisations/atelier-brun").get_data(as_text=True)
    assert page.index('alt="Second"') < page.index('alt="First"')
    change_picture(admin, org.id, second, "save", alt="Second, renamed")
    assert 'alt="Second, renamed"' in admin.get("/organisations/atelier-brun").get_data(as_text=True)
    change_picture(admin, org.id, second, "remove")
    page = admin.get("/organisations/atelier-brun").get_data(as_text=True)
    assert "Second" not in page and 'alt="First"' in page


def test_hostile_alt_text_is_inert_on_the_page_and_the_staff_form(admin, site, db):
    org = make_org(db, "Atelier Hostile", slug="atelier-hostile")
    add_picture(admin, org.id, png(), alt=HOSTILE)
    page = site.test_client().get("/organisations/atelier-hostile").get_data(as_text=True)
    form = admin.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    for html in (page, form):
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert not shows_49(html)
    kept = store.pictures_of(db, org.id)[0]["alt"]
    assert "\r" not in kept and "\n" not in kept and "\ufffe" not in kept


def test_picture_addresses_refuse_traversal_wrong_hashes_and_other_names(admin, db):
    org = make_org(db, "Atelier Clair", slug="atelier-clair")
    add_picture(admin, org.id, png())
    link = image_links(admin.get("/organisations/atelier-clair").get_data(as_text=True))[0]
    image_id = re.search(r"/images/(\d+)-", link)[1]
    for bad in (f"/images/{image_id}-00000000.webp", f"/images/{image_id}.webp", "/images/..%2F..%2Fetc%2Fpasswd",
                f"/images/{image_id}-{link[-13:-5]}.png", "/images/0-00000000.webp", "/images/-1-00000000.webp"):
        assert admin.get(bad).status_code == 404, bad


def test_a_partner_editor_cannot_add_or_change_pictures_outside_their_part(site, db, staff, admin):
    accounts.set_moderation_scope(db, staff["editor"].id, "IT", "")
    db.conn.commit()
    french = make_org(db, "Coopérative Lyonnaise")
    add_picture(admin, french.id, png(), alt="Kept")
    partner = site.test_client()
    sign_in(partner, "editor@example.org")
    token = csrf_from(partner.get("/admin/account").get_data(as_text=True))
    added = partner.post(f"/admin/organisations/{french.id}/pictures",
                         data={"csrf_token": token, "role": "photo", "alt": "Defaced",
                               "picture": (io.BytesIO(png()), "p.png")}, content_type="multipart/form-data")
    removed = partner.post(f"/admin/pictures/{store.pictures_of(db, french.id)[0]['id']}",
                           data={"csrf_token": token, "action": "remove"})
    assert added.status_code == 403 and removed.status_code == 403
    assert [p["alt"] for p in store.pictures_of(db, french.id)] == ["Kept"]


def test_a_form_without_its_csrf_token_is_refused(admin, db):
    org = make_org(db, "Atelier Sans Jeton")
    answer = admin.post(f"/admin/organisations/{org.id}/pictures",
                        data={"role": "photo", "alt": "x", "picture": (io.BytesIO(png()), "p.png")},
                        content_type="multipart/form-data")
    assert answer.status_code == 400 and store.pictures_of(db, org.id) == []


def test_deleting_an_organisation_deletes_its_pictures(admin, db):
    org = make_org(db, "Atelier Perdu")
    add_picture(admin, org.id, png())
    catalogue.delete_organisation(db, org.id)
    assert db.execute("SELECT count(*) FROM organisation_images").fetchone()[0] == 0


# -- Pictures sent with a contribution: pending, shown to moderators only, attached on acceptance --


@pytest.fixture
def public_site(db_path, tmp_path, smtp):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                       "PUBLIC_URL": "http://map.example.org", "IMAGE_MAX_MB": 1})


def contribute(client, smtp, path: str, n_mail: int, **fields) -> None:
    """Send the contribution form with pictures, and confirm it from the e-mail."""
    from urllib.parse import urlsplit

    import altcha
    from smtp_box import links_in

    token = csrf_from(client.get(path).get_data(as_text=True))
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    answer = client.post(path, data={"csrf_token": token, "altcha": proof, "contact": "ana@example.org", **fields},
                         content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    link = [u for u in links_in(smtp.box.wait(n_mail)[-1]) if "/contribute/confirm/" in u][0]
    confirm = urlsplit(link).path
    client.post(confirm, data={"csrf_token": csrf_from(client.get(confirm).get_data(as_text=True))})


def pending_id(db) -> int:
    return db.execute("SELECT max(id) FROM contributions").fetchone()[0]


def test_a_contributed_photo_waits_for_moderation_then_shows_once_accepted(public_site, db, smtp, staff):
    visitor = public_site.test_client()
    contribute(visitor, smtp, "/contribute", 1, name="Vélo Solidaire", city="Lyon", country="FR",
               photo=(io.BytesIO(photo_with_gps((900, 600))), "IMG_1.jpg"), photo_alt="Our repair bench",
               logo=(io.BytesIO(png()), "logo.png"), logo_alt="Vélo Solidaire's logo")
    cid = pending_id(db)
    [sent_logo, sent_photo] = store.pictures_of_contribution(db, cid)
    assert (sent_logo["role"], sent_photo["alt"]) == ("logo", "Our repair bench")
    pending_link = images.picture_path(sent_photo["id"], sent_photo["sha256"])
    assert visitor.get(pending_link).status_code == 404  # not public while pending
    moderator = public_site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    assert 'alt="Our repair bench"' in queue and images.picture_path(sent_photo["id"], sent_photo["sha256"], thumb=True) in queue
    shown = moderator.get(pending_link)
    assert shown.status_code == 200 and "no-store" in shown.headers["Cache-Control"]
    moderator.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)})
    slug = db.execute("SELECT slug FROM organisations").fetchone()[0]
    page = visitor.get(f"/organisations/{slug}").get_data(as_text=True)
    assert 'alt="Our repair bench"' in page and 'class="org-logo"' in page
    served = visitor.get(pending_link)
    assert served.status_code == 200 and "immutable" in served.headers["Cache-Control"]
    assert b"GPS" not in served.get_data() and b"Exif" not in served.get_data()


def test_a_rejected_contribution_s_pictures_are_deleted(public_site, db, smtp, staff):
    org = make_org(db, "Bread Coop", slug="bread-coop")
    visitor = public_site.test_client()
    contribute(visitor, smtp, "/organisations/bread-coop/suggest", 1, name="Bread Coop", city="Lyon",
               country="FR", photo=(io.BytesIO(png()), "p.png"), photo_alt="Not our bakery")
    cid = pending_id(db)
    assert len(store.pictures_of_contribution(db, cid)) == 1
    moderator = public_site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    moderator.post(f"/admin/moderation/{cid}/reject", data={"csrf_token": csrf_from(queue), "reason": "Not them"})
    assert db.execute("SELECT count(*) FROM organisation_images").fetchone()[0] == 0
    assert store.pictures_of(db, org.id) == []


def test_a_contribution_with_a_bad_picture_or_no_alt_is_sent_back_saying_why(public_site, db, smtp):
    visitor = public_site.test_client()
    token = csrf_from(visitor.get("/contribute").get_data(as_text=True))
    answer = visitor.post("/contribute", data={
        "csrf_token": token, "contact": "ana@example.org", "name": "Vélo", "city": "Lyon", "country": "FR",
        "photo": (io.BytesIO(b"GIF89a<script>alert(1)</script>"), "p.gif"), "photo_alt": "x",
        "logo": (io.BytesIO(png()), "l.png"), "logo_alt": ""}, content_type="multipart/form-data")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "not a PNG, JPEG or WebP" in body and "alt text" in body
    assert db.execute("SELECT count(*) FROM contributions").fetchone()[0] == 0


# -- An imported file's column of picture addresses, fetched by the job through the guarded fetcher --


class PictureServer:
    """Pictures (and things that are not) on a loopback HTTP server, for the fetcher to fetch."""

    def __init__(self, files: dict[str, tuple[int, str, bytes] | str]):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from support import ServerThread

        self.asked: list[str] = []
        self.files = files
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.asked.append(self.path)
                found = server.files.get(self.path, (404, "text/plain", b"no"))
                if isinstance(found, str):  # a redirect
                    self.send_response(302)
                    self.send_header("Location", found)
                    self.end_headers()
                    return
                status, media, body = found
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.thread = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    def __enter__(self):
        self.thread.__enter__()
        self.port = self.thread.server.server_address[1]
        self.base = f"http://localhost:{self.port}"
        return self

    def __exit__(self, *exc):
        self.thread.__exit__(*exc)


def test_an_import_fetches_its_picture_column_and_reports_what_it_could_not_have(db, db_path, staff, tmp_path):
    with PictureServer({"/logo.png": (200, "image/png", png()), "/bench.jpg": (200, "image/jpeg", photo_with_gps((800, 600))),
                        "/page.html": (200, "image/png", b"<html><script>alert(1)</script></html>"),
                        "/huge.jpg": (200, "image/jpeg", b"\xff\xd8" + b"0" * (1024 * 1024 + 100))}) as server:
        server.files["/hop"] = f"http://127.0.0.1:{server.port}/bench.jpg"  # allowed by name only, not by address
        path = tmp_path / "members.csv"
        path.write_text(
            "Nom,Ville,Pays,Logo,Photos\n"
            f"Atelier Un,Lyon,FR,{server.base}/logo.png,{server.base}/bench.jpg {server.base}/missing.jpg\n"
            f"Atelier Deux,Lyon,FR,,{server.base}/page.html;{server.base}/huge.jpg;{server.base}/hop\n"
            "Atelier Trois,Lyon,FR,javascript:alert(1),\n", encoding="utf-8")
        import_id = jobs.create(db, user_email="admin@example.org", filename=path.name, stored_path=str(path),
                                source="members", project=None, status_choice="published")
        settings = {"DATABASE": str(db_path), "FETCH_ALLOW_HOSTS": f"localhost:{server.port}", "IMAGE_MAX_MB": 1,
                    "GEOCODERS": "provided,cache,gazetteer"}
        report = jobs.run_now(str(db_path), import_id, settings)
    assert report is not None
    record = jobs.get(db, import_id)
    assert record["state"] == "done"
    ids = {name: oid for oid, name in db.execute("SELECT id, name FROM organisations")}
    first = store.pictures_of(db, ids["Atelier Un"])
    assert [(p["role"], p["alt"]) for p in first] == [("logo", "Logo of Atelier Un"), ("photo", "Photo of Atelier Un")]
    assert store.pictures_of(db, ids["Atelier Deux"]) == [] and store.pictures_of(db, ids["Atelier Trois"]) == []
    with_data = store.read_picture(db, first[1]["id"])
    assert b"GPS" not in with_data["data"] and b"Exif" not in with_data["data"]
    csv_report = import_records.report_csv(db, import_id)
    assert "missing.jpg not kept: the server answered HTTP 404" in csv_report
    assert "page.html not kept: this file is not a PNG, JPEG or WebP" in csv_report
    assert "huge.jpg not kept: the file is larger than 1 MB" in csv_report
    assert "hop not kept: this address is not allowed (private or local network)" in csv_report
    assert "javascript:alert(1) not kept: only http and https" in csv_report
    assert "/bench.jpg" in server.asked and server.asked.count("/bench.jpg") == 1  # the redirect was not followed
    # Imported again: what an organisation already has is not fetched again.
    asked = len(server.asked)
    import_again = jobs.create(db, user_email="admin@example.org", filename=path.name, stored_path=str(path),
                               source="members", project=None, status_choice="published")
    with PictureServer({}) as offline:
        jobs.run_now(str(db_path), import_again, {**settings, "FETCH_ALLOW_HOSTS": f"localhost:{offline.port}"})
    assert len(store.pictures_of(db, ids["Atelier Un"])) == 2 and asked == len(server.asked)



def test_exports_carry_the_logo_and_image_addresses(admin, site, db):
    org = make_org(db, "Atelier Export", slug="atelier-export")
    add_picture(admin, org.id, png(), role="logo", alt="Logo")
    add_picture(admin, org.id, png(colour=(4, 4, 4)), alt="Bench")
    make_org(db, "Atelier Sans Image")
    visitor = site.test_client()
    features = {f["properties"]["name"]: f["properties"] for f in visitor.get("/api/organisations.geojson").get_json()["features"]}
    assert re.fullmatch(r"/images/\d+-[0-9a-f]{8}\.webp", features["Atelier Export"]["logo"])
    assert re.fullmatch(r"/images/\d+-[0-9a-f]{8}\.webp", features["Atelier Export"]["image"])
    assert "logo" not in features["Atelier Sans Image"]
    linked = visitor.get("/api/organisations.jsonld").get_data(as_text=True)
    assert re.search(r'"schema:logo": \{\s*"@id": "https://map\.example\.org/images/\d+-[0-9a-f]{8}\.webp"', linked)
    assert re.search(r'"schema:image": \{\s*"@id": "https://map\.example\.org/images/\d+-[0-9a-f]{8}\.webp"', linked)


def test_a_column_of_picture_addresses_is_recognised_by_its_cells_whatever_its_header(db, db_path, staff, tmp_path):
    with PictureServer({"/a.jpg": (200, "image/jpeg", photo_with_gps((300, 200)))}) as server:
        path = tmp_path / "members.csv"
        path.write_text(f"Nom,Ville,Pays,Galerie\nAtelier Quatre,Lyon,FR,{server.base}/a.jpg\nAtelier Cinq,Lyon,FR,\n",
                        encoding="utf-8")
        import_id = jobs.create(db, user_email="admin@example.org", filename=path.name, stored_path=str(path),
                                source="members", project=None, status_choice="published")
        jobs.run_now(str(db_path), import_id, {"DATABASE": str(db_path), "IMAGE_MAX_MB": 1, "GEOCODERS": "provided",
                                               "FETCH_ALLOW_HOSTS": f"localhost:{server.port}"})
    org_id = db.execute("SELECT id FROM organisations WHERE name = 'Atelier Quatre'").fetchone()[0]
    assert [p["alt"] for p in store.pictures_of(db, org_id)] == ["Photo of Atelier Quatre"]
    assert "Galerie" not in (import_records.report_csv(db, import_id) or "")  # not reported as unknown


def test_hostile_alt_text_sent_with_a_contribution_is_inert_in_the_moderation_queue(public_site, db, smtp, staff):
    visitor = public_site.test_client()
    contribute(visitor, smtp, "/contribute", 1, name="Vélo Hostile", city="Lyon", country="FR",
               photo=(io.BytesIO(png()), "p.png"), photo_alt=HOSTILE)
    moderator = public_site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in queue and "&lt;script&gt;alert(1)&lt;/script&gt;" in queue
    assert not shows_49(queue)


def test_a_person_s_pending_pictures_are_in_their_access_report_and_go_with_their_erasure(public_site, db, smtp, staff):
    visitor = public_site.test_client()
    contribute(visitor, smtp, "/contribute", 1, name="Vélo Privé", city="Lyon", country="FR",
               photo=(io.BytesIO(png()), "me.png"), photo_alt="Me in front of the shop")
    held = personaldata.find(db, "ana@example.org")
    assert [p["alt"] for p in held.found["contributions"][0]["pictures"]] == ["Me in front of the shop"]
    assert b"Me in front of the shop" in held.to_json()
    personal_store.erase_contributions(db, "ana@example.org")
    assert db.execute("SELECT count(*) FROM organisation_images").fetchone()[0] == 0
