"""Trends per district, change of trend, and an early-warning list.

Definitions (documented once, used everywhere):

* **Trend**: the ordinary-least-squares slope of the indicator on the calendar year, in the indicator's unit
  per year, over all observed years (at least ``min_points``).
* **Change of trend**: the slope over the recent period (years >= ``split_year``) minus the slope over the
  earlier period (years <= ``split_year``); the split year belongs to both, so each period has at least two
  points with the real data (1980-2010 and 2010-2023). Note the method break of the population statistics in
  2016: the recent period spans it.
* **Period change** (the "dynamics" of one period): between two consecutive observed years ``y0 < y1`` the
  annualised change ``(v1 - v0) / (y1 - y0)`` in the indicator's unit per year; for counts the relative
  change ``100 * (v1 / v0 - 1) / (y1 - y0)`` in % per year (a shrinking district of 40 residents is not
  comparable with one of 20,000 in persons).
* **Negative dynamics**: a change against the indicator's desired direction, by more than ``threshold``.
  ``direction = +1`` means "higher is better" (a fall is negative), ``-1`` "higher is worse" (a rise is
  negative). Directions are a programme decision: only ``population`` has a default (+1: a shrinking
  population is a warning sign); every other indicator needs an explicit direction.
* **Early warning**: a district whose last ``periods`` (default 2) period changes were all negative beyond the
  threshold ("two periods running"); ``run_length`` gives the full current run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.analysis.monitoring._common import check_long
from geo.errors import Problem, ValidationError
from geo.pipeline.indicators import REGISTRY

__all__ = ["DEFAULT_DIRECTIONS", "district_trends", "early_warning", "period_changes"]

DEFAULT_DIRECTIONS: dict[str, int] = {"population": +1}


def _ols_slope(years: np.ndarray, values: np.ndarray) -> float:
    if len(years) < 2 or np.ptp(years) == 0:
        return float("nan")
    x = years - years.mean()
    return float(np.sum(x * (values - values.mean())) / np.sum(x * x))


def _series(long: pd.DataFrame, indicator: str, level: str, years: Iterable[int] | None) -> pd.DataFrame:
    check_long(long, what="trends")
    data = long[(long["level"] == level) & (long["indicator"] == indicator)]
    if years is not None:
        data = data[data["year"].isin(list(years))]
    data = data.dropna(subset=["value"])
    return pd.DataFrame({"key": data["key"].astype(str).to_numpy(), "year": data["year"].astype(int).to_numpy(),
                         "value": data["value"].astype(float).to_numpy()}).sort_values(["key", "year"])


def district_trends(long: pd.DataFrame, *, indicator: str | Iterable[str], level: str = "ortsteil",
                    split_year: int = 2010, min_points: int = 2, years: Iterable[int] | None = None) -> pd.DataFrame:
    """Trend and change of trend of one indicator (or of several at once) for every district.

    ``indicator`` may be a list of indicators: one pass over all of them, the rows ordered by indicator (sorted),
    then key; each series gives the same figures as a call with that indicator alone.

    Returns
    -------
    pandas.DataFrame
        One row per district (and indicator): ``key``, ``indicator``, ``n_years``, ``first_year``,
        ``last_year``, ``slope_per_year`` (all years), ``slope_early`` (years <= split_year), ``slope_recent``
        (years >= split_year), ``trend_change`` (recent - early) and ``note``.
    """
    columns = ["key", "indicator", "n_years", "first_year", "last_year", "slope_per_year", "slope_early",
               "slope_recent", "trend_change", "note"]
    if isinstance(indicator, str):
        data = _series(long, indicator, level, years)
        if data.empty:
            return pd.DataFrame(columns=columns)
        keys = data["key"].to_numpy()
        uniq = np.unique(keys)
        stats = trend_arrays(np.searchsorted(uniq, keys), len(uniq), data["year"].to_numpy(dtype=float),
                             data["value"].to_numpy(dtype=float), split_year=split_year, min_points=min_points)
        return pd.DataFrame({"key": uniq, "indicator": indicator, **stats}, columns=columns)
    check_long(long, what="trends")
    data = long[(long["level"] == level) & long["indicator"].isin(list(indicator))]
    if years is not None:
        data = data[data["year"].isin(list(years))]
    data = data.dropna(subset=["value"])
    # a stable sort: the rows of each (indicator, key) series in the order _series gives them
    data = pd.DataFrame({"indicator": data["indicator"].astype(str).to_numpy(),
                         "key": data["key"].astype(str).to_numpy(), "year": data["year"].astype(int).to_numpy(),
                         "value": data["value"].astype(float).to_numpy()}).sort_values(["indicator", "key", "year"])
    if data.empty:
        return pd.DataFrame(columns=columns)
    names = data["indicator"].to_numpy()
    keys = data["key"].to_numpy()
    new_run = np.concatenate([[True], (keys[1:] != keys[:-1]) | (names[1:] != names[:-1])])
    runs = np.flatnonzero(new_run)
    stats = trend_arrays(np.cumsum(new_run) - 1, len(runs), data["year"].to_numpy(dtype=float),
                         data["value"].to_numpy(dtype=float), split_year=split_year, min_points=min_points)
    return pd.DataFrame({"key": keys[runs], "indicator": names[runs], **stats}, columns=columns)


def trend_arrays(codes: np.ndarray, k: int, year: np.ndarray, value: np.ndarray, *, split_year: int,
                 min_points: int) -> dict[str, Any]:
    """Compute the trend columns of :func:`district_trends` for ``k`` series at once.

    ``codes`` gives the series 0..k-1 of every row; rows of one series are in year order. Each series is summed
    in its own row order, so a series gives the same figures whether it is computed alone or with others.
    """
    n = np.bincount(codes, minlength=k)
    need = max(min_points, 2)

    def slopes(mask: np.ndarray) -> np.ndarray:
        """OLS slope of value on year per key over the rows in ``mask`` (NaN below ``need`` points)."""
        m = mask.astype(float)
        count = np.bincount(codes, weights=m, minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            my = np.bincount(codes, weights=year * m, minlength=k) / count
            mv = np.bincount(codes, weights=value * m, minlength=k) / count
            dx = np.where(mask, year - my[codes], 0.0)
            dv = np.where(mask, value - mv[codes], 0.0)
            sxx = np.bincount(codes, weights=dx * dx, minlength=k)
            sxy = np.bincount(codes, weights=dx * dv, minlength=k)
            return np.where((count >= need) & (sxx > 0), sxy / sxx, np.nan)

    slope_all = slopes(np.ones(len(year), dtype=bool))
    slope_early = slopes(year <= split_year)
    slope_recent = slopes(year >= split_year)
    first = np.full(k, np.inf)
    last = np.full(k, -np.inf)
    np.minimum.at(first, codes, year)
    np.maximum.at(last, codes, year)
    few = n < min_points
    no_change = np.isnan(slope_early) | np.isnan(slope_recent)
    texts = {(False, False): "", (True, False): f"fewer than {min_points} years",
             (False, True): f"too few years before or after {split_year} for a change of trend"}
    texts[(True, True)] = f"{texts[(True, False)]}; {texts[(False, True)]}"
    notes = [texts[(a, b)] for a, b in zip(few.tolist(), no_change.tolist(), strict=True)]
    return {"n_years": n, "first_year": first.astype(int), "last_year": last.astype(int),
            "slope_per_year": slope_all, "slope_early": slope_early, "slope_recent": slope_recent,
            "trend_change": slope_recent - slope_early, "note": notes}


def period_changes(long: pd.DataFrame, *, indicator: str, level: str = "ortsteil",
                   years: Iterable[int] | None = None) -> pd.DataFrame:
    """Annualised change between consecutive observed years (see the module's definitions).

    Returns ``key``, ``indicator``, ``from_year``, ``to_year``, ``change_per_year`` and ``unit``.
    """
    data = _series(long, indicator, level, years)
    is_count = REGISTRY[indicator].kind == "count" if indicator in REGISTRY else False
    unit = "%/year" if is_count else f"{REGISTRY[indicator].unit if indicator in REGISTRY else 'unit'}/year"
    # the rows are sorted by key and year: the previous row of the same key is the previous observed year
    key = data["key"].to_numpy()
    year = data["year"].to_numpy()
    value = data["value"].to_numpy(dtype=float)
    has_prev = np.zeros(len(key), dtype=bool)
    has_prev[1:] = key[1:] == key[:-1]
    later = np.flatnonzero(has_prev)
    prev_year = year[later - 1].astype(float)
    prev_value = value[later - 1]
    cur = value[later]
    gap = year[later] - prev_year
    with np.errstate(divide="ignore", invalid="ignore"):  # a repeated year (gap 0) gives inf or NaN, as before
        if is_count:
            change = 100.0 * (cur / np.where(prev_value > 0, prev_value, np.nan) - 1.0) / gap
        else:
            change = (cur - prev_value) / gap
    return pd.DataFrame({"key": key[later], "indicator": indicator, "from_year": prev_year.astype(int),
                         "to_year": year[later], "change_per_year": change.astype(float), "unit": unit})


def early_warning(long: pd.DataFrame, *, directions: Mapping[str, int] | None = None, level: str = "ortsteil",
                  threshold: float | Mapping[str, float] = 0.0, periods: int = 2,
                  years: Iterable[int] | None = None) -> pd.DataFrame:
    """Districts whose dynamics have been negative beyond ``threshold`` for ``periods`` periods running.

    Parameters
    ----------
    long
        Long indicator table.
    directions
        Indicator -> +1 (higher is better) or -1 (higher is worse). Default :data:`DEFAULT_DIRECTIONS`.
    level
        Level of the districts.
    threshold
        How far (in the indicator's unit per year; % per year for counts) a period change must go against the
        direction to count as negative; one number or one per indicator. Default 0 (any adverse change).
    periods
        Number of consecutive most recent periods that must all be negative.
    years
        Observation years to use (default all); e.g. ``[2010, 2020, 2023]`` to avoid annual noise.

    Returns
    -------
    pandas.DataFrame
        One row per district and indicator: ``key``, ``indicator``, ``direction``, ``threshold``,
        ``last_periods`` (e.g. "2021-2022: -1.20; 2022-2023: -0.80"), ``run_length`` (consecutive negative
        periods up to the latest), ``warning`` (run_length >= periods). Warnings first, then by key.
    """
    dirs = dict(DEFAULT_DIRECTIONS if directions is None else directions)
    problems = [Problem("direction", f"direction of {name!r} must be +1 or -1, got {d!r}")
                for name, d in dirs.items() if d not in (1, -1)]
    if periods < 1:
        problems.append(Problem("periods", f"periods must be at least 1, got {periods}"))
    if not dirs:
        problems.append(Problem("direction", "no indicators with a direction given"))
    if problems:
        raise ValidationError("invalid early-warning options", problems=problems)
    rows = []
    for name, direction in dirs.items():
        thr = float(threshold[name] if isinstance(threshold, Mapping) else threshold)
        changes = period_changes(long, indicator=name, level=level, years=years)
        if changes.empty:
            continue
        unit = changes["unit"].iloc[0]
        # the rows come sorted by key and year (one run of rows per key); within a key the order by to_year
        # is kept unless a year repeats, where the parts are sorted as a frame sort would sort them
        keys = changes["key"].to_numpy()
        to_year = changes["to_year"].to_numpy()
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        bounds = [*starts.tolist(), len(keys)]
        if not (pd.Index(keys[starts]).is_monotonic_increasing and pd.Index(keys[starts]).is_unique):
            raise AssertionError("period changes not grouped by key")  # pragma: no cover - a bug if hit
        rising = np.concatenate([[True], (to_year[1:] > to_year[:-1]) | (keys[1:] != keys[:-1])])
        from_list = changes["from_year"].tolist()
        to_list = to_year.tolist()
        change = changes["change_per_year"].to_numpy(dtype=float)
        adverse_all = ((-direction * change) > thr).tolist()  # NaN -> False
        change_list = change.tolist()
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            order = list(range(lo, hi))
            if not rising[lo:hi].all():
                order = (lo + np.argsort(to_year[lo:hi], kind="quicksort")).tolist()
            run = 0
            for j in reversed(order):
                if not adverse_all[j]:
                    break
                run += 1
            text = "; ".join(f"{from_list[j]}-{to_list[j]}: {change_list[j]:+.2f}" for j in order[-periods:])
            rows.append({"key": keys[starts[i]], "indicator": name, "direction": direction, "threshold": thr,
                         "unit": unit, "last_periods": text, "run_length": run, "warning": run >= periods})
    out = pd.DataFrame(rows, columns=["key", "indicator", "direction", "threshold", "unit", "last_periods",
                                      "run_length", "warning"])
    return out.sort_values(["warning", "key", "indicator"], ascending=[False, True, True], ignore_index=True)
