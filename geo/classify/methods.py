"""Index methods: z-scores, percentile ranks, the exponential transform and empirical-Bayes shrinkage.

Everything here is pure NumPy over arrays. :class:`IndexModel` follows the scikit-learn convention: the
constructor only stores the definition, :meth:`IndexModel.fit` learns the standardisation parameters from the
*reference* areas (attributes ending in ``_``), :meth:`IndexModel.transform` scores any rows, including rows
that were not part of the fit (e.g. a user-drawn area estimated by areal interpolation).

Written policy (also stated in every result, see :func:`geo.classify.engine.policy_text`):

* standard deviations are population standard deviations (``ddof=0``);
* a value exactly at a cut-off belongs to the class *above* the cut-off (cut-offs are lower bounds,
  compared with ``>=``), unless the index says ``closed: right`` (then to the class below); values are
  compared with a tolerance of ``1e-9`` so that floating-point noise cannot move an area across a cut-off it
  sits on exactly;
* an area with a missing value in any component of an index gets no value for that index (it is neither
  imputed nor used to fit the reference distribution);
* an indicator without variance over the reference areas contributes 0 to every area (recorded in
  ``notes_``); an index sum without variance is 0 everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.classify.definition import Definition, IndexSpec, Indicator

EPS = 1e-9
EXP_CONST = 23.0


# ---------------------------------------------------------------------------------------------------------
# elementary methods
# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# the fitted model
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _IndexFit:
    spec: IndexSpec
    ref_components: np.ndarray  # (n_ref, k) oriented components of the reference areas
    base_weights: np.ndarray  # (k,) or (n_domains,) for exponential
    domains: tuple[str, ...]
    domain_members: tuple[np.ndarray, ...]  # per domain: component positions
    within_weights: np.ndarray  # (k,) component weights (within domains for exponential)
    sum_mean: float = 0.0
    sum_sd: float = 1.0
    ref_index: np.ndarray | None = None


class IndexModel:
    """Fit indicator standardisation on reference areas, then score any rows.

    Parameters
    ----------
    definition
        A validated :class:`~geo.classify.definition.Definition`.

    Attributes
    ----------
    eb_params_ : dict
        ``{indicator_id: {group: EBParams}}`` for indicators with shrinkage (group ``"*"`` = all areas).
    indicator_mean_, indicator_sd_ : dict
        Mean and population SD of each indicator (after shrinkage) over its index's reference areas.
    reference_size_ : dict
        Number of reference areas per index.
    notes_ : list of str
        Degenerate cases met while fitting (zero variance, no reference areas).
    """

    def __init__(self, definition: Definition) -> None:
        self.definition = definition

    # -- indicator values --------------------------------------------------------------------------------
    def _indicator_values(self, frame: pd.DataFrame, ind: Indicator, *, fitting: bool) -> np.ndarray:
        if ind.shrinkage is None:
            return pd.to_numeric(frame[ind.column], errors="coerce").to_numpy(dtype=float)
        sh = ind.shrinkage
        num = pd.to_numeric(frame[sh.numerator], errors="coerce").to_numpy(dtype=float)
        den = pd.to_numeric(frame[sh.denominator], errors="coerce").to_numpy(dtype=float)
        groups = (
            frame[sh.group_by].astype(str).to_numpy()
            if sh.group_by and sh.group_by in frame.columns
            else np.full(len(frame), "*")
        )
        if fitting:
            params: dict[str, EBParams] = {}
            for g in pd.unique(groups):
                sel = groups == g
                params[str(g)] = fit_empirical_bayes(num[sel], den[sel], model=sh.model)
            params["*"] = fit_empirical_bayes(num, den, model=sh.model)
            self.eb_params_[ind.id] = params
        fitted = self.eb_params_[ind.id]
        out = np.full(len(frame), np.nan)
        for g in pd.unique(groups):
            sel = groups == g
            p = fitted.get(str(g), fitted["*"])
            if p.n_areas == 0:
                p = fitted["*"]
            out[sel] = shrink_rates(num[sel], den[sel], p, model=sh.model) * sh.scale
        return out

    def indicator_values(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Values of every indicator for ``frame`` (shrunk where the definition asks for it)."""
        return {ind.id: self._indicator_values(frame, ind, fitting=False) for ind in self.definition.indicators}

    # -- fit ---------------------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, *, reference: np.ndarray | None = None) -> IndexModel:
        """Learn all parameters from the reference rows of ``frame``.

        Parameters
        ----------
        frame
            Table with every column the definition needs.
        reference
            Boolean mask of reference rows (classifiable areas); all rows when omitted.
        """
        ref_mask = np.ones(len(frame), dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
        ref = frame.loc[ref_mask]
        self.eb_params_: dict[str, dict[str, EBParams]] = {}
        self.indicator_mean_: dict[str, float] = {}
        self.indicator_sd_: dict[str, float] = {}
        self.reference_size_: dict[str, int] = {}
        self.notes_: list[str] = []
        ref_vals = {ind.id: self._indicator_values(ref, ind, fitting=True) for ind in self.definition.indicators}
        self._ref_values = ref_vals
        self._fits: dict[str, _IndexFit] = {}
        for spec in self.definition.indices:
            ids = [c.indicator for c in spec.components]
            mat = np.column_stack([ref_vals[i] for i in ids]) if ids else np.empty((len(ref), 0))
            complete = ~np.isnan(mat).any(axis=1)
            self.reference_size_[spec.name] = int(complete.sum())
            if complete.sum() == 0:
                self.notes_.append(f"index {spec.name}: no reference area has all its indicators")
            for i in ids:
                vals = ref_vals[i][complete]
                mean = float(vals.mean()) if vals.size else float("nan")
                sd = float(vals.std(ddof=0)) if vals.size else float("nan")
                key = f"{spec.name}:{i}"
                self.indicator_mean_[key] = mean
                self.indicator_sd_[key] = sd
                if vals.size and sd <= 0:
                    self.notes_.append(
                        f"index {spec.name}: indicator {i} has no variance over the reference areas; "
                        "it contributes 0 to every area"
                    )
            comp_ref = self._components(spec, {i: ref_vals[i][complete] for i in ids}, ref_sorted=None)
            fit = self._make_fit(spec, comp_ref)
            self._fits[spec.name] = fit
            base = self._aggregate(fit, comp_ref, fit.base_weights[None, :], stats_from_ref=True)
            fit.ref_index = base[:, 0]
        return self

    def _make_fit(self, spec: IndexSpec, comp_ref: np.ndarray) -> _IndexFit:
        weights = np.array([c.weight for c in spec.components], dtype=float)
        if spec.method == "exponential":
            domains = tuple(sorted({str(c.domain) for c in spec.components}))
            members = tuple(np.array([k for k, c in enumerate(spec.components) if c.domain == d]) for d in domains)
            base = np.array([spec.domain_weights.get(d, 0.0) for d in domains], dtype=float)
        else:
            domains, members, base = (), (), weights
        return _IndexFit(spec, comp_ref, base, domains, members, weights)

    def _components(self, spec: IndexSpec, values: Mapping[str, np.ndarray], ref_sorted: None = None) -> np.ndarray:
        cols = []
        for comp in spec.components:
            ind = self.definition.indicator(comp.indicator)
            key = f"{spec.name}:{comp.indicator}"
            x = np.asarray(values[comp.indicator], dtype=float)
            if spec.method == "percentile":
                ref = self._ref_oriented(spec, comp.indicator)
                cols.append(percentile_rank(ref, ind.sign * x))
            else:
                cols.append(ind.sign * zscores(x, mean=self.indicator_mean_[key], sd=self.indicator_sd_[key]))
        n = len(next(iter(values.values()))) if values else 0
        return np.column_stack(cols) if cols else np.empty((n, 0))

    def _ref_oriented(self, spec: IndexSpec, ind_id: str) -> np.ndarray:
        ids = [c.indicator for c in spec.components]
        mat = np.column_stack([self._ref_values[i] for i in ids])
        complete = ~np.isnan(mat).any(axis=1)
        return self.definition.indicator(ind_id).sign * self._ref_values[ind_id][complete]

    def _aggregate(self, fit: _IndexFit, comps: np.ndarray, weights: np.ndarray, *, stats_from_ref: bool) -> np.ndarray:
        """Index values ``(n, D)`` for component matrix ``comps`` ``(n, k)`` and weights ``(D, k|domains)``."""
        spec = fit.spec
        ref = fit.ref_components
        if spec.method == "zscore":
            s = comps @ weights.T
            optional = np.array([c.optional for c in spec.components], dtype=bool)
            if optional.any() and len(comps):
                # optional components missing: the present ones' weighted sum, scaled to the full weight
                present = ~np.isnan(comps)
                filled = np.where(present, comps, 0.0)
                w_present = present.astype(float) @ weights.T
                w_total = weights.sum(axis=1)[None, :]
                ok = (present | optional[None, :]).all(axis=1)[:, None] & (w_present >= 0.5 * w_total - 1e-12)
                safe = np.where(w_present > 0, w_present, 1.0)
                s = np.where(ok, (filled @ weights.T) * w_total / safe, np.nan)
            s_ref = ref @ weights.T
            mean = s_ref.mean(axis=0) if len(ref) else np.full(weights.shape[0], np.nan)
            sd = s_ref.std(axis=0, ddof=0) if len(ref) else np.full(weights.shape[0], np.nan)
            if stats_from_ref and weights.shape[0] == 1:
                fit.sum_mean, fit.sum_sd = float(mean[0]), float(sd[0])
            safe = np.where(sd > 0, sd, 1.0)
            return np.where(sd > 0, (s - mean) / safe, np.where(np.isnan(s), np.nan, 0.0))
        if spec.method == "percentile":
            s = comps @ weights.T
            s_ref = ref @ weights.T
            out = np.empty_like(s)
            for j in range(s.shape[1]):
                out[:, j] = percentile_rank(s_ref[:, j], s[:, j])
            return out
        # exponential: domain score = weighted sum of oriented z within the domain; rank; transform
        total = np.zeros((comps.shape[0], weights.shape[0]))
        for d, members in enumerate(fit.domain_members):
            w = fit.within_weights[members]
            score = comps[:, members] @ w
            score_ref = ref[:, members] @ w
            x = exponential_transform(rank_fraction(score_ref, score))
            total = total + x[:, None] * weights[None, :, d]
        return total

    # -- transform ---------------------------------------------------------------------------------------
    def components(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Oriented component matrix ``(n, k)`` per index for ``frame`` (z-scores or percentile ranks)."""
        vals = self.indicator_values(frame)
        return {
            spec.name: self._components(spec, {c.indicator: vals[c.indicator] for c in spec.components})
            for spec in self.definition.indices
        }

    def index_values(self, name: str, comps: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Index values ``(n, D)`` of index ``name`` for components ``comps`` and weight draws ``(D, .)``."""
        fit = self._fits[name]
        w = fit.base_weights[None, :] if weights is None else np.atleast_2d(weights)
        return self._aggregate(fit, comps, w, stats_from_ref=False)

    def base_weights(self, name: str) -> np.ndarray:
        """The definition's weights of index ``name`` (component weights, or domain weights)."""
        return self._fits[name].base_weights.copy()

    def reference_index(self, name: str) -> np.ndarray:
        """Index values of the reference areas (for SDs and margins)."""
        ref = self._fits[name].ref_index
        return np.empty(0) if ref is None else ref

    def contributions(self, name: str, comps: np.ndarray) -> np.ndarray | None:
        """Per-component contribution to a z-score index (``w_i z_i / sd_sum``); ``None`` for other methods."""
        fit = self._fits[name]
        if fit.spec.method != "zscore":
            return None
        sd = fit.sum_sd if fit.sum_sd > 0 else 1.0
        return comps * fit.within_weights[None, :] / sd

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score ``frame``: one column ``<index>_index`` per index plus the component columns."""
        comps = self.components(frame)
        out = {}
        for spec in self.definition.indices:
            out[spec.field] = self.index_values(spec.name, comps[spec.name])[:, 0]
            suffix = "__pr" if spec.method == "percentile" else "__z"
            for k, comp in enumerate(spec.components):
                out[f"{comp.indicator}{suffix}"] = comps[spec.name][:, k]
        return pd.DataFrame(out, index=frame.index)
