"""Territorial changes 2021 -> 2022 are resolved and recorded, never dropped."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.national.territory import gemeinden_to_2022, parent_layer_2022


def _gem21() -> gpd.GeoDataFrame:
    # A | B | C in a row (10 km squares); D far away. 2022: A absorbed B, C renamed to a new key, D unchanged.
    boxes = [shapely.box(i * 10_000, 0, (i + 1) * 10_000, 10_000) for i in range(3)] + [shapely.box(0, 90_000,
                                                                                                  10_000, 100_000)]
    return gpd.GeoDataFrame({"key": ["01001001", "01001002", "01001003", "01002001"],
                             "ars": ["010015001001", "010015001002", "010015001003", "010020000001"],
                             "name": ["A", "B", "C", "D"], "bez": "Gemeinde", "source_file": "VG5000_GEM.shp"},
                            geometry=boxes, crs="EPSG:3035")


def test_orphans_united_with_their_2022_gemeinde_and_recorded() -> None:
    attrs = pd.DataFrame({"key": ["01001001", "01001009", "01002001"],
                          "ars": ["010015001001", "010015001009", "010020000001"], "name": ["A", "C", "D"],
                          "bez": "Gemeinde", "population": [10, 10, 10], "area_km2_official": [200.0, 100.0, 100.0]})
    log: list = []
    out, mapping, problems = gemeinden_to_2022(_gem21(), attrs, log)
    assert mapping == {"01001002": "01001001", "01001003": "01001009"}
    assert problems == []
    assert out["key"].tolist() == ["01001001", "01001009", "01002001"]
    assert abs(out.set_index("key").geometry.area["01001001"] / 1e6 - 200) < 1e-6
    assert {r.keys[0] for r in log} == {"01001001", "01001009"}
    out["kreis_key"] = out["key"].str[:5]
    krs21 = gpd.GeoDataFrame({"key": ["01001", "01002"], "name": ["K1", "K2"], "source_file": "VG5000_KRS.shp"},
                             geometry=[shapely.box(0, 0, 30_000, 10_000), shapely.box(0, 90_000, 10_000, 100_000)],
                             crs="EPSG:3035")
    krs_attrs = pd.DataFrame({"key": ["01001", "01002"], "ars": ["01001", "01002"], "name": ["K1", "K2"],
                              "bez": "Kreis"})
    k = parent_layer_2022(out, _gem21(), krs21, krs_attrs, level="kreis", parent_col="kreis_key",
                          mapping=mapping, log=log)
    assert k["key"].tolist() == ["01001", "01002"]
    assert not any(r.step == "dissolve_kreis_2022" for r in log)  # same members: VG5000 polygon kept


def test_unmatched_orphan_and_missing_geometry_are_errors() -> None:
    attrs = pd.DataFrame({"key": ["01001001", "01002001", "09999999"], "ars": ["010015001001", "010020000001",
                                                                              "099999999999"],
                          "name": ["A", "D", "New"], "bez": "Gemeinde", "population": [1, 1, 1],
                          "area_km2_official": [100.0, 100.0, 5.0]})
    _, _, problems = gemeinden_to_2022(_gem21(), attrs, [])
    checks = sorted(p.check for p in problems)
    assert checks.count("geometry_without_statistics") == 2 and "statistics_without_geometry" in checks
    assert all(p.severity == "error" for p in problems)
