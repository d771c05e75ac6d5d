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

from . import vocab

FICTIONAL_SOURCE = "demo"  # the source of the bundled demo organisations
# The path of an organisation's page (the route ``views.organisation``; a test holds them equal).
ORGANISATION_PATH = "/organisations/"
COLUMNS = ("slug", "name", "description", "relation", "structure", "legal_form", "street", "postcode",
           "city", "region", "country", "lat", "lon", "geo_precision", "website", "email", "phone",
           "themes", "theme_labels", "needs", "offers", "projects", "url")
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
    fictional: bool = False
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
            fictional=get("source") == FICTIONAL_SOURCE, contacts=contacts)

    def description_in(self, lang: str) -> str:
        """The description in ``lang`` where it was translated, else the one given."""
        return (self.descriptions or {}).get(lang) or self.description

    def summary(self, lang: str) -> dict:
        """Name, place, relation and themes with their labels in ``lang``, website, page URL:
        the API's lists and popups."""
        return {
            "slug": self.slug, "name": self.name, "city": self.city, "country": self.country,
            "country_name": vocab.country_name(self.country or "", lang),
            "relation": self.relation, "relation_label": vocab.relations().label(self.relation, lang),
            "themes": list(self.themes), "theme_labels": [vocab.themes().label(t, lang) for t in self.themes],
            "lat": self.lat, "lon": self.lon, "website": self.website, "url": self.url,
            "fictional": self.fictional,
        }

    def geojson_properties(self, lang: str) -> dict:
        """The properties of its GeoJSON feature: the summary (the point is the geometry), with
        e-mail and phone when they are part of the record."""
        properties = {k: v for k, v in self.summary(lang).items() if k not in ("lat", "lon")}
        if self.contacts:
            properties.update(email=self.email, phone=self.phone)
        return properties

    def api_json(self, lang: str) -> dict:
        """The API's answer for this organisation: the summary, every public field, the
        description in ``lang``, needs and offers labelled, projects."""
        label = vocab.resources().label
        return {
            **self.summary(lang),
            "description": self.description_in(lang), "structure": self.structure, "legal_form": self.legal_form,
            "street": self.street, "postcode": self.postcode, "region": self.region,
            "geo_precision": self.geo_precision, "email": self.email, "phone": self.phone,
            "needs": [{"code": c, "label": label(c, lang), "detail": d} for c, d in self.needs.items()],
            "offers": [{"code": c, "label": label(c, lang), "detail": d} for c, d in self.offers.items()],
            "projects": [{"slug": slug, "name": name} for slug, name in self.projects],
        }

    def csv_row(self, lang: str) -> list:
        """Its row of the CSV, XLSX and GeoPackage exports, in ``columns(self.contacts)`` order."""
        row = [
            self.slug, self.name, self.description, self.relation, self.structure or "", self.legal_form,
            self.street, self.postcode, self.city, self.region, self.country or "", self.lat, self.lon,
            self.geo_precision or "", self.website, self.email, self.phone, "; ".join(self.themes),
            "; ".join(vocab.themes().label(t, lang) for t in self.themes), _resources(self.needs),
            _resources(self.offers), "; ".join(slug for slug, _name in self.projects), self.url,
        ]
        if self.contacts:
            return row
        return [value for name, value in zip(COLUMNS, row) if name not in CONTACT_COLUMNS]

    def essglobal_row(self) -> list:
        """Its row of ESSGLOBAL's "standard" CSV, in ``ESSGLOBAL_COLUMNS`` order, with the
        vocabularies' URIs."""
        themes = [vocab.THEME_URI_BASE + t for t in self.themes]
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
            "essglobal:economicSector": [{"@id": vocab.THEME_URI_BASE + t} for t in self.themes] or None,
            "essglobal:organisationalStructure": {"@id": vocab.STRUCTURE_URI_BASE + self.structure}
            if self.structure else None,
            "name": self.name,
            "url": self.url,
            "address": {"@type": "PostalAddress", "streetAddress": self.street or None,
                        "postalCode": self.postcode or None, "addressLocality": self.city or None,
                        "addressRegion": self.region or None, "addressCountry": self.country},
            "knowsAbout": [vocab.themes().label(t, lang) for t in self.themes] or None,
            "description": self.description_in(lang) or None,
            "email": self.email or None,
            "telephone": self.phone or None,
            "sameAs": self.website or None,
        }
        if self.lat is not None:
            data["geo"] = {"@type": "GeoCoordinates", "latitude": self.lat, "longitude": self.lon}
        data["address"] = {k: v for k, v in data["address"].items() if v is not None}
        return {k: v for k, v in data.items() if v is not None}
