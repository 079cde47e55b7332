"""A drawn area on the tiny SYNTHETIC snapshot: the Ortsteile it overlaps and the residents it holds.

The squares are 1 km² each, so the area-weighted estimate can be worked out by hand: the northern half of
Ahornfeld (1,000 residents) and Birkenfeld (2,000) holds 500 + 1,000 = 1,500.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from tests.tiny import problem


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:  # type: ignore[type-arg]
    """A GeoJSON Polygon in EPSG:25832."""
    return json.loads(shapely.to_geojson(box(x0, y0, x1, y1)))


def test_area_over_two_squares_returns_both_ortsteile(tiny_client) -> None:  # type: ignore[no-untyped-def]
    r = tiny_client.post("/api/v1/eligibility?crs=EPSG:25832", json=rectangle(487000, 5883500, 489000, 5884000))
    assert r.status_code == 200, r.data[:300]
    a = r.get_json()
    assert a["question"]["kind"] == "area" and a["district"]["city"] == "Bremen"
    assert [(d["key"], d["name"]) for d in a["districts"]] == [("04011911", "Ahornfeld"), ("04011912", "Birkenfeld")]
    assert [d["share_of_area"] for d in a["districts"]] == pytest.approx([0.5, 0.5])
    assert a["estimate"]["area_km2"] == pytest.approx(1.0)
    assert a["estimate"]["population"] == pytest.approx(1500)
    assert a["classification"]["status_index"] == pytest.approx(-0.5)  # 10 % foreign nationals, like both
    assert a["eligible"] is False


def test_small_area_inside_dornfeld_is_a_kleinstquartier(tiny_client) -> None:  # type: ignore[no-untyped-def]
    """0.25 km² of Dornfeld: 1,000 residents at 50 % foreign nationals, status +2.0 but fewer than 2,000."""
    poly = gpd.GeoSeries([box(488250, 5882250, 488750, 5882750)], crs=25832).to_crs(4326).iloc[0]
    feature = {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(poly))}
    a = tiny_client.post("/api/v1/eligibility", json=feature).get_json()
    assert [d["key"] for d in a["districts"]] == ["04011922"]
    assert a["estimate"]["population"] == pytest.approx(1000, rel=1e-3)  # drawn in WGS84: not exactly 0.25 km²
    assert a["classification"]["status_index"] == pytest.approx(2.0)
    applies = {c["id"]: c["applies"] for c in a["categories"]}
    assert applies == {"win": False, "kleinstquartier": True}
    assert a["eligible"] is True


def test_area_outside_every_square_is_a_problem(tiny_client) -> None:  # type: ignore[no-untyped-def]
    body = problem(tiny_client.post("/api/v1/eligibility?crs=EPSG:25832",
                                    json=rectangle(480000, 5870000, 481000, 5871000)), 404)
    assert "overlap" in body["detail"]
