"""The layers a newcomer reads in the README hold in the code: which folder may import
which, Flask only in web/ and cli.py, one truth for the small vocabularies."""

from __future__ import annotations

import ast
import csv
import tomllib
from pathlib import Path

from mapapp import vocab

PACKAGE = Path(__file__).resolve().parent.parent / "mapapp"
# What each layer may import from mapapp (itself always). Arrows run one way:
# web/, cli → contributing → importing → mapdata → catalogue → the shared modules;
# insights (numbers, charts, reports) reads the catalogue and draws with mapdata's outlines.
SHARED = {"config", "errors", "vocab", "kinds", "filters", "geo", "params", "text", "csvsafe", "records", "translate", "mail", "processes", "fetch", "secretkey", "coldwork", "site", "images", "brand", "pages", "ics", "icons", "fields", "multilingual"}
ALLOWED = {
    "shared": SHARED,
    "catalogue": SHARED | {"catalogue"},
    "mapdata": SHARED | {"catalogue", "mapdata"},
    "accounts": SHARED | {"catalogue", "accounts"},
    "importing": SHARED | {"catalogue", "mapdata", "importing"},
    "contributing": SHARED | {"catalogue", "mapdata", "importing", "contributing"},
    "insights": SHARED | {"catalogue", "mapdata", "insights"},
    # jobs run the working folders' long tasks in the worker process; web and cli enqueue them.
    "jobs": SHARED | {"catalogue", "mapdata", "importing", "accounts", "contributing", "insights", "jobs"},
    "web": SHARED | {"catalogue", "mapdata", "importing", "accounts", "contributing", "insights", "jobs", "web"},
    "cli": SHARED | {"catalogue", "mapdata", "importing", "accounts", "contributing", "insights", "jobs", "cli", "create_app"},
    "__init__": {"config", "web", "cli"},
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if len(parts) > 1:
        return parts[0]
    return "shared" if parts[0] in SHARED else parts[0]


def imported_layers(path: Path) -> set[tuple[str, int]]:
    """(the mapapp module or folder imported, line) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(PACKAGE).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[:len(here) - (node.level - 1)]) if node.level > 1 else list(here)
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "mapapp":
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add((target[0], node.lineno))
            else:  # from . import a, b at the package root
                found.update((alias.name, node.lineno) for alias in node.names)
    return found


def modules():
    return [p for p in PACKAGE.rglob("*.py") if "translations" not in p.parts]


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for path in modules():
        layer = layer_of(path)
        allowed = ALLOWED[layer]
        for target, line in imported_layers(path):
            target_layer = "shared" if target in SHARED else target
            if target_layer != "shared" and target not in allowed:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({layer}) imports {target}")
    assert wrong == []


def test_only_web_and_cli_import_flask():
    wrong = []
    for path in modules():
        if layer_of(path) in ("web", "cli", "__init__"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            wrong += [f"{path.relative_to(PACKAGE)}:{node.lineno} imports {n}" for n in names
                      if n.split(".")[0].startswith("flask")]
    assert wrong == []


def test_blueprints_do_not_import_each_other():
    blueprints = {p.stem for p in (PACKAGE / "web").glob("*.py") if "Blueprint(" in p.read_text()}
    wrong = []
    for name in blueprints:
        path = PACKAGE / "web" / f"{name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                wrong += [f"web/{name} imports {t}" for t in targets if t in blueprints and t != "auth"]
    # auth is imported for its role check, which lives with sign-in.
    assert wrong == []


def test_sql_is_written_only_in_the_catalogue():
    keywords = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM")
    wrong = []
    for path in modules():
        if layer_of(path) == "catalogue":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    any(node.value.lstrip().upper().startswith(k) for k in keywords):
                wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert wrong == []


def test_every_package_folder_is_in_the_wheel():
    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert folders <= listed


def test_relations_are_defined_once():
    with open(vocab.VOCAB_DIR / "relations.csv", encoding="utf-8") as f:
        assert tuple(row["code"] for row in csv.DictReader(f)) == vocab.RELATIONS
