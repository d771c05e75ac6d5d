"""The documentation follows the code: the README keeps its two commands, every link between
the documents leads somewhere, and the architecture names every module a newcomer will meet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "mapapp"
DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(text: str) -> set[str]:
    """GitHub's anchors for a document's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_the_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\nmake run " in readme and "\nmake test " in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_between_documents_leads_somewhere(document):
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue  # another site
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_the_index_lists_every_document():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"]({p.name})" not in index]
    assert missing == []


def test_the_architecture_names_every_module_in_its_folders_section():
    architecture = (DOCS / "architecture.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", architecture, flags=re.MULTILINE)
    missing = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if "translations" in parts or path.stem == "__init__":
            continue
        if len(parts) == 1:  # a top-level module: in the layers' table or among the shared modules
            if f"| `{path.stem}` |" not in architecture and f"| `mapapp/{path.name}` |" not in architecture:
                missing.append(path.name)
            continue
        folder = [s for s in sections if s.startswith(f"`mapapp/{parts[0]}/`")]
        if not folder or f"| `{path.stem}` |" not in folder[0]:
            missing.append("/".join(parts))
    assert sorted(missing) == [], "describe these modules in docs/architecture.md, in their folder's table"
