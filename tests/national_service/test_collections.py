"""service.api.national without Flask: a synthetic layer (no data needed), then the real national snapshot."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import InputError, UnknownKeyError
from service.api import national

BASE = "http://test/ogcapi"


def _grid(n: int = 12) -> gpd.GeoDataFrame:
    """n x n squares of 10 km in EPSG:3035 around Bremen, keys in shuffled order (must come out sorted)."""
    x0, y0 = 4_270_000, 3_320_000
    rows = []
    for i in range(n):
        for j in range(n):
            rows.append({"key": f"{i:02d}{j:02d}", "name": f"cell {i}/{j}", "value": float(i * n + j) if j else None,
                         "geometry": shapely.box(x0 + i * 10_000, y0 + j * 10_000, x0 + (i + 1) * 10_000,
                                                 y0 + (j + 1) * 10_000)})
    frame = gpd.GeoDataFrame(rows, crs="EPSG:3035")
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="module")
def grid() -> national.NationalCollection:
    return national.build_collection("cells", _grid(), title="Cells", description="test cells")


def _page(c: national.NationalCollection, **args: object) -> dict:  # type: ignore[type-arg]
    return json.loads(national.items(c, {k: str(v) for k, v in args.items()}, BASE))


def test_features_sorted_crs84_and_null_for_nan(grid: national.NationalCollection) -> None:
    assert grid.ids == sorted(grid.ids) and len(grid) == 144
    doc = _page(grid, limit=3)
    f = doc["features"][0]
    assert f["id"] == "0000" and f["properties"]["value"] is None and f["properties"]["name"] == "cell 0/0"
    lon, lat = f["geometry"]["coordinates"][0][0]
    assert 7 < lon < 10 and 52 < lat < 54
    assert doc["numberMatched"] == 144 and doc["numberReturned"] == 3


def test_paging_covers_every_feature_once(grid: national.NationalCollection) -> None:
    seen, offset = [], 0
    while True:
        doc = _page(grid, limit=50, offset=offset)
        seen += [f["id"] for f in doc["features"]]
        nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"]
        if not nxt:
            break
        assert "limit=50" in nxt[0]
        offset += 50
    assert seen == grid.ids


def test_bbox_equals_brute_force(grid: national.NationalCollection) -> None:
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = grid.extent
    for _ in range(50):
        xs = np.sort(rng.uniform(x0 - 0.2, x1 + 0.2, 2))
        ys = np.sort(rng.uniform(y0 - 0.2, y1 + 0.2, 2))
        bbox = (xs[0], ys[0], xs[1], ys[1])
        expected = np.flatnonzero(shapely.intersects(grid.geoms, shapely.box(*bbox)))
        assert national.query_bbox(grid, bbox).tolist() == expected.tolist()
    c = shapely.centroid(grid.geoms[0])  # a small box in the middle of cell 0000 only
    doc = _page(grid, bbox=f"{c.x - 0.01},{c.y - 0.01},{c.x + 0.01},{c.y + 0.01}", limit=1000)
    assert [f["id"] for f in doc["features"]] == ["0000"] and doc["numberMatched"] == 1
    assert "bbox=" in doc["links"][0]["href"]
    # crossing the antimeridian: nothing of Germany there
    assert _page(grid, bbox="170,-10,-170,10")["numberMatched"] == 0


def test_item_and_errors(grid: national.NationalCollection) -> None:
    f = json.loads(national.item(grid, "0101", BASE))
    assert f["id"] == "0101" and f["links"][0]["href"].endswith("/collections/cells/items/0101")
    with pytest.raises(UnknownKeyError):
        national.item(grid, "9999", BASE)
    for bad in ({"limit": "0"}, {"limit": "-1001"}, {"offset": "-1"}, {"bbox": "1,2,3"}, {"limit": "x"}):
        with pytest.raises(InputError):
            national.items(grid, bad, BASE)


def test_build_collection_rejects_bad_layers() -> None:
    frame = _grid(2)
    with pytest.raises(ValueError, match="no CRS"):
        national.build_collection("x", frame.set_crs(None, allow_override=True), title="x", description="")
    with pytest.raises(ValueError, match="unique"):
        national.build_collection("x", frame.assign(key="0000"), title="x", description="")


# ------------------------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_layers_and_classification(national_state) -> None:  # type: ignore[no-untyped-def]
    cols = national_state.collections
    assert {k: len(v) for k, v in cols.items()} == {"gemeinden": 10990, "gemeindeverbaende": 4600, "kreise": 400,
                                                    "laender": 16}
    kreise = cols["kreise"]
    bremen = json.loads(national.item(kreise, "04011", BASE))["properties"]
    assert bremen["name"] == "Bremen" and bremen["land_name"] == "Bremen"
    assert bremen["status_class"] in ("high", "medium", "low", "very_low")
    assert isinstance(bremen["categories"], str) and bremen["classifiable_by_programme"] is True
    gem = json.loads(national.item(cols["gemeinden"], "04012000", BASE))["properties"]
    assert gem["name"] == "Bremerhaven" and gem["kreis_name"] == "Bremerhaven" and "status_class" in gem
    # the same properties on every feature (GDAL takes its schema from the first page)
    first = set(json.loads(national.items(cols["gemeinden"], {"limit": "1"}, BASE))["features"][0]["properties"])
    last = json.loads(national.items(cols["gemeinden"], {"limit": "1", "offset": "10989"}, BASE))
    assert set(last["features"][0]["properties"]) == first
    # the Kreis classification as the CLI computes it (same engine, same definition)
    assert set(national_state.results) == {"gemeinden", "gemeindeverbaende", "kreise"}


@pytest.mark.realdata
def test_real_bbox_over_bremen(national_state) -> None:  # type: ignore[no-untyped-def]
    gem = national_state.collections["gemeinden"]
    hits = [gem.ids[i] for i in national.query_bbox(gem, (8.48, 53.01, 8.99, 53.23))]
    assert "04011000" in hits and "04012000" not in hits  # Bremen yes, Bremerhaven (lat 53.5) no
    brute = np.flatnonzero(shapely.intersects(gem.geoms, shapely.box(8.48, 53.01, 8.99, 53.23)))
    assert hits == [gem.ids[i] for i in brute]
