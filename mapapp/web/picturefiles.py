"""Pictures sent in a form (the staff edit page, the contribution form): read up to one byte past
the size limit, so that a bigger file is refused without being held whole in memory."""

from __future__ import annotations

from flask import current_app, request


def max_bytes() -> int:
    """The pictures' size limit (MAPAPP_IMAGE_MAX_MB), in bytes."""
    return int(current_app.config["IMAGE_MAX_MB"]) * 1024 * 1024


def read_upload(field: str) -> bytes:
    """The bytes of the file uploaded as ``field`` ("" when none), at most ``max_bytes() + 1``
    (``images.clean_picture`` refuses the bigger ones with a message saying the limit)."""
    upload = request.files.get(field)
    return upload.read(max_bytes() + 1) if upload else b""
