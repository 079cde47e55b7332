"""The building blocks of the OpenAPI document: responses, parameters, references."""

from __future__ import annotations

from typing import Any

from service.api.ogc_crs import CRS84, NATIONAL_CRS

PROBLEM = {"$ref": "#/components/responses/Problem"}


def problem_responses(*codes: int) -> dict[str, Any]:
    """Status code -> the shared Problem response, for each of ``codes``."""
    return {str(c): PROBLEM for c in codes}


def json_ok(schema: dict[str, Any], description: str = "OK", media: str = "application/json") -> dict[str, Any]:
    """A 200 response with ``schema`` as its ``media`` body."""
    return {"200": {"description": description, "content": {media: {"schema": schema}}}}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def query(name: str, schema: dict[str, Any], description: str, required: bool = False,
       **extra: Any) -> dict[str, Any]:
    """A query parameter; ``extra`` adds further fields of the OpenAPI Parameter Object (``style``, ...)."""
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description,
            **extra}


#: the CRSs of the OGC API collections (by URI)
CRS_SCHEMA = {"type": "string", "format": "uri", "enum": list(NATIONAL_CRS), "default": CRS84}


def features_ok(schema: dict[str, Any]) -> dict[str, Any]:
    """200 with GeoJSON and the Content-Crs header (OGC API Features Part 2)."""
    ok = json_ok(schema, media="application/geo+json")
    ok["200"]["headers"] = {"Content-Crs": {"description": "CRS of the coordinates, as <URI>", "required": True,
                                            "schema": {"type": "string", "pattern": "^<http.+>$"}}}
    return ok


def path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A (required) path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}

