"""The per-row code shared by :func:`~geo.classify.engine.classify` and :func:`~geo.classify.scoring.score_rows`.

The working table, classifiability, scores and classes, the result table (its columns: ``programmes/README.md``,
"Output columns"), the stored scoring model and the policy text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.analysis.hotspots import queen_weights
from geo.classify.definition import NUMERIC_OPS, Definition
from geo.classify.methods import IndexModel, class_codes
from geo.classify.result import ScoringModel
from geo.classify.rules import (
    compare,
)
from geo.errors import DefinitionError, Problem, ValidationError

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


def check_columns(table: pd.DataFrame, definition: Definition, what: str) -> None:
    """Raise :class:`DefinitionError` naming every column ``definition`` reads that ``table`` (``what``) lacks."""
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


def field_array(s: pd.Series) -> np.ndarray:
    """A column as the array rules compare: float for numbers, bool for booleans (also in object columns)."""
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


def prepare(table: pd.DataFrame, definition: Definition, extra_rows: pd.DataFrame | None) -> tuple[pd.DataFrame, Any]:
    """The working table and the geometry (the input table, or None when it has none).

    The working table is ``table`` and ``extra_rows`` (marked in ``_extra``) without geometry, ids as text,
    sorted by id. Raises :class:`DefinitionError` for missing columns and :class:`ValidationError` for
    duplicate or empty ids.
    """
    idc = definition.id_column
    check_columns(table, definition, "table")
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
        check_columns(extra_rows, definition, "extra rows")
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


def adjacency_matrix(geometry: Any, ids: np.ndarray, id_column: str, contiguity: str) -> Any:
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


def reason_code(code: str, **params: Any) -> str:
    """Why a row is not classifiable, as a message code with its figures in JSON text.

    ``{"code": "too_few_residents", "min": 300}`` or ``{"code": "check_failed", "field": "has_statistics",
    "reason": "<the definition's own words>"}``; text so that every table format (CSV, GeoPackage, Parquet)
    carries it. :func:`maps.i18n.reason_message` reads it back, :func:`maps.i18n.reason_text` words it.
    """
    return json.dumps({"code": code, **params}, ensure_ascii=False, sort_keys=True)


def classifiability(work: pd.DataFrame, defn: Definition,
                     notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``classifiable`` (bool), the reason code when not (:func:`reason_code`) and the population of every row."""
    n = len(work)
    classifiable = np.ones(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    for chk in defn.classifiable_when:
        if chk.field not in work.columns:
            notes.append(f"classifiability check on {chk.field!r} skipped: column not in the table")
            continue
        ok = compare(field_array(work[chk.field]), chk.op, chk.value)
        fail = ~ok & classifiable
        reason[fail] = reason_code("check_failed", field=chk.field, reason=chk.reason)
        classifiable &= ok
    pop = pd.to_numeric(work[defn.population_column], errors="coerce").to_numpy(dtype=float)
    small = ~(pop >= defn.min_population)
    fail = small & classifiable
    reason[fail] = reason_code("too_few_residents", min=defn.min_population)
    classifiable &= ~small
    return classifiable, reason, pop


@dataclass
class Scored:
    """Per-row values of a scored working table (see :func:`score_fields`)."""

    fields: dict[str, np.ndarray]
    index_vals: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    class_labels: dict[str, tuple[str, ...]]
    comps: dict[str, np.ndarray]
    missing: np.ndarray


def score_fields(work: pd.DataFrame, defn: Definition, model: IndexModel, classifiable: np.ndarray) -> Scored:
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
        fields[col] = field_array(work[col])
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
    return Scored(fields, index_vals, codes, class_labels, comps, missing)


def units_of(defn: Definition) -> dict[str, str]:
    """The unit of every indicator (by id and by column) and of every index field."""
    units = {ind.id: ind.unit for ind in defn.indicators} | {ind.column: ind.unit for ind in defn.indicators}
    for spec in defn.indices:
        units[spec.field] = spec.index_method.unit
    return units


def assemble_table(work: pd.DataFrame, defn: Definition, *, ids: np.ndarray, groups: np.ndarray,
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


def margin_fields(defn: Definition) -> list[str]:
    """Fields read by numeric rule conditions (their SD over the reference areas gives margins in SD)."""
    out: list[str] = []
    for cat in defn.categories:
        for cond in (*cat.all, *cat.any):
            if not cond.is_category_ref and cond.field is not None and cond.op in NUMERIC_OPS:
                out.append(cond.field)
    return list(dict.fromkeys(out))


def scoring_model(defn: Definition, model: IndexModel, sd_by_field: Mapping[str, float]) -> ScoringModel:
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
        margin_sd={f: float(sd_by_field.get(f, np.nan)) for f in margin_fields(defn)},
        notes=list(model.notes_),
    )


def basis_masks(groups: pd.Series, defn: Definition) -> list[tuple[str | None, np.ndarray]]:
    """``(group with its own basis | None for the programme's basis, row mask)``, non-empty ones only."""
    own = groups.astype(str).isin(set(defn.bases)).to_numpy()
    out: list[tuple[str | None, np.ndarray]] = [(None, ~own)]
    out += [(g, (groups.astype(str) == g).to_numpy()) for g in sorted(defn.bases)]
    return [(g, m) for g, m in out if m.any()]


def with_basis_residents(rows: pd.DataFrame | None, defn: Definition, sub: Definition) -> pd.DataFrame | None:
    """``rows`` with the programme's population column read from the basis' one.

    The rules and budgets of a basis with its own residents read them under the programme's name.
    """
    if rows is None or sub.population_column == defn.population_column or sub.population_column not in rows:
        return rows
    return rows.assign(**{defn.population_column: rows[sub.population_column]})


def empty_model(defn: Definition) -> ScoringModel:
    """The model of a basis with no areas in the table (nothing fitted)."""
    return ScoringModel(definition_hash=defn.hash, eb_params={}, indicator_mean={}, indicator_sd={},
                        reference_values={}, reference_size={}, indices={}, margin_sd={})
