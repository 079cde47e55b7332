from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.monitoring import (
    coefficient_of_variation,
    decile_ratio,
    gini,
    inequality_series,
    parent_map,
    theil,
    theil_decomposition,
)
from geo.errors import ValidationError


def test_gini_by_hand():
    # x = 1,2,3,4: sum over ordered pairs |xi - xj| = 2*(1+2+3+1+2+1) = 20; n^2 = 16; mean 2.5
    # G = 20 / (2 * 16 * 2.5) = 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert gini([5, 5, 5]) == 0.0
    # all in one of four areas: G = 1 - 1/n = 0.75
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)


def test_weighted_gini_equals_gini_of_repeated_values():
    # weights 2,1 on values 1,3 == values 1,1,3: pairs |1-3| appear 2*2 times (ordered) -> 8 / (2*9*(5/3)) = 0.2667
    assert gini([1, 3], [2, 1]) == pytest.approx(gini([1, 1, 3]))
    assert gini([1, 1, 3]) == pytest.approx(8 / (2 * 9 * 5 / 3))


def test_theil_and_decomposition_by_hand():
    # x = 1,1,2,4 in groups A = {1,1}, B = {2,4}; unweighted; mean 2
    # T = 1/4 [2 * 0.5 ln 0.5 + 1 ln 1 + 2 ln 2] = ln(2)/4
    x, g = [1, 1, 2, 4], ["A", "A", "B", "B"]
    assert theil(x) == pytest.approx(np.log(2) / 4)
    dec = theil_decomposition(x, g)
    # s_A = 2*1/(4*2) = 0.25, s_B = 2*3/8 = 0.75; mu_A = 1, mu_B = 3
    # between = 0.25 ln(1/2) + 0.75 ln(3/2); T_B = 1/2 [(2/3) ln(2/3) + (4/3) ln(4/3)]; within = 0.75 T_B
    t_b = 0.5 * (2 / 3 * np.log(2 / 3) + 4 / 3 * np.log(4 / 3))
    assert dec.between == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5))
    assert dec.within == pytest.approx(0.75 * t_b)
    assert dec.between + dec.within == pytest.approx(dec.total)
    assert dec.groups.set_index("group").loc["B", "share"] == pytest.approx(0.75)


def test_cv_and_decile_ratio_by_hand():
    # 1,2,3,4: population variance 1.25 -> cv = sqrt(1.25)/2.5 = 0.4472
    assert coefficient_of_variation([1, 2, 3, 4]) == pytest.approx(np.sqrt(1.25) / 2.5)
    # linear percentiles: P90 = 1 + 0.9*3 = 3.7, P10 = 1.3 -> 2.846
    assert decile_ratio([1, 2, 3, 4]) == pytest.approx(3.7 / 1.3)
    assert np.isnan(decile_ratio([0, 0, 0, 1]))


def test_invalid_values_are_rejected():
    with pytest.raises(ValidationError, match="Gini"):
        gini([1, -1, 3])
    with pytest.raises(ValidationError):
        gini([1, np.nan])
    with pytest.raises(ValidationError, match="weights"):
        theil([1, 2], [1, -1])


values_st = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=30).filter(lambda v: sum(v) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(values=values_st, scale=st.floats(0.01, 1000), seed=st.integers(0, 100))
def test_gini_properties(values, scale, seed):
    g = gini(values)
    assert 0.0 <= g < 1.0
    assert g <= 1 - 1 / len(values) + 1e-12
    perm = np.random.default_rng(seed).permutation(values)
    assert gini(perm) == pytest.approx(g, abs=1e-9)
    assert gini(np.asarray(values) * scale) == pytest.approx(g, abs=1e-9)
    # brute force double sum
    x = np.asarray(values)
    brute = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert g == pytest.approx(brute, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(st.floats(0.0, 1000), st.floats(0.1, 100), st.sampled_from("ABC")),
                     min_size=2, max_size=25).filter(lambda r: sum(v * w for v, w, _ in r) > 1e-3))
def test_theil_decomposition_adds_up(data):
    x = [d[0] for d in data]
    w = [d[1] for d in data]
    g = [d[2] for d in data]
    dec = theil_decomposition(x, g, w)
    assert dec.between + dec.within == pytest.approx(dec.total, rel=1e-9, abs=1e-12)
    assert dec.total >= -1e-12 and dec.within >= -1e-12 and dec.between >= -1e-12
    assert dec.total <= np.log(sum(w) / min(w)) + 1e-9  # bounded by ln(W / w_min)


def long_table() -> pd.DataFrame:
    # 6 Ortsteile in 2 Stadtbezirke, 2 years; share_foreign and population
    pops = {"01": 100, "02": 200, "03": 100, "04": 300, "05": 100, "06": 200}
    shares = {2020: {"01": 10, "02": 20, "03": 30, "04": 5, "05": 5, "06": 10},
              2021: {"01": 10, "02": 20, "03": 30, "04": 5, "05": 5, "06": np.nan}}
    rows = []
    for year, vals in shares.items():
        for k, pop in pops.items():
            rows.append({"key": f"040110{k}", "level": "ortsteil", "year": year, "indicator": "population",
                         "value": float(pop)})
            rows.append({"key": f"040110{k}", "level": "ortsteil", "year": year, "indicator": "share_foreign_pct",
                         "value": float(vals[k])})
    return pd.DataFrame(rows)


GROUPS = {"04011001": "S1", "04011002": "S1", "04011003": "S1",
          "04011004": "S2", "04011005": "S2", "04011006": "S2"}


def test_inequality_series_weights_rates_by_population():
    out = inequality_series(long_table(), groups=GROUPS).set_index(["indicator", "year"])
    row = out.loc[("share_foreign_pct", 2020)]
    x = np.array([10, 20, 30, 5, 5, 10.0])
    w = np.array([100, 200, 100, 300, 100, 200.0])
    # weighted mean = (1000 + 4000 + 3000 + 1500 + 500 + 2000)/1000 = 12
    assert row["mean"] == pytest.approx(12.0)
    assert row["weighted"]
    assert row["gini"] == pytest.approx(gini(x, w))
    assert row["theil_between"] + row["theil_within"] == pytest.approx(row["theil"])
    # S1: weight 400, mean (1000+4000+3000)/400 = 20; share s_1 = 8000/12000 = 2/3; S2: mean 4000/600 = 6.667
    assert row["theil_between"] == pytest.approx(2 / 3 * np.log(20 / 12) + 1 / 3 * np.log((20 / 3) / 12))
    assert row["n_districts"] == 6
    assert out.loc[("share_foreign_pct", 2021), "n_districts"] == 5  # NaN dropped
    pop = out.loc[("population", 2020)]
    assert not pop["weighted"]  # counts: every district weighs 1
    assert pop["gini"] == pytest.approx(gini([100, 200, 100, 300, 100, 200]))


def test_inequality_series_notes_negative_and_ungrouped():
    long = long_table()
    long.loc[long["indicator"] == "share_foreign_pct", "value"] -= 15
    out = inequality_series(long, groups={k: v for k, v in GROUPS.items() if k != "04011001"},
                            indicators=["share_foreign_pct"])
    out = out.set_index("year")
    assert out.loc[2020, "note"] == "negative values: inequality measures not defined"
    # 2021: one value missing and one district without a group leave 4 < 5 districts
    assert out.loc[2021, "note"] == "fewer than 5 districts with a value"
    assert out["gini"].isna().all()
    assert (out["n_without_group"] == 1).all()


def test_parent_map_from_wide():
    wide = pd.DataFrame({"key": ["a", "b"], "stadtbezirk_key": ["X", None]})
    assert parent_map(wide).to_dict() == {"a": "X"}
