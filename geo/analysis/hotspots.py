"""Hot and cold spots of one indicator: Local Moran's I with permutation p-values and FDR correction.

Method
------
1. Areas with a missing value are left out ("not tested: value missing").
2. Queen contiguity (libpysal) is built on the remaining areas; areas without a neighbour among them are
   left out ("not tested: no neighbours"). Leaving them out cannot create new islands, so one pass suffices.
3. ``esda.Moran_Local`` on the row-standardised weights (esda scales ``I_i = d_i * lag(d)_i / m2`` with the
   deviations ``d`` from the mean and ``m2 = sum(d**2) / (n - 1)``), with ``permutations`` conditional
   permutations and a fixed ``seed``; ``p_sim`` is esda's pseudo p-value.
4. The p-values of all tested areas are adjusted with the Benjamini-Hochberg procedure (false-discovery rate);
   an area is significant when its adjusted value (``q_value``) is at most ``alpha``.
5. Significant areas are classed by their Moran quadrant: high value among high neighbours = ``hot_spot``
   (HH), low among low = ``cold_spot`` (LL), ``high_low_outlier`` (HL) and ``low_high_outlier`` (LH); all
   other tested areas are ``not_significant``.

Degenerate data policy (one policy for the whole module): fewer than ``min_areas`` testable areas, or a
constant indicator, gives every area the class ``not_tested`` with the reason; nothing is raised.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.stats import false_discovery_control

from geo.errors import CRSError, Problem, ValidationError

__all__ = ["CLASSES", "benjamini_hochberg", "local_hotspots", "queen_weights"]

CLASSES = ("hot_spot", "cold_spot", "high_low_outlier", "low_high_outlier", "not_significant", "not_tested")
_QUADRANT_CLASS = {1: "hot_spot", 2: "low_high_outlier", 3: "cold_spot", 4: "high_low_outlier"}
_QUADRANT_CODE = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


def benjamini_hochberg(p_values: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    ``q_(i) = min_{j >= i} min(1, p_(j) * m / j)`` for the p-values sorted ascending; NaN stays NaN and is not
    counted in ``m``.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = false_discovery_control(p[ok], method="bh")
    return out


#: Queen neighbours by geometry (digest of the polygons' WKB in row order): a build asks for the weights of the
#: same Ortsteile several times (classification, hot spots, segregation); each caller gets a W object of its own
#: (callers set ``transform`` on it) built from the cached neighbour lists
_QUEEN_NEIGHBOURS: dict[bytes, dict[int, tuple[int, ...]]] = {}
_QUEEN_CACHE_SIZE = 32


def queen_weights(frame: gpd.GeoDataFrame) -> Any:
    """Queen contiguity weights (libpysal) with the frame's row order as ids 0..n-1; islands allowed."""
    from libpysal.weights import Queen, W

    geometry = frame.geometry.reset_index(drop=True)
    digest = hashlib.blake2b(b"".join(shapely.to_wkb(geometry.values, include_srid=False)),
                             digest_size=20).digest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands; we handle them
        if digest not in _QUEEN_NEIGHBOURS:
            w = Queen.from_dataframe(gpd.GeoDataFrame(geometry=geometry), use_index=False, silence_warnings=True)
            if len(_QUEEN_NEIGHBOURS) >= _QUEEN_CACHE_SIZE:
                _QUEEN_NEIGHBOURS.pop(next(iter(_QUEEN_NEIGHBOURS)))
            _QUEEN_NEIGHBOURS[digest] = {int(i): tuple(int(j) for j in n) for i, n in w.neighbors.items()}
        neighbours = _QUEEN_NEIGHBOURS[digest]
        return W({i: list(n) for i, n in neighbours.items()}, id_order=list(range(len(geometry))),
                 silence_warnings=True)


def _check(frame: gpd.GeoDataFrame, column: str, key_column: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValidationError("hot spots need a GeoDataFrame",
                              problems=[Problem("type", f"got {type(frame).__name__}")])
    if frame.crs is None:
        raise CRSError("the frame has no CRS; expected EPSG:25832")
    problems = [Problem("missing_column", f"frame lacks column {c!r}")
                for c in (column, key_column) if c not in frame.columns]
    if not problems and frame[key_column].duplicated().any():
        problems.append(Problem("duplicate_key", "duplicate keys: " + ", ".join(
            sorted(frame.loc[frame[key_column].duplicated(), key_column].astype(str).unique())[:10])))
    if not problems and not pd.api.types.is_numeric_dtype(frame[column]):
        problems.append(Problem("dtype", f"column {column!r} is not numeric"))
    if problems:
        raise ValidationError("cannot compute hot spots", problems=problems)


def local_hotspots(frame: gpd.GeoDataFrame, column: str, *, key_column: str = "key", permutations: int = 999,
                   alpha: float = 0.05, fdr: bool = True, seed: int = 12345, min_areas: int = 5) -> pd.DataFrame:
    """Local Moran's I hot and cold spots of ``column``.

    Parameters
    ----------
    frame
        One row per area with geometry (any projected CRS; contiguity does not depend on it), ``key_column``
        and ``column``.
    column
        The indicator.
    key_column
        District key column.
    permutations
        Number of conditional permutations for the pseudo p-values (esda default 999).
    alpha
        Significance level applied to the FDR-adjusted p-values (or to the raw ones when ``fdr=False``).
    fdr
        Adjust the p-values with Benjamini-Hochberg (recommended: dozens of areas are tested at once).
    seed
        Seed of the permutations; the result is reproducible.
    min_areas
        Fewest testable areas for a test at all.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in input order: ``key``, ``value``, ``n_neighbours``, ``local_i``, ``z_value``
        (standardised value), ``lag_z`` (mean z of the neighbours), ``quadrant`` (HH/LH/LL/HL), ``p_sim``,
        ``q_value``, ``significant``, ``hotspot_class`` (one of :data:`CLASSES`) and ``reason`` (why an area
        was not tested; "" otherwise).
    """
    _check(frame, column, key_column)
    if permutations < 1:
        raise ValidationError("permutations must be at least 1",
                              problems=[Problem("option", f"permutations={permutations}")])
    from libpysal.weights import w_subset

    values = frame[column].astype(float).to_numpy()
    out = _untested(frame[key_column].astype(str).to_numpy(), values)
    valid = ~np.isnan(values)
    out.loc[~valid, "reason"] = "value missing"
    idx_valid = np.flatnonzero(valid)
    if len(idx_valid) == 0:
        return out
    w_all = queen_weights(frame.iloc[idx_valid])
    card = np.array([w_all.cardinalities[i] for i in range(len(idx_valid))])
    out.loc[idx_valid, "n_neighbours"] = card
    islands = card == 0
    out.loc[idx_valid[islands], "reason"] = "no neighbours"
    tested_local = np.flatnonzero(~islands)
    tested = idx_valid[tested_local]
    y = values[tested]
    if len(tested) < min_areas or np.allclose(y, y[0]):
        why = (f"fewer than {min_areas} areas with a value and neighbours" if len(tested) < min_areas
               else "the indicator is constant")
        out.loc[tested, "reason"] = why
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = w_subset(w_all, tested_local.tolist(), silence_warnings=True) if islands.any() else w_all
    _test(out, tested, y, w, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr)
    return out


def _untested(keys: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """The result frame with every area not (yet) tested."""
    return pd.DataFrame({
        "key": keys, "value": values,
        "n_neighbours": np.zeros(len(values), dtype=int), "local_i": np.nan, "z_value": np.nan, "lag_z": np.nan,
        "quadrant": "", "p_sim": np.nan, "q_value": np.nan, "significant": False,
        "hotspot_class": "not_tested", "reason": "",
    })


def _test(out: pd.DataFrame, tested: np.ndarray, y: np.ndarray, w: Any, *, permutations: int, seed: int,
          alpha: float, fdr: bool) -> None:
    """Run local Moran's I on the tested rows and write its statistics and classes into ``out`` (in place)."""
    from esda.moran import Moran_Local

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w.transform = "r"
        lisa = Moran_Local(y, w, transformation="r", permutations=permutations, seed=seed,
                           keep_simulations=False)
    z = (y - y.mean()) / y.std()
    wz = np.asarray(w.sparse @ z).ravel()
    q = benjamini_hochberg(lisa.p_sim) if fdr else np.asarray(lisa.p_sim, dtype=float)
    sig = q <= alpha
    quad = np.asarray(lisa.q, dtype=int)
    out.loc[tested, "local_i"] = lisa.Is
    out.loc[tested, "z_value"] = z
    out.loc[tested, "lag_z"] = wz
    out.loc[tested, "quadrant"] = [_QUADRANT_CODE.get(int(c), "") for c in quad]
    out.loc[tested, "p_sim"] = lisa.p_sim
    out.loc[tested, "q_value"] = q
    out.loc[tested, "significant"] = sig
    out.loc[tested, "hotspot_class"] = np.where(sig, [_QUADRANT_CLASS.get(int(c), "not_significant")
                                                      for c in quad], "not_significant")
