"""Running mapapp code in a fresh interpreter (not multiprocessing: spawning that way runs
the caller's main script again, and forking a web worker would copy its threads and open
connections)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def this_python(code: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``code`` in a new process of this interpreter,
    with this mapapp importable whatever the working directory."""
    path = os.pathsep.join(filter(None, (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
    return [sys.executable, "-c", code], {**os.environ, "PYTHONPATH": path}
