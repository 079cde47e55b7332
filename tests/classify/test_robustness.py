"""Monte Carlo robustness: seeded, probabilities consistent, borderline flags where expected."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from geo.classify import classify
from geo.classify.robustness import dirichlet_weights

from .fixtures import definition, grid_table


def test_seeded_and_reproducible():
    a = classify(grid_table(), definition(), draws=200, seed=7).robustness
    b = classify(grid_table(), definition(), draws=200, seed=7).robustness
    c = classify(grid_table(), definition(), draws=200, seed=8).robustness
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_probabilities_and_stability():
    r = classify(grid_table(), definition(robustness={"draws": 400, "seed": 3, "threshold_jitter_sd": 0.3}))
    rb = r.robustness.set_index("key")
    classes = [c for c in rb.columns if c.startswith("p_status_")]
    ok = r.table.set_index("key")["classifiable"]
    # every draw gives a classifiable area exactly one class
    assert np.allclose(rb.loc[ok[ok].index, classes].sum(axis=1), 1.0)
    # A is far from every cut-off and threshold (-1.85 SD; the high/medium cut-off is at -1 +- 0.3 SD)
    assert rb.loc["00000001", "stability"] == 1.0 and not rb.loc["00000001", "borderline"]
    # B sits 0.076 SD above the WiN threshold 0.5 that moves by 0.3 SD: it often drops out -> borderline
    assert 0.2 < rb.loc["00000002", "p_win"] < 0.8
    assert rb.loc["00000002", "borderline"]
    # not classifiable: no stability
    assert np.isnan(rb.loc["00000101", "stability"]) and not rb.loc["00000101", "borderline"]
    assert r.table.set_index("key").loc["00000002", "borderline"]


def test_no_jitter_one_indicator_is_fully_stable():
    # with one indicator the weights cannot change anything, and thresholds do not move
    r = classify(grid_table(), definition(robustness={"draws": 100, "threshold_jitter_sd": 0.0}))
    s = r.table.loc[r.table["classifiable"], "stability"]
    assert (s == 1.0).all()


def test_dirichlet_keeps_mean_total_and_zero_weights():
    rng = np.random.default_rng(0)
    w = dirichlet_weights(np.array([2.0, 1.0, 0.0, 1.0]), 20_000, concentration=20, rng=rng)
    assert np.allclose(w.sum(axis=1), 4.0)
    assert (w[:, 2] == 0).all()
    assert np.allclose(w.mean(axis=0), [2, 1, 0, 1], atol=0.02)


@pytest.mark.slow
def test_thousand_draws_on_a_hundred_areas_is_fast():
    rng = np.random.default_rng(1)
    n = 120
    t = pd.DataFrame(
        {
            "key": [f"{i:08d}" for i in range(n)],
            "name": "n",
            "city": "Bremen",
            "has_statistics": True,
            "population": rng.integers(300, 20000, n).astype(float),
            "x": rng.normal(20, 8, n),
            "growth": rng.normal(2, 5, n),
            "designated": False,
        }
    )
    start = time.perf_counter()
    classify(t, definition(), draws=1000)
    assert time.perf_counter() - start < 10
