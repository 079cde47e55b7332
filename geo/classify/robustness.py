"""Robustness: Monte Carlo over index weights and thresholds.

Each draw perturbs (a) the weights of every index by a Dirichlet draw centred on the definition's weights
(``alpha = concentration x weight share``; larger concentration = smaller perturbation; the weight total is
kept) and (b) every class cut-off and the numeric rule thresholds on the index fields (or on the fields listed
in ``robustness.jitter_fields``) by a normal shift of ``threshold_jitter_sd`` x the standard deviation of the
field over the reference areas (cut-offs stay sorted). Policy thresholds such as a minimum population stay
fixed unless listed.
The data are not perturbed. Draws are fully vectorised: indices, classes and rules are computed for all draws
at once as ``(n_areas, n_draws)`` arrays, in chunks to bound memory. A seeded ``numpy.random.Generator``
makes every run reproducible.

Per area the result gives the probability of every class of every index and of every category, and the
*stability*: the share of draws in which the area gets the same class of the first index (the status index)
*and* exactly the same set of categories as in the main result. Areas below ``stability_threshold`` are
flagged borderline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from geo.classify.definition import NUMERIC_OPS, Definition
from geo.classify.methods import IndexModel, class_codes
from geo.classify.rules import RuleContext, condition_path, evaluate_categories


def dirichlet_weights(base: np.ndarray, draws: int, *, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """``(draws, k)`` weight draws with mean ``base`` and the same total; zero weights stay zero."""
    base = np.asarray(base, dtype=float)
    total = base.sum()
    out = np.zeros((draws, base.size))
    pos = base > 0
    if pos.sum() <= 1 or total <= 0:
        out[:] = base
        return out
    alpha = concentration * base[pos] / total
    out[:, pos] = rng.dirichlet(alpha, size=draws) * total
    return out


def _draw_indices(definition: Definition, model: IndexModel, comps: Mapping[str, np.ndarray],
                  classifiable: np.ndarray, sd_by_field: Mapping[str, float], d: int, *, rng: np.random.Generator,
                  concentration: float, jitter_sd: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``d`` draws of every index (Dirichlet weights) and its classes (jittered cut-offs): values and codes."""
    values: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    for spec in definition.indices:
        w = dirichlet_weights(model.base_weights(spec.name), d, concentration=concentration, rng=rng)
        v = model.index_values(spec.name, comps[spec.name], w)
        v = np.where(classifiable[:, None], v, np.nan)
        sd_idx = float(sd_by_field.get(spec.field, 1.0) or 1.0)
        cuts = np.asarray(spec.cutoffs)[None, :] + rng.normal(0.0, jitter_sd * sd_idx, (d, len(spec.cutoffs)))
        cuts = np.sort(cuts, axis=1)
        values[spec.field] = v
        codes[spec.class_field] = class_codes(v, cuts, spec.closed)
    return values, codes


def _threshold_shifts(definition: Definition, jittered: set[str], sd_by_field: Mapping[str, float], d: int, *,
                      rng: np.random.Generator, jitter_sd: float) -> dict[str, np.ndarray]:
    """``d`` random shifts of each numeric rule threshold on a jittered field (in SDs of the field)."""
    shifts: dict[str, np.ndarray] = {}
    for cat in definition.categories:
        for part in ("all", "any"):
            for k, cond in enumerate(getattr(cat, part)):
                if cond.is_category_ref or cond.op not in NUMERIC_OPS or cond.field not in jittered:
                    continue
                sd = sd_by_field.get(str(cond.field), np.nan)
                if np.isfinite(sd) and sd > 0:
                    shifts[condition_path(cat, part, k)] = rng.normal(0.0, jitter_sd * sd, d)
    return shifts


def monte_carlo(
    definition: Definition,
    model: IndexModel,
    comps: Mapping[str, np.ndarray],
    make_context: Callable[[dict[str, np.ndarray], dict[str, np.ndarray], int], RuleContext],
    *,
    ids: np.ndarray,
    classifiable: np.ndarray,
    baseline_codes: Mapping[str, np.ndarray],
    baseline_categories: Mapping[str, np.ndarray],
    sd_by_field: Mapping[str, float],
    draws: int,
    seed: int,
    concentration: float,
    jitter_sd: float,
    stability_threshold: float,
    jitter_fields: tuple[str, ...] | None = None,
    chunk: int = 250,
) -> pd.DataFrame:
    """Run ``draws`` perturbed classifications; return one row per area with probabilities and stability.

    ``make_context(index_values, class_codes, n_draws)`` builds the rule context for a chunk of draws.
    """
    rng = np.random.default_rng(seed)
    n = len(ids)
    class_counts = {spec.name: np.zeros((n, len(spec.labels))) for spec in definition.indices}
    cat_counts = {cid: np.zeros(n) for cid in definition.category_ids}
    same = np.zeros(n)
    done = 0
    jittered = set(jitter_fields) if jitter_fields is not None else {spec.field for spec in definition.indices}
    first = definition.indices[0].class_field if definition.indices else None
    while done < draws:
        d = min(chunk, draws - done)
        values, codes = _draw_indices(definition, model, comps, classifiable, sd_by_field, d, rng=rng,
                                      concentration=concentration, jitter_sd=jitter_sd)
        ctx = make_context(values, codes, d)
        ctx.threshold_shift = _threshold_shifts(definition, jittered, sd_by_field, d, rng=rng, jitter_sd=jitter_sd)
        outcome = evaluate_categories(definition, ctx)
        eq = np.ones((n, d), dtype=bool)
        for spec in definition.indices:
            c = codes[spec.class_field]
            for j in range(len(spec.labels)):
                class_counts[spec.name][:, j] += (c == j).sum(axis=1)
            if spec.class_field == first:
                eq &= c == baseline_codes[spec.class_field][:, None]
        for cid in definition.category_ids:
            m = outcome.categories[cid]
            cat_counts[cid] += m.sum(axis=1)
            eq &= m == baseline_categories[cid][:, None]
        same += eq.sum(axis=1)
        done += d
    data: dict[str, object] = {"key": ids}
    total = max(draws, 1)
    for spec in definition.indices:
        for j, label in enumerate(spec.labels):
            data[f"p_{spec.name}_{label}"] = class_counts[spec.name][:, j] / total
    for cid in definition.category_ids:
        data[f"p_{cid}"] = cat_counts[cid] / total
    stability = np.where(classifiable, same / total, np.nan)
    data["stability"] = stability
    data["borderline"] = classifiable & (stability < stability_threshold)
    out = pd.DataFrame(data)
    out["key"] = out["key"].astype(str)
    return out
