"""Category rules, reasons, margins, near misses and spatial rules.

Rules are evaluated on arrays of shape ``(n_areas, n_draws)`` so that the same code serves the main
classification (one draw) and the Monte Carlo robustness analysis (many draws, see
:mod:`geo.classify.robustness`). Categories are evaluated in the order of the definition; a rule may refer to
earlier categories. Spatial rules are applied right after the category they concern: the enclave rule first
(an area completely surrounded by qualifying areas qualifies too), then the population cap (areas keep the
category in order of need until the share of the group's population is reached; the first area that no
longer fits and every area after it lose it).

Policy: a missing value never passes a condition (its margin is missing too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.classify.definition import NUMERIC_OPS, Category, Condition, Definition
from geo.classify.methods import EPS


@dataclass
class RuleContext:
    """Everything rule evaluation needs, as arrays aligned on the rows of the working table.

    ``fields`` maps a field name to an array of shape ``(n,)`` (same in every draw) or ``(n, D)``.
    Class fields hold integer codes (-1 = no class); ``class_labels`` maps them to labels.
    ``threshold_shift`` maps a condition path (``"win.all.0"``) to ``(D,)`` additive shifts.
    """

    fields: dict[str, np.ndarray]
    class_labels: Mapping[str, tuple[str, ...]]
    classifiable: np.ndarray
    extra: np.ndarray
    population: np.ndarray
    groups: np.ndarray
    n_draws: int = 1
    adjacency: Any = None  # scipy.sparse matrix (n x n) or None
    threshold_shift: Mapping[str, np.ndarray] = field(default_factory=dict)


def _as2d(a: np.ndarray, d: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 1:
        return np.broadcast_to(a[:, None], (a.shape[0], d))
    return a


def _field_values(cond: Condition, ctx: RuleContext) -> np.ndarray:
    assert cond.field is not None
    return ctx.fields[cond.field]


def _encode_value(cond: Condition, ctx: RuleContext) -> Any:
    if cond.field is not None and cond.field in ctx.class_labels:
        labels = ctx.class_labels[cond.field]
        if isinstance(cond.value, tuple):
            return tuple(labels.index(v) for v in cond.value)
        return labels.index(cond.value)
    return cond.value


def compare(values: np.ndarray, op: str, threshold: Any) -> np.ndarray:
    """Apply ``values op threshold`` with the tie tolerance; missing values never pass."""
    if op in NUMERIC_OPS:
        x = np.asarray(values, dtype=float)
        t = np.asarray(threshold, dtype=float)
        tol = EPS * np.maximum(1.0, np.abs(t))
        with np.errstate(invalid="ignore"):
            if op == ">=":
                res = x >= t - tol
            elif op == ">":
                res = x > t + tol
            elif op == "<=":
                res = x <= t + tol
            else:
                res = x < t - tol
        return np.asarray(res & ~np.isnan(x))
    arr = np.asarray(values)
    missing = pd.isna(arr) if arr.dtype == object else (arr == -1 if arr.dtype.kind == "i" else pd.isna(arr))
    if op in ("in", "not_in"):
        hit = np.isin(arr, np.asarray(list(threshold), dtype=arr.dtype if arr.dtype.kind in "ib" else object))
        res = hit if op == "in" else ~hit
    elif op == "==":
        res = arr == threshold
    else:
        res = arr != threshold
    return np.asarray(res & ~np.asarray(missing, dtype=bool))


def margin(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Signed margin: positive on the passing side, in the field's unit; NaN for non-numeric operators."""
    x = np.asarray(values, dtype=float)
    if op in (">=", ">"):
        return x - threshold
    if op in ("<=", "<"):
        return threshold - x
    return np.full(x.shape, np.nan)


def condition_path(cat: Category, part: str, k: int) -> str:
    """The id of condition ``k`` of ``cat``'s ``part`` (``all`` or ``any``), e.g. ``win.all.0``."""
    return f"{cat.id}.{part}.{k}"


def evaluate_condition(cond: Condition, path: str, ctx: RuleContext, cats: Mapping[str, np.ndarray]) -> np.ndarray:
    """Boolean ``(n, D)`` of one condition."""
    d = ctx.n_draws
    if cond.is_category_ref:
        hit = np.zeros((len(ctx.classifiable), d), dtype=bool)
        for cid in cond.categories:
            hit = hit | cats[cid]
        return hit if cond.is_ else ~hit
    values = _as2d(_field_values(cond, ctx), d)
    threshold: Any = _encode_value(cond, ctx)
    if cond.op in NUMERIC_OPS and path in ctx.threshold_shift:
        threshold = float(threshold) + np.asarray(ctx.threshold_shift[path])[None, :]
    assert cond.op is not None
    return compare(values, cond.op, threshold)


def evaluate_rule(cat: Category, ctx: RuleContext, cats: Mapping[str, np.ndarray]) -> np.ndarray:
    """Boolean ``(n, D)``: all ``all`` conditions and (if any are given) at least one ``any`` condition."""
    n, d = len(ctx.classifiable), ctx.n_draws
    ok = np.ones((n, d), dtype=bool)
    for k, cond in enumerate(cat.all):
        ok &= evaluate_condition(cond, condition_path(cat, "all", k), ctx, cats)
    if cat.any:
        anyok = np.zeros((n, d), dtype=bool)
        for k, cond in enumerate(cat.any):
            anyok |= evaluate_condition(cond, condition_path(cat, "any", k), ctx, cats)
        ok &= anyok
    if cat.statistical:
        ok &= ctx.classifiable[:, None]
    return ok


def enclave_gain(qualifies: np.ndarray, ctx: RuleContext, *, min_neighbours: int) -> np.ndarray:
    """Areas not qualifying whose neighbours (at least ``min_neighbours``) all qualify. ``(n, D)`` bool."""
    if ctx.adjacency is None:
        return np.zeros_like(qualifies)
    adj = ctx.adjacency
    deg = np.asarray(adj.sum(axis=1)).ravel()
    count = np.asarray(adj @ qualifies.astype(np.int64))
    return (~qualifies) & (count == deg[:, None]) & (deg[:, None] >= min_neighbours) & ctx.classifiable[:, None]


def population_cap_keep(qualifies: np.ndarray, need: np.ndarray, ctx: RuleContext, *, share: float) -> np.ndarray:
    """Which qualifying areas keep the category under a population cap (per group, in order of need).

    Areas are taken in decreasing ``need`` (ties: table order, which the engine sorts by id); the first area
    whose population no longer fits under ``share`` x group population, and every later one, lose it.
    Extra rows (user areas) are neither counted nor capped.
    """
    d = qualifies.shape[1]
    keep = qualifies.copy()
    pop = np.nan_to_num(np.asarray(ctx.population, dtype=float), nan=0.0)
    need2 = _as2d(np.asarray(need, dtype=float), d)
    for g in pd.unique(ctx.groups[~ctx.extra]):
        idx = np.where((ctx.groups == g) & ~ctx.extra)[0]
        if idx.size == 0:
            continue
        limit = share * pop[idx].sum()
        key = np.where(np.isnan(need2[idx]), -np.inf, need2[idx])
        order = np.argsort(-key, axis=0, kind="stable")
        q_sorted = np.take_along_axis(qualifies[idx], order, axis=0)
        cum = np.cumsum(pop[idx][order] * q_sorted, axis=0)
        fits = cum <= limit * (1 + EPS)
        blocked = np.cumsum(q_sorted & ~fits, axis=0) > 0
        keep_sorted = q_sorted & ~blocked
        out = np.empty_like(keep_sorted)
        np.put_along_axis(out, order, keep_sorted, axis=0)
        keep[idx] = out
    return keep


@dataclass
class RuleOutcome:
    """Per category the final ``(n, D)`` membership, and the spatial adjustments made."""

    categories: dict[str, np.ndarray]
    by_rule: dict[str, np.ndarray]
    enclave_gained: dict[str, np.ndarray]
    cap_lost: dict[str, np.ndarray]


def evaluate_categories(definition: Definition, ctx: RuleContext) -> RuleOutcome:
    """Evaluate every category rule in order, applying spatial rules right after their categories."""
    cats: dict[str, np.ndarray] = {}
    by_rule: dict[str, np.ndarray] = {}
    gained: dict[str, np.ndarray] = {}
    lost: dict[str, np.ndarray] = {}
    sp = definition.spatial
    cap_cats = set(sp.population_cap.categories) if sp.population_cap else set()
    last_cap = max((definition.category_ids.index(c) for c in cap_cats), default=-1)
    for pos, cat in enumerate(definition.categories):
        q = evaluate_rule(cat, ctx, cats)
        by_rule[cat.id] = q
        if sp.enclave is not None and cat.id in sp.enclave.categories:
            g = enclave_gain(q, ctx, min_neighbours=sp.enclave.min_neighbours)
            gained[cat.id] = g
            q = q | g
        cats[cat.id] = q
        if sp.population_cap is not None and pos == last_cap:
            need = ctx.fields.get(sp.population_cap.order_by)
            if need is None:
                need = np.zeros(len(ctx.classifiable))
            union = np.zeros_like(q)
            for cid in cap_cats:
                union |= cats[cid]
            keep = population_cap_keep(union, need, ctx, share=sp.population_cap.share)
            for cid in cap_cats:
                lost[cid] = cats[cid] & ~keep
                cats[cid] = cats[cid] & keep
    return RuleOutcome(cats, by_rule, gained, lost)


# ---------------------------------------------------------------------------------------------------------
# reasons (one draw)
# ---------------------------------------------------------------------------------------------------------
def _text(values: np.ndarray, labels: tuple[str, ...] | None) -> np.ndarray:
    """Values as display text (vectorised where it matters: floats use ``%.6g``, NaN becomes '')."""
    if labels is not None:
        lab = np.array([*labels, ""], dtype=object)
        return np.asarray(lab[np.where(values < 0, len(labels), values)])
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return np.array(["" if v != v else f"{v:.6g}" for v in arr.tolist()], dtype=object)
    if arr.dtype.kind == "b":
        return np.where(arr, "true", "false").astype(object)
    return np.array(["" if v is None or (isinstance(v, float) and v != v) else _fmt(v) for v in arr], dtype=object)


def _fmt(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    return str(v)


class _ReasonColumns:
    """The reasons table's columns, appended block by block and concatenated once (:meth:`frame`)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {c: [] for c in REASON_COLUMNS}

    def add(self, size: int, **values: Any) -> None:
        """Append ``size`` rows; a scalar value is repeated (a text as an object array)."""
        for c in REASON_COLUMNS:
            v = values[c]
            arr = np.asarray(v)
            if arr.ndim == 0:
                if isinstance(v, str):
                    arr = np.empty(size, dtype=object)
                    arr[:] = v
                else:
                    arr = np.full(size, v)
            self.cols[c].append(arr)

    def frame(self) -> pd.DataFrame:
        """The table, each column with its dtype (texts as objects)."""
        if not self.cols["key"]:
            return pd.DataFrame(columns=REASON_COLUMNS)
        data = {}
        for c in REASON_COLUMNS:
            arr = np.concatenate(self.cols[c])
            if c in STRING_COLUMNS:
                arr = arr.astype(object)
            elif c in ("passed", "rule_passed", "category_applies"):
                arr = arr.astype(bool)
            elif c == "condition":
                arr = arr.astype(np.int64)
            else:
                arr = arr.astype(float)
            data[c] = pd.Series(arr, dtype=object if c in STRING_COLUMNS else arr.dtype, copy=False)
        return pd.DataFrame(data, columns=REASON_COLUMNS)


def _reference_block(cond: Condition, outcome: RuleOutcome, n: int) -> dict[str, Any]:
    """The reason columns of a condition on earlier categories (``category: [...], is: ...``)."""
    hit = np.zeros(n, dtype=bool)
    for cid in cond.categories:
        hit |= outcome.categories[cid][:, 0]
    nan = np.full(n, np.nan)
    return {"field": "category:" + "|".join(cond.categories), "operator": "is", "value": nan,
            "value_text": np.where(hit, "true", "false").astype(object), "threshold": nan,
            "threshold_text": "true" if cond.is_ else "false", "margin": nan, "margin_sd": nan, "unit": ""}


def _field_block(cond: Condition, ctx: RuleContext, n: int, *, sd_by_field: Mapping[str, float],
                 units: Mapping[str, str], text_cache: dict[str, np.ndarray]) -> dict[str, Any]:
    """The reason columns of ``field op value``: value, threshold, margin (also in SD of the field), unit."""
    assert cond.field is not None and cond.op is not None
    raw = ctx.fields[cond.field]
    raw = raw[:, 0] if raw.ndim == 2 else raw
    numeric = cond.op in NUMERIC_OPS
    if cond.field not in text_cache:
        text_cache[cond.field] = _text(raw, ctx.class_labels.get(cond.field))
    nan = np.full(n, np.nan)
    value = np.asarray(raw, dtype=float) if numeric else nan
    threshold = float(cond.value) if numeric else np.nan
    marg, marg_sd = nan, nan
    if numeric:
        marg = margin(value, cond.op, threshold)
        sd = sd_by_field.get(cond.field, np.nan)
        if sd and np.isfinite(sd) and sd > 0:
            marg_sd = marg / sd
    threshold_text = ";".join(map(_fmt, cond.value)) if isinstance(cond.value, tuple) else _fmt(cond.value)
    return {"field": cond.field, "operator": cond.op, "value": value, "value_text": text_cache[cond.field],
            "threshold": np.full(n, threshold), "threshold_text": threshold_text, "margin": marg,
            "margin_sd": marg_sd, "unit": units.get(cond.field, "")}


def _spatial_rows(out: _ReasonColumns, cat: Category, outcome: RuleOutcome, ids: np.ndarray) -> None:
    """One row per area that gained ``cat`` as an enclave or lost it to the population cap."""
    for kind, src in (("enclave", outcome.enclave_gained), ("population_cap", outcome.cap_lost)):
        if cat.id not in src or not src[cat.id][:, 0].any():
            continue
        sel = np.where(src[cat.id][:, 0])[0]
        m = sel.size
        desc = (
            "enclave: every neighbouring area qualifies"
            if kind == "enclave"
            else "population cap reached: removed in order of need"
        )
        nan = np.full(m, np.nan)
        out.add(m, key=ids[sel], category=cat.id, part="spatial", condition=np.zeros(m, dtype=np.int64),
                description=desc, field=kind, operator="", value=nan, value_text="", threshold=nan,
                threshold_text="", passed=np.full(m, kind == "enclave"), margin=nan, margin_sd=nan, unit="",
                rule_passed=outcome.by_rule[cat.id][sel, 0],
                category_applies=outcome.categories[cat.id][sel, 0])  # fmt: skip


def reasons_frame(
    definition: Definition,
    ctx: RuleContext,
    outcome: RuleOutcome,
    *,
    ids: np.ndarray,
    sd_by_field: Mapping[str, float],
    units: Mapping[str, str],
) -> pd.DataFrame:
    """Long table: one row per area x category x condition (plus spatial-rule rows), for draw 0.

    Built column-wise with NumPy (one concatenation per column); text columns are object arrays.
    """
    out = _ReasonColumns()
    n = len(ids)
    ids = np.asarray(ids, dtype=object)
    text_cache: dict[str, np.ndarray] = {}
    for cat in definition.categories:
        rule_passed = outcome.by_rule[cat.id][:, 0]
        final = outcome.categories[cat.id][:, 0]
        for part in ("all", "any"):
            for k, cond in enumerate(getattr(cat, part)):
                path = condition_path(cat, part, k)
                passed = evaluate_condition(cond, path, ctx, outcome.categories)[:, 0]
                block = (_reference_block(cond, outcome, n) if cond.is_category_ref
                         else _field_block(cond, ctx, n, sd_by_field=sd_by_field, units=units, text_cache=text_cache))
                out.add(n, key=ids, category=cat.id, part=part, condition=np.full(n, k),
                        description=cond.label or cond.describe(), passed=passed, rule_passed=rule_passed,
                        category_applies=final, **block)
        _spatial_rows(out, cat, outcome, ids)
    return out.frame()


STRING_COLUMNS = ("key", "category", "part", "description", "field", "operator", "value_text", "threshold_text", "unit")


REASON_COLUMNS = [
    "key",
    "category",
    "part",
    "condition",
    "description",
    "field",
    "operator",
    "value",
    "value_text",
    "threshold",
    "threshold_text",
    "passed",
    "margin",
    "margin_sd",
    "unit",
    "rule_passed",
    "category_applies",
]


def near_misses(
    reasons: pd.DataFrame, definition: Definition, *, classifiable_keys: set[str], margin_sd: float
) -> pd.DataFrame:
    """Areas that miss a category only on numeric conditions, each within ``margin_sd`` SDs.

    For the ``all`` part every failed condition must be numeric and within the margin; for the ``any`` part
    at least one condition must pass or be numeric and within the margin (the closest one is reported).
    ``shortfall_sd`` is the largest shortfall that would have to be made up. Candidate groups are found with
    integer group codes in NumPy; text is built only for them, so this stays fast on large tables.
    """
    cols = ["key", "category", "shortfall_sd", "failed_conditions"]
    if reasons.empty:
        return pd.DataFrame(columns=cols)
    key = reasons["key"].to_numpy(dtype=object)
    part = reasons["part"].to_numpy(dtype=object)
    passed = reasons["passed"].to_numpy(dtype=bool)
    msd = reasons["margin_sd"].to_numpy(dtype=float)
    key_code, _ = pd.factorize(key)
    cat_code, _ = pd.factorize(reasons["category"].to_numpy(dtype=object))
    gid = key_code.astype(np.int64) * (int(cat_code.max()) + 1) + cat_code
    ok_key = pd.Index(key, dtype=object).isin(list(classifiable_keys))
    base = (part != "spatial") & ~reasons["category_applies"].to_numpy(dtype=bool) & ok_key
    within = passed | (~np.isnan(msd) & (msd >= -margin_sd - EPS))
    is_all = part == "all"
    is_any = part == "any"
    n_groups = int(gid.max()) + 1

    def flag(mask: np.ndarray) -> np.ndarray:
        return np.bincount(gid[mask], minlength=n_groups) > 0

    cand = flag(base) & ~flag(base & is_all & ~within) & (~flag(base & is_any) | flag(base & is_any & within))
    if not cand.any():
        return pd.DataFrame(columns=cols)
    sel = base & cand[gid]
    r = reasons.loc[sel, ["key", "category", "part", "field", "operator", "value_text", "threshold_text", "passed"]]
    m = msd[sel]
    r = r.assign(
        shortfall=np.where(r["passed"].to_numpy(dtype=bool), 0.0, np.where(np.isnan(m), np.inf, -m)),
        text=r["field"].astype(str)
        + " "
        + r["value_text"].astype(str)
        + " vs "
        + r["operator"].astype(str)
        + " "
        + r["threshold_text"].astype(str),
        gid=gid[sel],
    )
    any_pass = flag(base & is_any & passed)
    a_f = r[(r["part"] == "all") & ~r["passed"]]
    y = r[(r["part"] == "any") & ~any_pass[r["gid"].to_numpy()]].sort_values("shortfall", kind="stable")
    y_best = y[~y["gid"].duplicated(keep="first")]
    parts = pd.concat([a_f, y_best])
    if parts.empty:
        return pd.DataFrame(columns=cols)
    gkeys = ["key", "category"]
    short = parts.groupby(gkeys, sort=False)["shortfall"].max().rename("shortfall_sd")
    texts = join_groups(parts, gkeys, "text").rename("failed_conditions")
    out = pd.concat([short, texts], axis=1).reset_index()[cols]
    out["key"] = out["key"].astype(str)
    out["category"] = out["category"].astype(str)
    out["shortfall_sd"] = out["shortfall_sd"].astype(float)
    return out.sort_values(["category", "shortfall_sd", "key"], ignore_index=True)


def join_groups(frame: pd.DataFrame, by: list[str], column: str, sep: str = "; ") -> pd.Series:
    """``"; ".join`` of ``column`` per group of ``by``, in row order, without a Python loop over groups."""
    if frame.empty:
        return pd.Series(dtype=str)
    f = frame[[*by, column]].copy()
    f["_i"] = f.groupby(by, sort=False).cumcount()
    wide = f.pivot(index=by, columns="_i", values=column)
    out = wide[0].astype(str)
    for c in wide.columns[1:]:
        part = wide[c]
        out = out.where(part.isna(), out + sep + part.astype(str))
    return out
