"""GET /api/v1/programme-schema: the JSON Schema of programme definitions, as `quartiere schema` prints it."""

from __future__ import annotations

from geo.classify.schema import json_schema


def test_programme_schema_is_served_as_schema_json(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/programme-schema")
    assert resp.status_code == 200
    assert resp.mimetype == "application/schema+json"
    assert resp.get_json(force=True) == json_schema()
    assert "/api/v1/programme-schema" in client.get("/api/v1/openapi.json").get_json()["paths"]
