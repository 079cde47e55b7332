"""The OpenAPI path items of the OGC API: Features (landing page, collections, items) and Processes."""

from __future__ import annotations

from typing import Any

from service.api.ogc_query import MAX_LIMIT, PASSED_ON
from service.api.openapi.parts import (
    CRS_SCHEMA,
    features_ok,
    json_ok,
    path_param,
    problem_responses,
    query,
    ref,
)


def features_paths(national: tuple[str, ...] = ()) -> dict[str, Any]:
    """The paths of OGC API - Features: landing page, conformance, collections and their items.

    ``national``: ids of the national collections when the service is configured with them.
    """
    collection_id = {"type": "string",
                     "enum": ["ortsteile", "stadtteile", "stadtbezirke", "designations", *national]}
    return {
    "/ogcapi": {"get": {"summary": "OGC API landing page", "operationId": "ogcLanding",
                        "responses": {**json_ok({"type": "object", "required": ["links"]}),
                                      **problem_responses(400)}}},
    "/ogcapi/conformance": {"get": {"summary": "Conformance classes", "operationId": "ogcConformance",
                                    "responses": {**json_ok({"type": "object", "required": ["conformsTo"]}),
                                                  **problem_responses(400)}}},
    "/ogcapi/api": {"get": {"summary": "This document (OGC service-desc)", "operationId": "ogcApi",
                            "responses": {**json_ok({"type": "object"},
                                                     media="application/vnd.oai.openapi+json;version=3.0"),
                                          **problem_responses(400)}}},
    "/ogcapi/collections": {"get": {"summary": "Collections", "operationId": "ogcCollections",
                                    "responses": {**json_ok({
                                        "type": "object", "required": ["collections", "links"],
                                        "properties": {"collections": {"type": "array",
                                                                       "items": ref("Collection")}}}),
                                        **problem_responses(400)}}},
    "/ogcapi/collections/{collectionId}": {
        "get": {"summary": "One collection", "operationId": "ogcCollection",
                "description": "crs, datetime, filter, filter-lang and filter-crs are accepted and ignored "
                               "here: GDAL 3.6 repeats the query of the collection URL it is given on "
                               "every request, this one included.",
                "parameters": [path_param("collectionId", collection_id, "collection"),
                               *[query(n, CRS_SCHEMA if n.endswith("crs") else {"type": "string"},
                                    "ignored here (see the items)") for n in sorted(PASSED_ON)]],
                "responses": {**json_ok(ref("Collection")), **problem_responses(400, 404)}}},
    "/ogcapi/collections/{collectionId}/queryables": {
        "get": {"summary": "Queryable properties of a collection (JSON Schema)", "operationId": "ogcQueryables",
                "parameters": [path_param("collectionId", collection_id, "collection")],
                "responses": {**json_ok({"type": "object", "required": ["properties"]},
                                         media="application/schema+json"), **problem_responses(400, 404)}}},
    "/ogcapi/collections/{collectionId}/items": {
        "get": {"summary": "Features (GeoJSON; CRS84 or the crs asked for)", "operationId": "ogcItems",
                "description": "Pages of features in key order: bbox filters by intersection, datetime by the "
                               "statistics' reference date, filter by a CQL2 expression; offset and limit page "
                               f"(a limit above {MAX_LIMIT} is clamped to it), the 'next' link gives the "
                               "following page, numberMatched counts all. Any other query parameter is a 400.",
                "parameters": [
                    path_param("collectionId", collection_id, "collection"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
                       f"page size (above {MAX_LIMIT}: clamped)"),
                    query("offset", {"type": "integer", "minimum": 0, "default": 0}, "start of the page"),
                    query("bbox", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
                       "minx,miny,maxx,maxy in bbox-crs (CRS84: minLon,minLat,maxLon,maxLat)", style="form",
                       explode=False),
                    query("bbox-crs", CRS_SCHEMA, "CRS of bbox (default CRS84)"),
                    query("crs", CRS_SCHEMA, "CRS of the coordinates returned, in its axis order (default "
                       "CRS84; EPSG:31467 for the national collections only)"),
                    query("datetime", {"type": "string", "example": "../2023-12-31"},
                       "RFC 3339 date, date-time or interval (.. for an open end)"),
                    query("filter", {"type": "string", "example": "status_class = 'very_low' AND population > 2000"},
                       "CQL2 expression (see /queryables)"),
                    query("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"],
                                       "default": "cql2-text"}, "language of filter"),
                    query("filter-crs", CRS_SCHEMA, "CRS of the geometries in filter (default CRS84)"),
                    query("f", {"type": "string", "enum": ["json", "geojson"]}, "format (only GeoJSON)"),
                ],
                "responses": {**features_ok(ref("FeatureCollection")), **problem_responses(400, 404)}}},
    "/ogcapi/collections/{collectionId}/items/{featureId}": {
        "get": {"summary": "One feature", "operationId": "ogcItem",
                "parameters": [path_param("collectionId", collection_id, "collection"),
                               path_param("featureId", {"type": "string"}, "feature id (district key)"),
                               query("crs", CRS_SCHEMA, "CRS of the coordinates returned (default CRS84)"),
                               query("f", {"type": "string", "enum": ["json", "geojson"]}, "format")],
                "responses": {**features_ok(ref("Feature")), **problem_responses(400, 404)}}},
    }


def processes_paths() -> dict[str, Any]:
    """OGC API - Processes 1.0 Core: process list, process description, synchronous execution."""
    from service.api.processes import PROCESSES

    pid = path_param("processID", {"type": "string", "enum": list(PROCESSES)}, "process id")
    execute = {"type": "object", "required": ["inputs"], "properties": {
        "inputs": {"type": "object", "description": "location (eligibility) or locations (eligibility-batch): "
                                                   "GeoJSON Point/Polygon/MultiPolygon or 8-digit district key"},
        "outputs": {"type": "object"}, "response": {"type": "string", "enum": ["raw", "document"],
                                                    "default": "raw"}}}
    return {
        "/ogcapi/processes": {"get": {
            "summary": "Processes (OGC API - Processes)", "operationId": "processList",
            "parameters": [query("limit", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
                              "page size (larger values are clamped to 10000)"),
                           query("offset", {"type": "integer", "minimum": 0, "default": 0}, "start of the page")],
            "responses": {**json_ok({"type": "object", "required": ["processes", "links"]}),
                          **problem_responses(400)}}},
        "/ogcapi/processes/{processID}": {"get": {
            "summary": "Process description: inputs and outputs with their JSON Schemas",
            "operationId": "processDescription", "parameters": [pid],
            "responses": {**json_ok({"type": "object", "required": ["id", "version", "inputs", "outputs"]}),
                          **problem_responses(404)}}},
        "/ogcapi/processes/{processID}/execution": {"post": {
            "summary": "Execute a process synchronously (the answer of /api/v1/eligibility)",
            "description": "response=raw (default): the output value; response=document: {outputId: {value, "
                           "mediaType}}. Prefer: respond-async is answered synchronously.",
            "operationId": "execute", "parameters": [
                pid, {"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"},
                      "description": "RFC 7240 preferences; the processes execute synchronously only"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": execute}}},
            "responses": {**json_ok({"oneOf": [{"type": "object"}, {"type": "array"}]},
                                     description="the output value (raw) or a results document"),
                          **problem_responses(400, 404, 413, 422)}}},
        **{path: {"get": {"summary": summary + " (synchronous execution keeps no jobs: always 404 no-such-job)",
                          "operationId": op, "parameters": [path_param("jobID", {"type": "string"}, "job id")],
                          "responses": problem_responses(404)}}
           for path, summary, op in (("/ogcapi/jobs/{jobID}", "Job status", "jobStatus"),
                                     ("/ogcapi/jobs/{jobID}/results", "Job results", "jobResults"))},
    }

