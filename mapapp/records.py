"""The public record of an organisation: its public fields, built once from a catalogue row
and its themes, needs, offers and projects (``Record.of``), and the formats derived from it:
the API's JSON, GeoJSON properties, CSV columns, the ESSGLOBAL row and the page's JSON-LD node
(the linked-data graph and the Murmurations profiles read the same record). Every answer names
the same fields alike, and an organisation's address is made by one function
(``organisation_url``).

An organisation's e-mail and phone are published on purpose, on its page and in its own API
answer; bulk exports (CSV, XLSX, GeoPackage, GeoJSON, ESSGLOBAL, linked data) carry them only
when staff chose so (the site setting ``export_contacts``): a record made ``contacts=False``
leaves them out of every format at once."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from . import kinds, multilingual, vocab
from .images import picture_path

FICTIONAL_SOURCE = "demo"  # the source of the bundled demo organisations
# The path of an organisation's page (the route ``views.organisation``; a test holds them equal).
ORGANISATION_PATH = "/organisations/"
PROJECT_PATH = "/projects/"  # the route ``insights.project``
COLUMNS = ("slug", "name", "description", "relation", "structure", "legal_form", "street", "postcode",
           "city", "region", "country", "lat", "lon", "geo_precision", "website", "email", "phone",
           "themes", "theme_labels", "needs", "offers", "projects", "visits", "url")
CONTACT_COLUMNS = ("email", "phone")
ESSGLOBAL_COLUMNS = ("Identifier", "Name", "Description", "Organisational Structure", "Primary Activity",
                     "Activities", "Street Address", "Locality", "Region", "Postcode", "Country ID",
                     "Territory ID", "Website", "Phone", "Email", "Twitter", "Facebook",
                     "Companies House Number", "Qualifiers", "Membership Type", "Latitude", "Longitude",
                     "Geo Container", "Geo Container Latitude", "Geo Container Longitude")
ESSGLOBAL = "http://purl.org/essglobal/vocab/"


def organisation_url(base: str, slug: str) -> str:
    """The address of an organisation's public page: ``base`` then the page's path.

    ``base`` is the configured public address (MAPAPP_PUBLIC_URL, as the web layer's
    ``cold.public_base`` gives it) for anything kept or sent elsewhere (exports, linked data,
    feeds, profiles), never the request's Host; or the site's root path ("" at the top) for a
    link within the site."""
    return f"{base}{ORGANISATION_PATH}{quote(slug, safe='')}"


def columns(contacts: bool) -> tuple[str, ...]:
    """The columns of a bulk export: ``COLUMNS``, without ``CONTACT_COLUMNS`` unless ``contacts``."""
    return COLUMNS if contacts else tuple(c for c in COLUMNS if c not in CONTACT_COLUMNS)


def _with_pages(visit: dict, base: str | None) -> dict:
    """A visit row with its ``hosts`` and ``participants`` as (name, page URL) pairs (from the
    row's ``organisations``: slug, name, role)."""
    def named(role: str) -> list[tuple[str, str | None]]:
        return [(o["name"], None if base is None else organisation_url(base, o["slug"]))
                for o in visit.get("organisations", ()) if o.get("role") == role]
    return {**visit, "hosts": named("host"), "participants": named("participant")}


def _resources(items: dict[str, str]) -> str:
    return "; ".join(f"{code}: {detail}" if detail else code for code, detail in items.items())


@dataclass(frozen=True)
class Record:
    """The public fields of one published organisation. Rows that carry fewer fields (a list
    page's) leave the others empty; ``url`` is None when no address was asked for."""

    slug: str
    name: str
    url: str | None
    description: str = ""
    descriptions: dict | None = None  # translations: language → text
    relation: str = ""
    structure: str | None = None
    legal_form: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    geo_precision: str | None = None
    website: str = ""
    email: str = ""
    phone: str = ""
    themes: tuple[str, ...] = ()
    needs: dict | None = None  # resource code → detail
    offers: dict | None = None
    projects: tuple[tuple[str, str | None], ...] = ()  # (slug, name); the name when the row has it
    # Its relation to each project (slug → visited|participant|partner|other), when the row has them.
    relations: tuple[tuple[str, str], ...] = ()
    # Its visits and events (``visitreads`` rows with its ``role``; ``hosts`` and ``participants``
    # as (name, page URL) when the row has them), by date.
    visits: tuple[dict, ...] = ()
    # The network's public fields it has values for: (mapapp.fields.Field, values), in order.
    custom: tuple = ()
    fictional: bool = False
    # Its logo and photos (``catalogue.images`` rows: id, role, sha256, alt), the logo first.
    pictures: tuple[dict, ...] = ()
    contacts: bool = True  # whether e-mail and phone are part of it (False: empty, and no columns)

    @classmethod
    def of(cls, org: dict, *, base: str | None, contacts: bool = True) -> Record:
        """The record of a catalogue row (``get_organisation``, ``export_organisations``, a
        list's row), its page at ``organisation_url(base, …)`` (no address with None); without
        its e-mail and phone unless ``contacts``."""
        get = org.get
        projects = tuple((p["slug"], p["name"]) if isinstance(p, dict) else (p, None) for p in get("projects") or ())
        return cls(
            slug=org["slug"], name=org["name"], url=None if base is None else organisation_url(base, org["slug"]),
            description=get("description"), descriptions=get("descriptions") or {}, relation=get("relation"),
            structure=get("structure"), legal_form=get("legal_form"), street=get("street"),
            postcode=get("postcode"), city=get("city"), region=get("region"), country=get("country"),
            lat=get("lat"), lon=get("lon"), geo_precision=get("geo_precision"), website=get("website"),
            email=get("email") if contacts else "", phone=get("phone") if contacts else "", themes=tuple(get("themes") or ()),
            needs=get("needs") or {}, offers=get("offers") or {}, projects=projects,
            relations=tuple((get("project_relations") or {}).items()),
            visits=tuple(_with_pages(v, base) for v in get("visit_records") or ()),
            custom=tuple((f, tuple(v)) for f, v in get("custom_fields") or () if f.public),
            fictional=get("source") == FICTIONAL_SOURCE, pictures=tuple(get("pictures") or ()), contacts=contacts)

    def _base(self) -> str | None:
        return None if self.url is None else self.url[: -len(organisation_url("", self.slug))]

    def picture_links(self) -> list[dict]:
        """Its pictures with their addresses (on the same address as its page): role, alt,
        ``url`` and ``thumb``; none when the record has no address."""
        base = self._base()
        if base is None:
            return []
        return [{"role": p["role"], "alt": p["alt"], "url": base + picture_path(p["id"], p["sha256"]),
                 "thumb": base + picture_path(p["id"], p["sha256"], thumb=True)} for p in self.pictures]

    def logo_and_images(self) -> tuple[str | None, list[str]]:
        """The address of its logo (None without one) and of its photos."""
        links = self.picture_links()
        return (next((p["url"] for p in links if p["role"] == "logo"), None),
                [p["url"] for p in links if p["role"] == "photo"])

    def description_in(self, lang: str) -> str:
        """The description in ``lang`` where it was translated, else the one given."""
        return (self.descriptions or {}).get(lang) or self.description

    def summary(self, lang: str) -> dict:
        """Name, place, relation and themes with their labels in ``lang``, website, page URL:
        the API's lists and popups."""
        return {
            "slug": self.slug, "name": self.name, "city": self.city, "country": self.country,
            "city_name": multilingual.local_town(self.city, self.country, lang),
            "country_name": vocab.country_name(self.country or "", lang),
            "relation": self.relation, "relation_label": vocab.relations().label(self.relation, lang),
            "themes": list(self.themes), "theme_labels": [kinds.theme_label(t, lang) for t in self.themes],
            "lat": self.lat, "lon": self.lon, "website": self.website, "url": self.url,
            "fictional": self.fictional,
        }

    def geojson_properties(self, lang: str) -> dict:
        """The properties of its GeoJSON feature: the summary (the point is the geometry), with
        e-mail and phone when they are part of the record."""
        properties = {k: v for k, v in self.summary(lang).items() if k not in ("lat", "lon")}
        relations = dict(self.relations)
        properties["projects"] = [{"slug": slug, "relation": relations.get(slug)} for slug, _name in self.projects]
        properties["visits"] = [{"slug": v["slug"], "role": v.get("role")} for v in self.visits]
        if self.pictures:
            logo, photos = self.logo_and_images()
            properties.update(logo=logo, image=photos[0] if photos else None)
        if self.contacts:
            properties.update(email=self.email, phone=self.phone)
        # One property per public field, as its filter's parameter names it (GIS tools read
        # flat properties; the prefix keeps a field called "name" from hiding the name).
        properties.update({f.param: f.display(list(values), lang) for f, values in self.custom})
        return properties

    def custom_json(self, lang: str, *, popup: bool = False) -> list[dict]:
        """Its public fields: slug, label and text in ``lang``, and the values as stored
        (only those marked for popups with ``popup``)."""
        return [{"slug": f.slug, "type": f.type, "label": f.label(lang), "values": list(values),
                 "text": f.display(list(values), lang)} for f, values in self.custom if f.in_popup or not popup]

    def custom_cells(self, fields, lang: str) -> list[str]:
        """One spreadsheet cell per field of ``fields`` (its values as a visitor reads them)."""
        held = {f.slug: values for f, values in self.custom}
        return [f.display(list(held[f.slug]), lang) if f.slug in held else "" for f in fields]

    def api_json(self, lang: str) -> dict:
        """The API's answer for this organisation: the summary, every public field, the
        description in ``lang``, needs and offers labelled (with their icon's name), projects."""
        label, icon = vocab.resources().label, vocab.resources().icon
        return {
            **self.summary(lang),
            "description": self.description_in(lang), "structure": self.structure, "legal_form": self.legal_form,
            "street": self.street, "postcode": self.postcode, "region": self.region,
            "geo_precision": self.geo_precision, "email": self.email, "phone": self.phone,
            "needs": [{"code": c, "label": label(c, lang), "icon": icon(c), "detail": d} for c, d in self.needs.items()],
            "offers": [{"code": c, "label": label(c, lang), "icon": icon(c), "detail": d} for c, d in self.offers.items()],
            "projects": [{"slug": slug, "name": name, "relation": dict(self.relations).get(slug)}
                         for slug, name in self.projects],
            "visits": [{"slug": v["slug"], "title": (v.get("titles") or {}).get(lang) or v["title"], "kind": v.get("kind"),
                        "date": v.get("date"), "end_date": v.get("end_date"), "project": v.get("project"),
                        "role": v.get("role")} for v in self.visits],
            "fields": self.custom_json(lang),
            "popup_fields": self.custom_json(lang, popup=True),
            "pictures": self.picture_links(),
        }

    def project_url(self, slug: str) -> str | None:
        """A project's page on the same address as this record's page (None without one)."""
        if self.url is None:
            return None
        return f"{self._base()}{PROJECT_PATH}{quote(slug, safe='')}"

    def projects_text(self) -> str:
        """Its projects for a spreadsheet cell: "slug (relation); …"."""
        relations = dict(self.relations)
        return "; ".join(f"{slug} ({relations[slug]})" if relations.get(slug) else slug for slug, _name in self.projects)

    def visits_text(self) -> str:
        """Its visits for a spreadsheet cell: "slug (role); …"."""
        return "; ".join(f"{v['slug']} ({v['role']})" if v.get("role") else v["slug"] for v in self.visits)

    def csv_row(self, lang: str) -> list:
        """Its row of the CSV, XLSX and GeoPackage exports, in ``columns(self.contacts)`` order."""
        row = [
            self.slug, self.name, self.description, self.relation, self.structure or "", self.legal_form,
            self.street, self.postcode, self.city, self.region, self.country or "", self.lat, self.lon,
            self.geo_precision or "", self.website, self.email, self.phone, "; ".join(self.themes),
            "; ".join(kinds.theme_label(t, lang) for t in self.themes), _resources(self.needs),
            _resources(self.offers), self.projects_text(), self.visits_text(), self.url,
        ]
        if self.contacts:
            return row
        return [value for name, value in zip(COLUMNS, row) if name not in CONTACT_COLUMNS]

    def essglobal_row(self) -> list:
        """Its row of ESSGLOBAL's "standard" CSV, in ``ESSGLOBAL_COLUMNS`` order, with the
        vocabularies' URIs."""
        themes = [vocab.THEME_URI_BASE + t for t in kinds.theme_activities(self.themes)]
        return [
            self.slug, self.name, self.description,
            vocab.STRUCTURE_URI_BASE + self.structure if self.structure else "",
            themes[0] if themes else "", ";".join(themes), self.street, self.city, self.region,
            self.postcode, self.country or "", "", self.website, self.phone, self.email, "", "", "", "", "",
            self.lat if self.lat is not None else "", self.lon if self.lon is not None else "", "", "", ""]

    def jsonld(self, lang: str) -> dict:
        """Its schema.org ``Organization`` node, typed with ESSGLOBAL's terms too, for search
        engines and other solidarity-economy maps (the page embeds it)."""
        data = {
            "@context": ["https://schema.org", {"essglobal": ESSGLOBAL}],
            "@type": ["Organization", "essglobal:SSEInitiative"],
            "essglobal:economicSector": [{"@id": vocab.THEME_URI_BASE + t} for t in kinds.theme_activities(self.themes)]
            or None,
            "essglobal:organisationalStructure": {"@id": vocab.STRUCTURE_URI_BASE + self.structure}
            if self.structure else None,
            "name": self.name,
            "url": self.url,
            "address": {"@type": "PostalAddress", "streetAddress": self.street or None,
                        "postalCode": self.postcode or None, "addressLocality": self.city or None,
                        "addressRegion": self.region or None, "addressCountry": self.country},
            "knowsAbout": [kinds.theme_label(t, lang) for t in self.themes] or None,
            "description": self.description_in(lang) or None,
            "email": self.email or None,
            "telephone": self.phone or None,
            "sameAs": self.website or None,
        }
        if self.pictures:
            logo, photos = self.logo_and_images()
            data["logo"], data["image"] = logo, photos or None
        if self.lat is not None:
            data["geo"] = {"@type": "GeoCoordinates", "latitude": self.lat, "longitude": self.lon}
        if self.projects:
            data["memberOf"] = [{"@type": "Project", "identifier": slug, "name": name or slug}
                                for slug, name in self.projects]
        if self.visits:
            data["event"] = [visit_event(v, lang) for v in self.visits]
        if self.custom:
            data["additionalProperty"] = [{"@type": "PropertyValue", "propertyID": f.slug, "name": f.label(lang),
                                           "value": f.display(list(values), lang)} for f, values in self.custom]
        data["address"] = {k: v for k, v in data["address"].items() if v is not None}
        return {k: v for k, v in data.items() if v is not None}


def visit_event(visit: dict, lang: str) -> dict:
    """A visit or event as a schema.org ``Event``: its name in ``lang``, start and end dates, its
    place (a ``Place`` with its point, or a ``VirtualLocation`` when online), organizer = its
    hosts and attendee = its participants (``(name, url)`` pairs)."""
    if visit.get("kind") == "online":
        location = {"@type": "VirtualLocation", "name": visit.get("place") or None}
    else:
        location = {"@type": "Place", "name": ", ".join(p for p in (visit.get("place"), visit.get("city")) if p) or None,
                    "address": {"@type": "PostalAddress", "addressLocality": visit.get("city") or None,
                                "addressCountry": visit.get("country") or None}}
        location["address"] = {k: v for k, v in location["address"].items() if v is not None}
        if visit.get("lat") is not None and visit.get("lon") is not None:
            location["geo"] = {"@type": "GeoCoordinates", "latitude": visit["lat"], "longitude": visit["lon"]}
    location = {k: v for k, v in location.items() if v}
    event = {
        "@type": "Event", "identifier": visit["slug"],
        "name": (visit.get("titles") or {}).get(lang) or visit["title"],
        "startDate": visit.get("date") or None, "endDate": visit.get("end_date") or visit.get("date") or None,
        "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode" if visit.get("kind") == "online"
        else "https://schema.org/OfflineEventAttendanceMode",
        "location": location,
        "description": (visit.get("descriptions") or {}).get(lang) or None,
        "organizer": [{"@type": "Organization", "name": n, "url": u} for n, u in visit.get("hosts", ())] or None,
        "attendee": [{"@type": "Organization", "name": n, "url": u} for n, u in visit.get("participants", ())] or None,
    }
    return {k: v for k, v in event.items() if v is not None}
