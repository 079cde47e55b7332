"""The Wahlatlas reader, the turnout agreement check, and turnout in the snapshot for both cities."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from geo.pipeline.catalogue import load_need_catalogue
from geo.pipeline.sources.ortsteilatlas import read_ortsteilatlas
from geo.pipeline.sources.wahlatlas import feature_key, read_wahlatlas, to_indicators
from geo.pipeline.validate import check_agreement

TINY = Path(__file__).parent / "data" / "tiny_wahlatlas_data.js"
WAHLATLAS = Path("bremen-wahlatlas-2023") / "raw" / "HB_2023_Buergerschaftswahl_Wahlkreis_Ortsteile_data.js"
WORKBOOK = Path("bremen-ortsteilatlas") / "raw" / "Bremen_Datentabelle_Ortsteilatlas.xlsx"


def test_feature_keys() -> None:
    prefixes = {"X": "04011", "Y": "04012"}
    assert feature_key("X111", "ortsteil", prefixes) == "04011111"
    assert feature_key("Y123", "ortsteil", prefixes) == "04012123"
    assert feature_key("Y121", "stadtteil", prefixes) == "04012120"
    assert feature_key("X3", "stadtbezirk", prefixes) == "04011300"
    assert feature_key("Z111", "ortsteil", prefixes) is None


def test_tiny_file() -> None:
    table = read_wahlatlas(TINY)
    rows, problems = to_indicators(table, load_need_catalogue())
    t = rows.set_index(["key", "year"])
    assert t.loc[("04011991", 2023), "value"] == 50.5
    assert t.loc[("04011991", 2023), "flag"] == "includes_other_ortsteile"
    assert math.isnan(t.loc[("04011992", 2019), "value"])
    assert t.loc[("04011992", 2019), "flag"] == "included_in_other_ortsteil"
    assert t.loc[("04012993", 2023), "flag"] == "without_postal_votes"
    assert t.loc[("04011000", 2019), "value"] == 65.0  # comparison area "Stadt Bremen"
    assert "04000000" not in set(rows["key"])  # "Land Bremen": no level of the snapshot
    assert any(p.check == "wahlatlas_unknown_area" and "Z994" in p.message for p in table.problems)
    unknown = [p for p in problems if p.check == "wahlatlas_unknown_indicator"]
    assert len(unknown) == 1 and "Neue Kennzahl" in unknown[0].message and unknown[0].severity == "warning"


def test_agreement_check_names_the_districts_that_differ() -> None:
    a = pd.DataFrame({"key": ["1", "2", "3", "4"], "year": 2019, "value": [50.04, 60.0, 70.0, 80.0]})
    b = pd.DataFrame({"key": ["1", "2", "3", "4"], "year": 2019, "value": [50.0, 60.0, 70.0, 81.0]})
    problems = check_agreement(a, b, "t", tolerance=0.05, max_share_differing=0.25, names=("x", "y"))
    assert [(p.key, p.severity) for p in problems] == [("4", "warning")]
    b["value"] = [1.0, 2.0, 3.0, 81.0]
    problems = check_agreement(a, b, "t", tolerance=0.05, max_share_differing=0.25, names=("x", "y"))
    assert len(problems) == 4 and {p.severity for p in problems} == {"error"}
    ok = check_agreement(a, a, "t", tolerance=0.05, max_share_differing=0.25, names=("x", "y"))
    assert [p.check for p in ok] == ["sources_agree"]


@pytest.mark.realdata
def test_wahlatlas_2019_agrees_with_the_ortsteilatlas(data_dir: Path) -> None:
    cat = load_need_catalogue()
    wahl, _ = to_indicators(read_wahlatlas(data_dir / WAHLATLAS, city_prefixes=cat.wahl_city_prefixes,
                                           geographies=cat.wahl_geographies,
                                           comparison_keys=cat.wahl_comparison_keys), cat)
    atlas = read_ortsteilatlas(data_dir / WORKBOOK, topics={"Bürgerschaftswahlen"}).data
    atlas = atlas[(atlas["indicator_name"] == "Anteil der Wähler/-innen an den Wahlberechtigten (%)")
                  & (atlas["year"] == 2019) & (atlas["level"] == "ortsteil")]
    w19 = wahl[(wahl["year"] == 2019) & (wahl["level"] == "ortsteil")]
    both = atlas.merge(w19, on="key", suffixes=("_atlas", "_wahl")).dropna(subset=["value_atlas", "value_wahl"])
    assert len(both) == 82
    assert ((both["value_atlas"] - both["value_wahl"]).abs() <= 0.05 + 1e-9).all()


@pytest.mark.realdata
def test_turnout_in_the_snapshot_both_cities(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    t = ind[ind.indicator == "turnout_state_election_pct"]
    bhv = t[(t.level == "ortsteil") & t.key.str.startswith("04012")]
    for year in (2019, 2023):
        assert bhv.loc[bhv.year == year, "value"].notna().sum() == 22
    by = t.set_index(["key", "year"])
    assert by.loc[("04011373", 2023), "value"] == 32.4  # Tenever
    assert by.loc[("04012000", 2023), "value"] == 44.0  # city of Bremerhaven
    assert by.loc[("04011436", 2023), "flag"] == "without_postal_votes"  # Hohweg
    # one source per year, named in `source`
    assert t.loc[t.year == 2019, "source"].str.startswith("Wahlatlas").all()
    assert t.loc[t.year == 2015, "source"].str.startswith("Ortsteilatlas").all()
    assert not t.duplicated(["key", "year"]).any()
    assert sorted(t.year.unique()) == [1983, 1987, 1991, 1995, 1999, 2003, 2007, 2011, 2015, 2019, 2023]


@pytest.mark.realdata
def test_build_records_the_agreement(snapshots_dir: Path) -> None:
    import json

    from geo.pipeline.snapshot import MANIFEST, current_version

    manifest = json.loads((snapshots_dir / current_version(snapshots_dir) / MANIFEST).read_text(encoding="utf-8"))
    checks = [p for p in manifest["validation"] if p.get("check") in ("sources_agree", "sources_disagree")]
    assert [p["check"] for p in checks] == ["sources_agree"]
    assert not [p for p in manifest["validation"] if "unknown_indicator" in str(p.get("check"))]
