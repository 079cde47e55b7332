"""``/api/v1/places`` and eligibility by postcode on the real snapshot (Flask test client)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realdata


def _get(app, url: str):  # type: ignore[no-untyped-def]
    resp = app.test_client().get(url)
    return resp.status_code, resp.get_json(force=True)


@pytest.mark.parametrize(("query", "key"), [("Tenver", "04011373"), ("TENEVER", "04011373"),
                                            ("groepelingen", "04011442"), ("Gröplingen", "04011442"),
                                            ("sankt magnus", "04011515"), ("28239", "28239")])
def test_search_districts_and_postcodes(plain_app, query: str, key: str) -> None:  # type: ignore[no-untyped-def]
    status, body = _get(plain_app, f"/api/v1/places?q={query}&limit=5")
    assert status == 200
    top = body["results"][0]
    assert top["key"] == key and set(top) >= {"type", "key", "name", "city", "point", "score", "eligibility"}
    assert 8.4 < top["point"]["lon"] < 9.0 and 53.0 < top["point"]["lat"] < 53.7
    assert body["address_search"] == "not configured" and body["fallback_reason"] is None


def test_all_levels_are_searchable(plain_app) -> None:  # type: ignore[no-untyped-def]
    _, body = _get(plain_app, "/api/v1/places?q=Gröpelingen")
    assert {(r["type"], r["key"]) for r in body["results"][:2]} == {("ortsteil", "04011442"),
                                                                     ("stadtteil", "04011440")}
    _, body = _get(plain_app, "/api/v1/places?q=Bremen-Nord")
    assert body["results"][0]["type"] == "stadtbezirk"


def test_address_query_without_source_falls_back(plain_app) -> None:  # type: ignore[no-untyped-def]
    status, body = _get(plain_app, "/api/v1/places?q=Lindenhofstraße 3, 28237 Bremen")
    assert status == 200 and body["address_search"] == "not configured"
    assert "not configured" in body["fallback_reason"]
    assert [r["key"] for r in body["results"][:2]] == ["28237", "04011441"]


def test_address_query_with_address_file(places_app) -> None:  # type: ignore[no-untyped-def]
    _, body = _get(places_app, "/api/v1/places?q=lindenhofstr. 3")
    top = body["results"][0]
    assert body["address_search"] == "ok" and body["address_source"] == "address_file"
    assert top["type"] == "address" and top["district"] == {"level": "ortsteil", "key": "04011441",
                                                            "name": "Lindenhof"}
    assert top["eligibility"].startswith("/api/v1/eligibility?lon=")
    status, answer = _get(places_app, top["eligibility"])
    assert status == 200 and answer["district"]["key"] == "04011441"


@pytest.mark.parametrize("url", ["/api/v1/places", "/api/v1/places?q=", "/api/v1/places?q=a&limit=0",
                                 "/api/v1/places?q=a&limit=x", "/api/v1/places?q=" + "x" * 201])
def test_search_bad_requests(plain_app, url: str) -> None:  # type: ignore[no-untyped-def]
    status, body = _get(plain_app, url)
    assert status == 400 and body["status"] == 400 and body["detail"]


@pytest.mark.parametrize("url", ["/api/v1/places/postcode/28239", "/api/v1/eligibility?postcode=28239"])
def test_postcode_spanning_eligible_and_ineligible(plain_app, url: str) -> None:  # type: ignore[no-untyped-def]
    status, body = _get(plain_app, url)
    assert status == 200 and body["question"] == {"kind": "postcode", "postcode": "28239"}
    assert body["eligibility"] == "mixed" and body["eligible"] is None
    assert "hängt von der Straße ab: bitte den Ort auf der Karte wählen" in body["statement"]["de"]
    assert "depends on the street: pick the place on the map" in body["statement"]["en"]
    by_key = {d["key"]: d for d in body["districts"]}
    assert {"04011445", "04011443"} <= set(by_key)  # Oslebshausen, Ohlenhof
    assert sum(d["share_area"] for d in body["districts"]) == pytest.approx(1.0, abs=0.01)
    assert sum(d["share_residents"] for d in body["districts"]) == pytest.approx(1.0, abs=0.01)
    for d in body["districts"]:  # each Ortsteil with its own district answer
        _, own = _get(plain_app, f"/api/v1/eligibility?district={d['key']}")
        assert d["eligible"] == own["eligible"] and d["categories"] == own["categories"]
    assert any(d["eligible"] for d in body["districts"] if not d["minor"])
    assert any(not d["eligible"] for d in body["districts"] if not d["minor"])


def test_postcode_answer_is_deterministic_and_single_district(plain_app) -> None:  # type: ignore[no-untyped-def]
    _, a = _get(plain_app, "/api/v1/places/postcode/28355")
    _, b = _get(plain_app, "/api/v1/eligibility?postcode=28355")
    assert a["decision_id"] == b["decision_id"]
    assert [d["key"] for d in a["districts"] if not d["minor"]] == ["04011361"]  # Oberneuland only
    assert a["eligibility"] in ("all", "none") and "hängt von der Straße ab" not in a["statement"]["de"]


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/api/v1/places/postcode/10115", 404, "not a postcode area of Bremen or Bremerhaven"),
    ("/api/v1/eligibility?postcode=28189", 404, "large customers"),
    ("/api/v1/places/postcode/2823", 400, "5 digits"),
    ("/api/v1/eligibility?postcode=abcde", 400, "5 digits"),
    ("/api/v1/eligibility?postcode=28239&district=04011373", 400, "postcode alone")])
def test_postcode_errors(plain_app, url: str, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    got, body = _get(plain_app, url)
    assert got == status and words in body["detail"]


def test_openapi_documents_the_routes(plain_app) -> None:  # type: ignore[no-untyped-def]
    _, doc = _get(plain_app, "/api/v1/openapi.json")
    assert {"/api/v1/places", "/api/v1/places/postcode/{plz}"} <= set(doc["paths"])
    params = {p["name"] for p in doc["paths"]["/api/v1/eligibility"]["get"]["parameters"]}
    assert "postcode" in params


def test_check_page_without_javascript(plain_app) -> None:  # type: ignore[no-untyped-def]
    client = plain_app.test_client()
    html = client.get("/check?district=28239").get_data(as_text=True)  # 5 digits typed into the form
    assert 'data-group="postcode"' in html and "hängt von der Straße ab" in html
    html = client.get("/check?district=Tenver").get_data(as_text=True)  # typo: suggestions
    assert "district=04011373" in html
    html = client.get("/check?district=04011440&lang=en").get_data(as_text=True)  # a Stadtteil: its Ortsteile
    assert 'data-group="stadtteil"' in html and 'data-key="04011442"' in html
