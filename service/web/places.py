"""``/api/v1/places``: place search (districts, postcodes, addresses) and eligibility by postcode.

Thin adapter over :mod:`service.api.places`. The geocoders (address file, remote server) are built once per app by
:func:`init_app` from ``ADDRESS_FILE``, ``GEOCODER_URL``, ``GEOCODER_KIND`` and ``GEOCODER_TIMEOUT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from geo.errors import InputError, SnapshotError
from service.api import places as pl
from service.api.state import ServiceState
from service.web.context import state

bp = Blueprint("places", __name__, url_prefix="/api/v1")
EXTENSION = "quartiere_geocoders"


def init_app(app: Flask, settings: Mapping[str, Any]) -> None:
    """Build the address geocoders once (a wrong ADDRESS_FILE or GEOCODER_URL fails at start, not per request)."""
    app.extensions[EXTENSION] = pl.build_geocoders(settings)


def _places(st: ServiceState) -> pl.Places:
    places = getattr(st, "places", None)
    if places is None:
        raise SnapshotError(f"snapshot {st.version} has no gazetteer; rebuild it with 'quartiere build'")
    return places


def _json(text: str) -> Response:
    return Response(text, mimetype="application/json")


@bp.get("/places")
def places_search() -> Response:
    q, limit = pl.parse_search_args(request.args)
    st = state()
    return _json(pl.search_json(_places(st), q, limit=limit, geocoders=current_app.extensions.get(EXTENSION, []),
                                locator=st.locator, answers=st.answers))


@bp.get("/places/postcode/<plz>")
def postcode(plz: str) -> Response:
    st = state()
    return _json(pl.postcode_answer(_places(st), plz, snapshot_version=st.version,
                                    definition_hash=st.definition.hash))


def eligibility_by_postcode(args: Mapping[str, str]) -> Response:
    """``GET /api/v1/eligibility?postcode=28239`` (called by the eligibility route when ``postcode`` is given)."""
    others = sorted(k for k in ("lon", "lat", "x", "y", "district") if args.get(k) not in (None, ""))
    if others:
        raise InputError(f"give postcode alone, not together with {', '.join(others)}")
    st = state()
    return _json(pl.postcode_answer(_places(st), args.get("postcode"), snapshot_version=st.version,
                                    definition_hash=st.definition.hash))


# ------------------------------------------------------------------------------------------- OpenAPI

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


def openapi_paths(paths: dict[str, Any]) -> None:
    """Add the place routes to the OpenAPI ``paths`` and the ``postcode`` question to ``GET /api/v1/eligibility``."""
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
    get = paths.get("/api/v1/eligibility", {}).get("get")
    if get is not None:
        get["parameters"] = [*get["parameters"], {
            "name": "postcode", "in": "query", "required": False, "schema": {"type": "string", "example": "28239"},
            "description": "5-digit postcode (alone): every Ortsteil it touches, as /api/v1/places/postcode/{plz}"}]
        ok = get["responses"]["200"]["content"]["application/json"]
        ok["schema"] = {"anyOf": [ok["schema"], POSTCODE_SCHEMA]}
        get["responses"].setdefault("503", problem)
