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


def test_bremerhaven_is_classified_on_its_own_basis_and_gets_its_budget(result, real_snapshot):
    t = result.table
    bhv = t[t["city"] == "Bremerhaven"].set_index("key")
    assert len(bhv) == 24 and len(t[t["city"] == "Bremen"]) >= 89
    assert (bhv["basis_confidence"] == "low").all()
    assert (t.loc[t["city"] == "Bremen", "basis_confidence"] == "high").all()
    assert bhv["basis"].str.contains("Turnout 2023").all()
    # residents are the 2011 census grid's: the rules and the budget read them
    census = real_snapshot.wide("ortsteil").set_index("key")["census2011_population"]
    assert bhv["population"].to_numpy() == pytest.approx(census.reindex(bhv.index).to_numpy())
    # every Ortsteil is classified or says precisely why not
    unclassified = bhv[bhv["status_index"].isna()]
    assert len(unclassified) <= 3
    why = unclassified["classifiable_reason"].str.len().gt(0) | unclassified["missing_indicators"].str.len().gt(0)
    assert why.all()
    # the index is standardised over Bremerhaven's own reference areas
    ref = bhv[bhv["classifiable"] & bhv["missing_indicators"].eq("")]
    assert ref["status_index"].mean() == pytest.approx(0.0, abs=1e-9)
    assert ref["status_index"].std(ddof=0) == pytest.approx(1.0, abs=1e-9)
    assert "win" in bhv.loc["04012123", "categories"]  # Leherheide-West: 86 % municipal dwellings, low turnout
    b = result.budget.set_index("group")
    assert round(b.loc["Bremen", "allocated_eur"] * 100) == 160_000_000
    assert round(b.loc["Bremerhaven", "allocated_eur"] * 100) == 40_000_000
    assert round(bhv["budget_eur"].fillna(0).sum() * 100) == 40_000_000


def test_no_index_contains_a_nationality_or_migration_indicator(real_snapshot):
    from geo.classify import load_definition
    from geo.pipeline.indicators import REGISTRY
    from geo.pipeline.products import read_classification

    nationality = {"share_foreign_pct", "share_foreign_under_18_pct", "share_migration_background_pct",
                   "atlas_migration_background_pct", "atlas_migration_background_u18_pct", "foreign_nationals",
                   "foreign_under_18", "german", "migration_background", "share_foreign_change_2y_pp",
                   "share_foreign_change_5y_pp"}
    assert nationality <= set(REGISTRY)  # the names are real ids
    definition = load_definition(DEFAULT_PROGRAMME)
    for d in (definition, *definition.bases.values()):
        for spec in d.indices:
            for c in spec.components:
                column = d.indicator(c.indicator).column
                assert column not in nationality, (spec.name, column)
                assert REGISTRY[column].direction in ("higher_is_worse", "higher_is_better"), column
    # the published classification carries the evidence for Bremerhaven's basis
    published = read_classification(real_snapshot.path, real_snapshot.manifest, definition)
    rows = {r["indicator"]: r for r in published.meta["basis_evidence"]["rows"]}
    assert rows["turnout_state_election_pct"]["verdict"] == "use"
    used = {c.indicator for spec in definition.basis_for("Bremerhaven").indices for c in spec.components}
    assert all(rows[i]["verdict"] in ("use", "weak") for i in used if i in rows)


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
