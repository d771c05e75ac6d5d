"""The key that signs sessions, forms and e-mailed links when MAPAPP_SECRET_KEY is unset:
made once and kept in the data folder, so that every worker process, and the next start,
signs with the same key."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from .config import ConfigError

log = logging.getLogger("mapapp")
FILE_NAME = "secret_key"


def kept_key(folder: Path) -> str:
    """The key kept in ``folder``/secret_key, made on first call.

    Several workers starting at once may each make one: each writes its own private file
    (mode 0600) and links it to the shared name, which only the first can do (a link
    never replaces a file), then every worker reads back the one that won. A reader never
    sees a half-written key."""
    path = folder / FILE_NAME
    if not path.exists():
        draft = folder / f".{FILE_NAME}.{secrets.token_hex(8)}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise ConfigError(f"no MAPAPP_SECRET_KEY, and no key can be kept in {folder} ({e.strerror or e}): "
                              "set MAPAPP_SECRET_KEY to a long random value, or let the app write there") from None
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.link(draft, path)
            log.warning("no MAPAPP_SECRET_KEY: made a key and kept it in %s (every worker uses it; set "
                        "MAPAPP_SECRET_KEY to choose your own)", path)
        except FileExistsError:
            pass  # another worker's key won
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key (it should be 64 hex characters): delete it to have a "
                          "new one made, or set MAPAPP_SECRET_KEY")
    log.info("no MAPAPP_SECRET_KEY: signing with the key kept in %s", path)
    return key
