from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.monitoring import dissimilarity_index, global_moran, isolation_index, segregation_series
from geo.errors import ValidationError

from .conftest import square


def test_dissimilarity_and_isolation_by_hand():
    # totals 100, 100, 200; foreign 50, 10, 40 -> A = 100, rest b = 50, 90, 160 (B = 300)
    # D = 0.5 (|0.5 - 1/6| + |0.1 - 0.3| + |0.4 - 160/300|) = 0.5 (1/3 + 0.2 + 2/15) = 1/3
    # xPx = 0.5*0.5 + 0.1*0.1 + 0.4*0.2 = 0.34
    assert dissimilarity_index([50, 10, 40], [100, 100, 200]) == pytest.approx(1 / 3)
    assert isolation_index([50, 10, 40], [100, 100, 200]) == pytest.approx(0.34)


def test_extremes():
    assert dissimilarity_index([10, 20], [100, 200]) == pytest.approx(0.0)  # same share everywhere
    assert dissimilarity_index([100, 0], [100, 50]) == pytest.approx(1.0)  # complete separation
    assert isolation_index([100, 0], [100, 50]) == pytest.approx(1.0)


def test_bad_counts_are_rejected():
    with pytest.raises(ValidationError, match="between 0 and the total"):
        dissimilarity_index([5, 20], [10, 10])
    with pytest.raises(ValidationError, match="both be present"):
        isolation_index([0, 0], [10, 10])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 500)), min_size=2, max_size=20))
def test_segregation_bounds(pairs):
    a = np.array([min(x, t) for x, t in pairs], dtype=float)
    t = np.array([t for _, t in pairs], dtype=float)
    if a.sum() == 0 or (t - a).sum() == 0:
        return
    d = dissimilarity_index(a, t)
    assert 0 <= d <= 1 + 1e-12
    iso = isolation_index(a, t)
    assert a.sum() / t.sum() - 1e-12 <= iso <= 1 + 1e-12  # floor: city-wide share
    order = np.argsort(-t)
    assert dissimilarity_index(a[order], t[order]) == pytest.approx(d)


def grid(n: int = 5) -> gpd.GeoDataFrame:
    keys = [f"0401{r:02d}{c:02d}" for r in range(n) for c in range(n)]
    return gpd.GeoDataFrame({"key": keys}, geometry=[square(c, r) for r in range(n) for c in range(n)],
                            crs="EPSG:25832")


def test_global_moran_detects_a_gradient_and_is_seeded():
    g = grid()
    g["x"] = [float(c) for r in range(5) for c in range(5)]  # value = column: strong positive autocorrelation
    res = global_moran(g, "x", permutations=99, seed=1)
    assert res["morans_i"] > 0.5 and res["p_sim"] == pytest.approx(0.01)
    assert res["expected_i"] == pytest.approx(-1 / 24)
    state = np.random.get_state()[1].copy()
    assert global_moran(g, "x", permutations=99, seed=1) == res
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global generator left as it was
    chess = g.assign(x=[float((r + c) % 2) for r in range(5) for c in range(5)])
    assert global_moran(chess, "x", permutations=9)["morans_i"] < 0


def test_segregation_series_per_year():
    g = grid()
    rows = []
    for year, shift in ((2020, 0), (2021, 5)):
        for i, k in enumerate(g["key"]):
            pop = 100.0
            foreign = float(min(100, 2 * (i % 5) * 5 + shift))
            rows += [{"key": k, "level": "ortsteil", "year": year, "indicator": "population", "value": pop},
                     {"key": k, "level": "ortsteil", "year": year, "indicator": "foreign_nationals",
                      "value": foreign}]
    long = pd.DataFrame(rows)
    out = segregation_series(long, districts=g, permutations=99).set_index("year")
    assert out.index.tolist() == [2020, 2021]
    a = np.array([2 * (i % 5) * 5 for i in range(25)], dtype=float)
    assert out.loc[2020, "dissimilarity"] == pytest.approx(dissimilarity_index(a, np.full(25, 100.0)))
    assert out.loc[2020, "morans_i"] > 0.5
    assert out.loc[2021, "group_share"] == pytest.approx((a + 5).sum() / 2500)
    no_geo = segregation_series(long)
    assert no_geo["morans_i"].isna().all() and no_geo["note"].str.contains("no geometries").all()
