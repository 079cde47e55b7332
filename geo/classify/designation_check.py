"""The designation check of a classification: official designation versus data, with what drives each verdict.

:func:`designation_check` is the last step of :func:`geo.classify.engine.classify` (``result.designation_check``);
:mod:`geo.classify.designations` explains the disagreements further.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.classify.definition import NUMERIC_OPS, Definition
from geo.classify.methods import IndexModel

#: the verdict codes of classifiable areas by (designated, indicated)
VERDICTS = {(True, True): "designated_and_indicated", (True, False): "phase_out_candidate",
            (False, True): "new_candidate"}


#: one message of a designation check: a code and the figures it quotes (the words are in maps.i18n)
Message = dict[str, Any]


def _driver_messages(defn: Definition, model: IndexModel, comps: Mapping[str, np.ndarray],
                     rows: np.ndarray) -> list[list[Message]]:
    """Top three contributions to the first z-score index for ``rows``, one message list per row.

    ``{"code": "driven_by", "index": "status", "contributions": [{"indicator": "share_foreign_pct",
    "value": 0.62}, ...]}``.
    """
    for spec in defn.indices:
        contrib = model.contributions(spec.name, comps[spec.name])
        if contrib is None:
            continue
        sub = contrib[rows]
        order = np.argsort(-np.abs(np.nan_to_num(sub)), axis=1)[:, :3]
        names = [c.indicator for c in spec.components]
        out: list[list[Message]] = []
        for r, idx in enumerate(order):
            if np.isnan(sub[r]).all():
                out.append([])
                continue
            out.append([{"code": "driven_by", "index": spec.name, "contributions": [
                {"indicator": names[k], "value": round(float(sub[r, k]), 2)} for k in idx]}])
        return out
    return [[] for _ in rows]


def _per_key_messages(
    reasons_df: pd.DataFrame,
    cats: list[str],
    keys: np.ndarray,
    *,
    passed: bool,
    top: int,
    hit_pairs: pd.MultiIndex | None = None,
) -> dict[str, list[Message]]:
    """Per area of ``keys``: up to ``top`` numeric conditions of ``cats`` that failed (or, with ``passed``, passed).

    Failed ones come closest first (``condition_failed`` with the shortfall in SD), passed ones as ``condition``.
    """
    if reasons_df.empty or len(keys) == 0:
        return {}
    mask = (
        (reasons_df["passed"].to_numpy(dtype=bool) == passed)
        & pd.Index(reasons_df["category"].to_numpy(dtype=object), dtype=object).isin(cats)
        & pd.Index(reasons_df["operator"].to_numpy(dtype=object), dtype=object).isin(list(NUMERIC_OPS))
        & pd.Index(reasons_df["key"].to_numpy(dtype=object), dtype=object).isin(list(keys))
    )
    r = reasons_df.loc[mask, ["key", "category", "field", "operator", "value", "threshold", "margin_sd"]]
    if r.empty:
        return {}
    r = r.astype({c: object for c in ("key", "category", "field", "operator")})
    if not passed:
        r = r.sort_values(["key", "margin_sd"], ascending=[True, False], kind="stable")
    if hit_pairs is not None:
        r = r[pd.MultiIndex.from_arrays([r["key"], r["category"]]).isin(hit_pairs)]
    r = r.drop_duplicates(["key", "field", "operator", "value", "threshold"] + ([] if passed else ["category"]))
    out: dict[str, list[Message]] = {}
    for row in r.groupby("key", sort=False).head(top).itertuples(index=False):
        msg: Message = {"code": "condition" if passed else "condition_failed", "field": row.field,
                        "value": float(row.value), "op": row.operator, "threshold": float(row.threshold)}
        if not passed:
            msg |= {"category": row.category, "short_sd": round(-float(row.margin_sd), 2)}
        out.setdefault(str(row.key), []).append(msg)
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
    """What drives each verdict, as a list of messages per area.

    The closest failed conditions or the ones passed, and the index's drivers.
    """
    ind_cats = list(defn.indicating_categories)
    cat_arr = np.array(ind_cats, dtype=object)
    drivers = _driver_messages(defn, model, comps, c.rows)
    classifiable_keys = c.keys[c.classifiable]
    failed = _per_key_messages(reasons_df, ind_cats, classifiable_keys[~c.indicated[c.classifiable]],
                               passed=False, top=2)
    hk, hc = np.nonzero(c.hits)
    hit_pairs = pd.MultiIndex.from_arrays([c.keys[hk].astype(str), cat_arr[hc].astype(str)])
    passed = _per_key_messages(reasons_df, ind_cats, classifiable_keys[c.indicated[c.classifiable]], passed=True,
                               top=3, hit_pairs=hit_pairs)
    out = np.empty(len(c.rows), dtype=object)
    for i, key in enumerate(c.keys):
        if not c.classifiable[i]:
            out[i] = [{"code": "no_data"}]
        elif c.designated[i]:
            out[i] = drivers[i] if c.indicated[i] else failed.get(str(key), []) + drivers[i]
        else:
            qualifies = [{"code": "qualifies_as", "categories": c.hit_text[i].split(";")}] if c.hit_text[i] else []
            out[i] = qualifies + passed.get(str(key), []) + drivers[i]
    return out


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

    ``verdict`` is a message (:data:`VERDICTS`; for areas that cannot be classified ``not_classifiable`` with
    ``designated`` and the ``reason``), ``driver`` a list of messages saying what drives the verdict: the closest
    failed conditions (``condition_failed``, with the shortfall in SD) or the conditions passed (``condition``,
    after ``qualifies_as``), and the indicators contributing most to the status index (``driven_by``);
    ``no_data`` when there is nothing to check against. Messages are codes with figures, never sentences: the
    words are :func:`maps.i18n.message_text`'s.
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
    verdict = np.empty(len(rows), dtype=object)
    for i in range(len(rows)):
        verdict[i] = ({"code": "not_classifiable", "designated": bool(des[i]), "reason": str(c.reason[i])}
                      if not c.classifiable[i] else {"code": VERDICTS[(bool(des[i]), bool(ind[i]))]})
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
    for col in ("key", "name", "city", "designation_programmes", "designation_confidence", "indicated_categories"):
        out[col] = out[col].astype(str)
    return out
