"""The point locator, without Flask: grid answers equal the exact join; boundary rule; outside."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo.errors import CRSError
from service.api.lookup import OUTSIDE, build_locator, exact_lookup, lookup_point, lookup_points


def _squares() -> gpd.GeoDataFrame:
    # two unit-km squares sharing the edge x = 1000; keys deliberately not in geometric order
    return gpd.GeoDataFrame({"key": ["04000002", "04000001"]},
                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs="EPSG:25832")


def test_shared_boundary_goes_to_smallest_key() -> None:
    loc = build_locator(_squares(), cell=100)
    leaf = lookup_point(loc, 1000.0, 500.0)
    assert loc.keys[leaf] == "04000001"
    assert loc.keys[lookup_point(loc, 500.0, 500.0)] == "04000002"
    assert lookup_point(loc, 5000.0, 500.0) == OUTSIDE
    assert lookup_point(loc, float("nan"), 500.0) == OUTSIDE


def test_fallback_layer_fills_holes() -> None:
    primary = gpd.GeoDataFrame({"key": ["04000011"]}, geometry=[box(0, 0, 500, 1000)], crs="EPSG:25832")
    fallback = gpd.GeoDataFrame({"key": ["04000010"]}, geometry=[box(0, 0, 1000, 1000)], crs="EPSG:25832")
    loc = build_locator(primary, fallback, cell=50)
    assert loc.keys[lookup_point(loc, 100, 100)] == "04000011"
    leaf = lookup_point(loc, 800, 100)
    assert leaf >= loc.n_primary and loc.keys[leaf] == "04000010"


def test_rejects_wrong_crs() -> None:
    with pytest.raises(CRSError):
        build_locator(_squares().to_crs(4326))


def test_grid_equals_exact_on_real_districts(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    loc = build_locator(real_snapshot.layers["ortsteile"], real_snapshot.layers["stadtteile"])
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = real_snapshot.layers["ortsteile"].total_bounds
    xs, ys = rng.uniform(x0, x1, 200_000), rng.uniform(y0, y1, 200_000)
    # plus every vertex of the districts (points exactly on boundaries)
    verts = shapely.get_coordinates(real_snapshot.layers["ortsteile"].geometry.to_numpy())[::7]
    xs, ys = np.concatenate([xs, verts[:, 0]]), np.concatenate([ys, verts[:, 1]])
    fast = lookup_points(loc, xs, ys)
    np.testing.assert_array_equal(fast, exact_lookup(loc, xs, ys))
    assert (fast >= 0).sum() > 10_000


def test_identical_to_geopandas_sjoin(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ort = real_snapshot.layers["ortsteile"]
    loc = build_locator(ort, real_snapshot.layers["stadtteile"])
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = ort.total_bounds
    xs, ys = rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=ort.crs)
    joined = gpd.sjoin(pts, ort[["key", "geometry"]], how="left", predicate="intersects")
    expected = joined.groupby(level=0)["key"].min().reindex(range(len(xs))).fillna("").astype(str).to_numpy()
    got = lookup_points(loc, xs, ys)
    mine = np.where((got >= 0) & (got < loc.n_primary), loc.keys[np.clip(got, 0, None)], "").astype(str)
    np.testing.assert_array_equal(mine, expected)
