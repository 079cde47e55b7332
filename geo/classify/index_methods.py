"""Index methods as a registry: one small class per method, each overriding one hook, :meth:`IndexMethod.aggregate`.

As in mapclassify (every classifier a subclass overriding ``_set_bins``), a method is a subclass of
:class:`IndexMethod` registered under its ``name``: the name a definition writes as ``indices.<name>.method``.
What else distinguishes the methods is data, declared as class attributes (which component scores they use,
the unit of the index, whether components may be optional, whether they need domains, ...), so the engine
asks the method instead of comparing names. A new method is one class::

    @register
    class Mean(IndexMethod):
        name = "mean"
        unit = "SD"

        def aggregate(self, fit, comps, weights, *, stats_from_ref):
            return comps @ weights.T / weights.sum(axis=1)

The definition schema (:mod:`geo.classify.schema`) accepts exactly the registered names and lists them when a
definition names another one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from geo.classify.scores import exponential_transform, percentile_rank, rank_fraction


@dataclass
class IndexFit:
    """What an index learnt from its reference areas (one per index of :class:`~geo.classify.methods.IndexModel`)."""

    name: str
    method: IndexMethod
    ref_components: np.ndarray  # (n_ref, k) oriented component scores of the reference areas
    base_weights: np.ndarray  # (k,) component weights, or (n_domains,) domain weights
    within_weights: np.ndarray  # (k,) component weights (within their domain where the method has domains)
    optional: np.ndarray  # (k,) bool: components an area may miss
    domains: tuple[str, ...] = ()
    domain_members: tuple[np.ndarray, ...] = ()  # per domain: positions of its components
    sum_mean: float = 0.0
    sum_sd: float = 1.0
    ref_index: np.ndarray | None = field(default=None)


class IndexMethod:
    """How an index is computed from its oriented component scores. Subclasses override :meth:`aggregate`."""

    #: the name in a definition (``method: zscore``)
    name: ClassVar[str] = ""
    #: unit of the index values
    unit: ClassVar[str] = "score"
    #: the component scores: oriented z-scores (``__z`` columns) or, with ``ranks_components``, percentile ranks
    #: among the reference areas (``__pr`` columns)
    ranks_components: ClassVar[bool] = False
    #: ``<indicator>__flag`` and ``<index>_flags``: component ranks at or above ``flag_percentile``
    flags: ClassVar[bool] = False
    #: components are grouped in domains (``domain`` required) with ``domain_weights``
    needs_domains: ClassVar[bool] = False
    #: components may be ``optional`` (an area missing one gets the index from the others)
    allows_optional: ClassVar[bool] = False
    #: the weighted sum is standardised again: its mean and SD are stored, contributions can be computed
    standardises_sum: ClassVar[bool] = False

    @property
    def component_suffix(self) -> str:
        """Suffix of the component columns: ``__pr`` for percentile ranks, ``__z`` for z-scores."""
        return "__pr" if self.ranks_components else "__z"

    def aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *,
                  stats_from_ref: bool) -> np.ndarray:
        """Index values ``(n, D)`` for component scores ``comps`` ``(n, k)`` and weight draws ``weights`` ``(D, .)``.

        ``stats_from_ref``: this call fits the index on its reference areas (a method may record statistics on
        ``fit``, as the z-score method does with the mean and SD of the weighted sum).
        """
        raise NotImplementedError


#: the registered methods, by name, in registration order
REGISTRY: dict[str, IndexMethod] = {}


def register(cls: type[IndexMethod]) -> type[IndexMethod]:
    """Class decorator: register an :class:`IndexMethod` subclass under its ``name``."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"index method {cls.name!r} has no name or is registered already")
    REGISTRY[cls.name] = cls()
    return cls


def method_names() -> tuple[str, ...]:
    """The names of the registered index methods."""
    return tuple(REGISTRY)


def get_method(name: str) -> IndexMethod:
    """The registered method ``name`` (definitions are validated against :func:`method_names` on load)."""
    return REGISTRY[name]


@register
class ZScore(IndexMethod):
    """Berlin/Hamburg: the weighted sum of oriented z-scores, standardised again over the reference areas."""

    name = "zscore"
    unit = "SD"
    allows_optional = True
    standardises_sum = True

    def aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *,
                  stats_from_ref: bool) -> np.ndarray:
        """The weighted z-score sum, standardised by its mean and SD over the reference areas."""
        ref = fit.ref_components
        s = comps @ weights.T
        optional = fit.optional
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
        return np.asarray(np.where(sd > 0, (s - mean) / safe, np.where(np.isnan(s), np.nan, 0.0)))


@register
class Percentile(IndexMethod):
    """US SVI: the weighted sum of percentile ranks, ranked again among the reference areas."""

    name = "percentile"
    unit = "rank"
    ranks_components = True
    flags = True

    def aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *,
                  stats_from_ref: bool) -> np.ndarray:
        """The percentile rank of the weighted sum among the reference areas' sums."""
        s = comps @ weights.T
        s_ref = fit.ref_components @ weights.T
        out = np.empty_like(s)
        for j in range(s.shape[1]):
            out[:, j] = percentile_rank(s_ref[:, j], s[:, j])
        return out


@register
class Exponential(IndexMethod):
    """English IMD: per domain the weighted z-score sum is ranked and transformed; domains are weighted."""

    name = "exponential"
    needs_domains = True

    def aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *,
                  stats_from_ref: bool) -> np.ndarray:
        """Per domain the weighted sum, ranked among the reference areas and transformed; the domains weighted."""
        total = np.zeros((comps.shape[0], weights.shape[0]))
        for d, members in enumerate(fit.domain_members):
            w = fit.within_weights[members]
            x = exponential_transform(rank_fraction(fit.ref_components[:, members] @ w, comps[:, members] @ w))
            total = total + x[:, None] * weights[None, :, d]
        return total
