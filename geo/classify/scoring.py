"""Scoring new rows with a stored model, without the table: :func:`score_rows` and its :class:`Scorer`.

:func:`score_rows` scores rows with the :class:`~geo.classify.result.ScoringModel` that
:func:`~geo.classify.engine.classify` stores in its result (``result.model``), so a single new area costs
milliseconds instead of a whole classification, and gets exactly the indices, classes, categories and reasons
it would get as an extra row of :func:`~geo.classify.engine.classify` (both use :mod:`geo.classify.rows`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from geo.classify.definition import Definition, load_definition
from geo.classify.methods import EBParams, IndexModel
from geo.classify.result import ClassificationResult, ScoringModel
from geo.classify.rows import (
    assemble_table,
    basis_masks,
    check_columns,
    classifiability,
    empty_model,
    margin_fields,
    policy_text,
    prepare,
    score_fields,
    scoring_model,
    units_of,
    with_basis_residents,
)
from geo.classify.rules import (
    RuleContext,
    evaluate_categories,
    reasons_frame,
)
from geo.errors import DefinitionError, Problem, ValidationError


def restore_index_model(stored: ScoringModel, definition: Definition) -> IndexModel:
    """An :class:`IndexModel` with the parameters of ``stored``, as :meth:`IndexModel.fit` left them.

    Nothing is refitted: the means, SDs and priors are taken as stored; the reference components are rebuilt
    from the stored reference values with them. Raises :class:`DefinitionError` when ``stored`` was fitted
    with another definition, :class:`ValidationError` when the rebuilt weighted sums disagree with the
    stored ones (a damaged model).
    """
    if stored.definition_hash != definition.hash:
        raise DefinitionError(
            f"the scoring model was fitted with definition {stored.definition_hash[:12]}, not "
            f"{definition.id} ({definition.hash[:12]})",
            problems=[Problem(check="definition_hash", message="the model belongs to another definition")],
        )
    m = IndexModel(definition)
    m.eb_params_ = {i: {g: EBParams(float(p[0]), float(p[1]), int(p[2])) for g, p in groups.items()}
                    for i, groups in stored.eb_params.items()}
    m.indicator_mean_ = dict(stored.indicator_mean)
    m.indicator_sd_ = dict(stored.indicator_sd)
    m.reference_size_ = dict(stored.reference_size)
    m.notes_ = list(stored.notes)
    m._ref_values = {i: np.array([np.nan if v is None else v for v in vals], dtype=float)
                     for i, vals in stored.reference_values.items()}
    m._fits = {}
    for spec in definition.indices:
        ids = [c.indicator for c in spec.components]
        n_ref = len(next(iter(m._ref_values.values()))) if m._ref_values else 0
        mat = np.column_stack([m._ref_values[i] for i in ids]) if ids else np.empty((n_ref, 0))
        complete = ~np.isnan(mat).any(axis=1)
        comp_ref = m._components(spec, {i: m._ref_values[i][complete] for i in ids})
        fit = m._make_fit(spec, comp_ref)
        m._fits[spec.name] = fit
        fit.ref_index = m._aggregate(fit, comp_ref, fit.base_weights[None, :], stats_from_ref=True)[:, 0]
        want = stored.indices.get(spec.name, {})
        if spec.index_method.standardises_sum and "sum_sd" in want:
            got = (fit.sum_mean, fit.sum_sd)
            stored_sum = tuple(np.nan if want[k] is None else float(want[k]) for k in ("sum_mean", "sum_sd"))
            if not np.allclose(got, stored_sum, rtol=1e-12, atol=1e-12, equal_nan=True):
                raise ValidationError(
                    f"the stored scoring model is inconsistent: index {spec.name} sum mean/SD {got} != "
                    f"({want['sum_mean']}, {want['sum_sd']})",
                    problems=[Problem(check="model", message=f"index {spec.name}: weighted sum disagrees")],
                )
    return m


def fit_scoring_model(table: pd.DataFrame, definition: Definition | Mapping[str, Any] | str | os.PathLike[str]
                      ) -> ScoringModel:
    """Fit the :class:`ScoringModel` of ``definition`` on ``table``: what :func:`classify` stores as ``result.model``.

    Only the indices are fitted: no rules, reasons, budgets or robustness.
    """
    defn = definition if isinstance(definition, Definition) else load_definition(definition)
    if defn.bases and defn.group_column in table.columns:
        fitted = {}
        for g, mask in basis_masks(table[defn.group_column], defn):
            sub = defn if g is None else defn.basis_for(g)
            fitted[g] = _fit_one(with_basis_residents(table[mask], defn, sub), sub)
        own = {str(g): m for g, m in fitted.items() if g is not None}
        base = fitted.get(None) or empty_model(defn)
        return replace(base, bases=own)
    return _fit_one(table, defn)


def _fit_one(table: pd.DataFrame, defn: Definition) -> ScoringModel:
    work, _ = prepare(table, defn, None)
    notes: list[str] = []
    classifiable, _, _ = classifiability(work, defn, notes)
    model = IndexModel(defn).fit(work, reference=classifiable)
    scored = score_fields(work, defn, model, classifiable)
    sd_by_field: dict[str, float] = {}
    for name in margin_fields(defn):
        arr = scored.fields.get(name)
        if arr is not None and arr.ndim == 1 and arr.dtype.kind == "f":
            sel = arr[classifiable]
            sel = sel[~np.isnan(sel)]
            sd_by_field[name] = float(sel.std(ddof=0)) if sel.size else float("nan")
    return scoring_model(defn, model, sd_by_field)


@dataclass(frozen=True)
class Scorer:
    """A :class:`ScoringModel` made ready to score rows (build it once, e.g. when a service loads)."""

    definition: Definition
    model: ScoringModel
    index_model: IndexModel
    #: per group with its own basis, the scorer of that basis
    bases: Mapping[str, Scorer] | None = None

    def score(self, rows: pd.DataFrame) -> ClassificationResult:
        """Score ``rows``, each group with its own basis' scorer (see :func:`score_rows`)."""
        gcol = self.definition.group_column
        if not self.bases or gcol not in rows.columns or not len(rows):
            return _score(self, rows)
        parts, order = [], []
        for group, mask in basis_masks(rows[gcol], self.definition):
            scorer = self if group is None else self.bases.get(group)
            if scorer is None:  # a group without a stored model: scored as not classifiable on its basis
                raise DefinitionError(f"the scoring model has no basis for group {group!r}; rebuild the snapshot",
                                      problems=[Problem(check="model", message=f"no basis for {group!r}")])
            parts.append(_score(scorer, with_basis_residents(rows[mask], self.definition, scorer.definition)))
            order.append(np.flatnonzero(mask))
        pos = np.argsort(np.concatenate(order), kind="stable")
        first = parts[0]
        table = pd.concat([p.table for p in parts], ignore_index=True).iloc[pos].reset_index(drop=True)
        reasons = pd.concat([p.reasons for p in parts], ignore_index=True)
        return replace(first, table=table, reasons=reasons, model=self.model, definition_id=self.definition.id,
                       definition_hash=self.definition.hash, definition=dict(self.definition.raw))


def make_scorer(model: ScoringModel, definition: Definition) -> Scorer:
    """Restore ``model`` for ``definition`` once (see :func:`restore_index_model`)."""
    bases = {g: make_scorer(m, definition.basis_for(g)) for g, m in model.bases.items()
             if g in definition.bases}
    if model.indices or not definition.indices:
        index_model = restore_index_model(model, definition)
    else:  # only groups with their own basis were fitted
        index_model = IndexModel(definition)
    return Scorer(definition=definition, model=model, index_model=index_model, bases=bases or None)


def score_rows(model: ScoringModel | Scorer, rows: pd.DataFrame,
               definition: Definition | Mapping[str, Any] | str | os.PathLike[str] | None = None
               ) -> ClassificationResult:
    """Score new ``rows`` with a stored model, without refitting the classification.

    Every row gets what :func:`classify` would give it as one of its ``extra_rows`` with the table the model
    was fitted on: indices, classes, matrix cell, categories, the reasons table (margins in the reference
    areas' SD) and ``classifiable``/``missing_indicators``. Like extra rows, the rows are not part of spatial
    rules, population caps or budgets (``budget_eur`` is NaN), and robustness is not computed (``stability``
    NaN). An existing area's own row gets the index and class it has in the full classification.

    Parameters
    ----------
    model
        ``result.model`` of a :func:`classify` result (or :func:`fit_scoring_model`), or a prepared
        :class:`Scorer` (then ``definition`` may be omitted).
    rows
        One row per new area with the columns the definition needs (ids need not be new).
    definition
        The definition the model was fitted with.

    Returns
    -------
    ClassificationResult
        ``table`` and ``reasons`` of the rows (in their order, ``is_extra`` True); the other frames empty.
    """
    if isinstance(model, Scorer):
        return model.score(rows)
    if definition is None:
        raise DefinitionError("score_rows needs the definition the model was fitted with",
                              problems=[Problem(check="definition", message="no definition given")])
    defn = definition if isinstance(definition, Definition) else load_definition(definition)
    return make_scorer(model, defn).score(rows)


def _score(scorer: Scorer, rows: pd.DataFrame) -> ClassificationResult:
    t0 = time.perf_counter()
    defn, model = scorer.definition, scorer.index_model
    check_columns(rows, defn, "rows")
    idc = defn.id_column
    # only the columns the definition reads (a wide row has hundreds; each would become a rule field)
    read = [*defn.input_columns(), defn.name_column, defn.group_column,
            *(c.field for c in defn.classifiable_when),
            *(i.shrinkage.group_by for i in defn.indicators if i.shrinkage is not None and i.shrinkage.group_by)]
    keep = [c for c in dict.fromkeys(read) if c in rows.columns]
    work = pd.DataFrame(rows[keep]).reset_index(drop=True)
    work[idc] = work[idc].astype(str)
    ids = work[idc].to_numpy(dtype=object).astype(str)
    n = len(work)
    notes: list[str] = []
    classifiable, reason, pop = classifiability(work, defn, notes)
    scored = score_fields(work, defn, model, classifiable)
    groups = (
        work[defn.group_column].astype(str).to_numpy(dtype=object)
        if defn.group_column in work.columns
        else np.full(n, "all", dtype=object)
    )
    extra = np.ones(n, dtype=bool)
    f = dict(scored.fields)
    ctx = RuleContext(fields=f, class_labels=scored.class_labels, classifiable=classifiable, extra=extra,
                      population=pop, groups=groups, n_draws=1, adjacency=None)
    outcome = evaluate_categories(defn, ctx)  # extra rows: no enclave (no adjacency), never capped
    cats = {cid: m[:, 0] for cid, m in outcome.categories.items()}
    table_out = assemble_table(work, defn, ids=ids, groups=groups, classifiable=classifiable, reason=reason,
                                missing=scored.missing, index_vals=scored.index_vals, codes=scored.codes,
                                cats=cats, stability=np.full(n, np.nan), borderline=np.zeros(n, dtype=bool),
                                budget_eur=np.full(n, np.nan), pop=pop, extra=extra)
    reasons_df = reasons_frame(defn, ctx, outcome, ids=ids, sd_by_field=scorer.model.margin_sd, units=units_of(defn))
    notes.append("scored with the stored model; robustness not computed (0 draws)")
    empty = {
        "near_misses": pd.DataFrame(columns=["key", "name", "category", "shortfall_sd", "failed_conditions"]),
        "designation_check": pd.DataFrame(columns=["key", "name", "city", "designated", "designation_programmes",
                                                   "designation_confidence", "indicated", "indicated_categories",
                                                   "status_index", "verdict", "driver"]),
        "budget": pd.DataFrame(columns=["group", "total_eur", "allocated_eur", "unallocated_eur", "n_areas", "note"]),
        "robustness": pd.DataFrame({"key": ids}),
    }
    return ClassificationResult(
        table=table_out,
        reasons=reasons_df,
        policy=policy_text(defn, notes=notes),
        definition_id=defn.id,
        definition_hash=defn.hash,
        definition=dict(defn.raw),
        meta={"draws": 0, "n_areas": 0, "n_extra": n, "reference_size": dict(scorer.model.reference_size),
              "notes": notes, "seconds": round(time.perf_counter() - t0, 4)},
        model=scorer.model,
        **empty,
    )
