"""Scenario comparison: areas gained and lost, residents, budget shifts."""

from __future__ import annotations

import pytest

from geo.classify import compare_definitions

from .fixtures import definition, grid_table


def test_lower_population_threshold_gains_g():
    base = definition()
    draft = definition(id="draft")
    draft["categories"][0]["all"][1]["value"] = 500  # WiN from 500 residents: G (800) qualifies
    comp, _base_result, _draft_result = compare_definitions(grid_table(), base, draft)
    areas = comp.areas.set_index("key")
    assert areas.loc["00000007", "gained"] == "win" and areas.loc["00000007", "lost"] == ""
    cat = comp.categories.set_index("category")
    assert cat.loc["win", "areas_gained"] == 1 and cat.loc["win", "residents_gained"] == 800
    assert cat.loc["win", "areas_lost"] == 0
    # the budget stays the same in total, so the shifts add up to zero
    assert areas["budget_shift_eur"].sum() == pytest.approx(0, abs=0.005)
    assert comp.budget.set_index("group").loc["Bremen", "shift_eur"] == 0
    assert "00000007" in comp.to_text()
    assert comp.base_hash != comp.draft_hash
