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
* Global Moran's I (row-standardised Queen contiguity) of the district group share, with a permutation
  pseudo p-value, as ``esda.moran.Moran`` computes them after ``numpy.random.seed(seed)`` (same permutations,
  same arithmetic; all permutations in one sparse product); NumPy's global generator is left alone.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.monitoring._common import check_long
from geo.errors import CRSError, Problem, ValidationError

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
    from libpysal.weights import w_subset

    from geo.analysis.hotspots import queen_weights

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
    return {**_moran(y, w, permutations=permutations, seed=seed), "n": len(keep)}


def _moran(y: np.ndarray, w: Any, *, permutations: int, seed: int) -> dict[str, float]:
    """Compute Moran's I of ``y`` on the row-standardised weights ``w`` with its permutation pseudo p-value.

    The figures are those ``esda.moran.Moran(y, w, transformation="r", permutations=permutations)`` computes
    after ``numpy.random.seed(seed)``: the same permutations (drawn one after another from a legacy generator seeded
    with ``seed``; NumPy's global generator is left alone) and the same arithmetic per permutation (the spatial
    lag as a sparse product, then ``n / s0 * sum(z * lag) / sum(z * z)``), all permutations in one product.
    """
    n = len(y)
    z = y - y.mean()
    z2ss = (z * z).sum()
    s0 = w.s0
    sparse = w.sparse

    def calc(zz: np.ndarray) -> Any:
        lag = np.asarray(sparse @ zz.T).T
        return n / s0 * (zz * lag).sum(axis=-1) / z2ss

    observed = float(n / s0 * (z * (sparse @ z)).sum() / z2ss)
    out = {"morans_i": observed, "expected_i": -1.0 / (n - 1), "p_sim": float("nan")}
    if permutations:
        rng = np.random.RandomState(seed)
        sims = calc(np.stack([rng.permutation(z) for _ in range(permutations)]))
        larger = int((sims >= observed).sum())
        if (permutations - larger) < larger:
            larger = permutations - larger
        out["p_sim"] = (larger + 1.0) / (permutations + 1.0)
    return out


def _weights_from_districts(cache: dict[tuple[str, ...], Any], districts: gpd.GeoDataFrame,
                            keys: pd.Series) -> None:
    """Put the Queen weights of the districts ``keys`` into ``cache`` for :func:`global_moran`.

    ``keys`` is a subsequence of ``districts``; the weights are taken from those of all ``districts`` (built
    once, kept in ``cache`` too).

    Queen contiguity is a relation between two polygons (a shared vertex), so the weights of a subset are those
    of all districts restricted to it; libpysal keeps them as a sparse matrix with sorted indices and
    row-standardises each row to 1 / its number of neighbours, so the restricted weights give the same figures
    as weights built on the subset alone (and the same neighbours, islands and ids 0..n-1).
    """
    from libpysal.weights import W

    from geo.analysis.hotspots import queen_weights

    ident = tuple(keys.astype(str))
    if ident in cache:
        return
    all_keys = tuple(districts["key"].astype(str))
    position = {k: i for i, k in enumerate(all_keys)}
    picked = [position.get(k, -1) for k in ident]
    if len(position) != len(all_keys) or min(picked, default=0) < 0 or picked != sorted(set(picked)):
        return  # not a subsequence of unique keys: global_moran builds the weights itself
    if all_keys not in cache:
        cache[all_keys] = queen_weights(gpd.GeoDataFrame(districts[["key", "geometry"]], crs=districts.crs))
    full = cache[all_keys]
    if picked == list(range(len(all_keys))):
        return
    new = {p: i for i, p in enumerate(picked)}
    neighbours = {i: sorted(new[j] for j in full.neighbors[p] if j in new) for i, p in enumerate(picked)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cache[ident] = W(neighbours, id_order=list(range(len(picked))), silence_warnings=True)


def segregation_series(long: pd.DataFrame, *, districts: gpd.GeoDataFrame | None = None, level: str = "ortsteil",
                       group_indicator: str = "foreign_nationals", total_indicator: str = "population",
                       rate_indicator: str | None = None, permutations: int = 999, seed: int = 12345,
                       min_districts: int = 5, cache: dict[tuple[str, ...], Any] | None = None) -> pd.DataFrame:
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
    cache
        Optional dict the caller owns, passed on to :func:`global_moran`: several series on the same
        ``districts`` then build the weights of each set of districts once.

    Returns
    -------
    pandas.DataFrame
        One row per year: ``year``, ``n_districts``, ``group_total``, ``population_total``, ``group_share``,
        ``dissimilarity``, ``isolation``, ``morans_i``, ``morans_expected_i``, ``morans_p_sim``, ``note``.
    """
    check_long(long, what="segregation", extra=("numerator", "denominator") if rate_indicator else ())
    if rate_indicator is not None:
        group_indicator, total_indicator = "numerator", "denominator"
        wide = _rate_counts(long, level, rate_indicator)
    else:
        data = long[(long["level"] == level) & long["indicator"].isin([group_indicator, total_indicator])]
        wide = data.assign(key=data["key"].astype(str)).pivot_table(index=["year", "key"], columns="indicator",
                                                                    values="value", aggfunc="first")
    rows = []
    cache = {} if cache is None else cache
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
            row.update(_share_moran(districts, part.index, a, t, permutations=permutations, seed=seed, cache=cache))
        else:
            row["note"] = "no geometries given: Moran's I not computed"
        rows.append(row)
    return pd.DataFrame(rows)


def _rate_counts(long: pd.DataFrame, level: str, rate_indicator: str) -> pd.DataFrame:
    """The numerator and denominator of a rate's rows by (year, key); years without any count left out."""
    rate = long[(long["level"] == level) & (long["indicator"] == rate_indicator)]
    wide = pd.DataFrame({"year": rate["year"].astype(int).to_numpy(), "key": rate["key"].astype(str).to_numpy(),
                         "numerator": pd.to_numeric(rate["numerator"], errors="coerce").to_numpy(dtype=float),
                         "denominator": pd.to_numeric(rate["denominator"],
                                                      errors="coerce").to_numpy(dtype=float)})
    wide = wide.drop_duplicates(["year", "key"]).set_index(["year", "key"])
    # a year without any count is not a year of the series
    return wide[wide.groupby(level="year")["numerator"].transform(lambda v: v.notna().any()).to_numpy()]


def _share_moran(districts: gpd.GeoDataFrame, keys: pd.Index, a: np.ndarray, t: np.ndarray, *, permutations: int,
                 seed: int, cache: dict[tuple[str, ...], Any]) -> dict[str, float]:
    """Global Moran's I of the group share ``a / t`` over the districts with a share (the weights cached)."""
    geo = districts[["key", "geometry"]].assign(key=districts["key"].astype(str))
    share = pd.Series(np.where(t > 0, a / np.where(t > 0, t, 1), np.nan), index=keys, name="share")
    geo = geo.merge(share, left_on="key", right_index=True, how="inner")
    _weights_from_districts(cache, districts, geo.loc[geo["share"].notna(), "key"])
    mi = global_moran(gpd.GeoDataFrame(geo, crs=districts.crs), "share", permutations=permutations,
                      seed=seed, cache=cache)
    return {"morans_i": mi["morans_i"], "morans_expected_i": mi["expected_i"], "morans_p_sim": mi["p_sim"]}
