"""The logos and photos an imported file names by address (its ``logo`` and ``photos``
columns): fetched once the rows are written, in the import's background job, through the one
guarded fetcher (``mapapp.fetch``) with a byte cap, cleaned like an uploaded picture and given
an alt text from the organisation's name. A picture that cannot be had is a warning on its row,
never a failed import."""

from __future__ import annotations

import sqlite_utils

from .. import fetch, images
from ..catalogue import images as store
from ..translate import N_, Message, translated
from .report import Report

ALT = {"logo": N_("Logo of %(name)s"), "photo": N_("Photo of %(name)s")}
_COLUMN = {"logo": "logo", "photo": "photos"}


def fetch_pictures(db: sqlite_utils.Database, report: Report, *, allow: frozenset[str], max_bytes: int,
                   lang: str, created_by: str = "", fetcher=fetch.fetch) -> int:
    """Fetch and keep the pictures ``report.pictures`` lists (an address an organisation already
    has is not fetched again); what fails is added to the report as a warning on its row.
    Returns how many pictures were kept."""
    kept = 0
    for row, org_id, name, pictures in report.pictures:
        have = {p["source_url"] for p in store.pictures_of(db, org_id)}
        for role, url in pictures:
            if url in have:
                continue
            try:
                picture = images.clean_picture(_download(url, allow, max_bytes, fetcher), max_bytes)
                alt = translated(Message(ALT[role], name=name[:200]), lang)
                store.add_picture(db, picture, role=role, alt=alt, organisation_id=org_id, source_url=url,
                                  created_by=created_by)
                have.add(url)
                kept += 1
            except (fetch.FetchError, images.ImageRefused, store.PictureRefused) as e:
                report.add(row, _COLUMN[role], "warning",
                           Message(N_("picture %(url)s not kept: %(why)s"), url=url[:200], why=e.args[0]))
    return kept


def _download(url: str, allow: frozenset[str], max_bytes: int, fetcher) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise fetch.FetchError(Message(N_("only http and https addresses are fetched")))
    try:
        answer = fetcher(url, allow=allow, max_bytes=max_bytes + 1, deadline=30.0)
    except fetch.TooLarge as e:
        raise images.ImageRefused(Message(N_("the file is larger than %(mb)s MB: send a smaller picture"),
                                          mb=max(1, max_bytes // (1024 * 1024)))) from e
    if answer.status != 200:
        raise fetch.FetchError(Message(N_("the server answered HTTP %(status)s"), status=answer.status))
    return answer.body
