"""Needs and offers that are none of the vocabulary's are reported once per value, with how
many rows hold it and the first of them, not one warning per row (issue 31: a million rows
of the shared benchmark generator held 543,655 warnings in memory, one by one)."""

from __future__ import annotations

import csv

from support import sign_in, upload

from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", "=1+1", "Plumbing ${x}"]


def write(path, rows: int) -> None:
    lines = ["name,country,needs,offers"] + [f"Coop {n},FR,legal-advice; funding,storage" for n in range(rows)]
    lines += [f"Hostile {n},FR,\"{value}\",premises" for n, value in enumerate(HOSTILE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(db, path, **options):
    chain = Chain.from_config("provided", db, user_agent="")
    return importer.import_file(db, path, importer.Options(geocode=False, **options), chain)


def test_each_unknown_need_or_offer_is_counted_once_with_its_first_rows(db, tmp_path):
    sheet = tmp_path / "resources.csv"
    write(sheet, 30)
    for second_process in (False, True):
        report = run(db, sheet, dry_run=True, second_process=second_process)
        assert not report.issues  # nothing held row by row
        assert report.counts["warnings"] == 30 + 30 + len(HOSTILE)  # as many as before
        [advice, *hostile] = [u for u in report.unknown_resource_values() if u.column == "needs"]
        assert (advice.value, advice.rows, advice.first) == ("legal-advice", 30, list(range(2, 12)))
        assert [u.value for u in hostile] == HOSTILE
        [storage] = [u for u in report.unknown_resource_values() if u.column == "offers"]
        assert storage.rows == 30 and storage.rows_text() == "30 rows (2-11, …)"
        assert not report.unknown_values()  # not offered as categories to create


def test_the_command_line_and_its_report_file_say_each_value_once(app, db, runner, tmp_path):
    sheet, out = tmp_path / "resources.csv", tmp_path / "report.csv"
    write(sheet, 30)
    result = runner.invoke(args=["import", str(sheet), "--no-geocode", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert ("WARNING 30 rows (2-11, …), column 'needs': 'legal-advice' is not one of the needs and offers"
            in result.output)
    assert "64 warnings" in result.output
    with out.open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    warnings = [line["message"] for line in lines if line["level"] == "warning"]
    assert len(warnings) == 2 + len(HOSTILE)  # one line per value, not one per row
    assert any(w.startswith("'legal-advice' is not one of the needs and offers") and w.endswith(": 30 rows (2-11, …)")
               for w in warnings)
    assert sum(1 for line in lines if line["action"] == "created") == 30 + len(HOSTILE)
    for line in lines:  # no cell starts a formula
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.values())


def test_the_preview_shows_how_many_rows_hold_each_value_as_inert_text(app, db, staff, tmp_path):
    client = app.test_client()
    sign_in(client, "admin@example.org")
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    sheet = tmp_path / "resources.csv"
    write(sheet, 30)
    url = upload(client, sheet).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    issues = page.split('id="issues"')[1].split("</table>")[0]
    advice = next(line for line in issues.split("<tr") if "legal-advice" in line)
    assert ">30 rows</span>" in advice and 'title="2, 3, 4, 5, 6, 7, 8, 9, 10, 11"' in advice
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in issues
    assert "{{7*7}}" in issues and "49" not in issues and "Plumbing ${x}" in issues
    assert 'id="unknown"' not in page  # needs and offers are not categories to create
