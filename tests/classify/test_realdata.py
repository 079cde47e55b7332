"""The shipped definition on the real snapshot (both cities)."""

from __future__ import annotations

import pytest

from geo.classify import classify, load_result
from geo.config import DEFAULT_PROGRAMME

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def result(real_snapshot):
    return classify(real_snapshot.wide(level="ortsteil"), DEFAULT_PROGRAMME, draws=200)


def test_ueberseestadt_is_quartier_im_werden_because_of_its_growth(result):
    t = result.table.set_index("key")
    assert "quartier_im_werden" in t.loc["04011437", "categories"]
    why = result.reasons[(result.reasons["key"] == "04011437") & (result.reasons["category"] == "quartier_im_werden")]
    growth = why[why["field"] == "population_change_5y_pct"].iloc[0]
    assert growth["passed"] and growth["value"] > growth["threshold"]


def test_both_cities_run_and_bremerhaven_is_not_invented(result):
    t = result.table
    bhv = t[t["city"] == "Bremerhaven"]
    assert len(bhv) == 24 and len(t[t["city"] == "Bremen"]) >= 89
    assert (bhv["classifiable_reason"] == "not classifiable: no district statistics published").all()
    assert bhv["categories"].map(len).eq(0).all()
    dc = result.designation_check
    assert (dc.loc[dc["city"] == "Bremerhaven", "verdict"].str.contains("no district statistics")).all()
    b = result.budget.set_index("group")
    assert round(b.loc["Bremen", "allocated_eur"] * 100) == 160_000_000


def test_known_win_areas_are_indicated(result):
    t = result.table.set_index("key")
    for key in ("04011373", "04011442", "04011443", "04011441"):  # Tenever, Gröpelingen, Ohlenhof, Lindenhof
        assert "win" in t.loc[key, "categories"], key


def test_cli_stores_the_result_next_to_the_snapshot(snapshots_dir, tmp_path):
    from service.cli import main

    out = tmp_path / "cls.csv"
    assert main(["classify", "--snapshot", str(snapshots_dir), "--out", str(out), "--draws", "50"]) == 0
    stored = list(snapshots_dir.glob("*/classifications/*.json"))
    assert len(stored) == 1
    back = load_result(stored[0])
    assert stored[0].stem == back.definition_hash
    assert "04011437" in set(back.table["key"])
