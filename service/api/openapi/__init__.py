"""The OpenAPI 3.0 document of the whole service, and an offline documentation page rendered from it."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from service.api.openapi import monitoring, ogc, places
from service.api.openapi.parts import json_ok, path_param, problem_responses, query, ref

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
    """Every path item of the service, feature by feature."""
    return {**_api_paths(), **ogc.features_paths(national), **_download_paths(), **monitoring.monitoring_paths(),
            **places.places_paths(), **ogc.processes_paths(), **_workbook_paths(), **_scenario_designer_paths(),
            **_programme_schema_paths()}


def _eligibility_paths() -> dict[str, Any]:
    """``/api/v1/eligibility`` (a point, district, postcode or drawn area) and ``/api/v1/eligibility/batch``."""
    key = {"type": "string", "pattern": "^[0-9]{8}$", "example": "04011373"}
    return {
        "/api/v1/eligibility": {
            "get": {
                "summary": "Does a point or district qualify, for which strand, and why?",
                "description": "Give lon+lat (WGS84), or x+y with crs (default EPSG:25832), or district (8-digit "
                               "key). A point exactly on a shared boundary goes to the district with the smallest "
                               "key; a point in no Ortsteil but in a Stadtteil is answered with the Stadtteil.",
                "operationId": "eligibilityGet",
                "parameters": [
                    query("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude (WGS84)"),
                    query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude (WGS84)"),
                    query("x", {"type": "number"}, "easting in crs"),
                    query("y", {"type": "number"}, "northing in crs"),
                    query("crs", {"type": "string", "example": "EPSG:25832"}, "CRS of x and y"),
                    query("district", key, "8-digit district key of any level"),
                    places.POSTCODE_PARAMETER,
                ],
                "responses": {**json_ok({"anyOf": [ref("Eligibility"), places.POSTCODE_SCHEMA]}),
                              **problem_responses(400, 404, 503)},
            },
            "post": {
                "summary": "Does a drawn or uploaded area qualify?",
                "description": "Counts are estimated by areal interpolation and scored against the official "
                               "definition's reference distribution.",
                "operationId": "eligibilityArea",
                "parameters": [query("crs", {"type": "string"}, "CRS of the polygon (default WGS84)")],
                "requestBody": {"required": True, "content": {
                    "application/geo+json": {"schema": ref("GeoJSONPolygonInput")},
                    "application/json": {"schema": ref("GeoJSONPolygonInput")}}},
                "responses": {**json_ok(ref("Eligibility")), **problem_responses(400, 404, 413, 415, 422)},
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
                "parameters": [query("crs", {"type": "string"}, "CRS of x,y columns"),
                               query("f", {"type": "string", "enum": ["json", "csv"]}, "answer format")],
                "requestBody": {"required": True, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/geo+json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "one row per point", "content": {
                    "application/json": {"schema": ref("Batch")}, "text/csv": {"schema": {"type": "string"}}}},
                    **problem_responses(400, 413, 415, 422)},
            },
        },
    }


def _api_paths() -> dict[str, Any]:
    """The eligibility, batch, scenario, status and documentation routes of ``/api/v1``."""
    return {
        **_eligibility_paths(),
        "/api/v1/scenarios": {
            "post": {
                "summary": "Run a draft programme definition and compare it with the official one",
                "operationId": "scenarioCreate",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/yaml": {"schema": {"type": "string"}}}},
                "responses": {"201": {"description": "stored", "content": {
                    "application/json": {"schema": ref("Scenario")}}},
                    **json_ok(ref("Scenario"), "already stored (same definition and snapshot)"),
                    **problem_responses(400, 401, 403, 413, 422, 503, 507)},
            },
        },
        "/api/v1/scenarios/{scenario_id}": {
            "get": {"summary": "A stored scenario", "operationId": "scenarioGet",
                    "parameters": [path_param("scenario_id", {"type": "string"}, "scenario id")],
                    "responses": {**json_ok(ref("Scenario")), **problem_responses(404, 503, 507)}},
        },
        "/api/v1/status": {
            "get": {"summary": "Snapshot version and programme served", "operationId": "status",
                    "responses": json_ok({"type": "object", "required": ["snapshot_version"]})},
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This document", "operationId": "openapi", "responses": json_ok({"type": "object"})},
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
    }


def _download_paths() -> dict[str, Any]:
    """``/api/v1/downloads/{layer}.{geojson,csv,gpkg}``."""
    paths: dict[str, Any] = {}
    for fmt, media, binary in (("geojson", "application/geo+json", False), ("csv", "text/csv", False),
                               ("gpkg", "application/geopackage+sqlite3", True)):
        params = [path_param("layer", {"type": "string", "enum": DOWNLOAD_LAYERS}, "layer or 'classification'"),
                  query("scenario", {"type": "string"}, "scenario id (classification only)")]
        if fmt == "csv":
            params.append(query("dialect", {"type": "string", "enum": ["utf-8", "excel-de"]},
                             "excel-de: ';', decimal commas, UTF-8 BOM"))
        schema = {"type": "string", "format": "binary"} if binary else ({"type": "object"} if fmt == "geojson"
                                                                       else {"type": "string"})
        paths[f"/api/v1/downloads/{{layer}}.{fmt}"] = {"get": {
            "summary": f"A layer or classification as {fmt}", "operationId": f"download_{fmt}",
            "parameters": params,
            "responses": {"200": {"description": fmt, "content": {media: {"schema": schema}}},
                          **problem_responses(400, 404)}}}
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
        "responses": json_ok({"type": "object"}, media="application/schema+json")}}}



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
                "application/problem+json": {"schema": ref("Problem")}}}},
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
