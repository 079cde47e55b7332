"""``POST /check/area`` (the check page's answer for a drawn area) and the answer's words (service/web/check_view)."""

from __future__ import annotations

import json

import pytest

from service.web.check_view import NEAR_SD, margin_text

pytestmark = pytest.mark.realdata

AREA = {"type": "Polygon", "coordinates": [[[8.940, 53.072], [8.955, 53.072], [8.955, 53.082], [8.940, 53.082],
                                            [8.940, 53.072]]]}


def test_area_fragment_is_the_apis_answer_in_words(client) -> None:  # type: ignore[no-untyped-def]
    api = client.post("/api/v1/eligibility", data=json.dumps(AREA), content_type="application/geo+json").get_json()
    resp = client.post("/check/area", data=json.dumps(AREA), content_type="application/geo+json")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    shown = f"{api['estimate']['population']:,.0f}".replace(",", ".")
    assert f"<dd data-residents>{shown}</dd>" in html
    for cat in api["categories"]:
        assert f'data-category="{cat["id"]}"' in html
    for source in api["estimate"]["sources"]:
        assert f'data-key="{source["key"]}"' in html
    english = client.post("/check/area?lang=en", data=json.dumps(AREA), content_type="application/geo+json")
    assert "Estimated residents" in english.get_data(as_text=True)


@pytest.mark.parametrize(("body", "status"), [
    (b"", 400), (b"{not json", 400), (json.dumps({"type": "Point", "coordinates": [8.9, 53.0]}).encode(), 422),
    (json.dumps({"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.01, 50.0], [10.01, 50.01],
                                                     [10.0, 50.0]]]}).encode(), 422),
])
def test_bad_areas_are_precise_problems(client, body: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/check/area", data=body, content_type="application/geo+json",
                       headers={"Accept": "application/json"})
    api = client.post("/api/v1/eligibility", data=body, content_type="application/geo+json")
    assert resp.status_code == api.status_code
    assert 400 <= resp.status_code < 500
    assert resp.mimetype == "application/problem+json" and resp.get_json()["detail"]
    assert status // 100 == resp.status_code // 100


def test_address_like_text_gets_no_unrelated_suggestion(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/check?district=Otto-Brenner-Allee%2042").get_data(as_text=True)
    assert "sieht wie eine Adresse aus" in html and 'id="address-note"' in html
    assert "Meinten Sie" not in html
    assert 'value="Tenever"' in client.get("/check?district=04011373").get_data(as_text=True)


def test_margin_words() -> None:
    near = {"passed": True, "value": 1.06, "threshold": 1.0, "margin": 0.06, "margin_sd": 0.06, "unit": "SD"}
    assert margin_text(near, "de") == "knapp erfüllt: 0,06 Standardabweichungen über der Schwelle"
    assert margin_text(near, "en") == "just met: 0.06 standard deviations above the threshold"
    far = {"passed": False, "value": 48.0, "threshold": 54.0, "margin": -6.0, "margin_sd": -(NEAR_SD + 2), "unit": "%"}
    assert margin_text(far, "de") == "nicht erfüllt: 6,0 Prozentpunkte unter der Schwelle (2,25 Standardabweichungen)"
    missed = {"passed": False, "value": 1900.0, "threshold": 2000.0, "margin": -100.0, "margin_sd": -0.1,
              "unit": "persons"}
    assert margin_text(missed, "de").startswith("knapp verfehlt: 100 Einw. unter der Schwelle")
    assert margin_text({"passed": True, "value": "medium", "threshold": "high;medium"}, "de") == "erfüllt"
