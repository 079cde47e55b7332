"""Categories, reasons, margins, near misses, designation check, spatial rules, cities without statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo.classify import classify
from maps.i18n import reason_text

from .fixtures import definition, grid_table

# Status index of the grid (one indicator x, z-score over the 8 classifiable areas A..H; I has 200 residents):
# x = 10, 30, 30, 30, 12, 30, 30, 30 -> mean 25.25, population SD sqrt(543.5 / 8) = 8.2424
# z(30) = 4.75 / 8.2424 = 0.57629 ; z(10) = -1.85019 ; z(12) = -1.60754
Z30 = 4.75 / np.sqrt(543.5 / 8)
# population of A..H: mean 3725, population SD sqrt(33,135,000 / 8) = 2035.163
POP_SD = np.sqrt(33_135_000 / 8)


def cats(result, key: str) -> list[str]:
    t = result.table.set_index("key")
    return list(t.at[key, "categories"])


def test_categories_of_the_grid():
    r = classify(grid_table(), definition(), draws=0)
    t = r.table.set_index("key")
    assert t.loc["00000002", "status_index"] == pytest.approx(Z30)
    assert cats(r, "00000002") == ["win"]
    assert cats(r, "00000005") == ["quartier_im_werden"]  # growth 40 % >= 20 %
    assert cats(r, "00000007") == []  # status ok but only 800 residents
    assert not t.loc["00000009", "classifiable"]
    assert json.loads(t.loc["00000009", "classifiable_reason"]) == {"code": "too_few_residents", "min": 300}
    assert reason_text(t.loc["00000009", "classifiable_reason"], "de") == (
        "weniger als 300 Einwohner oder Einwohnerzahl unbekannt")


def test_city_without_statistics_is_not_classifiable_but_designation_shows():
    r = classify(grid_table(), definition(), draws=0)
    t = r.table.set_index("key")
    assert json.loads(t.loc["00000101", "classifiable_reason"]) == {
        "code": "check_failed", "field": "has_statistics", "reason": "no district statistics published"}
    assert reason_text(t.loc["00000101", "classifiable_reason"], "en") == "no statistics published"
    assert t.loc["00000101", "categories"] == []
    assert t.loc["00000101", "status_class"] == ""
    dc = r.designation_check.set_index("key")
    assert dc.loc["00000101", "designated"]
    assert dc.loc["00000101", "verdict"] == {"code": "not_classifiable", "designated": True,
                                             "reason": t.loc["00000101", "classifiable_reason"]}
    assert dc.loc["00000101", "driver"] == [{"code": "no_data"}]
    # its budget is not invented: not allocated, with a note
    b = r.budget.set_index("group")
    assert b.loc["Bremerhaven", "allocated_eur"] == 0 and b.loc["Bremerhaven", "unallocated_eur"] == 400
    assert b.loc["Bremerhaven", "note"] == "no_qualifying_area"


def test_reasons_every_area_rule_condition_with_margins():
    r = classify(grid_table(), definition(), draws=0)
    # 11 areas x (2 win + 1 quartier_im_werden + 2 phase_out) conditions
    assert len(r.reasons) == 11 * 5
    b = r.reasons[(r.reasons["key"] == "00000002") & (r.reasons["category"] == "win")].set_index("field")
    assert b.loc["status_index", "value"] == pytest.approx(Z30)
    assert b.loc["status_index", "threshold"] == 0.5
    assert b.loc["status_index", "margin"] == pytest.approx(Z30 - 0.5)
    assert b.loc["status_index", "margin_sd"] == pytest.approx(Z30 - 0.5)  # index SD is 1
    assert b.loc["status_index", "unit"] == "SD"
    # population 4000 >= 2000: margin 2000 residents = 2000 / 2035.163 SD
    assert b.loc["population", "margin"] == 2000
    assert b.loc["population", "margin_sd"] == pytest.approx(2000 / POP_SD)
    assert bool(b.loc["population", "passed"]) and bool(b.loc["population", "rule_passed"])
    g = r.reasons[(r.reasons["key"] == "00000007") & (r.reasons["category"] == "win")].set_index("field")
    assert not g.loc["population", "passed"]
    assert g.loc["population", "margin"] == -1200
    assert set(r.reasons.columns) >= {"operator", "threshold", "passed", "margin", "margin_sd", "unit"}


def test_near_misses_respect_the_configured_margin():
    # G misses win by 1200 residents = 0.5896 SD
    wide = classify(grid_table(), definition(near_miss={"margin_sd": 0.6}), draws=0).near_misses
    assert ("00000007", "win") in set(zip(wide["key"], wide["category"], strict=True))
    row = wide[(wide["key"] == "00000007") & (wide["category"] == "win")].iloc[0]
    assert row["shortfall_sd"] == pytest.approx(1200 / POP_SD)
    assert row["name"] == "G"
    narrow = classify(grid_table(), definition(near_miss={"margin_sd": 0.25}), draws=0).near_misses
    assert "00000007" not in set(narrow["key"])


def test_designation_versus_data():
    table = grid_table()
    table.loc[table["key"] == "00000002", "x"] = 10.0  # B designated but no longer indicated
    r = classify(table, definition(), draws=0)
    assert "phase_out_candidate" in cats(r, "00000002")
    dc = r.designation_check.set_index("key")
    assert dc.loc["00000002", "verdict"] == {"code": "phase_out_candidate"}
    failed = [m for m in dc.loc["00000002", "driver"] if m["code"] == "condition_failed"]
    assert "status_index" in {m["field"] for m in failed} and all(m["short_sd"] > 0 for m in failed)
    assert set(failed[0]) == {"code", "category", "field", "value", "op", "threshold", "short_sd"}
    assert dc.loc["00000003", "verdict"] == {"code": "new_candidate"}
    assert dc.loc["00000003", "driver"][0]["code"] == "qualifies_as"
    assert dc.loc["00000005", "verdict"] == {"code": "designated_and_indicated"}  # E: quartier_im_werden
    assert "00000001" not in dc.index  # neither designated nor indicated


def test_watch_list_and_matrix():
    d = definition()
    d["indices"]["dynamics"] = {
        "method": "zscore",
        "components": [{"indicator": "growth"}],
        "cutoffs": [-1.0, 1.0],
        "labels": ["positive", "stable", "negative"],
    }
    d["matrix"] = {"rows": "status", "columns": "dynamics"}
    d["categories"].insert(
        2,
        {
            "id": "watch_list",
            "all": [
                {"field": "status_class", "op": "in", "value": ["high", "medium"]},
                {"field": "dynamics_class", "op": "==", "value": "negative"},
            ],
        },
    )
    r = classify(grid_table(), d, draws=0)
    t = r.table.set_index("key")
    # growth of E (40 %) is far above the others: dynamics "negative" (higher growth = worse by this definition)
    assert t.loc["00000005", "dynamics_class"] == "negative"
    assert t.loc["00000005", "matrix_cell"] == "high/negative"
    assert "watch_list" in t.loc["00000005", "categories"]
    assert t.loc["00000101", "matrix_cell"] == ""


def test_enclave_rule_rook_versus_queen():
    # E (centre) has rook neighbours B, D, F, H (all WiN) but queen neighbours also include A (not WiN)
    rook = definition(spatial={"contiguity": "rook", "enclave": {"categories": ["win"], "min_neighbours": 3}})
    queen = definition(spatial={"contiguity": "queen", "enclave": {"categories": ["win"], "min_neighbours": 3}})
    r = classify(grid_table(), rook, draws=0)
    assert "win" in cats(r, "00000005")
    spatial = r.reasons[(r.reasons["part"] == "spatial") & (r.reasons["key"] == "00000005")]
    assert spatial["field"].tolist() == ["enclave"]
    assert "win" not in cats(classify(grid_table(), queen, draws=0), "00000005")
    # without geometry the rule is skipped and the policy says so
    plain = classify(grid_table(geometry=False), rook, draws=0)
    assert "win" not in cats(plain, "00000005")
    assert "enclave rule skipped" in plain.policy


@pytest.mark.parametrize(
    ("order_by", "kept"),
    [
        # all WiN areas tie on status: order by id; cap 50 % of 30,000 = 15,000:
        # B 4000 (4000), C 3000 (7000), D 6000 (13000), F 2500 (15500 > 15000: stop) -> F and H lose
        ("status_index", {"00000002", "00000003", "00000004"}),
        # by population: H 7000, D 6000 (13000), B 4000 (17000: stop)
        ("population", {"00000008", "00000004"}),
    ],
)
def test_population_cap_filled_in_order_of_need(order_by, kept):
    d = definition(spatial={"population_cap": {"categories": ["win"], "share": 0.5, "order_by": order_by}})
    r = classify(grid_table(), d, draws=0)
    t = r.table
    assert set(t.loc[t["is_win"], "key"]) == kept
    lost = r.reasons[(r.reasons["field"] == "population_cap")]
    assert set(lost["key"]) == {"00000002", "00000003", "00000004", "00000006", "00000008"} - kept


def test_extra_rows_are_scored_against_the_districts_only():
    base = classify(grid_table(geometry=False), definition(), draws=0)
    extra = pd.DataFrame(
        [
            {
                "key": "user-1",
                "name": "drawn",
                "city": "Bremen",
                "has_statistics": True,
                "population": 1200.0,
                "x": 30.0,
                "growth": 0.0,
                "designated": False,
            }
        ]
    )
    d = definition()
    d["categories"].insert(
        1,
        {
            "id": "kleinstquartier",
            "all": [
                {"field": "status_index", "op": ">=", "value": 0.5},
                {"field": "population", "op": ">=", "value": 300},
                {"field": "population", "op": "<", "value": 2000},
            ],
        },
    )
    r = classify(grid_table(geometry=False), d, extra_rows=extra, draws=0)
    t = r.table.set_index("key")
    assert t.loc["user-1", "status_index"] == pytest.approx(Z30)  # same z as a district with x = 30
    assert t.loc["user-1", "is_extra"]
    assert t.loc["user-1", "categories"] == ["kleinstquartier"]
    assert np.isnan(t.loc["user-1", "budget_eur"])
    # the districts' results do not move
    pd.testing.assert_series_equal(t.drop(index="user-1")["status_index"], base.table.set_index("key")["status_index"])
