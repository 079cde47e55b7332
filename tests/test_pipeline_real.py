"""The pipeline on the official data, as published in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.pipeline.snapshot import GPKG, MANIFEST, current_version


def test_counts_and_crs(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ot = real_snapshot.layer("ortsteil")
    assert len(ot) == 113
    assert (ot["city"] == "Bremen").sum() == 89 and (ot["city"] == "Bremerhaven").sum() == 24
    assert "04011123" in set(ot.loc[ot["city"] == "Bremen", "key"])
    assert len(real_snapshot.layer("stadtteil")) == 32
    assert len(real_snapshot.layer("stadtbezirk")) == 7
    for frame in real_snapshot.layers.values():
        assert frame.crs.to_epsg() == 25832
        assert shapely.is_valid(frame.geometry.values).all()
        assert frame["key"].str.fullmatch(r"\d{8}").all() and frame["key"].is_unique


def test_tenever_2023_official_figures(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    t = ind[(ind.key == "04011373") & (ind.year == 2023)].set_index("indicator")
    assert t.loc["population", "value"] == 10130
    assert t.loc["foreign_nationals", "value"] == 3180
    assert t.loc["share_foreign_pct", "numerator"] == 3180
    assert t.loc["share_foreign_pct", "denominator"] == 10130
    assert t.loc["share_foreign_pct", "value"] == pytest.approx(100 * 3180 / 10130)


def test_every_year_matches_the_published_table(real_snapshot, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Compare with the independently tidied copy of table 12411-03-03 that ships beside the raw files."""
    ref = pd.read_csv(data_dir / "bremen-bevoelkerung-ortsteile" / "bremen_bevoelkerung_12411-03-03_long.csv",
                      dtype={"gebietsschluessel": str})
    ref = ref[(ref["altersgruppe"] == "Insgesamt") & (ref["ebene"] == "Ortsteil")]
    ind = real_snapshot.indicators
    ours = ind[(ind.level == "ortsteil") & ind.indicator.isin(["population", "foreign_nationals"])]
    ours = ours.pivot_table(index=["key", "year"], columns="indicator", values="value", dropna=False)
    merged = ref.merge(ours, left_on=["gebietsschluessel", "jahr"], right_index=True, how="inner")
    have_geometry = set(real_snapshot.layer("ortsteil")["key"])
    expected_rows = ref[ref["gebietsschluessel"].isin(have_geometry)]
    assert len(merged) == len(expected_rows) == 89 * 8
    assert sorted(merged["jahr"].unique()) == [1980, 1990, 2000, 2010, 2020, 2021, 2022, 2023]
    valid = merged["kennzeichen"].isna()
    assert np.array_equal(merged.loc[valid, "insgesamt"].to_numpy(float), merged.loc[valid, "population"].to_numpy())
    assert np.array_equal(merged.loc[valid, "auslaender"].to_numpy(float),
                          merged.loc[valid, "foreign_nationals"].to_numpy())
    assert merged.loc[~valid, "population"].isna().all()  # suppressed stays missing, never 0


def test_higher_levels_aggregate_counts(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    city = ind[(ind.key == "04011000") & (ind.year == 2023) & (ind.indicator == "population")]["value"].item()
    assert city == 577026  # published city total, equal to the sum of the Ortsteile
    bhv = ind[(ind.key == "04012000") & (ind.year == 2023) & (ind.indicator == "population")]["value"].item()
    assert bhv == 114677


def test_bremerhaven_districts_say_why_they_have_no_values(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    rows = ind[(ind.key == "04012134") & (ind.indicator == "population")]
    assert len(rows) > 0 and rows["value"].isna().all()
    assert set(rows["flag"]) == {"no_district_statistics"}


def test_repairs_recorded_in_manifest(snapshots_dir: Path) -> None:
    version = current_version(snapshots_dir)
    manifest = json.loads((snapshots_dir / version / MANIFEST).read_text(encoding="utf-8"))
    steps: dict[str, set[str]] = {}
    for r in manifest["repairs"]:
        steps.setdefault(r["step"], set()).update(r["keys"])
    assert "04011361" in steps["fill_missing_ortsteil_from_stadtteil"]
    assert {"04011123", "04011120", "04011100"} <= steps["assign_city_by_key"]
    assert steps["derive_stadtteil_without_subdivision"] == {"04011260", "04011270", "04011350", "04011410"}
    assert "04011121" in steps["statistics_only_area"]
    assert "04011515" in steps["join_on_keys_not_names"]
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert any(i["path"].endswith("12411-03-03-2023.csv") for i in manifest["inputs"])
    assert (snapshots_dir / version / GPKG).is_file()


def test_small_numbers_withheld_in_real_data(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    wischen = ind[(ind.key == "04011444") & (ind.year == 2023) & (ind.indicator == "share_foreign_pct")]
    assert wischen["value"].isna().all() and wischen["flag"].item() == "withheld_small_numbers"
    assert wischen["denominator"].item() < 100


def test_wide_table_contract(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    wide = real_snapshot.wide("ortsteil")
    row = wide.set_index("key").loc["04011437"]
    assert row["population_change_5y_pct"] > 40  # Überseestadt grows fast
    assert row["share_migration_background_pct"] > 0 and wide.attrs["indicator_years"][
        "share_migration_background_pct"] == 2013
    assert not wide.set_index("key").loc["04012134", "has_statistics"]
    assert wide.set_index("key").loc["04011444", "too_small_for_index"]
    assert wide.set_index("key").loc["04011373", "designated"]
