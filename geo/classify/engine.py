"""The classification entry point: table + definition -> :class:`ClassificationResult`.

:func:`classify` takes any table with an id column and the indicator columns a definition names (a wide
table of a snapshot, or a plain CSV of another city). Rows given as ``extra_rows`` (e.g. a user-drawn area
estimated by areal interpolation) are scored against the reference distribution fitted on the table's areas
only: they never change the parameters, are not part of spatial rules or budgets, and are marked
``is_extra``.

:func:`score_rows` does the same for new rows *without* the table: it scores them with the
:class:`~geo.classify.result.ScoringModel` that :func:`classify` stores in its result (``result.model``), so a
single new area costs milliseconds instead of a whole classification, and gets exactly the indices, classes,
categories and reasons it would get as an extra row of :func:`classify` (it lives in
:mod:`geo.classify.scoring`; both share the per-row code of :mod:`geo.classify.rows`).

One classification (:func:`_classify_one`, per basis) runs in named steps:

1. :func:`_fit_indices`: the working table (:func:`~geo.classify.rows.prepare`), which rows are
   classifiable (:func:`~geo.classify.rows.classifiability`), the indices fitted on the classifiable rows and
   every row scored (:func:`~geo.classify.rows.score_fields`), the SDs of every field for margins, the groups
   and the adjacency of spatial rules;
2. the categories' rules with spatial rules and caps (:func:`geo.classify.rules.evaluate_categories`);
3. :func:`_allocate_budget`; 4. :func:`_test_robustness` (Monte Carlo, only when asked for);
5. :func:`~geo.classify.rows.assemble_table` (its columns: ``programmes/README.md``, "Output columns");
6. :func:`_explain`: reasons, near misses and the designation check.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from geo.classify.budget import split_budget
from geo.classify.definition import Definition, load_definition
from geo.classify.designation_check import designation_check
from geo.classify.methods import IndexModel
from geo.classify.result import ClassificationResult
from geo.classify.robustness import monte_carlo
from geo.classify.rows import (
    NO_STATISTICS,
    Scored,
    adjacency_matrix,
    assemble_table,
    basis_masks,
    classifiability,
    empty_model,
    policy_text,
    prepare,
    score_fields,
    scoring_model,
    units_of,
    with_basis_residents,
)
from geo.classify.rules import RuleContext, evaluate_categories, near_misses, reasons_frame
from geo.classify.scoring import Scorer, fit_scoring_model, make_scorer, restore_index_model, score_rows

__all__ = ["NO_STATISTICS", "Scorer", "classify", "designation_check", "fit_scoring_model", "make_scorer",
           "policy_text", "restore_index_model", "score_rows"]


def classify(
    table: pd.DataFrame,
    definition: Definition | Mapping[str, Any] | str | os.PathLike[str],
    *,
    extra_rows: pd.DataFrame | None = None,
    draws: int | None = None,
    seed: int | None = None,
    reasons: bool = True,
    meta: Mapping[str, Any] | None = None,
) -> ClassificationResult:
    """Classify every area of ``table`` with ``definition``.

    Parameters
    ----------
    table
        One row per area: the id column and every column the definition names. A GeoDataFrame (EPSG:25832)
        enables the spatial rules; a plain DataFrame skips them (stated in the policy).
    definition
        A :class:`Definition`, a parsed mapping, or the path of a YAML file.
    extra_rows
        Further areas (same columns) scored against the reference fitted on ``table`` only.
    draws, seed
        Override the definition's Monte Carlo draws and seed (``draws=0`` skips robustness).
    reasons
        Build the long reasons table (``False`` saves time on very large plain tables).
    meta
        Extra run information stored in the result (e.g. the snapshot version).

    Groups (cities) that the definition gives their own basis (``group_bases``) are classified separately with
    that basis' definition: their indices are fitted on their own areas with their own components; classes,
    rules and budgets are the programme's. The table says each area's ``basis`` and ``basis_confidence``.

    Returns
    -------
    ClassificationResult

    Raises
    ------
    DefinitionError
        The definition is invalid or names columns the table does not have (one problem per field).
    ValidationError
        Duplicate or empty ids.
    """
    defn = definition if isinstance(definition, Definition) else load_definition(definition)
    if not defn.bases or defn.group_column not in table.columns:
        return _classify_one(table, defn, extra_rows=extra_rows, draws=draws, seed=seed, reasons=reasons,
                             meta=meta)
    return _classify_by_basis(table, defn, extra_rows=extra_rows, draws=draws, seed=seed, reasons=reasons,
                              meta=meta)


def _classify_by_basis(table: pd.DataFrame, defn: Definition, *, extra_rows: pd.DataFrame | None,
                       draws: int | None, seed: int | None, reasons: bool,
                       meta: Mapping[str, Any] | None) -> ClassificationResult:
    """One classification per basis, merged (see :func:`classify`)."""
    t0 = time.perf_counter()
    gcol = defn.group_column
    parts: list[tuple[str | None, Definition, ClassificationResult]] = []
    extra_groups = None
    if extra_rows is not None and len(extra_rows):
        extra_groups = (extra_rows[gcol] if gcol in extra_rows.columns
                        else pd.Series("", index=extra_rows.index, dtype=object))
    for group, mask in basis_masks(table[gcol], defn):
        sub = defn.basis_for(group) if group is not None else defn
        extra = None
        if extra_rows is not None and extra_groups is not None:
            emask = dict(basis_masks(extra_groups, defn)).get(group)
            extra = extra_rows[emask] if emask is not None else None
        part = with_basis_residents(table[mask], defn, sub)
        extra = with_basis_residents(extra, defn, sub)
        res = _classify_one(part, sub, extra_rows=extra, draws=draws, seed=seed, reasons=reasons, meta=meta)
        parts.append((group, sub, res))
    return _merge_results(defn, parts, time.perf_counter() - t0)


def _merge_results(defn: Definition, parts: list[tuple[str | None, Definition, ClassificationResult]],
                   seconds: float) -> ClassificationResult:
    def cat(name: str) -> pd.DataFrame:
        frames = [getattr(r, name) for _, _, r in parts]
        frames = [f for f in frames if len(f)] or frames[:1]
        return pd.concat(frames, ignore_index=True)

    table = cat("table").sort_values("key", kind="stable").reset_index(drop=True)
    budget = pd.concat([r.budget[r.budget["group"].astype(str).isin(set(r.table["city"].astype(str)))]
                        for _, _, r in parts], ignore_index=True) if defn.budget is not None else parts[0][2].budget
    if defn.budget is not None:
        for g in sorted(set(map(str, defn.budget.totals)) - set(budget["group"].astype(str))):
            budget = pd.concat([budget, pd.DataFrame([{"group": g, "total_eur": float(defn.budget.totals[g]),
                                                       "allocated_eur": 0.0,
                                                       "unallocated_eur": float(defn.budget.totals[g]),
                                                       "n_areas": 0, "note": "no area of this group in the table"}])],
                               ignore_index=True)
    own_groups = {g for g, _, _ in parts if g is not None}
    notes: list[str] = []
    reference: dict[str, int] = {}
    for group, _sub, res in parts:
        prefix = f"{group}: " if group is not None else ""
        for note in res.meta.get("notes", []):
            if note.startswith("budget group ") and "has no area in the table" in note:
                continue
            notes.append(prefix + note)
        for k, v in res.meta.get("reference_size", {}).items():
            reference[f"{group}:{k}" if group is not None else k] = v
    basis_lines = [f"Bases: the indices of {', '.join(sorted(own_groups))} rest on their own components; every "
                   "other group on the programme's."]
    for group, sub, res in parts:
        comps = "; ".join(f"{spec.name} ({', '.join(c.indicator for c in spec.components)}; fitted on "
                          f"{res.meta.get('reference_size', {}).get(spec.name, 0)} areas)" for spec in sub.indices)
        label = sub.basis.get("label") or "the programme's indicators"
        basis_lines.append(f"Basis {group or 'default'} ({label}; confidence {sub.basis.get('confidence', '')}): "
                           f"{comps}.")
    first = parts[0][2]
    meta = dict(first.meta)
    meta.update({"notes": notes, "reference_size": reference, "seconds": round(seconds, 4),
                 "n_areas": int(sum(r.meta.get("n_areas", 0) for _, _, r in parts)),
                 "n_extra": int(sum(r.meta.get("n_extra", 0) for _, _, r in parts)),
                 "bases": {str(g or "default"): dict(sub.basis) for g, sub, _ in parts}})
    default_model = next((r.model for g, _, r in parts if g is None), None)
    models = {str(g): r.model for g, _, r in parts if g is not None and r.model is not None}
    model = default_model
    if model is None:  # no area on the programme's basis: fit nothing for it, keep the groups' models
        model = empty_model(defn)
    model = replace(model, bases=models)
    return ClassificationResult(
        table=table, reasons=cat("reasons"), near_misses=cat("near_misses"),
        designation_check=cat("designation_check"), budget=budget, robustness=cat("robustness"),
        policy=policy_text(defn, notes=notes) + "\n" + "\n".join(basis_lines),
        definition_id=defn.id, definition_hash=defn.hash, definition=dict(defn.raw), meta=meta, model=model)


@dataclass
class _Run:
    """One classification's working state, built step by step by :func:`_classify_one`."""

    work: pd.DataFrame
    ids: np.ndarray
    extra: np.ndarray
    classifiable: np.ndarray
    reason: np.ndarray
    pop: np.ndarray
    model: IndexModel
    scored: Scored
    sd_by_field: dict[str, float]
    groups: np.ndarray
    notes: list[str]
    adjacency: Any = None

    def context(self, idx_values: dict[str, np.ndarray], idx_codes: dict[str, np.ndarray], d: int) -> RuleContext:
        """The rule context with index values and class codes (of ``d`` draws) over the baseline fields."""
        f = dict(self.scored.fields)
        f.update(idx_values)
        f.update(idx_codes)
        return RuleContext(fields=f, class_labels=self.scored.class_labels, classifiable=self.classifiable,
                           extra=self.extra, population=self.pop, groups=self.groups, n_draws=d,
                           adjacency=self.adjacency)


def _fit_indices(table: pd.DataFrame, defn: Definition, extra_rows: pd.DataFrame | None) -> _Run:
    """Steps 1-3: the working table, which rows are classifiable, the indices fitted and every row scored."""
    work, geometry = prepare(table, defn, extra_rows)
    ids = work[defn.id_column].to_numpy(dtype=object).astype(str)
    extra = work["_extra"].to_numpy(dtype=bool)
    notes: list[str] = []
    classifiable, reason, pop = classifiability(work, defn, notes)
    model = IndexModel(defn).fit(work, reference=classifiable & ~extra)
    notes.extend(model.notes_)
    scored = score_fields(work, defn, model, classifiable)
    ref = classifiable & ~extra
    sd_by_field: dict[str, float] = {}
    for name, arr in scored.fields.items():
        if arr.ndim == 1 and arr.dtype.kind == "f":
            sel = arr[ref]
            sel = sel[~np.isnan(sel)]
            sd_by_field[name] = float(sel.std(ddof=0)) if sel.size else float("nan")
    groups = (work[defn.group_column].astype(str).to_numpy(dtype=object) if defn.group_column in work.columns
              else np.full(len(work), "all", dtype=object))
    run = _Run(work, ids, extra, classifiable, reason, pop, model, scored, sd_by_field, groups, notes)
    if geometry is not None and defn.spatial.enclave is not None:
        run.adjacency = adjacency_matrix(geometry, ids, defn.id_column, defn.spatial.contiguity)
    elif defn.spatial.enclave is not None:
        notes.append("enclave rule skipped: the table has no geometry")
    return run


def _allocate_budget(run: _Run, defn: Definition, cats: Mapping[str, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame]:
    """Step 5: each qualifying area's share of its group's budget (NaN elsewhere) and the groups' summary."""
    n = len(run.ids)
    if defn.budget is None:
        return np.full(n, np.nan), pd.DataFrame(columns=["group", "total_eur", "allocated_eur", "unallocated_eur",
                                                         "n_areas", "note"])
    b = defn.budget
    eligible = np.zeros(n, dtype=bool)
    for cid in b.categories:
        eligible |= cats[cid]
    eligible &= ~run.extra
    nf = np.asarray(run.scored.fields.get(b.need_field, np.full(n, np.nan)), dtype=float)
    need = np.where(np.isnan(nf), b.need_minimum, np.maximum(b.need_minimum, b.need_offset + nf))
    out = split_budget(ids=run.ids, groups=run.groups, eligible=eligible, population=run.pop, need=need,
                       totals=dict(b.totals), population_exponent=b.population_exponent, floor_eur=b.floor_eur,
                       cap_eur=b.cap_eur)
    for g in sorted(set(map(str, b.totals)) - set(map(str, run.groups))):
        run.notes.append(f"budget group {g!r} has no area in the table")
    return out


def _test_robustness(run: _Run, defn: Definition, cats: Mapping[str, np.ndarray], *, draws: int | None,
                     seed: int | None) -> tuple[pd.DataFrame, int, int]:
    """Step 6: the Monte Carlo test (when the definition or ``draws`` asks for it): the per-area frame, draws, seed."""
    rb = defn.robustness
    n_draws = rb.draws if draws is None else int(draws)
    mc_seed = rb.seed if seed is None else int(seed)
    if n_draws <= 0:
        run.notes.append("robustness not computed (0 draws)")
        return pd.DataFrame({"key": run.ids}), n_draws, mc_seed
    robust = monte_carlo(defn, run.model, run.scored.comps, run.context, ids=run.ids, classifiable=run.classifiable,
                         baseline_codes=run.scored.codes, baseline_categories=cats, sd_by_field=run.sd_by_field,
                         draws=n_draws, seed=mc_seed, concentration=rb.weight_concentration,
                         jitter_sd=rb.threshold_jitter_sd, stability_threshold=rb.stability_threshold,
                         jitter_fields=rb.jitter_fields)
    return robust, n_draws, mc_seed


def _explain(run: _Run, defn: Definition, ctx: RuleContext, outcome: Any, table_out: pd.DataFrame,
             reasons: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Step 8: the reasons of every rule, the near misses and the designation check."""
    reasons_df = (reasons_frame(defn, ctx, outcome, ids=run.ids, sd_by_field=run.sd_by_field, units=units_of(defn))
                  if reasons else pd.DataFrame())
    nm = (near_misses(reasons_df, defn, classifiable_keys=set(run.ids[run.classifiable]),
                      margin_sd=defn.near_miss_margin_sd)
          if reasons else pd.DataFrame(columns=["key", "category", "shortfall_sd", "failed_conditions"]))
    if len(nm):
        name_of = dict(zip(table_out["key"], table_out["name"], strict=True))
        nm.insert(1, "name", nm["key"].map(name_of).astype(str))
    dcheck = designation_check(run.work, table_out, reasons_df, defn, model=run.model, comps=run.scored.comps)
    return reasons_df, nm, dcheck


def _classify_one(table: pd.DataFrame, defn: Definition, *, extra_rows: pd.DataFrame | None, draws: int | None,
                  seed: int | None, reasons: bool, meta: Mapping[str, Any] | None) -> ClassificationResult:
    """One classification on one basis, in its named steps (see the module docstring)."""
    t0 = time.perf_counter()
    run = _fit_indices(table, defn, extra_rows)
    ctx = run.context({}, {}, 1)
    outcome = evaluate_categories(defn, ctx)  # step 4: the categories' rules, spatial rules and caps
    cats = {cid: m[:, 0] for cid, m in outcome.categories.items()}
    budget_eur, budget_summary = _allocate_budget(run, defn, cats)
    robust, n_draws, mc_seed = _test_robustness(run, defn, cats, draws=draws, seed=seed)
    n = len(run.ids)
    stability = robust["stability"].to_numpy(dtype=float) if n_draws > 0 else np.full(n, np.nan)
    borderline = robust["borderline"].to_numpy(dtype=bool) if n_draws > 0 else np.zeros(n, dtype=bool)
    table_out = assemble_table(run.work, defn, ids=run.ids, groups=run.groups, classifiable=run.classifiable,
                                reason=run.reason, missing=run.scored.missing, index_vals=run.scored.index_vals,
                                codes=run.scored.codes, cats=cats, stability=stability, borderline=borderline,
                                budget_eur=budget_eur, pop=run.pop, extra=run.extra)  # step 7
    reasons_df, nm, dcheck = _explain(run, defn, ctx, outcome, table_out, reasons)
    run_meta = {"draws": n_draws, "seed": mc_seed, "n_areas": int((~run.extra).sum()),
                "n_extra": int(run.extra.sum()), "reference_size": dict(run.model.reference_size_),
                "notes": run.notes, "seconds": round(time.perf_counter() - t0, 4), **dict(meta or {})}
    return ClassificationResult(
        table=table_out, reasons=reasons_df, near_misses=nm, designation_check=dcheck, budget=budget_summary,
        robustness=robust, policy=policy_text(defn, notes=run.notes), definition_id=defn.id,
        definition_hash=defn.hash, definition=dict(defn.raw), meta=run_meta,
        model=scoring_model(defn, run.model, run.sd_by_field))
