"""An index-only definition (no categories) is valid and classifies; Monte Carlo runs only when asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geo.classify import classify, load_definition, load_result, save_result

from .fixtures import definition, grid_table

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"


def index_only() -> dict:
    d = definition(budget=None)
    for key in ("categories", "robustness"):
        d.pop(key)
    return d


def test_a_definition_without_categories_gives_indices_and_classes(tmp_path: Path):
    defn = load_definition(index_only())
    assert defn.categories == () and defn.category_ids == ()
    res = classify(grid_table(), defn)
    t = res.table.set_index("key")
    bremen = t[t["city"] == "Bremen"]
    # 8 of the 9 Bremen squares have >= 300 residents (I has 200): each gets an index and a class
    assert bremen["status_index"].notna().sum() == 8 and (bremen["status_class"] != "").sum() == 8
    assert set(bremen["status_class"]) - {""} <= {"high", "medium", "low", "very_low"}
    assert t["categories"].map(len).eq(0).all()  # each area: an empty list of categories
    assert res.reasons.empty and res.near_misses.empty
    save_result(res, tmp_path / "r.json")
    back = load_result(tmp_path / "r.json")
    assert np.allclose(back.table["status_index"].to_numpy(float), res.table["status_index"].to_numpy(float),
                       equal_nan=True)


def test_monte_carlo_runs_only_when_the_definition_has_a_robustness_section():
    without = classify(grid_table(), index_only())
    assert without.meta["draws"] == 0 and "robustness not computed (0 draws)" in without.policy
    assert without.table["stability"].isna().all()
    asked = classify(grid_table(), {**definition(), "robustness": {"draws": 30, "seed": 2}})
    assert asked.meta["draws"] == 30 and asked.table["stability"].notna().any()
    # a section without draws keeps the documented default; the shipped programmes all ask for it
    assert load_definition({**definition(), "robustness": {"seed": 2}}).robustness.draws == 1000
    for path in sorted(PROGRAMMES.glob("*.yml")):
        assert load_definition(path).robustness.draws > 0, path.name
