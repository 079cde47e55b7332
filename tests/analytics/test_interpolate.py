from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, mapping

from geo.analysis.custom_area import read_custom_area
from geo.analysis.interpolate import NoStatisticsError, estimate_custom_area
from geo.errors import CRSError, GeometryError, LimitError, OutOfAreaError, ValidationError

from .conftest import make_grid, square


def test_half_of_a_and_quarter_of_b_by_hand(grid_districts):
    # polygon x in [0.5, 1.25] km, y in [0, 1]: covers half of A and a quarter of B.
    # population = 0.5*1000 + 0.25*400 = 600; foreign = 0.5*200 + 0.25*40 = 110; under_18 = 75 + 25 = 100
    # share_foreign_pct = 100*110/600 = 18.333..; density = 600 / 0.75 km2 = 800
    est = estimate_custom_area(square(0.5, 0, 0.75, 1), grid_districts, crs="EPSG:25832")
    row = est.frame.iloc[0]
    assert row["population"] == pytest.approx(600)
    assert row["foreign_nationals"] == pytest.approx(110)
    assert row["under_18"] == pytest.approx(100)
    assert row["share_foreign_pct"] == pytest.approx(100 * 110 / 600)
    assert row["share_foreign_pct__numerator"] == pytest.approx(110)
    assert row["share_foreign_pct__denominator"] == pytest.approx(600)
    assert row["density_per_km2"] == pytest.approx(800)
    assert row["area_km2"] == pytest.approx(0.75)
    assert row["estimate_method"] == "area_weighted"
    assert not row["uncertainty"] and row["uncertainty_reason"] == ""
    assert not row["too_small_for_index"]
    assert row["level"] == "custom" and row["year"] == 2023
    # the dominant district (largest overlap) is A
    assert row["stadtteil_key"] == "04011010" and row["city"] == "Bremen"
    src = est.sources.set_index("key")
    assert src.loc["04011001", "district_share"] == pytest.approx(0.5)
    assert src.loc["04011002", "district_share"] == pytest.approx(0.25)
    assert src.loc["04011001", "custom_area_share"] == pytest.approx(0.5 / 0.75)
    assert src.loc["04011001", "weight_in_estimate"] == pytest.approx(500 / 600)
    assert row["source_districts"] == "04011001=0.5000;04011002=0.2500"
    assert est.frame.crs.to_epsg() == 25832


def test_small_part_of_large_district_is_flagged_and_small_numbers_withheld(grid_districts):
    # 6 % of C: population 0.06*2000 = 120, foreign 6, under_18 18.
    # 100 % of the estimate comes from a district covered < 25 % -> uncertain.
    # share_foreign: denominator 120 >= 100 and numerator 6 >= 3 -> published (5 %);
    # 2 % of C: population 40 < 100 -> withheld.
    est = estimate_custom_area(square(2.0, 0, 0.06, 1), grid_districts, crs="EPSG:25832")
    row = est.frame.iloc[0]
    assert row["population"] == pytest.approx(120)
    assert row["share_foreign_pct"] == pytest.approx(5.0)
    assert row["uncertainty"]
    assert "small parts (< 25%)" in row["uncertainty_reason"] and "Gamma" in row["uncertainty_reason"]
    assert row["too_small_for_index"]  # 120 < 300
    tiny = estimate_custom_area(square(2.0, 0, 0.02, 1), grid_districts, crs="EPSG:25832").frame.iloc[0]
    assert np.isnan(tiny["share_foreign_pct"])
    assert tiny["share_foreign_pct__flag"] == "withheld_small_numbers"


def test_min_share_is_configurable(grid_districts):
    est = estimate_custom_area(square(2.0, 0, 0.06, 1), grid_districts, crs="EPSG:25832", min_share=0.01)
    assert not est.uncertain


def test_estimate_not_resting_on_small_parts_is_not_flagged(grid_districts):
    # all of A (1000 residents, share 1.0) plus 10 % of B (40 residents, share 0.1 < 0.25):
    # only 40/1040 = 3.8 % of the estimate rests on a small part -> below 50 %, not flagged
    est = estimate_custom_area(square(0, 0, 1.1, 1), grid_districts, crs="EPSG:25832")
    assert est.frame.iloc[0]["population"] == pytest.approx(1040)
    assert not est.uncertain


def test_geojson_in_wgs84_with_declared_crs_gives_same_estimate(grid_districts):
    poly = square(0.5, 0, 0.75, 1)
    wgs = gpd.GeoSeries([poly], crs="EPSG:25832").to_crs("EPSG:4326").iloc[0]
    feature = {"type": "FeatureCollection",
               "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
               "features": [{"type": "Feature", "properties": {}, "geometry": mapping(wgs)}]}
    est = estimate_custom_area(json.dumps(feature), grid_districts)
    assert est.frame.iloc[0]["population"] == pytest.approx(600, rel=1e-6)
    series = gpd.GeoSeries([wgs], crs="EPSG:4326")
    assert estimate_custom_area(series, grid_districts).frame.iloc[0]["population"] == pytest.approx(600, rel=1e-6)


def test_missing_crs_is_rejected(grid_districts):
    with pytest.raises(CRSError, match="no declared coordinate reference system"):
        estimate_custom_area(square(0, 0), grid_districts)
    with pytest.raises(CRSError, match="no declared"):
        read_custom_area(mapping(square(0, 0)))
    with pytest.raises(CRSError, match="unknown coordinate reference system"):
        read_custom_area(square(0, 0), crs="EPSG:999999")


def test_conflicting_crs_declarations_are_rejected():
    series = gpd.GeoSeries([square(0, 0)], crs="EPSG:25832")
    with pytest.raises(CRSError, match="declares"):
        read_custom_area(series, crs="EPSG:4326")


def test_districts_without_crs_are_rejected(grid_districts):
    with pytest.raises(CRSError, match="districts frame has no CRS"):
        estimate_custom_area(square(0, 0), grid_districts.set_crs(None, allow_override=True), crs="EPSG:25832")


@pytest.mark.parametrize(
    ("geom", "message"),
    [
        (Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "Self-intersection"),
        (Point(0, 0), "got Point"),
        (Polygon(), "empty"),
    ],
)
def test_bad_geometries_are_rejected(geom, message):
    with pytest.raises(GeometryError, match=message):
        read_custom_area(geom, crs="EPSG:25832")


def test_multipolygon_is_accepted_and_counts_add_up(grid_districts):
    # a quarter of A plus a quarter of C: 250 + 500 = 750 residents
    multi = MultiPolygon([square(0, 0, 0.25, 1), square(2, 0, 0.25, 1)])
    est = estimate_custom_area(multi, grid_districts, crs="EPSG:25832")
    assert est.frame.iloc[0]["population"] == pytest.approx(750)


def test_too_many_vertices_raise_limit_error():
    circle = Point(X := 487_500.0, 5_880_500.0).buffer(100, quad_segs=64)  # 257 vertices
    assert X > 0
    with pytest.raises(LimitError, match="257 vertices; at most 100"):
        read_custom_area(circle, crs="EPSG:25832", max_vertices=100)
    assert read_custom_area(circle, crs="EPSG:25832", max_vertices=300).area == pytest.approx(circle.area)


def test_two_features_are_rejected():
    fc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:25832"}},
          "features": [{"type": "Feature", "geometry": mapping(square(0, 0))}] * 2}
    with pytest.raises(GeometryError, match="exactly one feature"):
        read_custom_area(fc)


def test_area_outside_all_districts(grid_districts):
    with pytest.raises(OutOfAreaError, match="does not overlap any district"):
        estimate_custom_area(square(10, 10), grid_districts, crs="EPSG:25832")
    # lon/lat degrees declared as UTM land far away from the districts
    with pytest.raises(OutOfAreaError, match="check the declared CRS"):
        estimate_custom_area(Polygon([(8.8, 53.0), (8.9, 53.0), (8.9, 53.1)]), grid_districts,
                             crs="EPSG:25832")


def test_area_only_in_districts_without_statistics(grid_districts):
    with pytest.raises(NoStatisticsError, match="only districts without published statistics \\(Delta\\)"):
        estimate_custom_area(square(3.2, 0, 0.5, 0.5), grid_districts, crs="EPSG:25832")
    assert issubclass(NoStatisticsError, OutOfAreaError)


def test_area_partly_without_statistics_is_flagged(grid_districts):
    # x in [2.5, 3.5]: half of C (1000 residents) and half of D (no statistics)
    est = estimate_custom_area(square(2.5, 0, 1, 1), grid_districts, crs="EPSG:25832")
    row = est.frame.iloc[0]
    assert row["population"] == pytest.approx(1000)
    assert row["uncertainty"]
    assert "50% of the area lies in districts without published statistics" in row["uncertainty_reason"]


def test_missing_count_in_contributing_district_is_nan_not_zero(grid_districts):
    gdf = grid_districts.copy()
    gdf.loc[gdf["key"] == "04011002", "under_18"] = np.nan
    row = estimate_custom_area(square(0.5, 0, 0.75, 1), gdf, crs="EPSG:25832").frame.iloc[0]
    assert np.isnan(row["under_18"])
    assert row["population"] == pytest.approx(600)
    assert "under_18" in row["uncertainty_reason"]
    assert row["share_under_18_pct__flag"] == "missing_count"


def test_duplicate_district_keys_are_reported(grid_districts):
    gdf = grid_districts.copy()
    gdf.loc[1, "key"] = gdf.loc[0, "key"]
    with pytest.raises(ValidationError) as err:
        estimate_custom_area(square(0, 0), gdf, crs="EPSG:25832")
    assert "04011001" in str(err.value)


def test_districts_in_other_crs_are_reprojected(grid_districts):
    est = estimate_custom_area(square(0.5, 0, 0.75, 1), grid_districts.to_crs("EPSG:3035"), crs="EPSG:25832")
    assert est.frame.iloc[0]["population"] == pytest.approx(600, rel=1e-3)


fraction = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(x=st.floats(0.0, 2.5), w=st.floats(0.05, 0.5), y=fraction, h=st.floats(0.05, 1.0),
       cut=st.floats(0.05, 0.95))
def test_estimates_are_additive_and_match_area_shares(x, w, y, h, cut):
    grid_districts = make_grid()
    h = min(h, 1.0 - y) if y < 0.95 else 0.05
    y = min(y, 0.95)
    whole = square(x, y, w, h)
    left, right = square(x, y, w * cut, h), square(x + w * cut, y, w * (1 - cut), h)
    pop = {k: estimate_custom_area(g, grid_districts, crs="EPSG:25832").frame.iloc[0]["population"]
           for k, g in (("whole", whole), ("left", left), ("right", right))}
    expected = sum(
        p * shapely.intersection(whole, g).area / g.area
        for p, g in zip(grid_districts["population"], grid_districts.geometry, strict=True) if not np.isnan(p)
    )
    assert pop["whole"] == pytest.approx(expected, rel=1e-6)
    assert pop["left"] + pop["right"] == pytest.approx(pop["whole"], rel=1e-6)


# ------------------------------------------------------------------------------- prepared index (issue 11)


def test_prepared_index_gives_the_same_estimate_as_the_frame(grid_districts):
    from geo.analysis.interpolate import prepare_area_index

    index = prepare_area_index(grid_districts)
    for geom in (square(0.5, 0, 0.75, 1), square(2.0, 0, 0.06, 1), square(2.5, 0, 1, 1)):
        a = estimate_custom_area(geom, grid_districts, crs="EPSG:25832")
        b = estimate_custom_area(geom, index, crs="EPSG:25832")
        cols = [c for c in a.frame.columns if c != "geometry"]
        assert a.frame[cols].equals(b.frame[cols]) and a.sources.equals(b.sources)


def test_area_weighting_matches_tobler(grid_districts):
    from geo.analysis.interpolate import area_interpolate_counts

    geom = Polygon([(487_300, 5_880_100), (489_700, 5_880_400), (488_900, 5_880_950), (487_200, 5_880_800)])
    est = estimate_custom_area(geom, grid_districts, crs="EPSG:25832").frame.iloc[0]
    source = grid_districts[grid_districts["has_statistics"]][["key", "population", "foreign_nationals",
                                                                "under_18", "geometry"]]
    target = gpd.GeoDataFrame({"key": ["t"]}, geometry=[geom], crs="EPSG:25832")
    ref = area_interpolate_counts(source, target, ["population", "foreign_nationals", "under_18"]).iloc[0]
    for col in ("population", "foreign_nationals", "under_18"):
        assert est[col] == pytest.approx(ref[col], rel=1e-6)  # tobler sums in lower precision


def test_prepared_index_keeps_own_unprepared_geometries_and_a_built_tree(grid_districts):
    from geo.analysis.interpolate import AreaIndex, prepare_area_index

    shared = grid_districts.geometry.to_numpy()
    shapely.prepare(shared)  # as the point locator does with the snapshot's layers
    index = prepare_area_index(grid_districts)
    assert isinstance(index, AreaIndex) and len(index) == 4
    assert not shapely.is_prepared(index.geoms).any()
    assert all(a is not b for a, b in zip(index.geoms, shared, strict=True))
    assert all(a.equals(b) for a, b in zip(index.geoms, shared, strict=True))
    assert not grid_districts.has_sindex  # the caller's frame gets no lazily built index either
    assert index.areas == pytest.approx([1e6] * 4)


count = st.one_of(st.just(float("nan")), st.just(0.0), st.floats(0.0, 5.0), st.floats(0.0, 20_000.0))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(count, min_size=40, max_size=40), area=st.one_of(st.just(0.0), st.floats(0.001, 30.0)))
def test_one_row_rates_equal_rates_from_counts(values, area):
    import pandas as pd

    from geo.analysis.interpolate import rates_one_row
    from geo.pipeline.indicators import REGISTRY, SmallNumberRule, rates_from_counts

    names = [n for n, ind in REGISTRY.items() if ind.kind == "count"]
    counts = dict(zip(names, values, strict=False)) | {"area_km2": area}
    rule = SmallNumberRule()
    want = rates_from_counts(pd.DataFrame([counts]), rule=rule)
    got = pd.DataFrame(rates_one_row(counts, rule=rule))
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
