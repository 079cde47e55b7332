"""The national build on the real files: layers, keys, repairs, indicators, engines, classification."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

pytestmark = pytest.mark.realdata

LEVEL_KEYS = {"laender": 2, "kreise": 5, "gemeinden": 8, "gemeindeverbaende": 9}


def test_layers_keys_and_crs(national_assembly) -> None:  # type: ignore[no-untyped-def]
    a = national_assembly
    assert a.dataset == "germany"
    assert {n: len(f) for n, f in a.layers.items()} == {"gemeinden": 10990, "gemeindeverbaende": 4600, "kreise": 400,
                                                        "laender": 16}
    for name, frame in a.layers.items():
        assert frame.crs.to_epsg() == 3035
        assert frame["key"].str.fullmatch(rf"\d{{{LEVEL_KEYS[name]}}}").all() and frame["key"].is_unique
        assert shapely.is_valid(frame.geometry.values).all()
    total = a.layers["laender"].geometry.area.sum() / 1e6
    assert abs(total - 357_218) < 50  # PROVENANCE: about 357,218 km2 in EPSG:3035
    gem = a.layers["gemeinden"].set_index("key")
    assert gem.loc["04011000", "kreis_key"] == "04011" and gem.loc["04011000", "land_key"] == "04"
    assert set(gem["gemeindeverband_key"]) == set(a.layers["gemeindeverbaende"]["key"])


def test_territorial_changes_recorded_not_dropped(national_assembly) -> None:  # type: ignore[no-untyped-def]
    a = national_assembly
    steps = {r.step for r in a.repairs}
    assert {"territorial_change_2021_2022", "repair_invalid_geometry", "drop_areas_without_structure",
            "dissolve_kreis_2022", "retire_kreis_2021"} <= steps
    eisenach = [r for r in a.repairs if r.step == "territorial_change_2021_2022" and r.keys[0] == "16063105"]
    assert eisenach and "16056000" in eisenach[0].keys
    retired = next(r for r in a.repairs if r.step == "retire_kreis_2021")
    assert retired.keys == ["16056"]
    merged = {k for r in a.repairs if r.step == "territorial_change_2021_2022" for k in r.keys[1:]}
    assert len(merged) == 9  # every 2021-only polygon went somewhere
    invalid = {r.keys[0] for r in a.repairs if r.step == "repair_invalid_geometry"}
    assert {"09677452", "16071004", "16076039"} <= invalid
    assert not [p for p in a.problems if p.severity == "error"]


def test_official_figures(national_assembly) -> None:  # type: ignore[no-untyped-def]
    gem = national_assembly.layers["gemeinden"].set_index("key")
    krs = national_assembly.layers["kreise"].set_index("key")
    assert gem.loc["04011000", "population"] == 569396
    assert gem["population"].sum() == 84_358_845  # PROVENANCE: sum of VG250-EW GEM
    assert gem.loc["04011000", "unemployment_share_pct"] == pytest.approx(8.57, abs=0.01)
    assert gem.loc["04012000", "unemployment_share_pct"] == pytest.approx(11.12, abs=0.01)
    assert gem.loc["04011000", "child_poverty_pct"] == pytest.approx(27.79)
    assert krs.loc["04011", "sgb2_rate_pct"] == pytest.approx(16.56)
    assert krs.loc["04012", "gisd_score"] == pytest.approx(0.965, abs=0.001)
    assert krs["unemployment_share_pct"].notna().all()


def test_long_table(national_assembly) -> None:  # type: ignore[no-untyped-def]
    from geo.pipeline.indicators import LONG_COLUMNS

    long = national_assembly.indicators
    assert list(long.columns) == LONG_COLUMNS
    assert set(long["level"]) == {"gemeinde", "gemeindeverband", "kreis", "land"}
    rate = long[(long["indicator"] == "unemployment_share_pct") & (long["key"] == "04011000") &
                (long["year"] == 2021)].iloc[0]
    assert rate["value"] == pytest.approx(100 * rate["numerator"] / rate["denominator"])
    small = long[(long["indicator"] == "unemployment_share_pct") & (long["flag"] == "withheld_small_numbers")]
    assert len(small) and small["value"].isna().all()


def test_per_land_partitions_equal_whole(national_inputs) -> None:  # type: ignore[no-untyped-def]
    from geo.national.indicators import compute_indicators, sort_long

    inputs = national_inputs
    whole = compute_indicators(inputs)
    parts = sort_long(pd.concat([compute_indicators(inputs.for_lands([land])) for land in ("03", "04", "16")],
                                ignore_index=True))
    pd.testing.assert_frame_equal(whole, parts)


def test_dask_indicators_identical(national_inputs) -> None:  # type: ignore[no-untyped-def]
    from geo.national import dask_engine as de
    from geo.national.indicators import compute_indicators

    inputs = national_inputs.for_lands(["04", "16"])
    with de.dask_client(n_workers=2, memory_limit="1GB") as client:
        dask_long = de.compute_indicators_dask(inputs, client=client)
    pd.testing.assert_frame_equal(dask_long, compute_indicators(inputs))


def test_kreise_classified_with_reasons(national_snapshot) -> None:  # type: ignore[no-untyped-def]
    from geo.classify import classify

    table = national_snapshot.wide("kreis")
    res = classify(table, "programmes/germany-screening.yml", draws=20)
    t = res.table.set_index("key")
    assert len(t) == 400 and t["classifiable"].all()
    assert (t["status_class"] != "").all()
    assert t.loc["04012", "status_class"] == "very_low" and t.loc["04012", "is_very_high_need"]
    assert set(res.reasons["key"]) == set(t.index)


def test_gemeinden_classified_or_say_why(national_snapshot) -> None:  # type: ignore[no-untyped-def]
    from geo.classify import classify

    res = classify(national_snapshot.wide("gemeinde"), "programmes/germany-screening.yml", draws=10)
    t = res.table
    assert len(t) == 10990
    unclassified = t[~t["classifiable"]]
    codes = unclassified["classifiable_reason"].map(lambda r: json.loads(r)["code"])
    assert set(codes) <= {"too_few_residents", "check_failed"} and len(codes) == len(unclassified)
    classified = t[t["classifiable"]]
    assert len(classified) > 9000
    no_index = classified[classified["status_class"] == ""]
    assert (no_index["missing_indicators"] != "").all()
    assert set(res.reasons["key"]) >= set(classified["key"])


def test_publish_national_snapshot(national_assembly, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geo.pipeline.publish import publish
    from geo.pipeline.snapshot import load_snapshot

    publish(national_assembly, tmp_path)
    snap = load_snapshot(tmp_path)
    assert set(snap.layers) == {"gemeinden", "gemeindeverbaende", "kreise", "laender"}
    assert len(snap.layer("gemeinde")) == 10990 and np.isclose(snap.layer("kreis").crs.to_epsg(), 3035)
