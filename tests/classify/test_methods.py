"""Known-answer tests of the index methods, computed by hand on tiny tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geo.classify import (
    IndexModel,
    classify,
    exponential_transform,
    fit_empirical_bayes,
    load_definition,
    percentile_rank,
    rank_fraction,
    shrink_rates,
    zscores,
)
from geo.classify.methods import class_codes

from .fixtures import definition


def plain(values: dict[str, list[float]], pop: float = 1000.0) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    df = pd.DataFrame({"key": [f"k{i}" for i in range(n)], "population": [pop] * n, **values})
    return df


def one_index(method: str, comps: list[dict], cutoffs: list[float], labels: list[str], **extra) -> dict:
    inds = [{"id": c["indicator"], "direction": c.pop("direction", "higher_is_worse")} for c in comps]
    return definition(
        indicators=inds,
        indices={"status": {"method": method, "components": comps, "cutoffs": cutoffs, "labels": labels, **extra}},
        categories=[{"id": "win", "all": [{"field": "status_index", "op": ">=", "value": cutoffs[-1]}]}],
        budget=None,
        classifiable_when=[],
        robustness={"draws": 0},
    )


def test_zscore_uses_population_sd():
    # x = 1, 2, 3, 4: mean 2.5, population SD sqrt(((1.5)^2+(0.5)^2+(0.5)^2+(1.5)^2)/4) = sqrt(1.25) = 1.1180
    # z(4) = 1.5 / 1.1180 = 1.3416 (with the sample SD 1.2910 it would be 1.1619)
    z = zscores(np.array([1, 2, 3, 4.0]), mean=2.5, sd=float(np.std([1, 2, 3, 4.0])))
    assert z[3] == pytest.approx(1.5 / math.sqrt(1.25))
    r = classify(plain({"x": [1, 2, 3, 4.0]}), one_index("zscore", [{"indicator": "x"}], [0.0], ["a", "b"]))
    assert r.table["status_index"].tolist() == pytest.approx([-1.3416408, -0.4472136, 0.4472136, 1.3416408])


def test_weighted_sum_is_standardised_again_and_direction_is_applied():
    # x = 0, 0, 2, 2 -> z = -1, -1, 1, 1 ; y = 1, 3, 1, 3 (lower is worse) -> oriented -z = 1, -1, 1, -1
    # S = 2 z_x + 1 (-z_y) = -1, -3, 3, 1 ; mean 0 ; population SD sqrt((1+9+9+1)/4) = sqrt(5)
    # index = S / sqrt(5) = -0.4472, -1.3416, 1.3416, 0.4472
    d = one_index(
        "zscore",
        [{"indicator": "x", "weight": 2.0}, {"indicator": "y", "weight": 1.0, "direction": "lower_is_worse"}],
        [0.0],
        ["a", "b"],
    )
    r = classify(plain({"x": [0, 0, 2, 2.0], "y": [1, 3, 1, 3.0]}), d)
    s5 = math.sqrt(5)
    assert r.table["status_index"].tolist() == pytest.approx([-1 / s5, -3 / s5, 3 / s5, 1 / s5])


def test_tie_at_cutoff_goes_to_the_class_above():
    # x = -1, 1: mean 0, population SD 1, so the index is exactly -1 and +1, both on a cut-off.
    # Cut-offs [-1, 1, 1.5] are lower bounds: -1 -> "medium", +1 -> "low".
    d = one_index("zscore", [{"indicator": "x"}], [-1.0, 1.0, 1.5], ["high", "medium", "low", "very_low"])
    r = classify(plain({"x": [-1.0, 1.0]}), d)
    assert r.table["status_class"].tolist() == ["medium", "low"]
    assert r.table["is_win"].tolist() == [False, False]  # win needs >= 1.5
    assert list(class_codes(np.array([0.9999999999999, 1.0, np.nan]), (1.0,))) == [1, 1, -1]
    assert "belongs to the class above" in r.policy


def test_percentile_rank_and_flags():
    # reference 10, 20, 20, 40: PR = #strictly below / (n - 1): 0/3, 1/3, 1/3, 3/3; 30 -> 3/3 = 1
    pr = percentile_rank(np.array([10, 20, 20, 40.0]), np.array([10, 20, 40, 30, np.nan]))
    assert pr[:4].tolist() == pytest.approx([0, 1 / 3, 1, 1])
    assert np.isnan(pr[4])
    d = one_index("percentile", [{"indicator": "x"}, {"indicator": "y"}], [0.5], ["a", "b"], flag_percentile=0.9)
    d["categories"] = [{"id": "win", "all": [{"field": "status_flags", "op": ">=", "value": 1}]}]
    # x PR: 0, 1/3, 1/3, 1 ; y = 4, 3, 2, 1 -> PR 1, 2/3, 1/3, 0 ; sum 1, 1, 2/3, 1
    # index = PR of the sums in the sums: 1 -> #below{2/3}=1 -> 1/3 ; 2/3 -> 0
    r = classify(plain({"x": [10, 20, 20, 40.0], "y": [4, 3, 2, 1.0]}), d)
    assert r.table["status_index"].tolist() == pytest.approx([1 / 3, 1 / 3, 0, 1 / 3])
    # flags (PR >= 0.9): row 0 (y), row 3 (x)
    assert r.table["is_win"].tolist() == [True, False, False, True]


def test_rank_and_exponential_transform():
    # X = -23 ln(1 - R (1 - exp(-100/23))): R = 0 -> 0 ; R = 1 -> 100 ;
    # R = 0.5: exp(-100/23) = 0.0129358 ; 1 - 0.5 * 0.9870642 = 0.5064679 ; -23 ln(0.5064679) = 15.647
    assert exponential_transform(np.array([0.0, 0.5, 1.0])).tolist() == pytest.approx([0, 15.647, 100], abs=1e-3)
    # R = share of reference at or below: reference 1, 2, 3, 4 -> 3 -> 0.75, 3.5 -> 0.75, 0 -> 0
    assert rank_fraction(np.array([1, 2, 3, 4.0]), np.array([3, 3.5, 0])).tolist() == [0.75, 0.75, 0.0]


def test_exponential_method_with_weighted_domains():
    # domain a = x, domain b = y, weights 0.75 / 0.25. x = 1, 2, 3, 4 -> R = 1/4 .. 4/4 ;
    # y = 4, 3, 2, 1 -> R = 4/4 .. 1/4. X(R) with X(1/4) = -23 ln(0.7532340) = 6.5178,
    # X(2/4) = 15.647, X(3/4) = 31.0846, X(1) = 100.
    # row 0: 0.75 X(1/4) + 0.25 X(1) = 4.8883 + 25 = 29.888
    d = one_index(
        "exponential",
        [{"indicator": "x", "domain": "a"}, {"indicator": "y", "domain": "b"}],
        [50.0],
        ["a", "b"],
        domain_weights={"a": 0.75, "b": 0.25},
    )
    r = classify(plain({"x": [1, 2, 3, 4.0], "y": [4, 3, 2, 1.0]}), d)
    xs = exponential_transform(np.array([0.25, 0.5, 0.75, 1.0]))
    expected = 0.75 * xs + 0.25 * xs[::-1]
    assert r.table["status_index"].tolist() == pytest.approx(expected.tolist())
    assert expected[0] == pytest.approx(29.888, abs=1e-3)


def test_empirical_bayes_known_answer():
    # counts n = 1, 10, 30 of d = 10, 100, 100: rates 0.1, 0.1, 0.3
    # m = 41/210 = 0.195238 ; binomial v = m (1 - m) = 0.157120
    # sum d (r - m)^2 / sum d = (10*0.095238^2 + 100*0.095238^2 + 100*0.104762^2) / 210 = 0.0099773
    # s2 = 0.0099773 - v / mean(d) = 0.0099773 - 0.157120/70 = 0.0077327
    # w1 = s2 / (s2 + v/10) = 0.32983 -> theta1 = m + w1 (0.1 - m) = 0.16383
    # w2 = s2 / (s2 + v/100) = 0.83112 -> theta2 = 0.11608
    num, den = np.array([1, 10, 30.0]), np.array([10, 100, 100.0])
    p = fit_empirical_bayes(num, den)
    assert p.m == pytest.approx(41 / 210)
    assert p.s2 == pytest.approx(0.0077327, abs=1e-6)
    theta = shrink_rates(num, den, p)
    assert theta[:2].tolist() == pytest.approx([0.16383, 0.11608], abs=1e-5)
    # same raw rate, smaller denominator -> pulled further towards m
    assert abs(theta[0] - p.m) < abs(theta[1] - p.m)


def test_shrinkage_in_a_definition_uses_counts():
    d = one_index("zscore", [{"indicator": "rate"}], [0.0], ["a", "b"])
    d["indicators"][0]["shrinkage"] = {"numerator": "n", "denominator": "d", "scale": 100}
    table = plain({"n": [1, 10, 30.0], "d": [10, 100, 100.0]})
    # the shrunk rates (in %, scale 100) are those of the known-answer test above
    m = IndexModel(load_definition(d)).fit(table)
    shrunk = m.indicator_values(table)["rate"]
    assert shrunk[:2].tolist() == pytest.approx([16.383, 11.608], abs=1e-3)
    # and the index is the z-score of the shrunk (not the raw) rates
    r = classify(table, d)
    z = (shrunk - shrunk.mean()) / shrunk.std()
    assert r.table["status_index"].tolist() == pytest.approx(z.tolist())


def test_missing_value_policy_excludes_area_from_index_and_fit():
    # x = 1, 3, NaN: the third area gets no index and does not change the fit of the other two (z = -1, +1)
    d = one_index("zscore", [{"indicator": "x"}], [0.0], ["a", "b"])
    r = classify(plain({"x": [1.0, 3.0, np.nan]}), d)
    t = r.table
    assert t["status_index"].iloc[:2].tolist() == pytest.approx([-1, 1])
    assert np.isnan(t["status_index"].iloc[2]) and t["status_class"].iloc[2] == ""
    assert t["missing_indicators"].iloc[2] == "x"


def test_zero_variance_indicator_contributes_zero_and_is_noted():
    d = one_index("zscore", [{"indicator": "x"}, {"indicator": "y"}], [0.0], ["a", "b"])
    r = classify(plain({"x": [5, 5, 5.0], "y": [1, 2, 3.0]}), d)
    assert r.table["status_index"].tolist() == pytest.approx([-1.2247449, 0, 1.2247449])
    assert "no variance" in r.policy
