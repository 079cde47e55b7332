from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.hotspots import CLASSES, benjamini_hochberg, local_hotspots
from geo.errors import CRSError, ValidationError

from .conftest import square


def grid_frame(values: np.ndarray) -> gpd.GeoDataFrame:
    """values[row, col] on a grid of unit squares; keys '0000rrcc'."""
    rows, cols = values.shape
    recs = [(f"0000{r:02d}{c:02d}", float(values[r, c]), square(c, r)) for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({"key": [k for k, _, _ in recs], "x": [v for _, v, _ in recs]},
                            geometry=[g for _, _, g in recs], crs="EPSG:25832")


def test_benjamini_hochberg_by_hand():
    # p sorted: 0.01, 0.03, 0.04, 0.20; m = 4; p*m/rank = 0.04, 0.06, 0.0533, 0.20
    # running minimum from the top: 0.04, 0.0533, 0.0533, 0.20 -> back to input order
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.20]))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    q_nan = benjamini_hochberg(np.array([0.01, np.nan, 0.04, 0.03, 0.20]))
    assert np.isnan(q_nan[1])
    np.testing.assert_allclose(q_nan[[0, 2, 3, 4]], [0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_local_moran_by_hand_on_a_row_of_four():
    # values 1, 2, 3, 4 in a row; queen neighbours i-1, i+1; row-standardised.
    # deviations d = -1.5, -0.5, 0.5, 1.5; esda scales by the sample variance m2 = sum(d^2)/(n-1) = 5/3
    # lag(d) = -0.5, (-1.5+0.5)/2 = -0.5, (-0.5+1.5)/2 = 0.5, 0.5
    # I_i = d_i * lag_i / m2 = 0.75*3/5, 0.25*3/5, .. = 0.45, 0.15, 0.15, 0.45; quadrants LL, LL, HH, HH
    res = local_hotspots(grid_frame(np.array([[1.0, 2.0, 3.0, 4.0]])), "x", permutations=99, min_areas=4)
    np.testing.assert_allclose(res["local_i"], [0.45, 0.15, 0.15, 0.45])
    assert res["quadrant"].tolist() == ["LL", "LL", "HH", "HH"]
    assert res["n_neighbours"].tolist() == [1, 2, 2, 1]
    # with 4 areas nothing can be significant after FDR
    assert set(res["hotspot_class"]) == {"not_significant"}


def clustered_values() -> np.ndarray:
    rng = np.random.default_rng(7)
    v = rng.normal(0.0, 1.0, size=(7, 7))
    v[:3, :3] += 6.0  # high block in the lower left corner
    v[4:, 4:] -= 6.0  # low block in the upper right corner
    return v


def test_hot_and_cold_spots_are_found_and_reproducible():
    gdf = grid_frame(clustered_values())
    res = local_hotspots(gdf, "x", permutations=999, seed=1).set_index("key")
    assert res.loc["00000101", "hotspot_class"] == "hot_spot"  # centre of the high block
    assert res.loc["00000505", "hotspot_class"] == "cold_spot"  # centre of the low block
    assert (res["q_value"] >= res["p_sim"]).all()
    assert set(res["hotspot_class"]) <= set(CLASSES)
    again = local_hotspots(gdf, "x", permutations=999, seed=1).set_index("key")
    np.testing.assert_array_equal(res["p_sim"], again["p_sim"])


def test_fdr_makes_fewer_or_equal_areas_significant():
    gdf = grid_frame(clustered_values())
    with_fdr = local_hotspots(gdf, "x", permutations=199, seed=3)
    raw = local_hotspots(gdf, "x", permutations=199, seed=3, fdr=False)
    assert (with_fdr["q_value"] >= with_fdr["p_sim"]).all()
    # every area significant after the correction is significant without it
    assert not (with_fdr["significant"] & ~raw["significant"]).any()
    assert with_fdr["significant"].sum() < raw["significant"].sum()
    np.testing.assert_array_equal(raw["p_sim"], raw["q_value"])


def test_islands_and_missing_values_are_not_tested():
    gdf = grid_frame(clustered_values())
    island = gpd.GeoDataFrame({"key": ["99999999"], "x": [100.0]}, geometry=[square(20, 20)], crs="EPSG:25832")
    gdf = gpd.GeoDataFrame(__import__("pandas").concat([gdf, island], ignore_index=True), crs="EPSG:25832")
    gdf.loc[gdf["key"] == "00000303", "x"] = np.nan
    res = local_hotspots(gdf, "x", permutations=99).set_index("key")
    assert res.loc["99999999", "hotspot_class"] == "not_tested"
    assert res.loc["99999999", "reason"] == "no neighbours"
    assert res.loc["00000303", "hotspot_class"] == "not_tested"
    assert res.loc["00000303", "reason"] == "value missing"
    assert res.loc["00000000", "hotspot_class"] != "not_tested"


def test_missing_middle_value_turns_ends_into_islands():
    res = local_hotspots(grid_frame(np.array([[1.0, np.nan, 3.0]])), "x", permutations=9, min_areas=1)
    assert res["reason"].tolist() == ["no neighbours", "value missing", "no neighbours"]


def test_constant_and_too_few_areas_are_not_tested():
    res = local_hotspots(grid_frame(np.ones((3, 3))), "x", permutations=9)
    assert set(res["hotspot_class"]) == {"not_tested"}
    assert set(res["reason"]) == {"the indicator is constant"}
    res = local_hotspots(grid_frame(np.array([[1.0, 2.0]])), "x", permutations=9)
    assert set(res["reason"]) == {"fewer than 5 areas with a value and neighbours"}


def test_bad_input_is_rejected():
    gdf = grid_frame(np.ones((2, 2)))
    with pytest.raises(CRSError):
        local_hotspots(gdf.set_crs(None, allow_override=True), "x")
    with pytest.raises(ValidationError, match="cannot compute hot spots") as err:
        local_hotspots(gdf, "nope")
    assert "nope" in str(err.value)


@settings(max_examples=10, deadline=None)
@given(perm_seed=st.integers(0, 10_000))
def test_local_i_does_not_depend_on_row_order(perm_seed):
    gdf = grid_frame(clustered_values()[:4, :4])
    shuffled = gdf.sample(frac=1.0, random_state=perm_seed)
    a = local_hotspots(gdf, "x", permutations=9).set_index("key").sort_index()
    b = local_hotspots(shuffled, "x", permutations=9).set_index("key").sort_index()
    np.testing.assert_allclose(a["local_i"], b["local_i"])
    assert (a["quadrant"] == b["quadrant"]).all()
