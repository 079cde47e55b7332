"""The programme's question answered on poverty: inequality, segregation, early warnings and evaluation.

All of it rests on the official need series of the Bremer Ortsteilatlas (SGB II 2005-2018, unemployment
1999-2017).

Every choice is a named constant here, printed with the results (page, report, API):

* :data:`INEQUALITY_SERIES` and their weights :data:`WEIGHT_BASES`: the atlas gives a denominator only for
  ``sgb2_u65_pct`` and only in even years; elsewhere a district weighs with a base count of the nearest
  population year (1980, 1990, 2000, 2010, 2020-2023; ties to the earlier year), recorded per year.
* Segregation of SGB II recipients: from the counts of ``sgb2_u65_pct`` (numerator = recipients, reconstructed by
  the build from the published rate and the workbook's residents under 65; denominator = residents under 65),
  in the years that have both.
* Early warning: :data:`EARLY_WARNING_THRESHOLDS` over periods of :data:`EARLY_WARNING_STEP_YEARS` years,
  :data:`EARLY_WARNING_PERIODS` running; directions from ``geo/pipeline/need_catalogue.yml``. Demographic shares
  (nationality, age) are never criteria.
* Evaluation: :func:`geo.analysis.monitoring.comparison.compare_changes` and the cohort difference in differences
  :func:`geo.analysis.monitoring.evaluation.evaluate_funding`, with :data:`EVALUATION_SEED`.

Nationality and origin are never need indicators; the segregation of foreign nationals is descriptive demography
and is kept apart (see :mod:`geo.analysis.monitoring.products`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo.analysis.monitoring._common import check_long
from geo.analysis.monitoring.comparison import ChangeComparison, compare_changes
from geo.analysis.monitoring.evaluation import EvaluationResult, evaluate_funding
from geo.analysis.monitoring.inequality import inequality_series
from geo.analysis.monitoring.segregation import segregation_series
from geo.analysis.monitoring.trends import early_warning

__all__ = [
    "EARLY_WARNING_PERIODS",
    "EARLY_WARNING_STEP_YEARS",
    "EARLY_WARNING_THRESHOLDS",
    "EVALUATION_OUTCOMES",
    "EVALUATION_SEED",
    "INEQUALITY_SERIES",
    "SEGREGATION_RATE",
    "TREND_SERIES",
    "WEIGHT_BASES",
    "need_directions",
    "need_early_warning",
    "need_evaluation",
    "poverty_inequality",
    "sgb2_segregation",
    "with_base_counts",
]

#: need series whose inequality between Ortsteile is published, in this order (child poverty first)
INEQUALITY_SERIES: tuple[str, ...] = ("sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct")
#: base count of each series where the atlas gives no denominator (nearest population year); its description in
#: words is the catalogue's ``weight_basis.<series>``
WEIGHT_BASES: dict[str, str] = {
    # children under 15 are not published by age in the population years: under 18 is the nearest group
    "sgb2_u15_pct": "under_18",
    # the atlas denominator itself (even years); odd years: population minus 65 and over, the same definition
    "sgb2_u65_pct": "residents_under_65",
    # employees plus unemployed are not published: residents of working age (18 to 64) instead
    "unemployment_pct": "aged_18_64",
}
#: rate whose numerator and denominator give the segregation of SGB II recipients
SEGREGATION_RATE = "sgb2_u65_pct"
#: need series with trends and early warnings per Ortsteil
TREND_SERIES: tuple[str, ...] = ("sgb2_u15_pct", "sgb2_u65_pct", "sgb2_households_pct", "unemployment_pct",
                                 "long_term_unemployment_pct")
#: early warning (assumptions, each named): a rise of the rate (pp per year, annualised over a period of
#: EARLY_WARNING_STEP_YEARS years) beyond the threshold in each of the last EARLY_WARNING_PERIODS periods.
EARLY_WARNING_THRESHOLDS: dict[str, float] = {
    # child poverty: +1.0 pp a year is +3 pp in three years, about a tenth of the city rate (30.7 % in 2018)
    "sgb2_u15_pct": 1.0,
    # SGB II under 65 moves about half as fast as among children (city 2018: about 17 %)
    "sgb2_u65_pct": 0.5,
    "sgb2_households_pct": 0.5,
    # unemployment: +0.5 pp a year; the city fell by about 0.3 pp a year over 2011-2017
    "unemployment_pct": 0.5,
    # long-term unemployment rose in every Ortsteil over 2011-2014 (+1.8 pp a year on average, a city-wide
    # movement): 0.5 pp keeps the warning to Ortsteile that also kept rising over 2014-2017
    "long_term_unemployment_pct": 0.5,
}
#: length of one period (years): three-year steps instead of annual ones damp the noise of small Ortsteile
EARLY_WARNING_STEP_YEARS = 3
#: consecutive most recent periods that must all be adverse
EARLY_WARNING_PERIODS = 2
#: outcomes of the evaluation
EVALUATION_OUTCOMES: tuple[str, ...] = ("sgb2_u65_pct", "sgb2_u15_pct", "unemployment_pct")
EVALUATION_SEED = 20_201_999
EVALUATION_BOOT = 999
EVALUATION_PLACEBO_GROUPS = 499


def with_base_counts(long: pd.DataFrame) -> pd.DataFrame:
    """Return ``long`` with the derived count ``residents_under_65`` added.

    The count is ``population - aged_65_plus`` where both exist (the atlas's own definition of the SGB II
    denominator).
    """
    check_long(long, what="the base counts")
    if (long["indicator"] == "residents_under_65").any():
        return long
    sel = long[long["indicator"].isin(["population", "aged_65_plus"])].dropna(subset=["value"])
    piv = sel.assign(key=sel["key"].astype(str)).pivot_table(index=["key", "level", "year"], columns="indicator",
                                                             values="value", aggfunc="first")
    if not {"population", "aged_65_plus"} <= set(piv.columns):
        return long
    piv = piv.dropna(subset=["population", "aged_65_plus"])
    extra = pd.DataFrame({"key": piv.index.get_level_values("key"), "level": piv.index.get_level_values("level"),
                          "year": piv.index.get_level_values("year").astype(int),
                          "indicator": "residents_under_65",
                          "value": (piv["population"] - piv["aged_65_plus"]).to_numpy(dtype=float)})
    return pd.concat([long, extra], ignore_index=True)


def poverty_inequality(long: pd.DataFrame, *, groups: Mapping[str, str] | pd.Series,
                       level: str = "ortsteil") -> pd.DataFrame:
    """Compute the inequality series of :data:`INEQUALITY_SERIES`.

    Uses :func:`geo.analysis.monitoring.inequality_series`, weighted as in :data:`WEIGHT_BASES` (denominator
    where given, else the base of the nearest population year).
    """
    names = [n for n in INEQUALITY_SERIES if ((long["indicator"] == n) & (long["level"] == level)).any()]
    if not names:
        return pd.DataFrame()
    return inequality_series(with_base_counts(long), groups=groups, level=level, indicators=names,
                             weight_indicator={n: WEIGHT_BASES[n] for n in names}, use_denominator=True)


def sgb2_segregation(long: pd.DataFrame, *, districts: Any = None, level: str = "ortsteil",
                     permutations: int = 999, seed: int = 12345,
                     cache: dict[tuple[str, ...], Any] | None = None) -> pd.DataFrame:
    """Compute dissimilarity, isolation and Moran's I of SGB II recipients among residents under 65.

    One row per year with counts (``cache``: see :func:`geo.analysis.monitoring.segregation_series`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return segregation_series(long, districts=districts, level=level, rate_indicator=SEGREGATION_RATE,
                                  permutations=permutations, seed=seed, cache=cache)


def need_directions(names: tuple[str, ...] = TREND_SERIES) -> dict[str, int]:
    """Indicator -> -1 (higher is worse) / +1 (higher is better) from the need catalogue; "none" left out."""
    from geo.pipeline.catalogue import load_need_catalogue

    cat = {i.id: i.direction for i in load_need_catalogue().indicators}
    out = {}
    for n in names:
        d = cat.get(n)
        if d in ("higher_is_worse", "higher_is_better"):
            out[n] = -1 if d == "higher_is_worse" else +1
    return out


def early_warning_years(long: pd.DataFrame, indicator: str, *, level: str = "ortsteil") -> list[int]:
    """Return the observation years of one series' early warning.

    These are its last year and every ``EARLY_WARNING_STEP_YEARS`` before it, ``EARLY_WARNING_PERIODS + 1``
    years in all (e.g. 2012, 2015, 2018).
    """
    years = set(long.loc[(long["level"] == level) & (long["indicator"] == indicator)
                         & long["value"].notna(), "year"].astype(int))
    if not years:
        return []
    last = max(years)
    wanted = [last - i * EARLY_WARNING_STEP_YEARS for i in range(EARLY_WARNING_PERIODS, -1, -1)]
    return [y for y in wanted if y in years]


def warning_rule(long: pd.DataFrame, *, level: str = "ortsteil") -> dict[str, Any]:
    """The early-warning rule as published (JSON-ready): directions, thresholds, the years of every series."""
    dirs = need_directions()
    present = {n: d for n, d in dirs.items() if ((long["indicator"] == n) & (long["level"] == level)).any()}
    return {"periods": EARLY_WARNING_PERIODS, "step_years": EARLY_WARNING_STEP_YEARS,
            "directions": present,
            "thresholds": {n: EARLY_WARNING_THRESHOLDS.get(n, 0.0) for n in present},
            "years": {n: early_warning_years(long, n, level=level) for n in present},
            "text": (f"an early warning is raised when the rate went the unfavourable way (the need catalogue's "
                     f"direction) by more than its threshold, in pp per year, in each of the last "
                     f"{EARLY_WARNING_PERIODS} periods of {EARLY_WARNING_STEP_YEARS} years; need series only, "
                     "demographic shares are never criteria")}


def need_early_warning(long: pd.DataFrame, *, level: str = "ortsteil") -> pd.DataFrame:
    """Compute the early warnings of :data:`TREND_SERIES` with the rule of :func:`warning_rule`.

    Uses :func:`geo.analysis.monitoring.early_warning`, each series on its own years; adds ``years``
    (e.g. "2012;2015;2018").
    """
    check_long(long, what="the early warning")
    # every step below reads the trend series of this level only: select them once
    long = long[(long["level"] == level) & long["indicator"].isin(TREND_SERIES)]
    rule = warning_rule(long, level=level)
    parts = []
    for name, direction in rule["directions"].items():
        years = rule["years"][name]
        if len(years) < 2:
            continue
        ew = early_warning(long, directions={name: direction}, level=level, periods=rule["periods"],
                           threshold=rule["thresholds"][name], years=years)
        parts.append(ew.assign(years=";".join(map(str, years))))
    if not parts:
        return pd.DataFrame(columns=["key", "indicator", "direction", "threshold", "unit", "last_periods",
                                     "run_length", "warning", "years"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["warning", "key", "indicator"], ascending=[False, True, True], ignore_index=True)


def need_evaluation(long: pd.DataFrame, designations: pd.DataFrame, *,
                    level: str = "ortsteil") -> tuple[ChangeComparison, list[EvaluationResult]]:
    """Evaluate the WiN Ortsteile by matched change comparison and cohort difference in differences.

    The cohort difference in differences is per outcome; it states why the start years leave nothing to
    estimate.
    """
    names = [n for n in EVALUATION_OUTCOMES if ((long["indicator"] == n) & (long["level"] == level)).any()]
    comp = compare_changes(with_base_counts(long), designations, outcomes=names, level=level,
                           n_boot=EVALUATION_BOOT, n_placebo=EVALUATION_PLACEBO_GROUPS, seed=EVALUATION_SEED)
    cohorts = [evaluate_funding(long, designations, outcomes=[n], level=level, n_boot=EVALUATION_BOOT,
                                seed=EVALUATION_SEED) for n in names]
    return comp, cohorts
