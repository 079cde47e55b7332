from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.analysis.monitoring import district_trends, early_warning, period_changes
from geo.errors import ValidationError


def series(values: dict[str, dict[int, float]], indicator: str) -> pd.DataFrame:
    return pd.DataFrame([{"key": k, "level": "ortsteil", "year": y, "indicator": indicator, "value": v}
                         for k, ys in values.items() for y, v in ys.items()])


def test_trend_and_change_of_trend_by_hand():
    # A: 10, 12, 14 over 2000, 2010, 2020 then 10 in 2023
    #   all years: x = -13.25, -3.25, 6.75, 9.75 (mean 2013.25); v - mean(11.5) = -1.5, 0.5, 2.5, -1.5
    #   slope = (19.875 - 1.625 + 16.875 - 14.625) / (175.5625 + 10.5625 + 45.5625 + 95.0625) = 20.5 / 326.75
    #   early (<= 2010): 2000, 2010 -> slope 0.2; recent (>= 2010): 2010, 2020, 2023: x = -7.67, 2.33, 5.33;
    #   v - 12 = 0, 2, -2 -> (0 + 4.667 - 10.667)/(58.78 + 5.44 + 28.44) = -6 / 92.667 = -0.06475
    long = series({"A": {2000: 10, 2010: 12, 2020: 14, 2023: 10}, "B": {2020: 5}}, "share_foreign_pct")
    out = district_trends(long, indicator="share_foreign_pct", split_year=2010).set_index("key")
    assert out.loc["A", "slope_per_year"] == pytest.approx(20.5 / 326.75)
    assert out.loc["A", "slope_early"] == pytest.approx(0.2)
    assert out.loc["A", "slope_recent"] == pytest.approx(-6 / (92 + 2 / 3))
    assert out.loc["A", "trend_change"] == pytest.approx(-6 / (92 + 2 / 3) - 0.2)
    assert out.loc["A", "note"] == ""
    assert np.isnan(out.loc["B", "slope_per_year"]) and "fewer than 2 years" in out.loc["B", "note"]


def test_period_changes_relative_for_counts_absolute_for_rates():
    long = pd.concat([series({"A": {2010: 1000, 2020: 900, 2021: 891}}, "population"),
                      series({"A": {2010: 10, 2020: 15}}, "share_foreign_pct")])
    pop = period_changes(long, indicator="population")
    # 2010 -> 2020: -10 % over 10 years = -1 %/year; 2020 -> 2021: -1 %/year
    np.testing.assert_allclose(pop["change_per_year"], [-1.0, -1.0])
    assert pop["unit"].iloc[0] == "%/year"
    share = period_changes(long, indicator="share_foreign_pct")
    assert share["change_per_year"].tolist() == [pytest.approx(0.5)] and share["unit"].iloc[0] == "%/year"


def test_early_warning_two_periods_running():
    pop = series({
        "A": {2020: 1000, 2021: 980, 2022: 960, 2023: 940},  # -2 %, -2.04 %, -2.08 %: three negative periods
        "B": {2020: 1000, 2021: 980, 2022: 990, 2023: 970},  # last period negative only
        "C": {2020: 1000, 2021: 1010, 2022: 1020, 2023: 1030},  # growing
        "D": {2020: 1000, 2021: 995, 2022: 990, 2023: 985},  # -0.5 %/year: below a 1 %/year threshold
    }, "population")
    out = early_warning(pop, threshold=1.0).set_index("key")
    assert out.index[0] == "A"  # warnings first
    assert out.loc["A", "warning"] and out.loc["A", "run_length"] == 3
    assert not out.loc["B", "warning"] and out.loc["B", "run_length"] == 1
    assert not out.loc["C", "warning"] and out.loc["C", "run_length"] == 0
    assert not out.loc["D", "warning"]
    assert early_warning(pop, threshold=0.0).set_index("key").loc["D", "warning"]
    assert out.loc["A", "last_periods"] == "2021-2022: -2.04; 2022-2023: -2.08"


def test_direction_minus_one_means_a_rise_is_negative():
    share = series({"A": {2021: 10, 2022: 12, 2023: 14}, "B": {2021: 14, 2022: 12, 2023: 10}}, "share_foreign_pct")
    out = early_warning(share, directions={"share_foreign_pct": -1}, threshold=0.5).set_index("key")
    assert out.loc["A", "warning"] and not out.loc["B", "warning"]
    out = early_warning(share, directions={"share_foreign_pct": +1}, threshold=0.5).set_index("key")
    assert out.loc["B", "warning"] and not out.loc["A", "warning"]


def test_missing_value_breaks_a_run():
    pop = series({"A": {2020: 1000, 2021: 900, 2022: np.nan, 2023: 800}}, "population")
    # NaN year dropped: periods 2020-2021 (-10 %/y) and 2021-2023 (-5.6 %/y) -> still two negative periods
    out = early_warning(pop, threshold=1.0)
    assert bool(out.loc[0, "warning"])
    assert out.loc[0, "last_periods"] == "2020-2021: -10.00; 2021-2023: -5.56"


def test_bad_directions_are_rejected():
    with pytest.raises(ValidationError) as err:
        early_warning(series({"A": {2020: 1}}, "population"), directions={"population": 2})
    assert "must be +1 or -1" in str(err.value)
