"""Imports through the category tree (#28): a file's categories are matched against the
catalogue's own tree (codes, labels in any language, aliases, ESSGLOBAL and ICA
activities), unknown values are reported once each with their rows, and the browser
preview creates a missing category in one click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import csrf_from, route_tiles, sign_in, sign_in_browser, upload

from mapapp import catalogue
from mapapp.catalogue import categories as tree
from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

DATA = Path(__file__).parent / "data"
HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", "=1+1"]


def run(db, path, **options):
    chain = Chain.from_config("provided", db, user_agent="")
    return importer.import_file(db, path, importer.Options(geocode=False, **options), chain)


def categories_of(db, name: str) -> list[str]:
    """An organisation's category codes, the main one first."""
    return [t for (t,) in db.execute(
        "SELECT t.theme FROM organisation_themes t JOIN organisations o ON o.id = t.organisation_id"
        " WHERE o.name = ? ORDER BY t.rank", [name])]


def add_category(db, code: str, labels: dict, *, parent: str | None = None, essglobal: str | None = None,
                 aliases: str = "", retired: bool = False) -> None:
    parent_id = db.execute("SELECT id FROM categories WHERE code = ?", [parent]).fetchone()[0] if parent else None
    with catalogue.write_transaction(db):
        db.execute("INSERT INTO categories (code, parent_id, labels, aliases, essglobal, retired_at, created_at,"
                   " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'now', 'now')",
                   [code, parent_id, json.dumps(labels), aliases, essglobal, "2026-01-01" if retired else None])


def test_the_uk_coops_arrive_with_their_ica_activities_as_categories(db):
    report = run(db, DATA / "coopsuk-essglobal-sample.csv", status="published")
    assert report.counts["created"] == 52 and not report.unknown_values()
    # ICA260 wholesale and retail → goods and services; ICA210 housing; ICA10 agriculture;
    # ICA140 financial services → money and finance.
    assert categories_of(db, "The Co-operative Group") == ["AM70"]
    by_activity = dict(db.execute(
        "SELECT t.theme, count(*) FROM organisation_themes t GROUP BY t.theme").fetchall())
    assert by_activity["AM90"] == 3 and by_activity["AM130"] >= 3 and by_activity["AM100"] >= 3
    without = db.execute("SELECT count(*) FROM organisations o WHERE NOT EXISTS"
                         " (SELECT 1 FROM organisation_themes t WHERE t.organisation_id = o.id)").fetchone()[0]
    assert without == 2  # the two rows of the sample whose activity is empty


def test_a_french_file_maps_labels_of_a_staff_child_category_and_essglobal_uris(db, tmp_path):
    add_category(db, "batiment", {"fr": "Artisanat du bâtiment", "en": "Building trades"})
    add_category(db, "isolation", {"fr": "Isolation thermique", "en": "Insulation"}, parent="batiment",
                 aliases="isolant|ouate de cellulose")
    add_category(db, "couture", {"fr": "Couture"}, retired=True)
    sheet = tmp_path / "artisans.csv"
    sheet.write_text(
        "Nom;Ville;Pays;Thèmes\n"
        "Isolants du Luberon;Apt;FR;isolation THERMIQUE | http://purl.org/essglobal/standard/activities-modified/AM40\n"
        "Maison Paille;Forcalquier;FR;https://w3id.solidarityeconomy.coop/essglobal/V2a/standard/activities-ica/ICA210"
        " | Ouate de cellulose\n"
        "Les Bâtisseurs;Manosque;FR;Artisanat du batiment, Éducation\n"
        "Atelier Fil;Digne;FR;Couture | AM130\n", encoding="utf-8")
    report = run(db, sheet, status="published")
    assert categories_of(db, "Isolants du Luberon") == ["isolation", "AM40"]  # the first is the main one
    assert categories_of(db, "Maison Paille") == ["AM90", "isolation"]  # an ICA URI → housing
    assert categories_of(db, "Les Bâtisseurs") == ["batiment", "AM40"]
    assert categories_of(db, "Atelier Fil") == ["AM130"]  # a retired category is not matched
    [retired] = report.unknown_values()
    assert (retired.value, retired.retired, retired.first) == ("Couture", "couture", [5])
    assert "RETIRED CATEGORY (code couture) 'Couture', column 'Thèmes': row 5" in report.summary()


def test_an_essglobal_code_goes_to_the_staff_category_mapped_to_it(db, tmp_path):
    with catalogue.write_transaction(db):
        db.execute("UPDATE categories SET retired_at = '2026-01-01' WHERE code = 'AM90'")
    add_category(db, "habitat-partage", {"fr": "Habitat partagé"}, essglobal="AM90")
    sheet = tmp_path / "habitat.csv"
    sheet.write_text("name,country,themes\nLa Grange,FR,AM90\nLes Tilleuls,FR,ICA210\n", encoding="utf-8")
    run(db, sheet, status="published")
    assert categories_of(db, "La Grange") == categories_of(db, "Les Tilleuls") == ["habitat-partage"]


def test_unknown_values_are_reported_once_each_with_their_rows_on_the_command_line(app, db, runner, tmp_path):
    sheet = tmp_path / "unknown.csv"
    lines = ["name,country,themes"] + [f"Coop {n},FR,Plomberie; Education" for n in range(6)]
    lines += [f"Hostile {n},FR,\"{value}\"" for n, value in enumerate(HOSTILE)]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(sheet), "--dry-run", "--no-geocode"])
    assert result.exit_code == 0, result.output
    assert "UNKNOWN CATEGORY 'Plomberie', column 'themes': 6 rows (2-7)" in result.output
    assert result.output.count("Plomberie") == 1  # once, not a warning per row
    for n, value in enumerate(HOSTILE):
        assert f"UNKNOWN CATEGORY '{value}', column 'themes': row {8 + n}" in result.output


def _preview(app, client, tmp_path, text: str) -> str:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    sheet = tmp_path / "trades.csv"
    sheet.write_text(text, encoding="utf-8")
    return upload(client, sheet).headers["Location"]


def test_the_preview_groups_unknown_values_and_an_admin_creates_one_in_one_click(app, db, staff, tmp_path):
    client = app.test_client()
    sign_in(client, "admin@example.org")
    url = _preview(app, client, tmp_path, "Nom,Pays,Thèmes\n" + "".join(
        f"Coop {n},FR,Plomberie\n" for n in range(4)) + "".join(
        f"Hostile {n},FR,\"{v}\"\n" for n, v in enumerate(HOSTILE)))
    page = client.get(url + "?lang=fr").get_data(as_text=True)
    unknown = page.split('id="unknown"')[1].split("</table>")[0]
    assert "<td>Plomberie<br><button" in unknown and "<td>4</td>" in unknown and "2, 3, 4, 5" in unknown
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in unknown
    assert "{{7*7}}" in unknown and "49" not in unknown and "=1+1" in unknown
    assert unknown.count(">Créer cette catégorie</button>") == 4
    token = csrf_from(page)
    # Without the form's token nothing is created.
    assert client.post(url.replace("/preview", "/categories"), data={"category_value": "Plomberie"}).status_code == 400
    answer = client.post(url.replace("/preview", "/categories"),
                         data={"category_value": "Plomberie", "csrf_token": token})
    assert answer.status_code == 302
    code, labels, colour = db.execute("SELECT code, labels, colour FROM categories WHERE code = 'plomberie'").fetchone()
    assert json.loads(labels) == {"fr": "Plomberie"} and colour == "#1f6f8b"
    again = client.get(url + "?lang=fr").get_data(as_text=True)
    assert "Plomberie" not in again.split('id="unknown"')[1].split("</table>")[0]
    assert "Plomberie" in again.split('id="samples"')[1]  # the rows now go to it
    # A hostile value becomes an inert label.
    client.post(url.replace("/preview", "/categories"), data={"category_value": HOSTILE[0], "csrf_token": token})
    [(label,)] = db.execute("SELECT labels FROM categories WHERE code = 'script-alert-1-script'").fetchall()
    assert json.loads(label) == {"en": HOSTILE[0]} or json.loads(label) == {"fr": HOSTILE[0]}
    shown = client.get(url + "?lang=fr").get_data(as_text=True)
    assert "<script>alert" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.split('id="samples"')[1]


def test_only_admins_create_categories_from_the_preview(app, db, staff, tmp_path):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = _preview(app, client, tmp_path, "name,country,themes\nCoop,FR,Plomberie\n")
    page = client.get(url).get_data(as_text=True)
    assert "Plomberie" in page.split('id="unknown"')[1] and "Create this category" not in page
    answer = client.post(url.replace("/preview", "/categories"),
                         data={"category_value": "Plomberie", "csrf_token": csrf_from(page)})
    assert answer.status_code == 403
    assert db.execute("SELECT count(*) FROM categories WHERE code = 'plomberie'").fetchone()[0] == 0


def test_import_with_labels_and_essglobal_uris_creating_a_missing_category_in_the_browser(
        app, worker, db, staff, page, live_server_for, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    add_category(db, "batiment", {"fr": "Artisanat du bâtiment"})
    sheet = tmp_path / "artisans.csv"
    sheet.write_text(
        "Nom;Ville;Pays;Latitude;Longitude;Thèmes\n"
        "Isolants du Luberon;Apt;FR;43.876;5.396;Artisanat du bâtiment\n"
        "Maison Paille;Forcalquier;FR;43.959;5.780;http://purl.org/essglobal/standard/activities-modified/AM90\n"
        "Plombiers Réunis;Manosque;FR;43.833;5.783;Plomberie | AM140\n", encoding="utf-8")
    route_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin/imports?lang=fr", "admin@example.org")
        page.wait_for_url("**/admin/imports*")
        page.set_input_files("input[name=file]", str(sheet))
        page.select_option("select[name=status]", "published")
        page.click("form[enctype] button[type=submit]")
        page.wait_for_url("**/preview*")
        unknown = page.locator("#unknown")
        assert "Plomberie" in unknown.inner_text()
        unknown.get_by_role("button", name="Créer cette catégorie : Plomberie").click()
        page.wait_for_url("**/preview*")
        assert "Plomberie" in page.locator(".flash").inner_text()
        assert page.locator("#unknown").count() == 0
        assert "Plomberie" in page.locator("#samples").inner_text()
        page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
        page.get_by_role("button", name="Importer maintenant").click()
        page.wait_for_url("**/admin/imports/*")
        page.locator("#report-link:not([hidden])").wait_for(timeout=20_000)
        slug = db.execute("SELECT slug FROM organisations WHERE name = 'Plombiers Réunis'").fetchone()[0]
        page.goto(server.url + f"/organisations/{slug}")
        assert page.locator("a[href*='theme=plomberie']").count() == 1
    assert categories_of(db, "Plombiers Réunis") == ["plomberie", "AM140"]
    assert categories_of(db, "Isolants du Luberon") == ["batiment"]
    assert categories_of(db, "Maison Paille") == ["AM90"]


def test_a_value_of_a_merged_category_says_which_one_replaced_it(db, tmp_path):
    add_category(db, "couture", {"fr": "Couture"})
    ids = dict(db.execute("SELECT code, id FROM categories WHERE code IN ('couture', 'AM10')").fetchall())
    tree.retire(db, ids["couture"], user_email="admin@example.org", into=ids["AM10"], merge=True)
    sheet = tmp_path / "merged.csv"
    sheet.write_text("name,country,themes\nAtelier Fil,FR,couture\nFil Rouge,FR,Couture\n", encoding="utf-8")
    report = run(db, sheet)
    [merged] = report.unknown_values()
    assert (merged.rows, merged.into) == (2, "AM10")
    assert "RETIRED CATEGORY (code couture, replaced by 'AM10') 'couture', column 'themes': rows 2-3" in report.summary()
    assert categories_of(db, "Atelier Fil") == []


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_large_file_read_by_a_second_process_matches_the_same_tree(db, tmp_path):
    add_category(db, "plomberie", {"fr": "Plomberie"}, aliases="plombier")
    sheet = tmp_path / "big.csv"
    sheet.write_text("name,country,themes\nA,FR,Plombier | ICA210\nB,FR,Zinguerie\n", encoding="utf-8")
    report = run(db, sheet, second_process=True)
    assert categories_of(db, "A") == ["plomberie", "AM90"]
    assert [(u.value, u.first) for u in report.unknown_values()] == [("Zinguerie", [3])]


def test_a_category_made_from_the_preview_keeps_no_line_break_or_noncharacter(app, db, staff, tmp_path):
    client = app.test_client()
    sign_in(client, "admin@example.org")
    url = _preview(app, client, tmp_path, "name,country,themes\nCoop,FR,Zinc\n")
    token = csrf_from(client.get(url).get_data(as_text=True))
    client.post(url.replace("/preview", "/categories"), data={"category_value": "Zinc\r\nerie\ufffe", "csrf_token": token})
    [(labels,)] = db.execute("SELECT labels FROM categories WHERE code LIKE 'zinc%'").fetchall()
    assert json.loads(labels) == {"en": "Zinc erie"}


def test_the_preview_of_a_coops_uk_file_reads_both_activity_columns_as_categories(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, DATA / "coopsuk-essglobal-sample.csv").headers["Location"]
    page = client.get(url).get_data(as_text=True)
    for header in ("Primary Activity", "Activities"):
        chosen = page.split(f'name="field:{header}"')[1].split("</select>")[0]
        assert 'value="themes" selected' in chosen
    rows = page.split('id="samples"')[1].split("</table>")[0]
    assert "Goods &amp; Services" in rows and "Housing" in rows and 'id="unknown"' not in page
