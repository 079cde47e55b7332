"""Group bases (a city classified on its own index components) and optional components.

The tables are the hand-made grid of ``fixtures.py`` (SYNTHETIC, no real data) with a synthetic proxy column
``y`` and residents ``residents`` given to the two "Bremerhaven" areas and three more added here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.classify import classify, load_definition, score_rows
from geo.classify.result import ClassificationResult, ScoringModel
from geo.errors import DefinitionError
from tests.classify.fixtures import definition, grid_table

BHV_Y = {"00000101": 40.0, "00000102": 60.0, "00000103": 55.0, "00000104": 70.0, "00000105": 45.0}
BHV_RESIDENTS = {"00000101": 3000.0, "00000102": 2500.0, "00000103": 4000.0, "00000104": 800.0, "00000105": 5000.0}


def _table() -> pd.DataFrame:
    t = grid_table()
    more = t[t["city"] == "Bremerhaven"].iloc[[0, 0, 0]].copy()
    more["key"] = ["00000103", "00000104", "00000105"]
    more["name"] = ["BHV3", "BHV4", "BHV5"]
    more["designated"] = False
    more["geometry"] = [box(20000 + i * 1000, 0, 21000 + i * 1000, 1000) for i in range(3)]
    t = pd.concat([t, more], ignore_index=True)
    t["y"] = t["key"].map(BHV_Y)
    t["residents"] = t["key"].map(BHV_RESIDENTS).fillna(t["population"])
    return t


def _bases_definition(**basis: object) -> dict:
    d = definition(
        indicators=[{"id": "x", "direction": "higher_is_worse", "unit": "%"},
                    {"id": "growth", "direction": "higher_is_worse", "unit": "%"}],
        group_bases={"Bremerhaven": {
            "label": "synthetic proxy y", "confidence": "low",
            "indicators": [{"id": "y", "direction": "higher_is_worse", "unit": "%"}],
            "indices": {"status": {"components": [{"indicator": "y", "weight": 1}]}},
            "population_column": "residents", "classifiable_when": [], **basis}},
        basis={"label": "x", "confidence": "high"})
    return d


@pytest.fixture(scope="module")
def merged() -> ClassificationResult:
    return classify(_table(), _bases_definition(), draws=30)


def test_the_groups_own_basis_is_standardised_over_its_own_areas(merged):
    t = merged.table.set_index("key")
    bhv = t[t["city"] == "Bremerhaven"]
    y = pd.Series(BHV_Y)
    z = (y - y.mean()) / y.std(ddof=0)
    assert np.allclose(bhv.loc[z.index, "status_index"].to_numpy(), z.to_numpy())
    assert (bhv["basis"] == "synthetic proxy y").all() and (bhv["basis_confidence"] == "low").all()
    assert (t.loc[t["city"] == "Bremen", "basis_confidence"] == "high").all()
    # the rules read the basis' residents: BHV4 has 800 residents, so it cannot be a WiN area (>= 2,000)
    assert bhv.loc["00000104", "population"] == 800.0
    assert "win" not in bhv.loc["00000104", "categories"]
    assert "win" in bhv.loc["00000102", "categories"]


def test_the_programmes_basis_is_unaffected_by_the_other_group(merged):
    alone = classify(_table().query("city == 'Bremen'"), _bases_definition(), draws=30).table.set_index("key")
    t = merged.table.set_index("key").loc[alone.index]
    assert np.allclose(t["status_index"].to_numpy(dtype=float), alone["status_index"].to_numpy(dtype=float),
                       equal_nan=True)
    assert list(t["categories"]) == list(alone["categories"])


def test_each_groups_budget_adds_up_to_the_cent(merged):
    b = merged.budget.set_index("group")
    t = merged.table
    for city, total in (("Bremen", 1000.0), ("Bremerhaven", 400.0)):
        assert round(b.loc[city, "allocated_eur"] * 100) == round(total * 100)
        assert round(t.loc[t["city"] == city, "budget_eur"].fillna(0).sum() * 100) == round(total * 100)
    assert len(b) == 2


def test_the_stored_model_scores_rows_of_both_bases_like_the_classification(merged):
    model = ScoringModel.from_dict(merged.model.to_dict())
    assert set(model.bases) == {"Bremerhaven"}
    rows = _table().iloc[[10, 0, 12, 5]]  # mixed groups, not in id order
    scored = score_rows(model, rows, _bases_definition()).table
    assert list(scored["key"]) == list(rows["key"])
    want = merged.table.set_index("key").loc[list(rows["key"]), "status_index"].to_numpy(dtype=float)
    assert np.allclose(scored["status_index"].to_numpy(dtype=float), want, equal_nan=True)


def test_a_wrong_basis_is_reported_with_its_path():
    bad = _bases_definition(indices={"nosuch": {"components": [{"indicator": "y"}]}}, colour="red")
    with pytest.raises(DefinitionError) as err:
        load_definition(bad)
    fields = [str(p.detail.get("field")) for p in err.value.problems]
    assert any(f.startswith("group_bases.Bremerhaven.indices.nosuch") for f in fields), fields
    assert any(f == "group_bases.Bremerhaven.colour" for f in fields), fields
    worse = _bases_definition(indices={"status": {"components": [{"indicator": "undefined"}]}})
    with pytest.raises(DefinitionError) as err2:
        load_definition(worse)
    assert any("group_bases.Bremerhaven" in p.message and "undefined" in p.message for p in err2.value.problems)


def test_optional_components_scale_the_present_weight_and_need_half_of_it():
    t = grid_table(geometry=False)
    t = t[t["city"] == "Bremen"].copy()
    t["w"] = [1.0, 5.0, 2.0, 3.0, 4.0, 6.0, 2.5, 3.5, 1.5]
    t["v"] = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 2.0, 7.0, 1.0]
    t.loc[t["key"] == "00000002", "w"] = np.nan  # optional component missing
    t.loc[t["key"] == "00000003", "x"] = np.nan  # required component missing
    t.loc[t["key"] == "00000004", ["w", "v"]] = np.nan  # two optional missing: less than half the weight
    d = definition(
        indicators=[{"id": c, "direction": "higher_is_worse", "unit": "%"} for c in ("x", "w", "v", "growth")],
        indices={"status": {"method": "zscore", "cutoffs": [-1.0, 1.0, 1.5],
                            "labels": ["high", "medium", "low", "very_low"],
                            "components": [{"indicator": "x", "weight": 1},
                                           {"indicator": "w", "weight": 1, "optional": True},
                                           {"indicator": "v", "weight": 1, "optional": True}]}})
    res = classify(t, d, draws=0).table.set_index("key")
    ref = t[(t["population"] >= 300) & t[["x", "w", "v"]].notna().all(axis=1)]
    mean, sd = ref[["x", "w", "v"]].mean(), ref[["x", "w", "v"]].std(ddof=0)
    zref = (ref[["x", "w", "v"]] - mean) / sd
    s_mean, s_sd = zref.sum(axis=1).mean(), zref.sum(axis=1).std(ddof=0)
    row = t.set_index("key").loc["00000002"]
    partial = ((row["x"] - mean["x"]) / sd["x"] + (row["v"] - mean["v"]) / sd["v"]) * 3 / 2
    assert res.loc["00000002", "status_index"] == pytest.approx((partial - s_mean) / s_sd)
    assert res.loc["00000002", "missing_indicators"] == "w"
    assert np.isnan(res.loc["00000003", "status_index"])
    assert np.isnan(res.loc["00000004", "status_index"])
    bad = dict(d)
    bad["indices"] = {"status": {**d["indices"]["status"], "method": "percentile"}}
    with pytest.raises(DefinitionError, match="optional"):
        load_definition(bad)


def test_a_basis_without_reference_areas_stores_a_model_that_restores():
    t = _table()
    t["residents"] = t["residents"].where(t["city"] == "Bremen")  # the basis has no classifiable area
    res = classify(t, _bases_definition(), draws=0)
    bhv = res.table[res.table["city"] == "Bremerhaven"]
    assert bhv["status_index"].isna().all() and (bhv["classifiable"] == False).all()  # noqa: E712
    model = ScoringModel.from_dict(res.model.to_dict())
    scored = score_rows(model, t.iloc[[0, 10]], _bases_definition()).table
    assert scored["status_index"].notna().tolist() == [True, False]
