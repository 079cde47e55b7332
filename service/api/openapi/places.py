"""The OpenAPI part of place search and eligibility by postcode (:mod:`service.api.places`)."""

from __future__ import annotations

from typing import Any

from service.api import places as pl

_POINT = {"type": "object", "required": ["lon", "lat"],
          "properties": {"lon": {"type": "number", "nullable": True}, "lat": {"type": "number", "nullable": True}}}
PLACE_SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["query", "count", "address_search", "results"],
    "properties": {
        "query": {"type": "string"}, "count": {"type": "integer", "minimum": 0},
        "address_search": {"type": "string", "enum": ["not configured", "not needed", "ok", "no match", "failed"]},
        "address_source": {"type": "string", "nullable": True},
        "fallback_reason": {"type": "string", "nullable": True},
        "results": {"type": "array", "items": {
            "type": "object", "required": ["type", "key", "name", "city", "point", "score", "source", "eligibility"],
            "properties": {
                "type": {"type": "string", "enum": ["ortsteil", "stadtteil", "stadtbezirk", "postcode", "street",
                                                    "address", "place"]},
                "key": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string"},
                "point": _POINT, "score": {"type": "number", "minimum": 0, "maximum": 100},
                "source": {"type": "string"}, "postcode": {"type": "string", "nullable": True},
                "approximate": {"type": "boolean"},
                "district": {"type": "object", "properties": {"level": {"type": "string"},
                                                              "key": {"type": "string"},
                                                              "name": {"type": "string"}}},
                "eligibility": {"type": "string", "description": "API URL of the eligibility answer"}}}},
    },
}
POSTCODE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["decision_id", "question", "postcode", "eligibility", "statement", "districts", "snapshot_version"],
    "properties": {
        "decision_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "question": {"type": "object"},
        "postcode": {"type": "object", "required": ["plz", "city", "point"],
                     "properties": {"plz": {"type": "string"}, "city": {"type": "string"}, "point": _POINT,
                                    "area_km2": {"type": "number", "nullable": True}}},
        "eligibility": {"type": "string", "enum": ["all", "none", "mixed"]},
        "eligible": {"type": "boolean", "nullable": True},
        "statement": {"type": "object", "required": ["de", "en"],
                      "properties": {"de": {"type": "string"}, "en": {"type": "string"}}},
        "districts": {"type": "array", "items": {
            "type": "object", "required": ["key", "name", "share_area", "share_residents", "minor", "eligible"],
            "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                           "share_area": {"type": "number", "nullable": True},
                           "share_residents": {"type": "number", "nullable": True},
                           "residents_estimate": {"type": "number", "nullable": True},
                           "overlap_km2": {"type": "number", "nullable": True},
                           "minor": {"type": "boolean"}, "eligible": {"type": "boolean", "nullable": True},
                           "categories": {"type": "array", "items": {"type": "object"}},
                           "funding_strands": {"type": "array", "items": {"type": "object"}}}}},
        "method": {"type": "object"}, "snapshot_version": {"type": "string"}, "programme": {"type": "object"},
        "data_vintage": {"type": "object"},
    },
}


#: the ``postcode`` question of ``GET /api/v1/eligibility`` (answered with :data:`POSTCODE_SCHEMA`)
POSTCODE_PARAMETER: dict[str, Any] = {
    "name": "postcode", "in": "query", "required": False, "schema": {"type": "string", "example": "28239"},
    "description": "5-digit postcode (alone): every Ortsteil it touches, as /api/v1/places/postcode/{plz}"}


def places_paths() -> dict[str, Any]:
    """``/api/v1/places`` (search) and ``/api/v1/places/postcode/{plz}``."""
    paths: dict[str, Any] = {}
    problem = {"$ref": "#/components/responses/Problem"}
    plz = {"name": "plz", "in": "path", "required": True,
           "schema": {"type": "string", "example": "28239"}, "description": "5-digit postcode"}
    paths["/api/v1/places"] = {"get": {
        "summary": "Find districts, postcodes and addresses by what planners type",
        "description": "Ranked, typo- and case-tolerant matches: districts of every level (with spelling variants), "
                       "postcode areas, and street addresses when ADDRESS_FILE or GEOCODER_URL is configured "
                       "(only for queries that look like an address). address_search says what happened; "
                       "fallback_reason says why postcode and district matches stand in for addresses.",
        "operationId": "placesSearch",
        "parameters": [
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": pl.MAX_QUERY},
             "description": "a district name, postcode or address", "example": "Tenever"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": pl.MAX_LIMIT, "default": 10},
             "description": "most matches"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": PLACE_SEARCH_SCHEMA}}},
                      "400": problem, "503": problem}}}
    paths["/api/v1/places/postcode/{plz}"] = {"get": {
        "summary": "Eligibility by postcode: every Ortsteil the postcode touches, its share and its own answer",
        "description": "Shares by area and by estimated residents. eligibility is all, none or mixed; mixed means "
                       "the answer depends on the street (pick the place on the map). Same answer as "
                       "GET /api/v1/eligibility?postcode=.",
        "operationId": "placesPostcode", "parameters": [plz],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": POSTCODE_SCHEMA}}},
                      "400": problem, "404": problem, "503": problem}}}
    return paths
