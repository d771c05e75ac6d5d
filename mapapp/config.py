"""Defaults and the ``MAPAPP_*`` environment settings.

Every setting is listed in ``SETTINGS`` with its default and a one-line help;
README.md documents each of them (a test checks that it does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_PACKAGE = Path(__file__).resolve().parent
# In a source checkout templates/, static/ and data/ stand beside the package; an
# installed wheel carries them inside it.
ROOT = _PACKAGE if (_PACKAGE / "templates").is_dir() else _PACKAGE.parent
DATA_DIR = ROOT / "data"
# What the app writes (catalogue, uploads, caches): data/ in a checkout, else the
# folder the app is started from.
VAR_DIR = DATA_DIR if (ROOT / "pyproject.toml").is_file() else Path.cwd() / "mapapp-data"


class ConfigError(ValueError):
    """A ``MAPAPP_*`` setting has a value that cannot be used."""


_INTEGERS = ("TILE_MAX_ZOOM", "PORT", "GEOCODER_TIMEOUT", "UPLOAD_MAX_MB", "TRUSTED_PROXIES", "SESSION_HOURS",
             "CONFIRM_HOURS", "CONTRIBUTIONS_PER_HOUR", "ALTCHA_COST", "OWNER_LINK_DAYS", "REMIND_AFTER_DAYS",
             "STALE_AFTER_DAYS", "TRUSTED_FORWARDED_HOST", "OWNER_LINKS_PER_CLIENT", "OWNER_LINKS_PER_HOUR",
             "EXPORT_CACHE_MB", "ANSWER_CACHE_MB", "MAP_CACHE_SECONDS", "MAP_STALE_SECONDS", "IMAGE_MAX_MB", "COLD_PER_CLIENT", "COLD_TOTAL", "JOBS_WORKERS", "RETENTION_DAYS")


@dataclass(frozen=True)
class Setting:
    """One configurable value: its Flask config key, default and help text."""

    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return f"MAPAPP_{self.name}"


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE", str(VAR_DIR / "mapapp.db"), "Path of the SQLite catalogue; created on first use."),
    Setting("SECRET_KEY", "", "Key that signs session cookies; set a long random value in production."),
    Setting(
        "TILE_URL",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "Leaflet URL template of the base map tiles (the only thing a page loads from another host); "
        "empty: maps draw the shipped country outlines.",
    ),
    Setting(
        "TILE_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "Attribution shown for the tiles (HTML, set by the operator, not by data).",
    ),
    Setting("TILE_MAX_ZOOM", "19", "Highest zoom level the tile server provides."),
    Setting("HOST", "127.0.0.1", "Address `mapapp serve` listens on."),
    Setting("PORT", "5000", "Port `mapapp serve` listens on."),
    Setting("SITE_NAME", "mapapp", "Name shown in the page title and header."),
    Setting("TIMEZONE", "Europe/Brussels",
            "Time zone of the dates on staff screens when the staff member's browser does not tell its own."),
    Setting("DATA_LICENCE", "CC BY 4.0", "Licence of the published data, named in exports (empty: none named)."),
    Setting("DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/", "Address of the data licence's text."),
    Setting(
        "GEOCODERS",
        "provided,cache,postcode,gazetteer",
        "Geocoder chain, in order: provided, cache, ban, nominatim, photon, postcode, gazetteer.",
    ),
    Setting(
        "GEOCODER_USER_AGENT",
        "",
        "Name and contact sent to online geocoders (required by their policies when one is used).",
    ),
    Setting("GEOCODER_TIMEOUT", "10", "Seconds to wait for an online geocoder's answer."),
    Setting("NOMINATIM_URL", "https://nominatim.openstreetmap.org", "Nominatim server (your own, or the public one)."),
    Setting("PHOTON_URL", "https://photon.komoot.io", "Photon server."),
    Setting(
        "EMBED_FRAME_ANCESTORS",
        "*",
        "Sites allowed to frame the embed pages (CSP frame-ancestors, space-separated); other pages are never framed.",
    ),
    Setting("JOBS_DATABASE", "", "SQLite file of the job queue (imports, syncs, PDF reports) that `mapapp worker` runs; empty: the catalogue's path followed by -jobs.db."),
    Setting("JOBS_WORKERS", "2", "Jobs the worker (`mapapp worker`) runs at once, each in a process of its own."),
    Setting("JOBS_DAILY_AT", "", "Time of day (HH:MM, UTC) at which the worker sends the daily digests, the weekly ones on Mondays, and the owners' reminders; empty: cron runs `mapapp send-digests` and `mapapp remind-owners`."),
    Setting("UPLOAD_DIR", str(VAR_DIR / "uploads"), "Folder where files uploaded for import are kept."),
    Setting("UPLOAD_MAX_MB", "20", "Largest file staff may upload for import, in megabytes."),
    Setting("IMAGE_MAX_MB", "8", "Largest logo or photo of an organisation taken from a form or an import's URL, in megabytes."),
    Setting("BAN_URL", "https://api-adresse.data.gouv.fr", "Base Adresse Nationale (France) server."),
    Setting("CACHE_DIR", str(VAR_DIR / "cache"), "Folder where the exports worth keeping, PDF reports and the map's columns (shared by the worker processes) are kept per catalogue version."),
    Setting(
        "TRUSTED_PROXIES",
        "0",
        "How many reverse proxies stand in front of the app (their X-Forwarded-For/-Proto/-Host are "
        "believed); 0 when clients connect directly.",
    ),
    Setting(
        "TRUSTED_FORWARDED_HOST",
        "0",
        "1 to believe the proxies' X-Forwarded-Host and -Port (only when every proxy sets them itself); "
        "0: the Host header the proxy passes on is used.",
    ),
    Setting(
        "SECURE_COOKIES",
        "",
        "1 to always mark the session cookie Secure (sites served over https), 0 never; empty: "
        "Secure when the request came over https.",
    ),
    Setting("SESSION_HOURS", "12", "Hours a staff sign-in lasts before signing in again."),
    Setting("SMTP_URL", "", "Mail server: smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465; "
            "empty: messages are written to MAPAPP_OUTBOX_DIR and their links printed on the console."),
    Setting("MAIL_FROM", "mapapp <noreply@localhost>", "Sender of the messages the site sends."),
    Setting("OUTBOX_DIR", str(VAR_DIR / "outbox"), "Folder of the .eml files written when no mail server is set."),
    Setting("PUBLIC_URL", "", "Address of the site (https://map.example.org), which every link in a message "
            "points at; required to send mail through MAPAPP_SMTP_URL (empty: only the outbox, or debug mode, "
            "with links to MAPAPP_HOST:MAPAPP_PORT)."),
    Setting("CONFIRM_HOURS", "48", "Hours a contribution's confirmation link stays valid."),
    Setting("RETENTION_DAYS", "90", "Days after a moderator's decision that a contribution keeps its author's "
            "e-mail address (then blanked; the contribution stays, for the history)."),
    Setting("CONTRIBUTIONS_PER_HOUR", "5", "Contributions accepted per hour from one address, and from one e-mail."),
    Setting("OWNER_EDITS", "moderate", "What an owner's edit through the e-mailed link does: 'publish' at once, "
            "or 'moderate' (goes to the moderation queue)."),
    Setting("OWNER_LINK_DAYS", "30", "Days an owner's edit link stays valid."),
    Setting("OWNER_LINKS_PER_CLIENT", "5", "Edit links one connection (one IPv4 address, one IPv6 /64) may have "
            "sent, to any organisations, per hour."),
    Setting("OWNER_LINKS_PER_HOUR", "60", "Edit links the whole site sends per hour from its organisations' "
            "pages (staff's and reminders' not counted)."),
    Setting("REMIND_AFTER_DAYS", "365", "Days after which `mapapp remind-owners` asks an owner to check their entry."),
    Setting("STALE_AFTER_DAYS", "730", "Days after its last check (by its owner, or any change) after which an entry "
            "fades on the map and staff can list it as not checked; 0: never."),
    Setting("MURMURATIONS_INDEX", "https://test-index.murmurations.network/v2", "The Murmurations index that "
            "`mapapp murmurations register` posts the profiles to (the live one: https://index.murmurations.network/v2)."),
    Setting("FETCH_ALLOW_HOSTS", "", "Hosts (`host` or `host:port`, comma-separated) that sync sources and the "
            "Murmurations index may be on although they are on a private or local network (an intranet's, a test "
            "server's); every other private, local or metadata address is refused."),
    Setting("EXPORT_CACHE_MB", "200", "Megabytes of exports kept on disk (the whole catalogue's, and filtered ones "
            "asked for often; the least recently used go first); 0: none kept, every export streamed."),
    Setting("MAP_CACHE_SECONDS", "60", "Seconds a browser or a caching proxy may reuse a public map answer "
            "(clusters, list, facets, categories) without asking again (`Cache-Control: max-age`); 0: ask every time."),
    Setting("ANSWER_CACHE_MB", "64", "Megabytes of public answers (map answers, anonymous public pages) each web "
            "worker keeps in memory and sends again for `MAP_CACHE_SECONDS`, as a caching proxy would (the least "
            "recently used go first); 0: none kept."),
    Setting("MAP_STALE_SECONDS", "600", "Seconds after that during which a caching proxy may still send its copy "
            "while it asks for a fresh one (`stale-while-revalidate`)."),
    Setting("COLD_PER_CLIENT", "2", "Exports, charts and reports computed at once for one address (IPv6: one /64), "
            "per worker process; more are refused with 429 until one finishes."),
    Setting("COLD_TOTAL", "4", "Exports, charts and reports computed at once for everyone, per worker process."),
    Setting("ALTCHA_COST", "5000", "Work asked of a contributor's browser (PBKDF2 rounds per try) before a form is accepted."),
)


def from_environment(environ: os._Environ | dict | None = None) -> dict[str, str]:
    """Return the Flask config mapping: defaults overridden by ``MAPAPP_*`` variables."""
    environ = os.environ if environ is None else environ
    config: dict = {s.name: environ.get(s.env, s.default) for s in SETTINGS}
    for name in _INTEGERS:
        try:
            config[name] = int(config[name])
        except ValueError:
            raise ConfigError(
                f"MAPAPP_{name} must be a whole number, got {config[name]!r}"
            ) from None
    if config["SECURE_COOKIES"] not in ("", "0", "1"):
        raise ConfigError(f"MAPAPP_SECURE_COOKIES must be 1, 0 or empty, got {config['SECURE_COOKIES']!r}")
    if config["OWNER_EDITS"] not in ("publish", "moderate"):
        raise ConfigError(f"MAPAPP_OWNER_EDITS must be publish or moderate, got {config['OWNER_EDITS']!r}")
    if config["TRUSTED_FORWARDED_HOST"] not in (0, 1):
        raise ConfigError(f"MAPAPP_TRUSTED_FORWARDED_HOST must be 1 or 0, got {config['TRUSTED_FORWARDED_HOST']}")
    public = urlsplit(config["PUBLIC_URL"])
    if config["PUBLIC_URL"] and (public.scheme not in ("http", "https") or not public.hostname or public.query
                                 or public.fragment):
        raise ConfigError(f"MAPAPP_PUBLIC_URL must be the site's address, e.g. https://map.example.org, "
                          f"got {config['PUBLIC_URL']!r}")
    for name in ("CONFIRM_HOURS", "CONTRIBUTIONS_PER_HOUR", "ALTCHA_COST", "OWNER_LINK_DAYS", "REMIND_AFTER_DAYS",
                 "OWNER_LINKS_PER_CLIENT", "OWNER_LINKS_PER_HOUR", "RETENTION_DAYS", "IMAGE_MAX_MB"):
        if config[name] < 1:
            raise ConfigError(f"MAPAPP_{name} must be 1 or more, got {config[name]}")
    if config["STALE_AFTER_DAYS"] < 0:
        raise ConfigError(f"MAPAPP_STALE_AFTER_DAYS must be 0 (never) or more, got {config['STALE_AFTER_DAYS']}")
    for name in ("COLD_PER_CLIENT", "COLD_TOTAL"):
        if config[name] < 1:
            raise ConfigError(f"MAPAPP_{name} must be 1 or more, got {config[name]}")
    if config["EXPORT_CACHE_MB"] < 0:
        raise ConfigError(f"MAPAPP_EXPORT_CACHE_MB must be 0 (keep none) or more, got {config['EXPORT_CACHE_MB']}")
    if config["ANSWER_CACHE_MB"] < 0:
        raise ConfigError(f"MAPAPP_ANSWER_CACHE_MB must be 0 (keep none) or more, got {config['ANSWER_CACHE_MB']}")
    for name in ("MAP_CACHE_SECONDS", "MAP_STALE_SECONDS"):
        if config[name] < 0:
            raise ConfigError(f"MAPAPP_{name} must be 0 or more seconds, got {config[name]}")
    for name in ("TRUSTED_PROXIES", "SESSION_HOURS"):
        if config[name] < (0 if name == "TRUSTED_PROXIES" else 1):
            raise ConfigError(f"MAPAPP_{name} must not be {'negative' if name == 'TRUSTED_PROXIES' else 'below 1'}")
    return config
