"""Eligibility on the tiny SYNTHETIC snapshot: by point, by district key, outside both cities.

Every expected value follows from the hand-made inputs (tests/tiny.py): Dornfeld has 50 % foreign nationals
against 10 % in the other squares, so its status index is (50 - 18) / 16 = +2.0 and theirs -0.5.
"""

from __future__ import annotations

import pytest

from tests.tiny import CENTRE_25832, ORTSTEILE, TOO_SMALL, WIN, problem, to_wgs84


@pytest.mark.parametrize("key", sorted(ORTSTEILE))
def test_a_point_finds_the_square_that_contains_it(tiny_client, key: str) -> None:  # type: ignore[no-untyped-def]
    lon, lat = to_wgs84(*CENTRE_25832[key])
    r = tiny_client.get(f"/api/v1/eligibility?lon={lon}&lat={lat}")
    assert r.status_code == 200, r.data[:300]
    a = r.get_json()
    name, city, stadtteil, *_ = ORTSTEILE[key]
    assert a["district"] == {"level": "ortsteil", "key": key, "name": name, "city": city}
    city_key = key[:5] + "000"
    assert [d["key"] for d in a["districts"]] == [key, stadtteil, key[:6] + "00", city_key]
    assert a["eligible"] is (key == WIN)


def test_the_indicated_square_with_its_reasons_and_budget(tiny_client) -> None:  # type: ignore[no-untyped-def]
    x, y = CENTRE_25832[WIN]
    a = tiny_client.get(f"/api/v1/eligibility?x={x}&y={y}&crs=EPSG:25832").get_json()
    assert a["district"]["key"] == WIN and a["question"]["kind"] == "point"
    c = a["classification"]
    assert c["status_index"] == pytest.approx(2.0) and c["status_class"] == "very_low"
    assert c["dynamics_index"] == pytest.approx(2.0) and c["dynamics_class"] == "negative"  # +5 pp vs 0 pp
    assert c["population"] == 4000
    win = next(cat for cat in a["categories"] if cat["id"] == "win")
    assert win["applies"] is True
    status = next(r for r in win["reasons"] if r["indicator"] == "status_index")
    assert status["value"] == pytest.approx(2.0) and status["margin"] == pytest.approx(1.0) and status["passed"]
    assert [s["id"] for s in a["funding_strands"]] == ["win"]
    # the only indicated area of Bremen gets the city's whole budget (100,000 EUR, also the cap)
    assert a["budget_eur"] == pytest.approx(100_000)
    share = next(i for i in a["indicators"] if i["indicator"] == "share_foreign_pct")
    assert share["value"] == pytest.approx(50.0) and share["year"] == 2023


@pytest.mark.parametrize("key", ["04011911", "04011912", "04011921", "04012911"])
def test_every_other_classifiable_square_is_medium_and_not_eligible(tiny_client, key: str) -> None:  # type: ignore[no-untyped-def]
    a = tiny_client.get(f"/api/v1/eligibility?district={key}").get_json()
    assert a["classification"]["status_index"] == pytest.approx(-0.5)
    assert a["classification"]["status_class"] == "medium"
    assert a["eligible"] is False and a["funding_strands"] == []
    assert not any(cat["applies"] for cat in a["categories"])


def test_a_square_below_300_residents_is_not_classifiable(tiny_client) -> None:  # type: ignore[no-untyped-def]
    a = tiny_client.get(f"/api/v1/eligibility?district={TOO_SMALL}").get_json()
    assert a["district"]["city"] == "Bremerhaven"
    assert a["classification"]["classifiable"] is False and a["classification"]["status_index"] is None
    assert "300" in a["classification"]["not_classifiable_reason"]
    assert a["eligible"] is False


def test_a_stadtteil_key_lists_its_ortsteile(tiny_client) -> None:  # type: ignore[no-untyped-def]
    a = tiny_client.get("/api/v1/eligibility?district=04011920").get_json()
    assert a["district"]["level"] == "stadtteil" and a["district"]["name"] == "Teststadtteil Süd"
    assert a["classification"] is None
    assert sorted(o["key"] for o in a["ortsteile"]) == ["04011921", WIN]
    assert [o["key"] for o in a["ortsteile"] if "win" in o["categories"]] == [WIN]


@pytest.mark.parametrize(("query", "status", "needle"), [
    ("lon=10.5&lat=52.0", 404, "outside both cities"),           # far from Bremen
    ("x=480000&y=5880000&crs=EPSG:25832", 404, "outside both cities"),  # in Bremen's range, in no square
    ("district=04099999", 404, "no district with key '04099999'"),
    ("district=04011111", 404, "no district with key '04011111'"),  # a real key, not in the tiny snapshot
    ("lon=200&lat=53", 400, "outside -180..180"),
    ("lon=8.8", 400, "'lat' is missing"),
    ("lon=abc&lat=53", 400, "not a number"),
    ("", 400, "give exactly one of"),
    ("district=4011922", 400, "8-digit key"),
])
def test_questions_without_an_answer_are_problems(tiny_client, query: str, status: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    body = problem(tiny_client.get(f"/api/v1/eligibility?{query}"), status)
    assert needle in body["detail"]
