"""How well the series that exist for a city without need statistics track need where both are known.

Bremerhaven publishes no SGB II, unemployment or school series per Ortsteil; turnout and the census grids exist
for both cities. :func:`proxy_correlations` measures, across the Ortsteile of the city that has both (Bremen),
the Spearman rank correlation of every candidate series with the need target (SGB II among residents under
65), with a bootstrap interval, and says whether the series is fit to stand in for need elsewhere:

* ``use``: ``|rho| >= STRONG`` and the interval excludes ``WEAK`` (tracks need closely);
* ``weak``: ``|rho| >= WEAK`` (tracks need loosely: at most a reduced weight);
* ``reject``: otherwise, or when the correlation has the opposite sign to the series' stated direction.

Candidates are the snapshot's indicators with a stated direction (``higher_is_worse`` / ``higher_is_better``)
that have a value for at least half of the other city's Ortsteile. Descriptive series (direction ``none``:
nationality, migration background, population structure) are never candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from geo.pipeline.indicators import REGISTRY

#: |rho| at or above which a series tracks need closely (assumption: Cohen's "large" for rank correlations
#: is 0.5; we ask for 0.7 because the series replaces need outright)
STRONG = 0.7
#: |rho| below which a series is rejected
WEAK = 0.5
BOOTSTRAP = 2000
SEED = 20200901
MIN_POPULATION = 300.0
COLUMNS = ["indicator", "label_de", "label_en", "year", "target_year", "n", "rho", "ci_low", "ci_high",
           "direction", "coverage_other_city", "n_other_city", "verdict", "why"]


@dataclass(frozen=True)
class ProxyEvidence:
    """The correlations and what they mean, ready for a report or a JSON document."""

    target: str
    fit_city: str
    apply_city: str
    table: pd.DataFrame
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as a JSON-ready dict, thresholds included and non-finite figures as None."""
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append({k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in rec.items()})
        return {"target": self.target, "fit_city": self.fit_city, "apply_city": self.apply_city, "note": self.note,
                "strong": STRONG, "weak": WEAK, "bootstrap": BOOTSTRAP, "seed": SEED, "rows": rows}


def _rho(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(spearmanr(x, y).statistic)


def _bootstrap_rho(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman's rho of every resample ``idx`` (rows of positions) at once: Pearson's r of the mid-ranks."""
    rx = rankdata(x[idx], axis=1)
    ry = rankdata(y[idx], axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def proxy_correlations(wide: pd.DataFrame, *, target: str = "sgb2_u65_pct", fit_city: str = "Bremen",
                       apply_city: str = "Bremerhaven", candidates: list[str] | None = None,
                       years: dict[str, int] | None = None) -> ProxyEvidence:
    """Spearman rank correlations of candidate series with ``target`` across ``fit_city``'s Ortsteile.

    Parameters
    ----------
    wide
        One row per Ortsteil with ``city``, ``population`` and the indicator columns
        (:meth:`geo.pipeline.snapshot.Snapshot.wide`).
    target
        The need series the candidates must track.
    candidates
        Columns to test (default: every indicator with a direction that ``apply_city`` has, see module doc).
    years
        The year of each column's values (``wide.attrs["indicator_years"]`` by default).
    """
    years = dict(years if years is not None else wide.attrs.get("indicator_years", {}))
    if target not in wide.columns:  # a build without the need series: no evidence, said so
        return ProxyEvidence(target=target, fit_city=fit_city, apply_city=apply_city,
                             table=pd.DataFrame(columns=COLUMNS), note=f"{target} is not in the table")
    fit = wide[(wide["city"] == fit_city) & (pd.to_numeric(wide["population"], errors="coerce") >= MIN_POPULATION)]
    other = wide[wide["city"] == apply_city]
    if candidates is None:
        candidates = []
        for col, meta in REGISTRY.items():
            directed = meta.direction in ("higher_is_worse", "higher_is_better")
            if col == target or col not in wide.columns or not directed:
                continue
            if len(other) and other[col].notna().mean() >= 0.5:
                candidates.append(col)
    rng = np.random.default_rng(SEED)
    y_all = pd.to_numeric(fit[target], errors="coerce").to_numpy(dtype=float)
    rows = []
    for col in candidates:
        x_all = pd.to_numeric(fit[col], errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(x_all) & ~np.isnan(y_all)
        x, y = x_all[ok], y_all[ok]
        rho = _rho(x, y)
        boots = np.full(BOOTSTRAP, np.nan)
        if len(x) >= 3:
            idx = rng.integers(0, len(x), size=(BOOTSTRAP, len(x)))
            boots = _bootstrap_rho(x, y, idx)
        lo, hi = (np.nanpercentile(boots, [2.5, 97.5]) if np.isfinite(boots).any() else (np.nan, np.nan))
        info = REGISTRY.get(col)
        direction = info.direction if info else None
        expected = 1.0 if direction == "higher_is_worse" else -1.0 if direction == "higher_is_better" else np.nan
        strength = abs(rho) if np.isfinite(rho) else np.nan
        if not np.isfinite(rho) or (np.isfinite(expected) and np.sign(rho) != expected):
            verdict = "reject"
            why = "no correlation computable" if not np.isfinite(rho) else "sign opposite to the stated direction"
        elif strength >= STRONG and min(abs(lo), abs(hi)) >= WEAK and np.sign(lo) == np.sign(hi):
            verdict, why = "use", f"|rho| >= {STRONG} and the 95 % interval stays beyond {WEAK}"
        elif strength >= WEAK:
            verdict, why = "weak", f"{WEAK} <= |rho| < {STRONG} or the interval reaches below {WEAK}"
        else:
            verdict, why = "reject", f"|rho| < {WEAK}"
        rows.append({"indicator": col, "label_de": info.label_de if info else col,
                     "label_en": info.label_en if info else col, "year": years.get(col),
                     "target_year": years.get(target), "n": len(x), "rho": rho, "ci_low": float(lo),
                     "ci_high": float(hi), "direction": direction,
                     "coverage_other_city": int(other[col].notna().sum()) if col in other else 0,
                     "n_other_city": len(other), "verdict": verdict, "why": why})
    table = pd.DataFrame(rows, columns=COLUMNS)
    if len(table):
        table = table.reindex(table["rho"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return ProxyEvidence(target=target, fit_city=fit_city, apply_city=apply_city, table=table)
