"""The OpenAPI 3.1 description of the public API (a test checks real answers against it)."""

from __future__ import annotations

from .. import kinds, vocab


def _param(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def _filters(categories: list[str]) -> list[dict]:
    params = [_param(kind.name, kind.about) for kind in kinds.registry()]
    theme = next(p for p in params if p["name"] == "theme")
    theme["description"] += "; this map's: " + ", ".join(categories)
    theme["schema"] = {"type": "string", "pattern": "^[A-Za-z0-9-]{1,60}(,[A-Za-z0-9-]{1,60})*$",
                       "examples": categories[:3]}
    params.append(_param("q", "full-text search (accent-insensitive, word prefixes)", {"type": "string", "maxLength": 200}))
    params.append(_param("bbox", "minLon,minLat,maxLon,maxLat", {"type": "string", "pattern": r"^[-0-9.]+(,[-0-9.]+){3}$"}))
    params.append(_param("lang", "label language", {"type": "string", "enum": list(vocab.LANGUAGES)}))
    return params


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


CODE = "^[A-Za-z0-9-]{1,60}$"
ERRORS = {"400": _json("Error", "a parameter has a value that cannot be used; `parameter` names it"),
          "304": {"description": "not modified since the validators sent (ETag / Last-Modified)"}}
NUMBER_OR_NULL = {"type": ["number", "null"]}
# How /api/clusters names categories: two bytes a point, the legend sent once with the map page.
_CATEGORY = ("its main category (of lowest rank): a position in the category tree's order, parents before their"
             " children, retired ones left out, from 1; 0: none")
SUMMARY = {
    "type": "object",
    "required": ["slug", "name", "city", "country", "themes", "url", "lat", "lon"],
    "properties": {
        "slug": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string"},
        "country": {"type": ["string", "null"]}, "city_name": {"type": "string"}, "country_name": {"type": "string"},
        "relation": {"type": "string", "enum": list(vocab.RELATIONS)},
        "relation_label": {"type": "string"},
        "themes": {"type": "array", "items": {"type": "string", "pattern": CODE},
                   "description": "category codes, the main category first"},
        "theme_labels": {"type": "array", "items": {"type": "string"}},
        "lat": NUMBER_OR_NULL, "lon": NUMBER_OR_NULL,
        "website": {"type": "string", "pattern": "^(https?://.*)?$"}, "url": {"type": "string"},
        "fictional": {"type": "boolean"},
    },
}
CATEGORY_PROPERTIES = {
    "code": {"type": "string", "pattern": CODE}, "label": {"type": "string"},
    "parent": {"type": ["string", "null"], "description": "the parent category's code"},
    "colour": {"type": "string", "pattern": "^#[0-9a-f]{6}$"}, "icon": {"type": ["string", "null"]},
    "essglobal": {"type": ["string", "null"], "description": "the ESSGLOBAL activity (AM code) it maps to, or its parent's"},
    "essglobal_uri": {"type": ["string", "null"]},
    "count": {"type": "integer", "minimum": 0,
              "description": "organisations matching the other filters in it (a parent: or any of its children)"}}
CATEGORY = {"type": "object", "required": list(CATEGORY_PROPERTIES), "properties": CATEGORY_PROPERTIES}
OPTION = {"type": "object", "required": ["value", "label"],
          "properties": {"value": {"type": "string"}, "label": {"type": "string"},
                         "count": {"type": "integer", "minimum": 0}}}


def document(server: str, categories: list[str] | None = None) -> dict:
    """The OpenAPI document, with ``server`` as the base URL and ``categories`` the codes
    the ``theme`` filter takes (the current catalogue's tree by default)."""
    filters = _filters(kinds.theme_tree().offered() if categories is None else categories)
    return {
        "openapi": "3.1.0",
        "info": {"title": "mapapp public API", "version": "1",
                 "description": "Read-only access to the published organisations of the social and "
                                "solidarity economy map. Public, CORS-enabled, no authentication."},
        "servers": [{"url": server}],
        "paths": {
            "/api/clusters": {"get": {
                "summary": "Clusters and single organisations for a map view",
                "parameters": filters + [_param("zoom", "map zoom", {"type": "integer", "minimum": 0, "maximum": 19}, True)],
                "responses": {"200": _json("Clusters", "clusters and points"), **ERRORS}}},
            "/api/facets": {"get": {
                "summary": "Number of organisations per filter value, with labels",
                "parameters": filters, "responses": {"200": _json("Facets", "counts"), **ERRORS}}},
            "/api/categories": {"get": {
                "summary": "The category tree (the values of `theme`), labelled, with counts per category and parent",
                "parameters": filters, "responses": {"200": _json("Categories", "the tree"), **ERRORS}}},
            "/api/organisations": {"get": {
                "summary": "Published organisations, by name, a page at a time",
                "parameters": filters + [_param("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 200}),
                                         _param("offset", "items to skip", {"type": "integer", "minimum": 0})],
                "responses": {"200": _json("OrganisationPage", "a page of organisations"), **ERRORS}}},
            "/api/organisations/{slug}": {"get": {
                "summary": "One published organisation",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                               _param("lang", "label language")],
                "responses": {"200": _json("Organisation", "the organisation"),
                              "404": _json("Error", "no published organisation with this slug")}}},
            "/api/visits": {"get": {
                "summary": "Visits and events of projects by date (of every project not archived when no project is given):"
                           " title in the language asked, kind, dates, place, point, organisations with their role",
                "parameters": [{"name": "project", "in": "query", "required": False, "style": "form", "explode": True,
                                "description": "project slug (repeatable, up to 50)",
                                "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 50}},
                               _param("lang", "title language")],
                "responses": {"200": _json("Visits", "the visits"), **ERRORS}}},
            "/api/organisations.geojson": {"get": {
                "summary": "RFC 7946 FeatureCollection of the filtered organisations ([lon, lat])",
                "parameters": filters,
                "responses": {"200": {"description": "GeoJSON", "content": {"application/geo+json": {
                    "schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}, **ERRORS}}},
            "/api/organisations.csv": {"get": {
                "summary": "CSV of the filtered organisations (formula-safe)", "parameters": filters,
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, **ERRORS}}},
            "/api/organisations.xlsx": {"get": {
                "summary": "XLSX workbook of the filtered organisations", "parameters": filters,
                "responses": {"200": {"description": "XLSX", "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "contentEncoding": "binary"}}}}, **ERRORS}}},
            "/api/organisations.gpkg": {"get": {
                "summary": "GeoPackage (layer organisations, EPSG:4326)", "parameters": filters,
                "responses": {"200": {"description": "GeoPackage", "content": {
                    "application/geopackage+sqlite3": {"schema": {"type": "string", "contentEncoding": "binary"}}}}, **ERRORS}}},
            "/api/organisations.html": {"get": {
                "summary": "A standalone HTML map of the filtered organisations", "parameters": filters,
                "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}, **ERRORS}}},
            "/api/organisations.essglobal.csv": {"get": {
                "summary": "ESSGLOBAL standard CSV, with vocabulary URIs", "parameters": filters,
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, **ERRORS}}},
            "/api/organisations.jsonld": {"get": {
                "summary": "Linked data (JSON-LD): schema.org Organization and ESSGLOBAL SSEInitiative, economic "
                           "sectors and organisational structures as ESSGLOBAL URIs (at most 50,000 organisations)",
                "parameters": filters,
                "responses": {"200": {"description": "JSON-LD", "content": {"application/ld+json": {
                    "schema": {"type": "object"}}}}, **ERRORS}}},
            "/api/organisations.ttl": {"get": {
                "summary": "The same linked data as Turtle", "parameters": filters,
                "responses": {"200": {"description": "Turtle", "content": {"text/turtle": {
                    "schema": {"type": "string"}}}}, **ERRORS}}},
            "/api/duplicates": {"get": {
                "summary": "Published organisations with this name or website (what a new one may already be)",
                "parameters": [_param("name", "the name typed"), _param("website", "the website typed")],
                "responses": {"200": _json("Duplicates", "at most five organisations")}}},
            "/api/changes": {"get": {
                "summary": "Published organisations new or changed after `since` (oldest first, a page at a time "
                           "through `next`), and those withdrawn from the map since then (unpublished, archived, "
                           "deleted; the first 1,000, on the first page); apply both in time order",
                "parameters": [_param("since", "ISO 8601 date or time, e.g. 2026-12-01T08:00:00Z",
                                      {"type": "string"}, True),
                               _param("limit", "organisations per page", {"type": "integer", "minimum": 1,
                                                                          "maximum": 1000}),
                               _param("after", "with `since`: the id after which to go on (set by `next`)",
                                      {"type": "integer", "minimum": 0}), *filters],
                "responses": {"200": _json("Changes", "what changed"), **ERRORS}}},
            "/api/vocabularies": {"get": {
                "summary": "Themes, resources, relations, countries, projects and visits, labelled and counted",
                "parameters": [_param("lang", "label language")],
                "responses": {"200": _json("Vocabularies", "the vocabularies")}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["ok", "error", "status"],
                      "properties": {"ok": {"const": False}, "error": {"type": "string"},
                                     "status": {"type": "integer"}, "parameter": {"type": "string"}}},
            "Clusters": {"type": "object", "required": ["ok", "zoom", "total", "clusters", "points"],
                         "properties": {
                             "ok": {"const": True}, "zoom": {"type": "integer"}, "total": {"type": "integer"},
                             "clusters": {"type": "array", "items": {
                                 "type": "array", "prefixItems": [{"type": "number"}, {"type": "number"},
                                                                  {"type": "integer", "minimum": 2},
                                                                  {"type": "array", "items": {"type": "number"},
                                                                   "minItems": 4, "maxItems": 4},
                                                                  {"type": "array", "maxItems": 5, "description":
                                                                   "[category, count] of its largest top-level categories"
                                                                   " (category: as a point's)"
                                                                   " (a child counts for its parent), largest first; the"
                                                                   " rest of its count has other ones",
                                                                   "items": {"type": "array", "prefixItems": [
                                                                       {"type": "integer", "minimum": 0},
                                                                       {"type": "integer", "minimum": 1}]}}],
                                 "minItems": 5, "maxItems": 5}},
                             "points": {"type": "array", "items": {
                                 "type": "array", "prefixItems": [{"type": "string"}, {"type": "string"},
                                                                  {"type": "number"}, {"type": "number"},
                                                                  {"type": "integer", "enum": [0, 1],
                                                                   "description": "1: not checked for long (faded)"},
                                                                  {"type": "integer", "minimum": 0, "description": _CATEGORY}],
                                 "minItems": 6, "maxItems": 6}},
                             "cluster_fields": {"type": "array"}, "point_fields": {"type": "array"}}},
            "Visits": {"type": "object", "required": ["ok", "total", "visits"],
                       "properties": {"ok": {"const": True}, "total": {"type": "integer"}, "visits": {"type": "array", "items": {
                           "type": "object",
                           "required": ["slug", "project", "kind", "title", "date", "end_date", "lat", "lon", "organisations"],
                           "properties": {
                               "slug": {"type": "string"}, "project": {"type": "string"},
                               "kind": {"enum": ["study-visit", "seminar", "online", "event"]},
                               "title": {"type": "string"}, "title_lang": {"type": ["string", "null"]},
                               "date": {"type": ["string", "null"], "format": "date"},
                               "end_date": {"type": ["string", "null"], "format": "date"},
                               "place": {"type": "string"}, "city": {"type": "string"}, "country": {"type": ["string", "null"]},
                               "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
                               "description": {"type": "string"},
                               "organisations": {"type": "array", "items": {"type": "object", "properties": {
                                   "slug": {"type": "string"}, "name": {"type": "string"},
                                   "role": {"enum": ["host", "visited", "participant"]}}}}}}}}},
            "Facets": {"type": "object", "required": ["ok", "total", "facets", "bounds"],
                       "properties": {"ok": {"const": True}, "total": {"type": "integer"},
                                      "bounds": {"type": ["array", "null"], "items": {"type": "number"}},
                                      "fictional": {"type": "boolean",
                                                    "description": "the selection holds fictional demo organisations"},
                                      "facets": {"type": "object", "required": list(kinds.NAMES),
                                                 "additionalProperties": {"type": "array", "items": OPTION}}}},
            "OrganisationSummary": SUMMARY,
            "Categories": {"type": "object", "required": ["ok", "lang", "categories"], "properties": {
                "ok": {"const": True}, "lang": {"type": "string"},
                "categories": {"type": "array", "items": {**CATEGORY, "required": [*CATEGORY["required"], "children"],
                                                           "properties": {**CATEGORY_PROPERTIES, "children": {
                                                               "type": "array", "items": CATEGORY}}}}}},
            "Changes": {"type": "object", "required": ["ok", "since", "items", "withdrawn", "next"], "properties": {
                "ok": {"const": True}, "since": {"type": "string"},
                "items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/OrganisationSummary"}, {
                    "type": "object", "required": ["id", "created_at", "updated_at"],
                    "properties": {"id": {"type": "integer"}, "created_at": {"type": "string"},
                                   "updated_at": {"type": "string"}}}]}},
                "withdrawn": {"type": "array", "items": {"type": "object", "required": ["id", "slug", "at"],
                                                         "properties": {"id": {"type": "integer"},
                                                                        "slug": {"type": "string"},
                                                                        "at": {"type": "string"}}}},
                "next": {"type": ["string", "null"]}}},
            "Duplicates": {"type": "object", "required": ["ok", "items"], "properties": {
                "ok": {"const": True}, "items": {"type": "array", "maxItems": 5, "items": {
                    "type": "object", "required": ["name", "city", "url"],
                    "properties": {"name": {"type": "string"}, "city": {"type": "string"}, "url": {"type": "string"}}}}}},
            "OrganisationPage": {"type": "object", "required": ["ok", "total", "items", "next"],
                                 "properties": {"ok": {"const": True}, "total": {"type": "integer"},
                                                "offset": {"type": "integer"}, "limit": {"type": "integer"},
                                                "next": {"type": ["string", "null"]},
                                                "items": {"type": "array", "items": {"$ref": "#/components/schemas/OrganisationSummary"}}}},
            "Organisation": {"allOf": [{"$ref": "#/components/schemas/OrganisationSummary"}, {
                "type": "object", "required": ["description", "needs", "offers", "projects", "visits", "checked",
                                               "stale"],
                "properties": {"description": {"type": "string"}, "street": {"type": "string"},
                               "postcode": {"type": "string"}, "email": {"type": "string"},
                               "phone": {"type": "string"},
                               "needs": {"type": "array", "items": {"type": "object", "required": ["code", "label", "detail"]}},
                               "offers": {"type": "array", "items": {"type": "object", "required": ["code", "label", "detail"]}},
                               "projects": {"type": "array"}, "visits": {"type": "array"},
                               "checked": {"type": "string", "description": "date the entry was last confirmed "
                                           "(by its owner, else its last change)"},
                               "stale": {"type": "boolean", "description": "not checked for MAPAPP_STALE_AFTER_DAYS"}}}]},
            "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                             "properties": {"type": {"const": "Feature"}, "geometry": {
                                 "type": "object", "required": ["type", "coordinates"],
                                 "properties": {"type": {"const": "Point"}, "coordinates": {
                                     "type": "array", "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180},
                                                                      {"type": "number", "minimum": -90, "maximum": 90}],
                                     "minItems": 2, "maxItems": 2}}}}}}}},
            "Vocabularies": {"type": "object", "required": ["ok", "themes", "resources", "relations", "countries",
                                                             "projects", "visits"],
                             "properties": {"ok": {"const": True},
                                            "themes": {"type": "array", "items": OPTION},
                                            "resources": {"type": "array", "items": {"type": "object", "required": ["value", "label", "needs", "offers"]}},
                                            "relations": {"type": "array", "items": OPTION},
                                            "countries": {"type": "array", "items": OPTION},
                                            "projects": {"type": "array", "items": OPTION},
                                            "visits": {"type": "array", "items": OPTION}}},
        }},
    }
