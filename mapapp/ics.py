"""A project's visits and events as an iCalendar feed (RFC 5545), built with the
``icalendar`` library, which folds lines and escapes text: a title holding CRLF or
``;``/``,`` stays one SUMMARY value and cannot add properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from icalendar import Calendar, Event, vGeo

PRODID = "-//mapapp//projects//EN"


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(value) -> str:
    """Text without the characters no calendar may carry (U+FFFE, controls but tab and newline)."""
    return "".join(c for c in str(value or "") if c in "\t\n" or (c >= " " and c not in "\x7f\ufffe\uffff"))


def project_calendar(project: dict, visits: list[dict], lang: str, *, host: str, project_url: str,
                     name: str, stamp: datetime | None = None) -> bytes:
    """The feed of ``visits`` (``visitreads`` rows) of ``project``: one all-day VEVENT per dated
    visit, its UID ``<visit slug>@<host>`` stable across requests, SUMMARY and DESCRIPTION in
    ``lang`` (the original title otherwise), LOCATION, GEO when located, URL ``project_url``,
    CATEGORIES its kind. Undated visits are left out (a VEVENT needs a start)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _text(name))
    stamp = stamp or datetime.now(timezone.utc).replace(microsecond=0)
    for visit in visits:
        start = _day(visit.get("date"))
        if start is None:
            continue
        end = max(_day(visit.get("end_date")) or start, start)
        event = Event()
        event.add("uid", f"{visit['slug']}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end + timedelta(days=1))  # all-day: DTEND is the day after the last one
        event.add("summary", _text(visit["titles"].get(lang) or visit["title"]))
        place = visit.get("place") or ", ".join(p for p in (visit.get("city"), visit.get("country")) if p)
        if place:
            event.add("location", _text(place))
        if visit.get("lat") is not None and visit.get("lon") is not None:
            event.add("geo", vGeo((visit["lat"], visit["lon"])))
        description = visit.get("descriptions", {}).get(lang) or ""
        names = ", ".join(o["name"] for o in visit.get("organisations", ()))
        text = "\n\n".join(t for t in (description, names) if t)
        if text:
            event.add("description", _text(text))
        event.add("url", project_url)
        event.add("categories", [visit.get("kind") or "study-visit"])
        cal.add_component(event)
    return cal.to_ical()
