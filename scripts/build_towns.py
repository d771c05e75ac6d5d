"""Build data/geo/towns.tsv: towns' names in the six languages, from GNOME's libgweather.

libgweather's world locations (``Locations.xml``) name about 4,200 towns, and its
``libgweather-4.0-locations`` catalogues translate them (Bruxelles, Bruksela, Βρυξέλλες,
Brussel; Thessalonique, Saloniki, Θεσσαλονίκη). GeoNames' alternate names, which the
gazetteer holds, do not say their language; these do. Kept: the towns of 100,000 people or
more in the gazetteer (data/geo/places/, matched by country and name) that some language names
otherwise than English.

libgweather's data is licensed GPL-2.0-or-later (see data/geo/README.md and docs/licences.md).
Run, on Debian: ``apt-get download libgweather-4-common && dpkg-deb -x libgweather-4-common_*.deb gw
&& python scripts/build_towns.py gw/usr/share`` (or ``python scripts/build_towns.py /usr/share``
where the package is installed).
"""

from __future__ import annotations

import csv
import gettext
import gzip
import sys
import xml.etree.ElementTree as ET  # nosec B405 # a file of a Debian package, read at build time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mapapp.text import fold  # noqa: E402

POPULATION = 100_000  # as mapapp.multilingual.PLACE_POPULATION
OUT = ROOT / "data" / "geo" / "towns.tsv"
LANGUAGES = ("en", "fr", "it", "pl", "el", "nl")


def towns(share: Path) -> list[tuple[str, dict[str, str]]]:
    """``(country, {language: name})`` of every town of ``Locations.xml`` under ``share``."""
    catalogues = {lang: gettext.GNUTranslations((share / "locale" / lang / "LC_MESSAGES"
                                                 / "libgweather-4.0-locations.mo").open("rb"))
                  for lang in LANGUAGES if lang != "en"}
    root = ET.parse(share / "libgweather-4" / "Locations.xml").getroot()  # nosec B314 # see the import
    found = []

    def walk(node, country: str | None) -> None:
        for child in node:
            if child.tag == "country":
                walk(child, child.findtext("iso-code"))
            elif child.tag == "city":
                name = child.find("_name")
                if name is None or not country:
                    continue
                context, english = name.get("msgctxt"), name.text.strip()
                names = {"en": english}
                for lang, catalogue in catalogues.items():
                    names[lang] = catalogue.pgettext(context, english) if context else catalogue.gettext(english)
                found.append((country, names))
            else:
                walk(child, country)

    walk(root, None)
    return found


def big_towns() -> set[tuple[str, str]]:
    """``(country, folded name)`` of every name and alternate name of the gazetteer's towns of
    ``POPULATION`` people or more."""
    found = set()
    for path in (ROOT / "data" / "geo" / "places").glob("*.tsv.gz"):
        country = path.name.split(".")[0]
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) == 7 and row[5].isdigit() and int(row[5]) >= POPULATION:
                    found.update((country, fold(n)) for n in (row[1], *row[6].split("|")) if n)
    return found


def main(share: Path) -> None:
    big = big_towns()
    rows = sorted({(country, *(names[lang] for lang in LANGUAGES)) for country, names in towns(share)
                   if any(names[lang] != names["en"] for lang in LANGUAGES)
                   and any((country, fold(name)) in big for name in names.values())})
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(("country", *LANGUAGES))
        writer.writerows(rows)
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} towns")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share"))
