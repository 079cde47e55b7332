"""The OpenAPI 3.0 document of the whole service, and an offline documentation page rendered from it."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from service.api.ogc_crs import CRS84, NATIONAL_CRS
from service.api.ogc_query import MAX_LIMIT, PASSED_ON

PROBLEM = {"$ref": "#/components/responses/Problem"}


def _problem_responses(*codes: int) -> dict[str, Any]:
    return {str(c): PROBLEM for c in codes}


def _json_ok(schema: dict[str, Any], description: str = "OK", media: str = "application/json") -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {"schema": schema}}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False,
       **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description,
            **extra}


#: the CRSs of the OGC API collections (by URI)
CRS_SCHEMA = {"type": "string", "format": "uri", "enum": list(NATIONAL_CRS), "default": CRS84}


def _features_ok(schema: dict[str, Any]) -> dict[str, Any]:
    """200 with GeoJSON and the Content-Crs header (OGC API Features Part 2)."""
    ok = _json_ok(schema, media="application/geo+json")
    ok["200"]["headers"] = {"Content-Crs": {"description": "CRS of the coordinates, as <URI>", "required": True,
                                            "schema": {"type": "string", "pattern": "^<http.+>$"}}}
    return ok


def _p(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


DOWNLOAD_LAYERS = ["ortsteile", "stadtteile", "stadtbezirke", "designations", "indicators", "classification"]

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "instance": {"type": "string", "nullable": True},
            "problems": {"type": "array", "items": {"type": "object"}},
        },
    },
    "District": {
        "type": "object", "required": ["level", "key", "name"],
        "properties": {"level": {"type": "string", "enum": ["ortsteil", "stadtteil", "stadtbezirk", "city", "area"]},
                       "key": {"type": "string", "nullable": True}, "name": {"type": "string", "nullable": True},
                       "city": {"type": "string", "nullable": True}},
    },
    "Reason": {
        "type": "object", "required": ["indicator", "operator", "passed", "unit"],
        "properties": {
            "indicator": {"type": "string"}, "label": {"type": "string"}, "condition": {"type": "string"},
            "value": {"nullable": True}, "operator": {"type": "string"}, "threshold": {"nullable": True},
            "margin": {"type": "number", "nullable": True}, "margin_sd": {"type": "number", "nullable": True},
            "unit": {"type": "string"}, "passed": {"type": "boolean"}, "part": {"type": "string"},
        },
    },
    "Category": {
        "type": "object", "required": ["id", "label", "applies", "reasons"],
        "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                       "description": {"type": "string"}, "applies": {"type": "boolean"},
                       "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}}},
    },
    "Eligibility": {
        "type": "object",
        "required": ["decision_id", "question", "district", "districts", "designation", "categories",
                     "funding_strands", "eligible", "snapshot_version", "programme", "data_vintage"],
        "properties": {
            "decision_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "question": {"type": "object"},
            "district": {"$ref": "#/components/schemas/District"},
            "districts": {"type": "array", "items": {"type": "object"}},
            "designation": {"type": "object", "required": ["designated", "programmes"],
                            "properties": {"designated": {"type": "boolean"},
                                           "programmes": {"type": "array", "items": {"type": "string"}}}},
            "classification": {"type": "object", "nullable": True},
            "categories": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}},
            "funding_strands": {"type": "array", "items": {"type": "object", "required": ["id", "basis"],
                                "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                                               "basis": {"type": "string", "enum": ["indicated", "designated"]}}}},
            "budget_eur": {"type": "number", "nullable": True},
            "eligible": {"type": "boolean"},
            "snapshot_version": {"type": "string"},
            "programme": {"type": "object", "required": ["id", "hash"],
                          "properties": {"id": {"type": "string"}, "hash": {"type": "string"}}},
            "data_vintage": {"type": "object"},
            "estimate": {"type": "object"},
            "ortsteile": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Batch": {
        "type": "object", "required": ["snapshot_version", "count", "columns", "rows"],
        "properties": {"snapshot_version": {"type": "string"}, "programme": {"type": "object"},
                       "count": {"type": "integer"}, "counts": {"type": "object"},
                       "columns": {"type": "array", "items": {"type": "string"}},
                       "rows": {"type": "array", "items": {"type": "array"}}},
    },
    "Scenario": {
        "type": "object", "required": ["id", "snapshot_version", "definition", "results", "comparison"],
        "properties": {"id": {"type": "string"}, "created": {"type": "string"},
                       "snapshot_version": {"type": "string"}, "definition": {"type": "object"},
                       "official": {"type": "object"}, "results": {"type": "array", "items": {"type": "object"}},
                       "comparison": {"type": "object"}, "policy": {"type": "string"}, "links": {"type": "object"}},
    },
    "GeoJSONPolygonInput": {
        "type": "object", "required": ["type"],
        "description": "a GeoJSON Polygon or MultiPolygon, a Feature with one, or a FeatureCollection of one "
                       "Feature; WGS84 unless a 'crs' member or the crs parameter says otherwise",
        "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon", "Feature",
                                                           "FeatureCollection"]}},
    },
    "Link": {"type": "object", "required": ["href", "rel"],
             "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                            "title": {"type": "string"}}},
    "FeatureCollection": {
        "type": "object", "required": ["type", "features", "links", "numberMatched", "numberReturned"],
        "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                       "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                       "numberMatched": {"type": "integer", "minimum": 0},
                       "numberReturned": {"type": "integer", "minimum": 0},
                       "timeStamp": {"type": "string"}},
    },
    "Feature": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
                       "geometry": {"type": "object", "nullable": True},
                       "properties": {"type": "object", "nullable": True},
                       "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}},
    },
    "Collection": {
        "type": "object", "required": ["id", "links"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                       "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                       "extent": {"type": "object"}, "itemType": {"type": "string"},
                       "crs": {"type": "array", "items": {"type": "string"}}, "storageCrs": {"type": "string"}},
    },
}


def _paths(national: tuple[str, ...] = ()) -> dict[str, Any]:
    key = {"type": "string", "pattern": "^[0-9]{8}$", "example": "04011373"}
    # national: ids of the national collections (gemeinden, ...) when the service is configured with them
    collection_id = {"type": "string",
                     "enum": ["ortsteile", "stadtteile", "stadtbezirke", "designations", *national]}
    paths: dict[str, Any] = {
        "/api/v1/eligibility": {
            "get": {
                "summary": "Does a point or district qualify, for which strand, and why?",
                "description": "Give lon+lat (WGS84), or x+y with crs (default EPSG:25832), or district (8-digit "
                               "key). A point exactly on a shared boundary goes to the district with the smallest "
                               "key; a point in no Ortsteil but in a Stadtteil is answered with the Stadtteil.",
                "operationId": "eligibilityGet",
                "parameters": [
                    _q("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude (WGS84)"),
                    _q("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude (WGS84)"),
                    _q("x", {"type": "number"}, "easting in crs"),
                    _q("y", {"type": "number"}, "northing in crs"),
                    _q("crs", {"type": "string", "example": "EPSG:25832"}, "CRS of x and y"),
                    _q("district", key, "8-digit district key of any level"),
                ],
                "responses": {**_json_ok(_ref("Eligibility")), **_problem_responses(400, 404)},
            },
            "post": {
                "summary": "Does a drawn or uploaded area qualify?",
                "description": "Counts are estimated by areal interpolation and scored against the official "
                               "definition's reference distribution.",
                "operationId": "eligibilityArea",
                "parameters": [_q("crs", {"type": "string"}, "CRS of the polygon (default WGS84)")],
                "requestBody": {"required": True, "content": {
                    "application/geo+json": {"schema": _ref("GeoJSONPolygonInput")},
                    "application/json": {"schema": _ref("GeoJSONPolygonInput")}}},
                "responses": {**_json_ok(_ref("Eligibility")), **_problem_responses(400, 404, 413, 415, 422)},
            },
        },
        "/api/v1/eligibility/batch": {
            "post": {
                "summary": "Up to 100,000 points at once",
                "description": "CSV with columns id,lon,lat (WGS84) or id,x,y (crs parameter, default "
                               "EPSG:25832), or a GeoJSON FeatureCollection of Points. Answers JSON, or CSV with "
                               "Accept: text/csv or f=csv. Columns: " + ", ".join(
                                   ["id", "status (ok|outside|invalid)", "level", "key", "name", "city",
                                    "ortsteil_key", "stadtteil_key", "stadtbezirk_key", "designated",
                                    "designation_programmes", "categories", "funding_strands", "status_class",
                                    "dynamics_class", "stability"]),
                "operationId": "eligibilityBatch",
                "parameters": [_q("crs", {"type": "string"}, "CRS of x,y columns"),
                               _q("f", {"type": "string", "enum": ["json", "csv"]}, "answer format")],
                "requestBody": {"required": True, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/geo+json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "one row per point", "content": {
                    "application/json": {"schema": _ref("Batch")}, "text/csv": {"schema": {"type": "string"}}}},
                    **_problem_responses(400, 413, 415, 422)},
            },
        },
        "/api/v1/scenarios": {
            "post": {
                "summary": "Run a draft programme definition and compare it with the official one",
                "operationId": "scenarioCreate",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/yaml": {"schema": {"type": "string"}}}},
                "responses": {"201": {"description": "stored", "content": {
                    "application/json": {"schema": _ref("Scenario")}}},
                    **_json_ok(_ref("Scenario"), "already stored (same definition and snapshot)"),
                    **_problem_responses(400, 401, 403, 413, 422, 503, 507)},
            },
        },
        "/api/v1/scenarios/{scenario_id}": {
            "get": {"summary": "A stored scenario", "operationId": "scenarioGet",
                    "parameters": [_p("scenario_id", {"type": "string"}, "scenario id")],
                    "responses": {**_json_ok(_ref("Scenario")), **_problem_responses(404, 503, 507)}},
        },
        "/api/v1/status": {
            "get": {"summary": "Snapshot version and programme served", "operationId": "status",
                    "responses": _json_ok({"type": "object", "required": ["snapshot_version"]})},
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This document", "operationId": "openapi", "responses": _json_ok({"type": "object"})},
        },
        "/api/v1/docs": {
            "get": {"summary": "Documentation page (offline, no scripts)", "operationId": "docs",
                    "responses": {"200": {"description": "HTML",
                                          "content": {"text/html": {"schema": {"type": "string"}}}}}},
        },
        "/api/v1/downloads/snapshot.gpkg": {
            "get": {"summary": "The current snapshot as GeoPackage", "operationId": "downloadSnapshot",
                    "responses": {"200": {"description": "GeoPackage", "content": {
                        "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}}}}}},
        },
        "/ogcapi": {"get": {"summary": "OGC API landing page", "operationId": "ogcLanding",
                            "responses": {**_json_ok({"type": "object", "required": ["links"]}),
                                          **_problem_responses(400)}}},
        "/ogcapi/conformance": {"get": {"summary": "Conformance classes", "operationId": "ogcConformance",
                                        "responses": {**_json_ok({"type": "object", "required": ["conformsTo"]}),
                                                      **_problem_responses(400)}}},
        "/ogcapi/api": {"get": {"summary": "This document (OGC service-desc)", "operationId": "ogcApi",
                                "responses": {**_json_ok({"type": "object"},
                                                         media="application/vnd.oai.openapi+json;version=3.0"),
                                              **_problem_responses(400)}}},
        "/ogcapi/collections": {"get": {"summary": "Collections", "operationId": "ogcCollections",
                                        "responses": {**_json_ok({
                                            "type": "object", "required": ["collections", "links"],
                                            "properties": {"collections": {"type": "array",
                                                                           "items": _ref("Collection")}}}),
                                            **_problem_responses(400)}}},
        "/ogcapi/collections/{collectionId}": {
            "get": {"summary": "One collection", "operationId": "ogcCollection",
                    "description": "crs, datetime, filter, filter-lang and filter-crs are accepted and ignored "
                                   "here: GDAL 3.6 repeats the query of the collection URL it is given on "
                                   "every request, this one included.",
                    "parameters": [_p("collectionId", collection_id, "collection"),
                                   *[_q(n, CRS_SCHEMA if n.endswith("crs") else {"type": "string"},
                                        "ignored here (see the items)") for n in sorted(PASSED_ON)]],
                    "responses": {**_json_ok(_ref("Collection")), **_problem_responses(400, 404)}}},
        "/ogcapi/collections/{collectionId}/queryables": {
            "get": {"summary": "Queryable properties of a collection (JSON Schema)", "operationId": "ogcQueryables",
                    "parameters": [_p("collectionId", collection_id, "collection")],
                    "responses": {**_json_ok({"type": "object", "required": ["properties"]},
                                             media="application/schema+json"), **_problem_responses(400, 404)}}},
        "/ogcapi/collections/{collectionId}/items": {
            "get": {"summary": "Features (GeoJSON; CRS84 or the crs asked for)", "operationId": "ogcItems",
                    "description": "Pages of features in key order: bbox filters by intersection, datetime by the "
                                   "statistics' reference date, filter by a CQL2 expression; offset and limit page "
                                   f"(a limit above {MAX_LIMIT} is clamped to it), the 'next' link gives the "
                                   "following page, numberMatched counts all. Any other query parameter is a 400.",
                    "parameters": [
                        _p("collectionId", collection_id, "collection"),
                        _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
                           f"page size (above {MAX_LIMIT}: clamped)"),
                        _q("offset", {"type": "integer", "minimum": 0, "default": 0}, "start of the page"),
                        _q("bbox", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
                           "minx,miny,maxx,maxy in bbox-crs (CRS84: minLon,minLat,maxLon,maxLat)", style="form",
                           explode=False),
                        _q("bbox-crs", CRS_SCHEMA, "CRS of bbox (default CRS84)"),
                        _q("crs", CRS_SCHEMA, "CRS of the coordinates returned, in its axis order (default "
                           "CRS84; EPSG:31467 for the national collections only)"),
                        _q("datetime", {"type": "string", "example": "../2023-12-31"},
                           "RFC 3339 date, date-time or interval (.. for an open end)"),
                        _q("filter", {"type": "string", "example": "status_class = 'very_low' AND population > 2000"},
                           "CQL2 expression (see /queryables)"),
                        _q("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"],
                                           "default": "cql2-text"}, "language of filter"),
                        _q("filter-crs", CRS_SCHEMA, "CRS of the geometries in filter (default CRS84)"),
                        _q("f", {"type": "string", "enum": ["json", "geojson"]}, "format (only GeoJSON)"),
                    ],
                    "responses": {**_features_ok(_ref("FeatureCollection")), **_problem_responses(400, 404)}}},
        "/ogcapi/collections/{collectionId}/items/{featureId}": {
            "get": {"summary": "One feature", "operationId": "ogcItem",
                    "parameters": [_p("collectionId", collection_id, "collection"),
                                   _p("featureId", {"type": "string"}, "feature id (district key)"),
                                   _q("crs", CRS_SCHEMA, "CRS of the coordinates returned (default CRS84)"),
                                   _q("f", {"type": "string", "enum": ["json", "geojson"]}, "format")],
                    "responses": {**_features_ok(_ref("Feature")), **_problem_responses(400, 404)}}},
    }
    for fmt, media, binary in (("geojson", "application/geo+json", False), ("csv", "text/csv", False),
                               ("gpkg", "application/geopackage+sqlite3", True)):
        params = [_p("layer", {"type": "string", "enum": DOWNLOAD_LAYERS}, "layer or 'classification'"),
                  _q("scenario", {"type": "string"}, "scenario id (classification only)")]
        if fmt == "csv":
            params.append(_q("dialect", {"type": "string", "enum": ["utf-8", "excel-de"]},
                             "excel-de: ';', decimal commas, UTF-8 BOM"))
        schema = {"type": "string", "format": "binary"} if binary else ({"type": "object"} if fmt == "geojson"
                                                                       else {"type": "string"})
        paths[f"/api/v1/downloads/{{layer}}.{fmt}"] = {"get": {
            "summary": f"A layer or classification as {fmt}", "operationId": f"download_{fmt}",
            "parameters": params,
            "responses": {"200": {"description": fmt, "content": {media: {"schema": schema}}},
                          **_problem_responses(400, 404)}}}
    from service.web.monitoring import openapi_paths

    paths.update(openapi_paths())
    from service.web.places import openapi_paths as places_paths

    places_paths(paths)
    paths.update(_processes_paths())
    paths.update(_workbook_paths())
    paths.update(_scenario_designer_paths())
    paths.update(_programme_schema_paths())
    return paths


def _scenario_designer_paths() -> dict[str, Any]:
    """The scenario form's API (:mod:`service.web.scenario_designer`)."""
    form = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"values": {"type": "object", "additionalProperties": {"type": "number"},
                                                    "description": "field path -> number (see /scenarios/new)"},
                                         "title": {"type": "string", "maxLength": 200}}}}}}
    sid = [{"name": "scenario_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    problem = {"description": "problem", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
    answer = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/api/v1/scenarios/preview": {"post": {
            "summary": "Preview a draft from the form's values against the official result (nothing stored)",
            "requestBody": form, "responses": {"200": {"description": "comparison, blocking rules, budget", **answer},
                                               "400": problem, "422": problem}}},
        "/api/v1/scenarios/from-form": {"post": {
            "summary": "Store a draft from the form's values (needs the API token)", "requestBody": form,
            "security": [{"bearer": []}],
            "responses": {"201": {"description": "stored", **answer}, "200": {"description": "stored before", **answer},
                          "400": problem, "401": problem, "403": problem, "422": problem}}},
        "/api/v1/scenarios/{scenario_id}/definition.yml": {"get": {
            "summary": "The stored scenario's definition as YAML", "parameters": sid,
            "responses": {"200": {"description": "YAML", "content": {"application/yaml": {"schema": {
                "type": "string"}}}}, "404": problem}}},
        "/api/v1/scenarios/{scenario_id}/comparison.xlsx": {"get": {
            "summary": "The comparison with the official result as an Excel workbook", "parameters": sid,
            "responses": {"200": {"description": "workbook", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {
                    "type": "string", "format": "binary"}}}}, "404": problem}}},
    }


def _workbook_paths() -> dict[str, Any]:
    """The Excel workbook of the districts (:mod:`service.api.workbook`)."""
    from service.api.workbook import MEDIA_TYPE

    return {"/api/v1/downloads/districts.xlsx": {"get": {
        "summary": "Ortsteile, Stadtteile, Stadtbezirke, classification and sources as an Excel workbook",
        "description": "German headers (the column id as each header's comment), keys as text, counts as integers, "
                       "number formats by unit, frozen and filtered header row; sheet 'Quellen': snapshot, data "
                       "years, input files, programme definition.",
        "operationId": "downloadWorkbook",
        "responses": {"200": {"description": "xlsx", "content": {
            MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}}}}


def _programme_schema_paths() -> dict[str, Any]:
    """The JSON Schema of programme definitions (:func:`geo.classify.schema.json_schema`)."""
    return {"/api/v1/programme-schema": {"get": {
        "summary": "JSON Schema (draft 2020-12) of a programme definition (programmes/*.yml, scenario bodies)",
        "operationId": "programmeSchema",
        "responses": _json_ok({"type": "object"}, media="application/schema+json")}}}


def _processes_paths() -> dict[str, Any]:
    """OGC API - Processes 1.0 Core: process list, process description, synchronous execution."""
    from service.api.processes import PROCESSES

    pid = _p("processID", {"type": "string", "enum": list(PROCESSES)}, "process id")
    execute = {"type": "object", "required": ["inputs"], "properties": {
        "inputs": {"type": "object", "description": "location (eligibility) or locations (eligibility-batch): "
                                                   "GeoJSON Point/Polygon/MultiPolygon or 8-digit district key"},
        "outputs": {"type": "object"}, "response": {"type": "string", "enum": ["raw", "document"],
                                                    "default": "raw"}}}
    return {
        "/ogcapi/processes": {"get": {
            "summary": "Processes (OGC API - Processes)", "operationId": "processList",
            "parameters": [_q("limit", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
                              "page size (larger values are clamped to 10000)"),
                           _q("offset", {"type": "integer", "minimum": 0, "default": 0}, "start of the page")],
            "responses": {**_json_ok({"type": "object", "required": ["processes", "links"]}),
                          **_problem_responses(400)}}},
        "/ogcapi/processes/{processID}": {"get": {
            "summary": "Process description: inputs and outputs with their JSON Schemas",
            "operationId": "processDescription", "parameters": [pid],
            "responses": {**_json_ok({"type": "object", "required": ["id", "version", "inputs", "outputs"]}),
                          **_problem_responses(404)}}},
        "/ogcapi/processes/{processID}/execution": {"post": {
            "summary": "Execute a process synchronously (the answer of /api/v1/eligibility)",
            "description": "response=raw (default): the output value; response=document: {outputId: {value, "
                           "mediaType}}. Prefer: respond-async is answered synchronously.",
            "operationId": "execute", "parameters": [
                pid, {"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"},
                      "description": "RFC 7240 preferences; the processes execute synchronously only"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": execute}}},
            "responses": {**_json_ok({"oneOf": [{"type": "object"}, {"type": "array"}]},
                                     description="the output value (raw) or a results document"),
                          **_problem_responses(400, 404, 413, 422)}}},
        **{path: {"get": {"summary": summary + " (synchronous execution keeps no jobs: always 404 no-such-job)",
                          "operationId": op, "parameters": [_p("jobID", {"type": "string"}, "job id")],
                          "responses": _problem_responses(404)}}
           for path, summary, op in (("/ogcapi/jobs/{jobID}", "Job status", "jobStatus"),
                                     ("/ogcapi/jobs/{jobID}/results", "Job results", "jobResults"))},
    }


@lru_cache(maxsize=4)
def document(national: tuple[str, ...] = ()) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of every route of the service (``national``: ids of national collections)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Lebendige Quartiere", "version": "1.0.0",
                 "description": "Which districts of Bremen and Bremerhaven qualify for the state programme "
                                "'Lebendige Quartiere', and why. Every error is application/problem+json; every "
                                "response names the snapshot in X-Snapshot-Version."},
        "servers": [{"url": "/"}],
        "paths": _paths(national),
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Problem": {"description": "a problem (RFC 9457)", "content": {
                "application/problem+json": {"schema": _ref("Problem")}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def docs_html() -> str:
    """A self-contained page listing every operation (no scripts, no external resources)."""
    doc = document()
    rows = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary', ''))}<br><small>{html.escape(op.get('description', ''))}"
                        f"</small></td><td>{html.escape(params)}</td></tr>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Lebendige Quartiere API</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{border-top:1px solid #ccc;padding:4px;"
            "vertical-align:top}</style></head><body>"
            f"<h1>{html.escape(doc['info']['title'])} API</h1><p>{html.escape(doc['info']['description'])}</p>"
            "<p>Machine-readable: <a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>; OGC API Features: "
            "<a href='/ogcapi'>/ogcapi</a>.</p><table><tr><th>Method</th><th>Path</th><th>What</th>"
            "<th>Parameters</th></tr>" + "".join(rows) + "</table></body></html>")
