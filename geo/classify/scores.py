"""The elementary scores of the index methods: z-scores, percentile ranks, the exponential transform, classes.

Pure NumPy over arrays, with no knowledge of definitions; :mod:`geo.classify.index_methods` combines them into
the index methods and :class:`geo.classify.methods.IndexModel` fits them. Empirical-Bayes shrinkage of rates
is here too. ``geo.classify.methods`` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-9
EXP_CONST = 23.0


def population_sd(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Population standard deviation (ddof=0), ignoring NaN."""
    return np.asarray(np.nanstd(values, axis=axis, ddof=0))


def zscores(values: np.ndarray, *, mean: float, sd: float) -> np.ndarray:
    """``(x - mean) / sd``; all zeros when ``sd`` is 0 (degenerate policy), NaN stays NaN."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(sd) or sd <= 0:
        return np.where(np.isnan(values), np.nan, 0.0)
    return (values - mean) / sd


def percentile_rank(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Percentile rank in [0, 1]: share of the *other* reference values strictly below ``x``.

    ``PR(x) = #{r in reference : r < x} / (n - 1)`` (Excel ``PERCENTRANK.INC``, as used by the US SVI): the
    lowest reference value gets 0, the highest 1, tied values share the lower rank. New values are placed in
    the same reference and clipped to [0, 1]. NaN stays NaN.
    """
    ref = np.sort(np.asarray(reference, dtype=float)[~np.isnan(reference)])
    values = np.asarray(values, dtype=float)
    n = ref.size
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    if n == 0:
        return out
    below = np.searchsorted(ref, values[ok] - EPS * np.maximum(1.0, np.abs(values[ok])), side="right")
    out[ok] = np.clip(below / max(n - 1, 1), 0.0, 1.0)
    return out


def rank_fraction(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Scaled rank R in [0, 1]: ``#{r in reference : r <= x} / n``; the most deprived reference area gets 1."""
    ref = np.sort(np.asarray(reference, dtype=float)[~np.isnan(reference)])
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    if ref.size == 0:
        return out
    at_or_below = np.searchsorted(ref, values[ok] + EPS * np.maximum(1.0, np.abs(values[ok])), side="right")
    out[ok] = at_or_below / ref.size
    return out


def exponential_transform(r: np.ndarray) -> np.ndarray:
    """English IMD transform ``X = -23 ln(1 - R (1 - exp(-100/23)))``: R=0 -> 0, R=1 -> 100."""
    r = np.asarray(r, dtype=float)
    return -EXP_CONST * np.log(1.0 - r * (1.0 - np.exp(-100.0 / EXP_CONST)))


@dataclass(frozen=True)
class EBParams:
    """Fitted empirical-Bayes prior of one group: mean rate ``m`` and between-area variance ``s2``."""

    m: float
    s2: float
    n_areas: int


def fit_empirical_bayes(numerator: np.ndarray, denominator: np.ndarray, *, model: str = "binomial") -> EBParams:
    """Method-of-moments prior (Marshall 1991) from reference areas.

    ``m = sum(n) / sum(d)``; ``s2 = sum(d (r - m)^2) / sum(d) - v / mean(d)`` with ``v = m (1 - m)``
    (binomial) or ``v = m`` (Poisson), clipped at 0.
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    num, den = num[ok], den[ok]
    if den.size == 0 or den.sum() <= 0:
        return EBParams(float("nan"), 0.0, 0)
    m = num.sum() / den.sum()
    r = num / den
    v = m * (1 - m) if model == "binomial" else m
    s2 = float((den * (r - m) ** 2).sum() / den.sum() - v / den.mean())
    return EBParams(float(m), max(s2, 0.0), int(den.size))


def shrink_rates(
    numerator: np.ndarray, denominator: np.ndarray, params: EBParams, *, model: str = "binomial"
) -> np.ndarray:
    """Shrunk rates ``m + w (r - m)`` with reliability ``w = s2 / (s2 + v / d)``; NaN where counts are missing.

    An area with denominator 0 gets the prior mean ``m`` (reliability 0).
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(num) & np.isfinite(den) & (den >= 0)
    if not np.isfinite(params.m):
        return out
    m, s2 = params.m, params.s2
    v = m * (1 - m) if model == "binomial" else m
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), m)
        w = np.where(den > 0, s2 / (s2 + v / np.where(den > 0, den, 1.0)), 0.0) if s2 > 0 else np.zeros_like(den)
    out[ok] = (m + w * (r - m))[ok]
    return out


def class_codes(values: np.ndarray, cutoffs: tuple[float, ...] | np.ndarray, closed: str = "left") -> np.ndarray:
    """Class code per value: the number of cut-offs the value has passed; -1 for NaN.

    ``closed="left"`` (classes ``[c_k, c_k+1)``, cut-offs are lower bounds): a value at a cut-off goes up;
    ``closed="right"`` (classes ``(c_k, c_k+1]``, as Berlin's MSS counts +1.0 as "mittel"): it stays below.
    ``cutoffs`` may be 1-D (shared) or 2-D ``(draws, n_cutoffs)`` with ``values`` of shape ``(n, draws)``.
    """
    values = np.asarray(values, dtype=float)
    cuts = np.asarray(cutoffs, dtype=float)
    tol = EPS * np.maximum(1.0, np.abs(cuts))
    x = values[..., None] if cuts.ndim == 1 else values[:, :, None]  # 2-D: values (n, D), cuts (D, c)
    edge = cuts if cuts.ndim == 1 else cuts[None, :, :]
    tol = tol if cuts.ndim == 1 else tol[None, :, :]
    passed = x > edge + tol if closed == "right" else x >= edge - tol
    return np.where(np.isnan(values), -1, passed.sum(axis=-1)).astype(np.int64)
