"""The designation check of a classification: official designation versus data, with what drives each verdict.

:func:`designation_check` is the last step of :func:`geo.classify.engine.classify` (``result.designation_check``);
:mod:`geo.classify.designations` explains the disagreements further.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.classify.definition import NUMERIC_OPS, Definition
from geo.classify.methods import IndexModel
from geo.classify.rules import join_groups


def _driver_texts(defn: Definition, model: IndexModel, comps: Mapping[str, np.ndarray], rows: np.ndarray) -> list[str]:
    """Top three contributions to the first z-score index for ``rows`` (e.g. ``share_foreign_pct +0.62``)."""
    for spec in defn.indices:
        contrib = model.contributions(spec.name, comps[spec.name])
        if contrib is None:
            continue
        sub = contrib[rows]
        order = np.argsort(-np.abs(np.nan_to_num(sub)), axis=1)[:, :3]
        names = [c.indicator for c in spec.components]
        out = []
        for r, idx in enumerate(order):
            if np.isnan(sub[r]).all():
                out.append("")
                continue
            out.append(f"{spec.name} index driven by " + ", ".join(f"{names[k]} {sub[r, k]:+.2f}" for k in idx))
        return out
    return [""] * len(rows)


def _per_key_text(
    reasons_df: pd.DataFrame,
    cats: list[str],
    keys: np.ndarray,
    *,
    passed: bool,
    top: int,
    hit_pairs: pd.MultiIndex | None = None,
) -> pd.Series:
    """Per area of ``keys``: the numeric conditions of ``cats`` that failed (closest first) or passed."""
    if reasons_df.empty or len(keys) == 0:
        return pd.Series(dtype=str)
    mask = (
        (reasons_df["passed"].to_numpy(dtype=bool) == passed)
        & pd.Index(reasons_df["category"].to_numpy(dtype=object), dtype=object).isin(cats)
        & pd.Index(reasons_df["operator"].to_numpy(dtype=object), dtype=object).isin(list(NUMERIC_OPS))
        & pd.Index(reasons_df["key"].to_numpy(dtype=object), dtype=object).isin(list(keys))
    )
    r = reasons_df.loc[mask, ["key", "category", "field", "operator", "value_text", "threshold_text", "margin_sd"]]
    if r.empty:
        return pd.Series(dtype=str)
    r = r.astype({c: object for c in ("key", "category", "field", "operator", "value_text", "threshold_text")})
    if passed:
        r = r.assign(text=r["field"] + " " + r["value_text"] + " " + r["operator"] + " " + r["threshold_text"])
    else:
        short = [f"{-v:.2f}" for v in r["margin_sd"].tolist()]
        text = (
            r["category"]
            + ": "
            + r["field"]
            + " "
            + r["value_text"]
            + " not "
            + r["operator"]
            + " "
            + r["threshold_text"]
            + " (short by "
            + pd.Series(short, index=r.index)
            + " SD)"
        )
        r = r.assign(text=text).sort_values(["key", "margin_sd"], ascending=[True, False], kind="stable")
    if hit_pairs is not None:
        pairs = pd.MultiIndex.from_arrays([r["key"], r["category"]])
        r = r[pairs.isin(hit_pairs)]
    r = r.drop_duplicates(["key", "text"])
    r = r.groupby("key", sort=False).head(top)
    return join_groups(r, ["key"], "text")


def _join(n: int, *parts: np.ndarray) -> np.ndarray:
    """Element-wise ``"; "``-join of the non-empty texts of ``parts``."""
    out = np.full(n, "", dtype=object)
    for p in parts:
        p = np.asarray(p, dtype=object)
        out = np.where(p == "", out, np.where(out == "", p, out + "; " + p))
    return out


@dataclass
class _Checked:
    """The designated or indicated areas (``rows`` of the table) with what the check needs of each."""

    rows: np.ndarray
    keys: np.ndarray
    classifiable: np.ndarray
    reason: np.ndarray
    designated: np.ndarray
    indicated: np.ndarray
    hits: np.ndarray  # (len(rows), n indicating categories)
    hit_text: np.ndarray


def _checked_rows(work: pd.DataFrame, table_out: pd.DataFrame, defn: Definition) -> _Checked:
    """Which areas are designated or indicated (extra rows excepted), with what the check needs of each."""
    n = len(work)
    designated = work["designated"].fillna(False).astype(bool).to_numpy()
    ind_cats = list(defn.indicating_categories)
    hits = (np.column_stack([table_out[f"is_{c}"].to_numpy(dtype=bool) for c in ind_cats]) if ind_cats
            else np.zeros((n, 0), dtype=bool))
    indicated = np.asarray(hits.any(axis=1), dtype=bool)
    extra = table_out["is_extra"].to_numpy(dtype=bool)
    rows = np.where((designated | indicated) & ~extra)[0]
    cat_arr = np.array(ind_cats, dtype=object)
    hit_text = np.array([";".join(cat_arr[np.asarray(h, dtype=bool)]) for h in hits[rows]], dtype=object)
    return _Checked(rows, table_out["key"].to_numpy(dtype=object)[rows],
                       table_out["classifiable"].to_numpy(dtype=bool)[rows],
                       table_out["classifiable_reason"].to_numpy(dtype=object)[rows], designated[rows],
                       indicated[rows], hits[rows], hit_text)


def _driver(c: _Checked, reasons_df: pd.DataFrame, defn: Definition, *, model: IndexModel,
            comps: Mapping[str, np.ndarray]) -> np.ndarray:
    """What drives each verdict: the closest failed conditions or the ones passed, and the index's drivers."""
    ind_cats = list(defn.indicating_categories)
    cat_arr = np.array(ind_cats, dtype=object)
    drivers = np.array(_driver_texts(defn, model, comps, c.rows), dtype=object)
    classifiable_keys = c.keys[c.classifiable]
    failed_text = _per_key_text(reasons_df, ind_cats, classifiable_keys[~c.indicated[c.classifiable]], passed=False,
                                top=2)
    hk, hc = np.nonzero(c.hits)
    hit_pairs = pd.MultiIndex.from_arrays([c.keys[hk].astype(str), cat_arr[hc].astype(str)])
    passed_text = _per_key_text(reasons_df, ind_cats, classifiable_keys[c.indicated[c.classifiable]], passed=True,
                                top=3, hit_pairs=hit_pairs)
    failed_map, passed_map = failed_text.to_dict(), passed_text.to_dict()
    failed = np.array([failed_map.get(k, "") for k in c.keys], dtype=object)
    passed = np.array([passed_map.get(k, "") for k in c.keys], dtype=object)
    qualifies = np.where(c.hit_text == "", "", "qualifies as " + c.hit_text.astype(str)).astype(object)
    des, ind, n = c.designated, c.indicated, len(c.rows)
    return np.select([~c.classifiable, des & ind, des],
                     ["no data to check the designation against", drivers, _join(n, failed, drivers)],
                     default=_join(n, qualifies, passed, drivers))


def designation_check(
    work: pd.DataFrame,
    table_out: pd.DataFrame,
    reasons_df: pd.DataFrame,
    defn: Definition,
    *,
    model: IndexModel,
    comps: Mapping[str, np.ndarray],
) -> pd.DataFrame:
    """Official designation versus data: one row per area that is designated or indicated.

    Verdicts: ``designated and indicated``; ``designated, not indicated (phase-out candidate)``;
    ``indicated, not designated (new candidate)``; for areas that cannot be classified the reason. The
    ``driver`` column says what drives the verdict: the closest failed conditions (with the shortfall in SD)
    or the conditions passed, and the indicators contributing most to the status index.
    """
    cols = [
        "key", "name", "city", "designated", "designation_programmes", "designation_confidence",
        "indicated", "indicated_categories", "status_index", "verdict", "driver",
    ]  # fmt: skip
    if "designated" not in work.columns:
        return pd.DataFrame(columns=cols)
    c = _checked_rows(work, table_out, defn)
    empty = pd.Series("", index=work.index)
    progs = work.get("designation_programmes", empty).fillna("").astype(str).to_numpy()
    conf = work.get("designation_confidence", empty).fillna("").astype(str).to_numpy()
    des, ind, rows = c.designated, c.indicated, c.rows
    verdict = np.select(
        [~c.classifiable & des, ~c.classifiable, des & ind, des],
        [np.char.add("designated; ", c.reason.astype(str)).astype(object), c.reason, "designated and indicated",
         "designated, not indicated (phase-out candidate)"],
        default="indicated, not designated (new candidate)",
    )
    first_idx = defn.indices[0].field if defn.indices else None
    status = table_out[first_idx].to_numpy(dtype=float)[rows] if first_idx else np.full(len(rows), np.nan)
    out = pd.DataFrame(
        {"key": c.keys, "name": table_out["name"].to_numpy(dtype=object)[rows],
         "city": table_out["city"].to_numpy(dtype=object)[rows], "designated": des,
         "designation_programmes": progs[rows], "designation_confidence": conf[rows], "indicated": ind,
         "indicated_categories": c.hit_text, "status_index": status, "verdict": verdict,
         "driver": _driver(c, reasons_df, defn, model=model, comps=comps)},
        columns=cols,
    )
    for col in ("key", "name", "city", "designation_programmes", "designation_confidence", "indicated_categories",
                "verdict", "driver"):  # fmt: skip
        out[col] = out[col].astype(str)
    return out
