"""The classification entry point: table + definition -> :class:`ClassificationResult`.

:func:`classify` takes any table with an id column and the indicator columns a definition names (a wide
table of a snapshot, or a plain CSV of another city). Rows given as ``extra_rows`` (e.g. a user-drawn area
estimated by areal interpolation) are scored against the reference distribution fitted on the table's areas
only: they never change the parameters, are not part of spatial rules or budgets, and are marked
``is_extra``.

:func:`score_rows` does the same for new rows *without* the table: it scores them with the
:class:`~geo.classify.result.ScoringModel` that :func:`classify` stores in its result (``result.model``), so a
single new area costs milliseconds instead of a whole classification, and gets exactly the indices, classes,
categories and reasons it would get as an extra row of :func:`classify`. Both share the per-row code below.

One classification (:func:`_classify_one`, per basis) runs in named steps:

1. :func:`_fit_indices`: the working table (:func:`_prepare`), which rows are classifiable
   (:func:`_classifiability`), the indices fitted on the classifiable rows and every row scored
   (:func:`_score_fields`), the SDs of every field for margins, the groups and the adjacency of spatial rules;
2. the categories' rules with spatial rules and caps (:func:`geo.classify.rules.evaluate_categories`);
3. :func:`_allocate_budget`; 4. :func:`_test_robustness` (Monte Carlo, only when asked for);
5. :func:`_assemble_table` (the output columns are listed in ``programmes/README.md``, "Output columns");
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
from geo.classify.definition import NUMERIC_OPS, Definition, load_definition
from geo.classify.designation_check import designation_check
from geo.classify.methods import EBParams, IndexModel, class_codes
from geo.classify.result import ClassificationResult, ScoringModel
from geo.classify.robustness import monte_carlo
from geo.classify.rules import (
    RuleContext,
    compare,
    evaluate_categories,
    near_misses,
    reasons_frame,
)
from geo.errors import DefinitionError, Problem, ValidationError
from geo.hotspots import queen_weights

NO_STATISTICS = "no district statistics published"


def policy_text(definition: Definition, *, notes: list[str] | None = None) -> str:
    """The written policy for ties, missing values and degenerate data, as applied with ``definition``."""
    lines = [
        f"Programme definition {definition.id} (version {definition.version}, sha256 {definition.hash[:12]}).",
        "Standardisation: unweighted mean and population standard deviation (ddof=0) over the reference "
        "areas, i.e. the classifiable areas of the table that have every indicator of the index.",
        f"Minimum population: areas with fewer than {definition.min_population:g} residents, or unknown "
        "population, are not classifiable and get no index, class or statistical category.",
        "Ties: class cut-offs are lower bounds; a value exactly at a cut-off belongs to the class above it. "
        "Rule thresholds use the operator written in the definition (>= includes the threshold). Values are "
        "compared with a tolerance of 1e-9 (relative) so floating-point noise cannot move an area across.",
        "Missing values: an area missing any indicator of an index gets no value for that index (no "
        "imputation) and is not used to fit it; a missing value never passes a rule condition.",
        "Degenerate data: an indicator without variance contributes 0; an index sum without variance is 0.",
        "Monotonicity: against fitted parameters every index moves with each indicator's direction; the "
        "rank methods stay monotone when refitted, but re-standardising a z-score sum (Berlin/Hamburg) can, "
        "in rare configurations, lower an area's index when its own value worsens (the SD of the sum grows).",
        "Percentile ranks: share of the other reference areas strictly below (PERCENTRANK.INC); tied values "
        "share the lower rank. Exponential transform: R = share of reference areas at or below, "
        "X = -23 ln(1 - R (1 - exp(-100/23))).",
        "Population cap: areas keep a capped category in decreasing order of need (ties: by id); the first "
        "area that does not fit and all after it lose it.",
        "Budget: weights = population^a x need, clipped to floor/cap, rounded to whole cents by the largest-"
        "remainder method (ties by id), so each group's amounts add up to its total to the cent.",
        "Extra rows (user-drawn areas) are scored with the parameters fitted on the table's areas; they are "
        "not part of spatial rules, caps or budgets.",
    ]
    right = [spec.name for spec in definition.indices if spec.closed == "right"]
    if right:
        lines.append("Ties in " + ", ".join(right) + " (closed: right): a value exactly at a cut-off belongs to the "
                     "class below it (the cut-offs are upper bounds of their classes).")
    optional = [f"{spec.name}: {c.indicator}" for spec in definition.indices for c in spec.components if c.optional]
    if optional:
        lines.append("Optional components (" + ", ".join(optional) + "): an area missing one gets the index from "
                     "its other components, their weighted sum scaled up to the full weight, when at least half "
                     "of the weight is present; the means and SDs are those of the complete reference areas, and "
                     "the missing indicator is named in missing_indicators.")
    for n in notes or []:
        lines.append(f"Note: {n}")
    return "\n".join(lines)


def _check_columns(table: pd.DataFrame, definition: Definition, what: str) -> None:
    problems = []
    computed = definition.computed_fields()
    optional = {c.field for c in definition.classifiable_when if c.optional}
    for col, path in definition.input_columns().items():
        if col not in table.columns:
            problems.append(
                Problem(
                    check="unknown_column",
                    message=f"{path}: column {col!r} is not in the {what} (it has: "
                    f"{', '.join(map(str, table.columns[:30]))}{'...' if len(table.columns) > 30 else ''})",
                    detail={"field": path, "column": col},
                )
            )
    for i, chk in enumerate(definition.classifiable_when):
        if chk.field not in table.columns and chk.field not in optional and chk.field not in computed:
            problems.append(
                Problem(
                    check="unknown_column",
                    message=f"classifiable_when[{i}].field: column {chk.field!r} is not in the {what}",
                    detail={"field": f"classifiable_when[{i}].field", "column": chk.field},
                )
            )
    extra_fields = []
    if definition.budget is not None:
        extra_fields.append(("budget.need_field", definition.budget.need_field))
    if definition.spatial.population_cap is not None:
        extra_fields.append(("spatial.population_cap.order_by", definition.spatial.population_cap.order_by))
    for path, fld in extra_fields:
        if fld not in computed and fld not in table.columns:
            problems.append(
                Problem(
                    check="unknown_column",
                    message=f"{path}: field {fld!r} is neither computed nor a column of the {what}",
                    detail={"field": path, "column": fld},
                )
            )
    if problems:
        raise DefinitionError(
            f"programme definition {definition.id} does not fit the {what}: {len(problems)} problem(s)",
            problems=problems,
        )


def _field_array(s: pd.Series) -> np.ndarray:
    if s.dtype.kind in "fiu":
        return s.to_numpy(dtype=float)
    if s.dtype.kind == "b":
        return s.to_numpy(dtype=bool)
    if s.dtype == object or str(s.dtype).startswith(("string", "str")):
        vals = s.to_numpy(dtype=object)
        if all(isinstance(v, bool | np.bool_) or v is None for v in vals[: min(len(vals), 50)]) and len(vals):
            return np.asarray([bool(v) if v is not None else False for v in vals])
        return vals
    return s.to_numpy()


def _prepare(table: pd.DataFrame, definition: Definition, extra_rows: pd.DataFrame | None) -> tuple[pd.DataFrame, Any]:
    idc = definition.id_column
    _check_columns(table, definition, "table")
    geometry = None
    if "geometry" in table.columns and hasattr(table, "geometry"):
        geometry = table
    base = pd.DataFrame(table.drop(columns=["geometry"], errors="ignore")).copy()
    base[idc] = base[idc].astype(str)
    problems = []
    dup = base[idc][base[idc].duplicated()].unique().tolist()
    if dup:
        problems.append(
            Problem(check="duplicate_key", message=f"{idc}: duplicate ids {dup[:10]}", detail={"field": idc})
        )
    if base[idc].isna().any() or (base[idc] == "").any():
        problems.append(Problem(check="missing_key", message=f"{idc}: empty ids", detail={"field": idc}))
    base["_extra"] = False
    if extra_rows is not None and len(extra_rows):
        _check_columns(extra_rows, definition, "extra rows")
        ex = pd.DataFrame(extra_rows.drop(columns=["geometry"], errors="ignore")).copy()
        ex[idc] = ex[idc].astype(str)
        clash = sorted(set(ex[idc]) & set(base[idc]))
        if clash:
            problems.append(
                Problem(
                    check="duplicate_key",
                    message=f"extra rows reuse ids of the table: {clash[:10]}",
                    detail={"field": idc},
                )
            )
        ex["_extra"] = True
        base = pd.concat([base, ex], ignore_index=True)
    if problems:
        raise ValidationError("the table cannot be classified", problems=problems)
    base = base.sort_values(idc, kind="stable").reset_index(drop=True)
    return base, geometry


def _adjacency(geometry: Any, ids: np.ndarray, id_column: str, contiguity: str) -> Any:
    """Sparse contiguity matrix aligned on ``ids`` (rows without geometry have no neighbours)."""
    from libpysal import weights
    from scipy import sparse

    gdf = geometry[[id_column, "geometry"]].copy()
    gdf[id_column] = gdf[id_column].astype(str)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    n = len(ids)
    if len(gdf) < 2:
        return sparse.csr_matrix((n, n))
    if contiguity == "queen":
        w = queen_weights(gdf)
    else:
        w = weights.Rook.from_dataframe(gdf, use_index=False, silence_warnings=True)
    pos = {k: i for i, k in enumerate(ids)}
    m = w.sparse.tocoo()
    gid = gdf[id_column].to_numpy()
    rows = np.array([pos[gid[i]] for i in m.row], dtype=np.int64)
    cols = np.array([pos[gid[j]] for j in m.col], dtype=np.int64)
    data = np.ones(rows.size)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def _classifiability(work: pd.DataFrame, defn: Definition,
                     notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``classifiable`` (bool), the reason when not (str) and the population (float) of every row."""
    n = len(work)
    classifiable = np.ones(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    for chk in defn.classifiable_when:
        if chk.field not in work.columns:
            notes.append(f"classifiability check on {chk.field!r} skipped: column not in the table")
            continue
        ok = compare(_field_array(work[chk.field]), chk.op, chk.value)
        fail = ~ok & classifiable
        reason[fail] = f"not classifiable: {chk.reason}"
        classifiable &= ok
    pop = pd.to_numeric(work[defn.population_column], errors="coerce").to_numpy(dtype=float)
    small = ~(pop >= defn.min_population)
    fail = small & classifiable
    reason[fail] = f"not classifiable: fewer than {defn.min_population:g} residents or population unknown"
    classifiable &= ~small
    return classifiable, reason, pop


@dataclass
class _Scored:
    """Per-row values of a scored working table (see :func:`_score_fields`)."""

    fields: dict[str, np.ndarray]
    index_vals: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    class_labels: dict[str, tuple[str, ...]]
    comps: dict[str, np.ndarray]
    missing: np.ndarray


def _score_fields(work: pd.DataFrame, defn: Definition, model: IndexModel, classifiable: np.ndarray) -> _Scored:
    """Indicator values, components, indices, class codes and every rule field of the rows of ``work``.

    Row-wise given the fitted ``model``: the same for a row whether it is scored with the whole table
    (:func:`classify`) or alone (:func:`score_rows`).
    """
    n = len(work)
    comps = model.components(work)
    fields: dict[str, np.ndarray] = {}
    for col in work.columns:
        if col.startswith("_"):
            continue
        fields[col] = _field_array(work[col])
    ind_vals = model.indicator_values(work)
    for ind_id, vals in ind_vals.items():
        fields[ind_id] = vals
    class_labels: dict[str, tuple[str, ...]] = {}
    index_vals: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    for spec in defn.indices:
        c = comps[spec.name]
        v = model.index_values(spec.name, c)[:, 0]
        v = np.where(classifiable, v, np.nan)
        index_vals[spec.field] = v
        codes[spec.class_field] = class_codes(v, spec.cutoffs, spec.closed)
        class_labels[spec.class_field] = spec.labels
        suffix = spec.index_method.component_suffix
        for k, comp in enumerate(spec.components):
            fields[f"{comp.indicator}{suffix}"] = c[:, k]
        if spec.index_method.flags:
            flags = c >= spec.flag_percentile - 1e-9
            for k, comp in enumerate(spec.components):
                fields[f"{comp.indicator}__flag"] = flags[:, k]
            fields[f"{spec.name}_flags"] = np.where(np.isnan(c), 0, flags).sum(axis=1).astype(float)
    fields.update(index_vals)
    fields.update(codes)
    used = list(dict.fromkeys(c.indicator for spec in defn.indices for c in spec.components))
    missing = np.full(n, "", dtype=object)
    for ind_id in used:
        gap = np.isnan(ind_vals[ind_id]) & classifiable
        missing[gap] = np.where(missing[gap] == "", ind_id, missing[gap] + ";" + ind_id)
    return _Scored(fields, index_vals, codes, class_labels, comps, missing)


def _units(defn: Definition) -> dict[str, str]:
    units = {ind.id: ind.unit for ind in defn.indicators} | {ind.column: ind.unit for ind in defn.indicators}
    for spec in defn.indices:
        units[spec.field] = spec.index_method.unit
    return units


def _assemble_table(work: pd.DataFrame, defn: Definition, *, ids: np.ndarray, groups: np.ndarray,
                    classifiable: np.ndarray, reason: np.ndarray, missing: np.ndarray,
                    index_vals: Mapping[str, np.ndarray], codes: Mapping[str, np.ndarray],
                    cats: Mapping[str, np.ndarray], stability: np.ndarray, borderline: np.ndarray,
                    budget_eur: np.ndarray, pop: np.ndarray, extra: np.ndarray) -> pd.DataFrame:
    """The result table (one row per area, see :class:`ClassificationResult`)."""
    n = len(ids)
    out: dict[str, Any] = {"key": ids}
    out["name"] = work[defn.name_column].astype(str).to_numpy(dtype=object) if defn.name_column in work.columns else ids
    out["city"] = groups
    out["classifiable"] = classifiable
    out["classifiable_reason"] = reason.astype(str)
    out["missing_indicators"] = missing.astype(str)
    for spec in defn.indices:
        out[spec.field] = index_vals[spec.field]
        lab = np.array([*spec.labels, ""], dtype=object)
        c = codes[spec.class_field]
        out[spec.class_field] = np.where(c < 0, "", lab[np.where(c < 0, len(spec.labels), c)]).astype(str)
    if defn.matrix is not None:
        r_, c_ = defn.matrix
        rows_lab = out[defn.index(r_).class_field]
        cols_lab = out[defn.index(c_).class_field]
        out["matrix_cell"] = np.where(
            (rows_lab != "") & (cols_lab != ""),
            np.char.add(np.char.add(rows_lab.astype(str), "/"), cols_lab.astype(str)),
            "",
        )
    cat_matrix = (
        np.column_stack([cats[cid] for cid in defn.category_ids]) if defn.categories else np.zeros((n, 0), bool)
    )
    cat_ids = np.array(defn.category_ids, dtype=object)
    out["categories"] = [list(cat_ids[row]) for row in cat_matrix]
    for cid in defn.category_ids:
        out[f"is_{cid}"] = cats[cid]
    out["stability"] = stability
    out["borderline"] = borderline
    out["budget_eur"] = budget_eur
    out["population"] = pop
    out["is_extra"] = extra
    out["basis"] = defn.basis.get("label", "")
    out["basis_confidence"] = defn.basis.get("confidence", "")
    table_out = pd.DataFrame(out)
    for col in ("key", "name", "city"):
        table_out[col] = table_out[col].astype(str)
    return table_out


def _margin_fields(defn: Definition) -> list[str]:
    """Fields read by numeric rule conditions (their SD over the reference areas gives margins in SD)."""
    out: list[str] = []
    for cat in defn.categories:
        for cond in (*cat.all, *cat.any):
            if not cond.is_category_ref and cond.field is not None and cond.op in NUMERIC_OPS:
                out.append(cond.field)
    return list(dict.fromkeys(out))


def _scoring_model(defn: Definition, model: IndexModel, sd_by_field: Mapping[str, float]) -> ScoringModel:
    """The fitted ``model`` written out as a :class:`ScoringModel` (see :func:`score_rows`)."""
    indices: dict[str, dict[str, Any]] = {}
    for spec in defn.indices:
        entry: dict[str, Any] = {"method": spec.method, "indicators": [c.indicator for c in spec.components],
                                 "weights": [float(w) for w in model.base_weights(spec.name)],
                                 "cutoffs": [float(c) for c in spec.cutoffs], "labels": list(spec.labels)}
        if spec.closed != "left":  # written only when it differs from the default (stored models stay as they were)
            entry["closed"] = spec.closed
        if spec.index_method.standardises_sum:
            fit = model._fits[spec.name]
            entry["sum_mean"], entry["sum_sd"] = float(fit.sum_mean), float(fit.sum_sd)
        indices[spec.name] = entry
    return ScoringModel(
        definition_hash=defn.hash,
        eb_params={i: {g: [p.m, p.s2, float(p.n_areas)] for g, p in groups.items()}
                   for i, groups in model.eb_params_.items()},
        indicator_mean=dict(model.indicator_mean_),
        indicator_sd=dict(model.indicator_sd_),
        reference_values={i: [None if np.isnan(v) else float(v) for v in vals.tolist()]
                          for i, vals in model._ref_values.items()},
        reference_size=dict(model.reference_size_),
        indices=indices,
        margin_sd={f: float(sd_by_field.get(f, np.nan)) for f in _margin_fields(defn)},
        notes=list(model.notes_),
    )


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
    """Fit the :class:`ScoringModel` of ``definition`` on ``table`` (what :func:`classify` stores as
    ``result.model``), without rules, reasons, budgets or robustness."""
    defn = definition if isinstance(definition, Definition) else load_definition(definition)
    if defn.bases and defn.group_column in table.columns:
        fitted = {}
        for g, mask in _basis_masks(table[defn.group_column], defn):
            sub = defn if g is None else defn.basis_for(g)
            fitted[g] = _fit_one(_with_basis_residents(table[mask], defn, sub), sub)
        own = {str(g): m for g, m in fitted.items() if g is not None}
        base = fitted.get(None) or _empty_model(defn)
        return replace(base, bases=own)
    return _fit_one(table, defn)


def _fit_one(table: pd.DataFrame, defn: Definition) -> ScoringModel:
    work, _ = _prepare(table, defn, None)
    notes: list[str] = []
    classifiable, _, _ = _classifiability(work, defn, notes)
    model = IndexModel(defn).fit(work, reference=classifiable)
    scored = _score_fields(work, defn, model, classifiable)
    sd_by_field: dict[str, float] = {}
    for name in _margin_fields(defn):
        arr = scored.fields.get(name)
        if arr is not None and arr.ndim == 1 and arr.dtype.kind == "f":
            sel = arr[classifiable]
            sel = sel[~np.isnan(sel)]
            sd_by_field[name] = float(sel.std(ddof=0)) if sel.size else float("nan")
    return _scoring_model(defn, model, sd_by_field)


@dataclass(frozen=True)
class Scorer:
    """A :class:`ScoringModel` made ready to score rows (build it once, e.g. when a service loads)."""

    definition: Definition
    model: ScoringModel
    index_model: IndexModel
    #: per group with its own basis, the scorer of that basis
    bases: Mapping[str, Scorer] | None = None

    def score(self, rows: pd.DataFrame) -> ClassificationResult:
        gcol = self.definition.group_column
        if not self.bases or gcol not in rows.columns or not len(rows):
            return _score(self, rows)
        parts, order = [], []
        for group, mask in _basis_masks(rows[gcol], self.definition):
            scorer = self if group is None else self.bases.get(group)
            if scorer is None:  # a group without a stored model: scored as not classifiable on its basis
                raise DefinitionError(f"the scoring model has no basis for group {group!r}; rebuild the snapshot",
                                      problems=[Problem(check="model", message=f"no basis for {group!r}")])
            parts.append(_score(scorer, _with_basis_residents(rows[mask], self.definition, scorer.definition)))
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
    _check_columns(rows, defn, "rows")
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
    classifiable, reason, pop = _classifiability(work, defn, notes)
    scored = _score_fields(work, defn, model, classifiable)
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
    table_out = _assemble_table(work, defn, ids=ids, groups=groups, classifiable=classifiable, reason=reason,
                                missing=scored.missing, index_vals=scored.index_vals, codes=scored.codes,
                                cats=cats, stability=np.full(n, np.nan), borderline=np.zeros(n, dtype=bool),
                                budget_eur=np.full(n, np.nan), pop=pop, extra=extra)
    reasons_df = reasons_frame(defn, ctx, outcome, ids=ids, sd_by_field=scorer.model.margin_sd, units=_units(defn))
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


def _basis_masks(groups: pd.Series, defn: Definition) -> list[tuple[str | None, np.ndarray]]:
    """``(group with its own basis | None for the programme's basis, row mask)``, non-empty ones only."""
    own = groups.astype(str).isin(set(defn.bases)).to_numpy()
    out: list[tuple[str | None, np.ndarray]] = [(None, ~own)]
    out += [(g, (groups.astype(str) == g).to_numpy()) for g in sorted(defn.bases)]
    return [(g, m) for g, m in out if m.any()]


def _with_basis_residents(rows: pd.DataFrame | None, defn: Definition, sub: Definition) -> pd.DataFrame | None:
    """``rows`` with the programme's population column read from the basis' one (the rules and budgets of a
    basis with its own residents read them under the programme's name)."""
    if rows is None or sub.population_column == defn.population_column or sub.population_column not in rows:
        return rows
    return rows.assign(**{defn.population_column: rows[sub.population_column]})


def _empty_model(defn: Definition) -> ScoringModel:
    """The model of a basis with no areas in the table (nothing fitted)."""
    return ScoringModel(definition_hash=defn.hash, eb_params={}, indicator_mean={}, indicator_sd={},
                        reference_values={}, reference_size={}, indices={}, margin_sd={})


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
    for group, mask in _basis_masks(table[gcol], defn):
        sub = defn.basis_for(group) if group is not None else defn
        extra = None
        if extra_rows is not None and extra_groups is not None:
            emask = dict(_basis_masks(extra_groups, defn)).get(group)
            extra = extra_rows[emask] if emask is not None else None
        part = _with_basis_residents(table[mask], defn, sub)
        extra = _with_basis_residents(extra, defn, sub)
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
        model = _empty_model(defn)
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
    scored: _Scored
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
    work, geometry = _prepare(table, defn, extra_rows)
    ids = work[defn.id_column].to_numpy(dtype=object).astype(str)
    extra = work["_extra"].to_numpy(dtype=bool)
    notes: list[str] = []
    classifiable, reason, pop = _classifiability(work, defn, notes)
    model = IndexModel(defn).fit(work, reference=classifiable & ~extra)
    notes.extend(model.notes_)
    scored = _score_fields(work, defn, model, classifiable)
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
        run.adjacency = _adjacency(geometry, ids, defn.id_column, defn.spatial.contiguity)
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
    reasons_df = (reasons_frame(defn, ctx, outcome, ids=run.ids, sd_by_field=run.sd_by_field, units=_units(defn))
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
    table_out = _assemble_table(run.work, defn, ids=run.ids, groups=run.groups, classifiable=run.classifiable,
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
        model=_scoring_model(defn, run.model, run.sd_by_field))
