"""Inequality between districts: Gini, Theil T (decomposed into between and within groups), CV, P90/P10.

Conventions (stated once, used everywhere):

* Each district is one observation with value ``x_i`` and weight ``w_i``. For rates, densities and means the
  weight is the district's base population (a rate of a district with 10,000 residents counts more than one of a
  district with 40); for counts every district weighs 1. :func:`inequality_series` records the choice in the
  column ``weighted`` and the base it used in ``weight_basis``:

  - the rate's own denominator in that year, where the table gives it and ``use_denominator`` is set;
  - else the weight indicator (default ``population``; one per indicator if a mapping is given) in the same year;
  - else, when the weight indicator has no value in that year (the Ortsteilatlas series 2005-2018 against the
    population years 1980, 1990, 2000, 2010, 2020-2023), its value in the nearest year that has one (ties go to
    the earlier year), recorded in ``weight_year``. The base changes slowly, so this moves the weights, not the
    values; it is a stated approximation, never silent.
* Gini: ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)`` with ``W = sum w`` and the weighted mean ``mu``.
  Unweighted, it lies in ``[0, 1 - 1/n]``.
* Theil T: ``T = sum_i (w_i / W) (x_i / mu) ln(x_i / mu)`` (``0 ln 0 = 0``). With groups g (Stadtbezirke),
  ``s_g = W_g mu_g / (W mu)``: ``between = sum_g s_g ln(mu_g / mu)``, ``within = sum_g s_g T_g``, and
  ``between + within == T`` exactly.
* Coefficient of variation: weighted population standard deviation divided by the weighted mean.
* P90/P10: the 90th over the 10th percentile of the district values (unweighted, linear interpolation);
  NaN when the 10th percentile is 0.
* All measures need non-negative values with a positive mean; indicators with negative values (changes) get
  NaN and the note "negative values".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.analysis.monitoring._common import as_values, as_weights, check_long
from geo.errors import Problem, ValidationError
from geo.pipeline.indicators import REGISTRY

__all__ = [
    "TheilDecomposition",
    "coefficient_of_variation",
    "decile_ratio",
    "gini",
    "inequality_series",
    "nearest_year",
    "parent_map",
    "theil",
    "theil_decomposition",
]


def _mean(x: np.ndarray, w: np.ndarray, what: str) -> float:
    mu = float(np.sum(w * x) / np.sum(w))
    if not mu > 0:
        raise ValidationError(f"cannot compute {what}", problems=[Problem("mean", "the mean is not positive")])
    return mu


def gini(values: np.ndarray | pd.Series | list[float], weights: np.ndarray | pd.Series | None = None) -> float:
    """Gini coefficient of non-negative values, optionally weighted (see the module conventions)."""
    x = as_values(values, what="the Gini coefficient")
    w = as_weights(x, weights, what="the Gini coefficient")
    return _gini(x, w, _mean(x, w, "the Gini coefficient"))


def _gini(x: np.ndarray, w: np.ndarray, mu: float) -> float:
    """Gini of validated values and weights with their weighted mean ``mu`` (> 0)."""
    # sum_i sum_j w_i w_j |x_i - x_j| = 2 sum over sorted pairs; O(n log n) via cumulative sums
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws)
    cwx = np.cumsum(ws * xs)
    # for each j: sum_{i<j} w_i (x_j - x_i) = x_j * cw_{j-1} - cwx_{j-1}
    prev_w = np.concatenate([[0.0], cw[:-1]])
    prev_wx = np.concatenate([[0.0], cwx[:-1]])
    pair_sum = float(np.sum(ws * (xs * prev_w - prev_wx)))
    W = float(cw[-1])
    return 2.0 * pair_sum / (2.0 * W * W * mu)


def theil(values: np.ndarray | pd.Series | list[float], weights: np.ndarray | pd.Series | None = None) -> float:
    """Theil T index of non-negative values, optionally weighted."""
    x = as_values(values, what="the Theil index")
    w = as_weights(x, weights, what="the Theil index")
    return _theil(x, w, _mean(x, w, "the Theil index"))


def _theil(x: np.ndarray, w: np.ndarray, mu: float) -> float:
    """Theil T of validated values and weights with their weighted mean ``mu`` (> 0)."""
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return float(np.sum(w * terms) / np.sum(w))


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T split into the part between groups and the part within them (``between + within == total``).

    ``groups`` has one row per group: ``group``, ``weight`` (sum of weights), ``mean``, ``share`` (``s_g``),
    ``theil`` (within the group) and ``contribution`` (``s_g * T_g``).
    """

    total: float
    between: float
    within: float
    groups: pd.DataFrame

    @property
    def between_share(self) -> float:
        """Share of the total Theil T that lies between the groups (NaN when the total is 0)."""
        return self.between / self.total if self.total > 0 else float("nan")


def theil_decomposition(values: np.ndarray | pd.Series | list[float], groups: Iterable[object],
                        weights: np.ndarray | pd.Series | None = None) -> TheilDecomposition:
    """Decompose Theil T by ``groups`` (one label per value, e.g. the Stadtbezirk key)."""
    x = as_values(values, what="the Theil decomposition")
    w = as_weights(x, weights, what="the Theil decomposition")
    g = np.asarray(list(groups), dtype=object)
    if len(g) != len(x) or pd.isna(g).any():
        raise ValidationError("cannot decompose the Theil index",
                              problems=[Problem("groups", "every value needs a group label")])
    total, between, within, rows = _theil_parts(x, g, w)
    return TheilDecomposition(total=total, between=between, within=within, groups=pd.DataFrame(rows))


def _theil_parts(x: np.ndarray, g: np.ndarray, w: np.ndarray) -> tuple[float, float, float, list[dict[str, object]]]:
    """Total, between, within and the group rows of :func:`theil_decomposition` on validated arrays.

    Every sum is taken once over the same array as the public functions take it (``theil`` of a group reuses
    the group's weight sum and weighted mean), so the figures are those of :func:`theil` and :func:`_mean`.
    """
    mu = _mean(x, w, "the Theil decomposition")
    total_wx = float(np.sum(w * x))
    rows = []
    for label in sorted(set(g.tolist()), key=str):
        m = g == label
        wg, xg = w[m], x[m]
        wsum = wg.sum()
        Wg = float(wsum)
        wx = np.sum(wg * xg)
        mug = float(wx / Wg) if Wg > 0 else 0.0
        share = float(wx / total_wx)
        if mug > 0:
            r = xg / mug
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(r > 0, r * np.log(r), 0.0)
            tg = float(np.sum(wg * terms) / wsum)
        else:
            tg = 0.0
        rows.append({"group": label, "weight": Wg, "mean": mug, "share": share, "theil": tg,
                     "contribution": share * tg})
    shares = np.array([r["share"] for r in rows], dtype=float)
    means = np.array([r["mean"] for r in rows], dtype=float)
    with np.errstate(divide="ignore"):
        between = float(np.sum(np.where(shares > 0, shares * np.log(np.where(means > 0, means, 1) / mu), 0.0)))
    within = float(np.sum(np.array([r["contribution"] for r in rows], dtype=float)))
    total = _theil(x, w, mu)
    if not np.isclose(between + within, total, rtol=1e-9, atol=1e-12):  # pragma: no cover - a bug if hit
        raise AssertionError(f"Theil decomposition does not add up: {between} + {within} != {total}")
    return total, between, within, rows


def coefficient_of_variation(values: np.ndarray | pd.Series | list[float],
                             weights: np.ndarray | pd.Series | None = None) -> float:
    """Weighted population standard deviation over the weighted mean."""
    x = as_values(values, what="the coefficient of variation")
    w = as_weights(x, weights, what="the coefficient of variation")
    return _cv(x, w, _mean(x, w, "the coefficient of variation"))


def _cv(x: np.ndarray, w: np.ndarray, mu: float) -> float:
    """Coefficient of variation of validated values and weights with their weighted mean ``mu`` (> 0)."""
    return float(np.sqrt(np.sum(w * (x - mu) ** 2) / np.sum(w)) / mu)


def decile_ratio(values: np.ndarray | pd.Series | list[float]) -> float:
    """90th percentile over 10th percentile (unweighted, linear interpolation); NaN when P10 is 0."""
    return _decile_ratio(as_values(values, what="the P90/P10 ratio"))


def _decile_ratio(x: np.ndarray) -> float:
    p10, p90 = np.percentile(x, [10, 90])
    return float(p90 / p10) if p10 > 0 else float("nan")


def parent_map(wide: pd.DataFrame, *, parent_column: str = "stadtbezirk_key") -> pd.Series:
    """Key -> parent key (e.g. the Stadtbezirk) from a wide table, for :func:`inequality_series`."""
    for col in ("key", parent_column):
        if col not in wide.columns:
            raise ValidationError("cannot build the parent map",
                                  problems=[Problem("missing_column", f"wide table lacks {col!r}")])
    frame = pd.DataFrame(wide[["key", parent_column]]).dropna()
    return pd.Series(frame[parent_column].astype(str).to_numpy(), index=frame["key"].astype(str).to_numpy())


def nearest_year(year: int, available: Iterable[int]) -> int | None:
    """The year of ``available`` nearest to ``year`` (ties: the earlier one); None when there is none."""
    years = sorted(int(y) for y in available)
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - int(year)), y))


def inequality_series(long: pd.DataFrame, *, groups: Mapping[str, str] | pd.Series, level: str = "ortsteil",
                      indicators: Iterable[str] | None = None,
                      weight_indicator: str | Mapping[str, str] = "population", use_denominator: bool = False,
                      nearest_weight_year: bool = True, min_districts: int = 5) -> pd.DataFrame:
    """Inequality between districts for every indicator and year of the long table.

    Parameters
    ----------
    long
        Long indicator table (columns ``key``, ``level``, ``year``, ``indicator``, ``value``).
    groups
        District key -> group key (normally the Stadtbezirk; see :func:`parent_map`) for the Theil
        decomposition. Districts without a group are left out of every measure (and counted in
        ``n_without_group``).
    level
        Level of the districts compared.
    indicators
        Indicators to cover; default every indicator of the level except those starting with ``si_``.
    weight_indicator
        Weight of rates, densities and means: one count indicator for all (default ``population``) or a mapping
        indicator -> count indicator (indicators not in it use ``population``).
    use_denominator
        Weight a district by the rate's own ``denominator`` in that year where the table gives one (finite and
        positive), and by the weight indicator only where it does not.
    nearest_weight_year
        Where the weight indicator has no value in a year, take its nearest year (see the module conventions);
        otherwise such years have no weights and get the note "fewer than ... districts".
    min_districts
        Fewest districts with a value for any measure; otherwise NaN with a note.

    Returns
    -------
    pandas.DataFrame
        One row per indicator and year: ``indicator``, ``year``, ``n_districts``, ``n_without_group``,
        ``weighted``, ``mean``, ``gini``, ``theil``, ``theil_between``, ``theil_within``,
        ``theil_between_share``, ``cv``, ``p90_p10_ratio``, ``weight_basis`` (plain English: "denominator",
        "population (same year)", "population 2010 (nearest year)", "unweighted (counts)" or a mix),
        ``weight_year`` (the year of the weight indicator used where it is not the same year; else NaN),
        ``n_weighted_by_denominator`` and ``note`` ("" when every measure was computed).
    """
    check_long(long, what="inequality")
    group_map = pd.Series(groups) if not isinstance(groups, pd.Series) else groups
    group_map = pd.Series(group_map.astype(str).to_numpy(), index=group_map.index.astype(str))
    data = long[long["level"] == level]
    if indicators is None:
        names = sorted(n for n in data["indicator"].unique() if not str(n).startswith("si_"))
    else:
        names = list(indicators)
    base_of = {n: (weight_indicator.get(n, "population") if isinstance(weight_indicator, Mapping)
                   else weight_indicator) for n in names}
    base_values = _base_values(data, sorted(set(base_of.values())))
    data, cell_year = _weighted_rows(data[data["indicator"].isin(names)], base_of, base_values, group_map,
                                     use_denominator=use_denominator, nearest_weight_year=nearest_weight_year)
    by_den = np.isfinite(data["den"].to_numpy(dtype=float)) & (data["den"].to_numpy(dtype=float) > 0)
    data["w"] = np.where(by_den, data["den"].to_numpy(dtype=float), data["w"].to_numpy(dtype=float))
    cols = {"value": data["value"].to_numpy(dtype=float), "group": data["group"].to_numpy(dtype=object),
            "has_group": data["group"].notna().to_numpy(), "has_value": data["value"].notna().to_numpy(),
            "w": data["w"].to_numpy(dtype=float), "by_den": by_den}
    cells: dict[str, list[tuple[int, np.ndarray]]] = {}
    for (name, year), idx in data.groupby(["indicator", "year"], sort=True).indices.items():
        cells.setdefault(str(name), []).append((int(year), idx))
    rows = []
    for name in names:
        kind = REGISTRY[name].kind if name in REGISTRY else "rate"
        for year, cell in cells.get(str(name), []):
            rows.append(_cell_row(name, year, cell, cols, weighted=kind != "count", base=base_of[str(name)],
                                  wyear=cell_year.get((str(name), int(year))), min_districts=min_districts))
    return pd.DataFrame(rows)


def _cell_row(name: str, year: int, cell: np.ndarray, cols: Mapping[str, np.ndarray], *, weighted: bool, base: str,
              wyear: int | None, min_districts: int) -> dict[str, object]:
    """The row of one indicator and year: the districts in it, their weights and the measures."""
    idx = cell[cols["has_value"][cell]]  # a year whose values are all missing still gets its row (and note)
    inside = idx[cols["has_group"][idx]]
    n_without = len(idx) - len(inside)
    if weighted:
        w = cols["w"][inside]
        ok = np.isfinite(w) & (w > 0)
        inside, w = inside[ok], w[ok]
        n_den = int(cols["by_den"][inside].sum())
        basis = _weight_basis(base, year, wyear, n_den, len(inside))
    else:
        w = np.ones(len(inside))
        n_den, basis = 0, "unweighted (counts)"
    row: dict[str, object] = {"indicator": name, "year": year, "n_districts": len(inside),
                              "n_without_group": n_without, "weighted": weighted, "mean": np.nan,
                              "gini": np.nan, "theil": np.nan, "theil_between": np.nan,
                              "theil_within": np.nan, "theil_between_share": np.nan, "cv": np.nan,
                              "p90_p10_ratio": np.nan, "weight_basis": basis,
                              "weight_year": (float(wyear) if weighted and wyear is not None
                                              and wyear != year and n_den < len(inside) else np.nan),
                              "n_weighted_by_denominator": n_den, "note": ""}
    row.update(_measures(cols["value"][inside], w, cols["group"][inside], min_districts=min_districts))
    return row


def _base_values(data: pd.DataFrame, bases: list[str]) -> pd.DataFrame:
    """The weight indicators' values: ``base``, ``key``, ``wyear``, ``w`` (one row each)."""
    base_rows = data[data["indicator"].isin(bases)].dropna(subset=["value"])
    return pd.DataFrame({"base": base_rows["indicator"].astype(str).to_numpy(),
                         "key": base_rows["key"].astype(str).to_numpy(),
                         "wyear": base_rows["year"].astype(int).to_numpy(),
                         "w": base_rows["value"].to_numpy(dtype=float)}).drop_duplicates(["base", "key", "wyear"])


def _weighted_rows(data: pd.DataFrame, base_of: Mapping[str, str], base_values: pd.DataFrame, group_map: pd.Series,
                   *, use_denominator: bool,
                   nearest_weight_year: bool) -> tuple[pd.DataFrame, dict[tuple[str, int], int | None]]:
    """The rows with group, denominator and weight (``w``) from the weight year; and each cell's weight year."""
    base_years = {b: sorted(set(part["wyear"].tolist())) for b, part in base_values.groupby("base")}
    # one pass of pandas over the whole level; then plain arrays per indicator and year
    keys = data["key"].astype(str)
    den = (pd.to_numeric(data["denominator"], errors="coerce").to_numpy(dtype=float)
           if use_denominator and "denominator" in data.columns else np.full(len(data), np.nan))
    data = pd.DataFrame({"indicator": data["indicator"].astype(str).to_numpy(), "year": data["year"].to_numpy(),
                         "key": keys.to_numpy(), "value": data["value"].to_numpy(dtype=float),
                         "group": keys.map(group_map).to_numpy(dtype=object), "den": den})
    # one (indicator, year) cell per code: base and weight year looked up once per cell, not once per row
    cell = data.groupby(["indicator", "year"], sort=False).ngroup().to_numpy()
    first = np.full(int(cell.max()) + 1 if len(cell) else 0, -1)
    first[cell[::-1]] = np.arange(len(cell))[::-1]
    cell_names = data["indicator"].to_numpy()[first].tolist()
    cell_years = [int(y) for y in data["year"].to_numpy()[first].tolist()]
    data["base"] = np.array([base_of[n] for n in cell_names], dtype=object)[cell]
    cell_year: dict[tuple[str, int], int | None] = {}
    for name, year in zip(cell_names, cell_years, strict=True):
        avail = base_years.get(base_of[str(name)], [])
        if int(year) in avail:
            cell_year[(str(name), int(year))] = int(year)
        else:
            cell_year[(str(name), int(year))] = nearest_year(int(year), avail) if nearest_weight_year else None
    wy = [cell_year[(str(n), y)] for n, y in zip(cell_names, cell_years, strict=True)]
    data["wyear"] = pd.arrays.IntegerArray(np.array([0 if v is None else v for v in wy], dtype=np.int64)[cell],
                                           np.array([v is None for v in wy], dtype=bool)[cell])
    return data.merge(base_values.astype({"wyear": "Int64"}), on=["base", "key", "wyear"], how="left"), cell_year


def _weight_basis(base: str, year: int, wyear: int | None, n_den: int, n: int) -> str:
    """What the weights of one indicator and year are, in plain English (``weight_basis``)."""
    other = (f"{base} (same year)" if wyear == year else
             f"{base} {wyear} (nearest year)" if wyear is not None else f"{base} (none)")
    return ("denominator" if n_den == n and n_den else
            f"denominator ({n_den} of {n}), else {other}" if n_den else other)


def _measures(x: np.ndarray, w: np.ndarray, groups: np.ndarray, *, min_districts: int) -> dict[str, object]:
    """The weighted mean and inequality measures of one indicator and year, or a note why they are not defined."""
    if len(x) < min_districts:
        return {"note": f"fewer than {min_districts} districts with a value"}
    if (x < 0).any():
        return {"mean": float(np.sum(w * x) / np.sum(w)), "note": "negative values: inequality measures not defined"}
    if not np.sum(w * x) > 0:
        return {"mean": 0.0, "note": "all values are 0"}
    # validated once (the checks gini, theil_decomposition, coefficient_of_variation and decile_ratio each
    # make); every measure then uses the same weighted mean
    x = as_values(x, what="the inequality measures")
    w = as_weights(x, w, what="the inequality measures")
    mu = _mean(x, w, "the inequality measures")
    total, between, within, _ = _theil_parts(x, groups, w)
    return {"mean": mu, "gini": _gini(x, w, mu), "theil": total, "theil_between": between, "theil_within": within,
            "theil_between_share": between / total if total > 0 else float("nan"), "cv": _cv(x, w, mu),
            "p90_p10_ratio": _decile_ratio(x)}
