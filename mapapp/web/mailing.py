"""The e-mail and contribution settings the pages share, from the app's configuration."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for

from ..contributing import flow
from ..mail import Mailer


def settings() -> flow.Settings:
    """The flow's settings from the app's configuration (links absolute, for e-mails)."""
    config = current_app.config
    public = config.get("PUBLIC_URL", "").rstrip("/")

    def link(endpoint: str, values: dict) -> str:
        if public:
            return public + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)

    return flow.Settings(secret=config["SECRET_KEY"], site=config["SITE_NAME"],
                         per_hour=config["CONTRIBUTIONS_PER_HOUR"], confirm_hours=config["CONFIRM_HOURS"],
                         mailer=mailer(), link=link)


def mailer() -> Mailer:
    """The site's mailer: SMTP when MAPAPP_SMTP_URL is set, else the outbox folder."""
    config = current_app.config
    return Mailer(config["MAIL_FROM"], config["SMTP_URL"], Path(config["OUTBOX_DIR"]))
