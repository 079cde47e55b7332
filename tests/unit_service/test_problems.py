"""Bad input answered as application/problem+json (RFC 9457) on the tiny SYNTHETIC snapshot, never a traceback."""

from __future__ import annotations

import pytest

from tests.tiny import problem


@pytest.mark.parametrize(("method", "url", "body", "status", "needle"), [
    ("get", "/api/v1/nothing", None, 404, "no route"),
    ("post", "/api/v1/eligibility", b"{nope", 400, ""),
    ("post", "/api/v1/eligibility", b"", 400, ""),
    ("post", "/api/v1/eligibility", b'{"type": "Point", "coordinates": [8.8, 53.1]}', 400, "Polygon"),
    ("post", "/api/v1/eligibility", b'{"type": "Polygon", "coordinates": [[[8.8, 53.0], [8.81, 53.01], '
     b'[8.81, 53.0], [8.8, 53.01], [8.8, 53.0]]]}', 400, "not a valid polygon"),
    ("get", "/api/v1/eligibility?x=1&y=2&crs=EPSG:99999", None, 400, "unsupported crs"),
    ("get", "/ogcapi/collections/ortsteile/items?f=xml", None, 400, ""),
    ("get", "/api/v1/downloads/nolayer.csv", None, 404, ""),
])
def test_bad_input_is_a_problem(tiny_client, method: str, url: str, body: bytes | None, status: int,  # type: ignore[no-untyped-def]
                                needle: str) -> None:
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    answer = problem(getattr(tiny_client, method)(url, **kwargs), status)
    assert needle in answer["detail"]
    assert answer["instance"] == url.split("?")[0]


def test_problem_type_names_the_kind_of_error(tiny_client) -> None:  # type: ignore[no-untyped-def]
    missing = problem(tiny_client.get("/api/v1/eligibility?district=04099999"), 404)
    bad = problem(tiny_client.get("/api/v1/eligibility?district=abc"), 400)
    assert missing["type"] != bad["type"]
    assert missing["type"].endswith("/not-found")
