"""Errors that carry the HTTP status they map to; raised by the working modules."""

from __future__ import annotations


class MapappError(Exception):
    """Base class: a problem the user can act on, with its HTTP status (400 unless a
    subclass says otherwise)."""

    status = 400

    def __init__(self, message: str, *, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        self.parameter = parameter


class BadRequest(MapappError):
    """A request parameter has a value that cannot be used (HTTP 400)."""

    status = 400


class NotFound(MapappError):
    """The requested thing does not exist or is not public (HTTP 404)."""

    status = 404


class ServiceUnavailable(MapappError):
    """The server cannot do this now, for a reason its operator can fix (HTTP 503)."""

    status = 503
