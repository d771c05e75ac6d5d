"""Fill the catalogues in mapapp/translations from Python files of translations.

Each file defines ``T = {msgid: (fr, it, pl, el, nl)}``; the entries replace empty or
fuzzy translations (and only those, unless --force). A plural message is keyed by its
singular and gives, per language, a tuple of forms in the order of that language's
plural rule (Polish has three). Then run ``make translations``'
compile step (``pybabel compile -d mapapp/translations``).

    python scripts/fill_translations.py new-strings.py [more.py …]
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LANGS = ("fr", "it", "pl", "el", "nl")
DIRECTORY = Path(__file__).resolve().parent.parent / "mapapp" / "translations"


def main(paths: list[str]) -> None:
    force = "--force" in paths
    table: dict[str, tuple[str, ...]] = {}
    for path in (p for p in paths if p != "--force"):
        table.update(runpy.run_path(path)["T"])
    for i, lang in enumerate(LANGS):
        po = DIRECTORY / lang / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        filled = 0
        for message in catalog:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            empty = not message.string or (isinstance(message.string, tuple) and not all(message.string))
            if key in table and (force or empty or message.fuzzy):
                message.string = table[key][i]
                message.flags.discard("fuzzy")
                filled += 1
        with po.open("wb") as f:
            write_po(f, catalog, width=0)
        missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy
                                                      or (isinstance(m.string, tuple) and not all(m.string)))]
        print(f"{lang}: {filled} filled, {len(missing)} still missing")
        for msgid in missing:
            print(f"  {msgid!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
