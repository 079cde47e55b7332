"""The /check page and GET /api/v1/eligibility use the same point lookup, so they always name the same district."""

from __future__ import annotations

import re

import pytest
import shapely
from pyproj import Transformer

pytestmark = pytest.mark.realdata


def _points(state) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    to_wgs = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    layer = state.snapshot.layer("ortsteil").sort_values("key")
    pts = [layer.geometry.iloc[i].representative_point() for i in (0, 10, 40, len(layer) - 1)]
    # a vertex of Tenever's outline: on the border it shares with a neighbour
    tenever = layer[layer["key"] == "04011373"].geometry.iloc[0]
    ring = tenever.exterior if tenever.geom_type == "Polygon" else max(tenever.geoms, key=lambda g: g.area).exterior
    pts.append(shapely.Point(ring.coords[len(ring.coords) // 3]))
    pts.append(shapely.Point(400000, 5800000))  # far outside both cities
    return [tuple(map(float, to_wgs.transform(p.x, p.y))) for p in pts]  # type: ignore[misc]


def test_page_answer_equals_api_answer(client, state) -> None:  # type: ignore[no-untyped-def]
    for lon, lat in _points(state):
        api = client.get(f"/api/v1/eligibility?lon={lon!r}&lat={lat!r}")
        page = client.get(f"/check?lon={lon!r}&lat={lat!r}").get_data(as_text=True)
        m = re.search(r'data-key="([0-9]+)"', page)
        if api.status_code == 404:
            assert m is None and "außerhalb" in page, (lon, lat)
            continue
        assert api.status_code == 200
        district = api.get_json()["district"]
        if district["level"] == "ortsteil":
            assert m is not None and m.group(1) == district["key"], (lon, lat, district)
        else:  # Stadtteil fallback
            assert m is None and "nur in einem Stadtteil" in page


def test_boundary_point_goes_to_the_smallest_key(client, state) -> None:  # type: ignore[no-untyped-def]
    lon, lat = _points(state)[-2]
    key = client.get(f"/api/v1/eligibility?lon={lon!r}&lat={lat!r}").get_json()["district"]["key"]
    page = client.get(f"/check?lon={lon!r}&lat={lat!r}").get_data(as_text=True)
    assert f'data-key="{key}"' in page
