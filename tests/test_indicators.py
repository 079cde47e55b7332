"""Known answers for aggregation, rates, small numbers and base years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.pipeline.indicators import SmallNumberRule, aggregate_counts, nearest_base_year, rates_from_counts


def _counts() -> pd.DataFrame:
    idx = pd.MultiIndex.from_tuples([("A1", 2023), ("A2", 2023), ("B1", 2023)], names=["key", "year"])
    return pd.DataFrame({"population": [1000.0, 500.0, 80.0], "foreign_nationals": [100.0, 200.0, 2.0]}, index=idx)


def test_aggregation_sums_counts_not_rates() -> None:
    agg = aggregate_counts(_counts(), pd.Series({"A1": "A", "A2": "A", "B1": "B"}))
    # A: 1000 + 500 = 1500 residents, 100 + 200 = 300 foreign -> 20 % (averaging rates would give 25 %)
    assert agg.loc[("A", 2023), "population"] == 1500
    rates = rates_from_counts(agg)
    assert rates.loc[("A", 2023), "share_foreign_pct"] == 20.0
    assert rates.loc[("A", 2023), "share_foreign_pct__numerator"] == 300


def test_parent_missing_when_a_child_is_missing() -> None:
    counts = _counts()
    counts.loc[("A2", 2023), "population"] = np.nan
    agg = aggregate_counts(counts, pd.Series({"A1": "A", "A2": "A", "B1": "B"}))
    assert np.isnan(agg.loc[("A", 2023), "population"])
    assert agg.loc[("A", 2023), "population__flag"] == "missing_in_children"
    assert agg.loc[("A", 2023), "foreign_nationals"] == 300


def test_small_numbers_withheld_with_reason_counts_kept() -> None:
    rates = rates_from_counts(_counts(), rule=SmallNumberRule())
    b1 = rates.loc[("B1", 2023)]
    # denominator 80 < 100 and numerator 2 < 3: withheld
    assert np.isnan(b1["share_foreign_pct"]) and b1["share_foreign_pct__flag"] == "withheld_small_numbers"
    assert b1["share_foreign_pct__numerator"] == 2 and b1["share_foreign_pct__denominator"] == 80
    relaxed = rates_from_counts(_counts(), rule=SmallNumberRule(min_denominator=50, min_numerator=1))
    assert relaxed.loc[("B1", 2023), "share_foreign_pct"] == 2.5


def test_nearest_base_year_in_window() -> None:
    years = [1980, 1990, 2000, 2010, 2020, 2021, 2022, 2023]
    assert nearest_base_year(2023, years, "2y") == 2021
    assert nearest_base_year(2023, years, "5y") == 2020  # 2018 wanted; 2020 is 2 years off, 2010 8
    assert nearest_base_year(2020, years, "2y") is None  # 2010 is ten years back: no 2-year change
    assert nearest_base_year(2020, years, "5y") == 2010
