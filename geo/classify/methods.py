"""The fitted index model: indicator values (shrunk where asked), component scores and index values.

The index methods themselves are the registered classes of :mod:`geo.classify.index_methods`; the elementary
scores (z-scores, percentile ranks, the exponential transform, empirical-Bayes shrinkage, classes) are in
:mod:`geo.classify.scores` and re-exported here. :class:`IndexModel` follows the scikit-learn convention: the
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

import numpy as np
import pandas as pd

from geo.classify.definition import Definition, IndexSpec, Indicator
from geo.classify.index_methods import IndexFit
from geo.classify.scores import (  # noqa: F401 (re-exported: the elementary scores)
    EPS,
    EXP_CONST,
    EBParams,
    class_codes,
    exponential_transform,
    fit_empirical_bayes,
    percentile_rank,
    population_sd,
    rank_fraction,
    shrink_rates,
    zscores,
)


# ---------------------------------------------------------------------------------------------------------
# the fitted model
# ---------------------------------------------------------------------------------------------------------
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
        self._fits: dict[str, IndexFit] = {}
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

    def _make_fit(self, spec: IndexSpec, comp_ref: np.ndarray) -> IndexFit:
        method = spec.index_method
        weights = np.array([c.weight for c in spec.components], dtype=float)
        optional = np.array([c.optional for c in spec.components], dtype=bool)
        fit = IndexFit(spec.name, method, comp_ref, weights, weights, optional)
        if method.needs_domains:
            fit.domains = tuple(sorted({str(c.domain) for c in spec.components}))
            fit.domain_members = tuple(np.array([k for k, c in enumerate(spec.components) if c.domain == d])
                                       for d in fit.domains)
            fit.base_weights = np.array([spec.domain_weights.get(d, 0.0) for d in fit.domains], dtype=float)
        return fit

    def _components(self, spec: IndexSpec, values: Mapping[str, np.ndarray], ref_sorted: None = None) -> np.ndarray:
        cols = []
        for comp in spec.components:
            ind = self.definition.indicator(comp.indicator)
            key = f"{spec.name}:{comp.indicator}"
            x = np.asarray(values[comp.indicator], dtype=float)
            if spec.index_method.ranks_components:
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

    def _aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *, stats_from_ref: bool) -> np.ndarray:
        """Index values ``(n, D)`` for component matrix ``comps`` ``(n, k)`` and weights ``(D, k|domains)``."""
        return fit.method.aggregate(fit, comps, weights, stats_from_ref=stats_from_ref)

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
        if not fit.method.standardises_sum:
            return None
        sd = fit.sum_sd if fit.sum_sd > 0 else 1.0
        return comps * fit.within_weights[None, :] / sd

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score ``frame``: one column ``<index>_index`` per index plus the component columns."""
        comps = self.components(frame)
        out = {}
        for spec in self.definition.indices:
            out[spec.field] = self.index_values(spec.name, comps[spec.name])[:, 0]
            suffix = spec.index_method.component_suffix
            for k, comp in enumerate(spec.components):
                out[f"{comp.indicator}{suffix}"] = comps[spec.name][:, k]
        return pd.DataFrame(out, index=frame.index)
