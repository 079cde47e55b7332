"""Segregation of a population group across districts, for every year, from counts.

The group and its total come either from two count indicators (``group_indicator`` among ``total_indicator``,
e.g. foreign nationals among residents: descriptive demography) or from the numerator and denominator of one
rate (``rate_indicator``, e.g. ``sgb2_u65_pct``: SGB II recipients among residents under 65, in the years the
table gives both counts).

* Index of dissimilarity ``D = 1/2 sum_i |a_i / A - b_i / B|`` with ``a`` the group, ``b = t - a`` everyone
  else: the share of the group that would have to move for an even distribution (0 = even, 1 = complete
  separation).
* Isolation index ``xPx = sum_i (a_i / A) (a_i / t_i)``: the group share in the district of the average group
  member. Its floor is the city-wide share ``A / T``, reported next to it as ``group_share``.
* Global Moran's I (esda, row-standardised Queen contiguity) of the district group share, with a permutation
  pseudo p-value. esda draws from NumPy's global generator; we seed it for the call and restore its state.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import CRSError, Problem, ValidationError
from geo.monitoring._common import check_long

__all__ = ["dissimilarity_index", "global_moran", "isolation_index", "segregation_series"]


def _counts(group: np.ndarray | pd.Series | list[float], total: np.ndarray | pd.Series | list[float],
            what: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(group, dtype=float)
    t = np.asarray(total, dtype=float)
    problems = []
    if a.shape != t.shape or a.ndim != 1 or len(a) == 0:
        problems.append(Problem("shape", "group and total counts need the same non-empty length"))
    elif not (np.isfinite(a).all() and np.isfinite(t).all()):
        problems.append(Problem("missing", "NaN counts; drop those districts first"))
    elif (a < 0).any() or (a > t).any():
        problems.append(Problem("counts", "group counts must lie between 0 and the total"))
    elif a.sum() <= 0 or (t - a).sum() <= 0:
        problems.append(Problem("counts", "the group and the rest must both be present"))
    if problems:
        raise ValidationError(f"cannot compute the {what}", problems=problems)
    return a, t


def dissimilarity_index(group: np.ndarray | pd.Series | list[float],
                        total: np.ndarray | pd.Series | list[float]) -> float:
    """Index of dissimilarity between the group and the rest of the population."""
    a, t = _counts(group, total, "index of dissimilarity")
    b = t - a
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def isolation_index(group: np.ndarray | pd.Series | list[float],
                    total: np.ndarray | pd.Series | list[float]) -> float:
    """Isolation index xPx; districts with no residents contribute 0."""
    a, t = _counts(group, total, "isolation index")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(t > 0, a / t, 0.0)
    return float(np.sum(a / a.sum() * share))


def global_moran(frame: gpd.GeoDataFrame, column: str, *, permutations: int = 999,
                 seed: int = 12345, cache: dict[tuple[str, ...], Any] | None = None) -> dict[str, Any]:
    """Global Moran's I of ``column`` on Queen contiguity; rows with NaN and islands are left out.

    ``cache`` (optional, a dict the caller owns for one call sequence on the same geometries) keeps the Queen
    weights per set of keys, so a series of years on the same districts builds them once.

    Returns a dict with ``morans_i``, ``expected_i``, ``p_sim`` and ``n`` (areas used); NaN values when fewer
    than 3 areas remain or the column is constant.
    """
    if frame.crs is None:
        raise CRSError("the frame has no CRS; expected EPSG:25832")
    from esda.moran import Moran
    from libpysal.weights import w_subset

    from geo.hotspots import queen_weights

    sub = frame[frame[column].notna()].reset_index(drop=True)
    out: dict[str, Any] = {"morans_i": np.nan, "expected_i": np.nan, "p_sim": np.nan, "n": 0}
    if len(sub) < 3:
        return out
    ident = tuple(sub["key"].astype(str)) if cache is not None and "key" in sub.columns else None
    if ident is not None and cache is not None and ident in cache:
        w = cache[ident]
    else:
        w = queen_weights(sub)
        if ident is not None and cache is not None:
            cache[ident] = w
    keep = [i for i in range(len(sub)) if w.cardinalities[i] > 0]
    y = sub[column].to_numpy(dtype=float)[keep]
    if len(keep) < 3 or np.allclose(y, y[0]):
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(keep) < len(sub):
            w = w_subset(w, keep, silence_warnings=True)
        w.transform = "r"
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            mi = Moran(y, w, transformation="r", permutations=permutations)
        finally:
            np.random.set_state(state)
    return {"morans_i": float(mi.I), "expected_i": float(mi.EI), "p_sim": float(mi.p_sim), "n": len(keep)}


def segregation_series(long: pd.DataFrame, *, districts: gpd.GeoDataFrame | None = None, level: str = "ortsteil",
                       group_indicator: str = "foreign_nationals", total_indicator: str = "population",
                       rate_indicator: str | None = None, permutations: int = 999, seed: int = 12345,
                       min_districts: int = 5) -> pd.DataFrame:
    """Dissimilarity, isolation and global Moran's I of the group share for every year of the long table.

    Parameters
    ----------
    long
        Long indicator table with the group and total counts at ``level``.
    districts
        Geometries (``key`` and geometry) of the districts for Moran's I; without them Moran's I is NaN.
    level
        Level of the districts.
    group_indicator, total_indicator
        Count indicators of the group and of all residents.
    rate_indicator
        If given, the group is the ``numerator`` and the total the ``denominator`` of this rate's rows (the two
        count indicators are then not used); years without both counts are left out.
    permutations, seed
        Permutations of the Moran test and their seed.
    min_districts
        Fewest districts with both counts in a year.

    Returns
    -------
    pandas.DataFrame
        One row per year: ``year``, ``n_districts``, ``group_total``, ``population_total``, ``group_share``,
        ``dissimilarity``, ``isolation``, ``morans_i``, ``morans_expected_i``, ``morans_p_sim``, ``note``.
    """
    check_long(long, what="segregation", extra=("numerator", "denominator") if rate_indicator else ())
    if rate_indicator is not None:
        rate = long[(long["level"] == level) & (long["indicator"] == rate_indicator)]
        group_indicator, total_indicator = "numerator", "denominator"
        wide = pd.DataFrame({"year": rate["year"].astype(int).to_numpy(), "key": rate["key"].astype(str).to_numpy(),
                             "numerator": pd.to_numeric(rate["numerator"], errors="coerce").to_numpy(dtype=float),
                             "denominator": pd.to_numeric(rate["denominator"],
                                                          errors="coerce").to_numpy(dtype=float)})
        wide = wide.drop_duplicates(["year", "key"]).set_index(["year", "key"])
        # a year without any count is not a year of the series
        wide = wide[wide.groupby(level="year")["numerator"].transform(lambda v: v.notna().any()).to_numpy()]
    else:
        data = long[(long["level"] == level) & long["indicator"].isin([group_indicator, total_indicator])]
        wide = data.assign(key=data["key"].astype(str)).pivot_table(index=["year", "key"], columns="indicator",
                                                                    values="value", aggfunc="first")
    rows = []
    cache: dict[tuple[str, ...], Any] = {}
    for year, part in wide.groupby(level="year", sort=True):
        part = part.droplevel("year")
        if group_indicator not in part or total_indicator not in part:
            continue
        part = part.dropna(subset=[group_indicator, total_indicator])
        row: dict[str, Any] = {"year": int(year), "n_districts": len(part), "group_total": np.nan,
                               "population_total": np.nan, "group_share": np.nan, "dissimilarity": np.nan,
                               "isolation": np.nan, "morans_i": np.nan, "morans_expected_i": np.nan,
                               "morans_p_sim": np.nan, "note": ""}
        if len(part) < min_districts:
            row["note"] = f"fewer than {min_districts} districts with both counts"
            rows.append(row)
            continue
        a = part[group_indicator].to_numpy(dtype=float)
        t = part[total_indicator].to_numpy(dtype=float)
        row.update(group_total=float(a.sum()), population_total=float(t.sum()), group_share=float(a.sum() / t.sum()),
                   dissimilarity=dissimilarity_index(a, t), isolation=isolation_index(a, t))
        if districts is not None:
            geo = districts[["key", "geometry"]].assign(key=districts["key"].astype(str))
            share = pd.Series(np.where(t > 0, a / np.where(t > 0, t, 1), np.nan), index=part.index, name="share")
            geo = geo.merge(share, left_on="key", right_index=True, how="inner")
            mi = global_moran(gpd.GeoDataFrame(geo, crs=districts.crs), "share", permutations=permutations,
                              seed=seed, cache=cache)
            row.update(morans_i=mi["morans_i"], morans_expected_i=mi["expected_i"], morans_p_sim=mi["p_sim"])
        else:
            row["note"] = "no geometries given: Moran's I not computed"
        rows.append(row)
    return pd.DataFrame(rows)
