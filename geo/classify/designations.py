"""Designation versus data: which designated Ortsteile the data indicate, which not, and why.

:func:`designation_versus_data` takes a classification (and optionally one of an alternative definition, e.g.
the former demographic proxy) and explains every disagreement with one of

* ``near_miss``: the closest indicating category is missed by at most the definition's near-miss margin (SD);
* ``sub_ortsteil_estate``: the designated area is a neighbourhood inside the Ortsteil (the designation list
  assigns it to the Ortsteil that contains it, confidence ``scout-guess``): the Ortsteil's average hides it;
* ``outdated_designation``: the source names the Ortsteil itself, and its need data (with their years) are
  clearly below the threshold: the designation predates the data or no longer matches them;
* ``new_candidate``: indicated by the data, not designated;
* ``no_data``: the area cannot be classified (the reason is given).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.classify.result import ClassificationResult

COLUMNS = ["key", "name", "city", "designated", "designation_areas", "designation_confidence", "indicated",
           "indicated_categories", "status_index", "shortfall_sd", "explanation", "detail",
           "indicated_alternative", "alternative_categories", "change_from_alternative"]


def _shortfalls(result: ClassificationResult) -> pd.Series:
    """Smallest shortfall in SD to any indicating category, per key."""
    nm = result.reasons
    if nm is None or nm.empty or "margin_sd" not in nm.columns:
        return pd.Series(dtype=float)
    cats = set(result.definition.get("designation_check", {}).get("indicating_categories") or [])
    failed = nm[(~nm["passed"].astype(bool)) & nm["category"].isin(cats)]
    # a category's shortfall is its largest failed margin (every failed condition must be overcome)
    failed = failed[np.isfinite(pd.to_numeric(failed["margin_sd"], errors="coerce").to_numpy(dtype=float))]
    per_cat = failed.assign(gap=failed["margin_sd"].astype(float).abs()).groupby(["key", "category"])["gap"].max()
    return per_cat.groupby(level="key").min()


def designation_versus_data(result: ClassificationResult, designations: pd.DataFrame, *,
                            alternative: ClassificationResult | None = None) -> pd.DataFrame:
    """One row per Ortsteil that is designated or indicated (by ``result`` or ``alternative``)."""
    dc = result.designation_check.set_index("key")
    table = result.table.set_index("key")
    cats = list(result.definition.get("designation_check", {}).get("indicating_categories") or [])
    margin = float((result.definition.get("near_miss") or {}).get("margin_sd", 0.25))
    short = _shortfalls(result)
    des = designations.dropna(subset=["key"]) if len(designations) else designations
    areas = des.groupby("key")["area"].agg(lambda s: "; ".join(dict.fromkeys(s))) if len(des) else pd.Series()
    alt_ind: dict[str, str] = {}
    if alternative is not None:
        at = alternative.table.set_index("key")
        for key, row in at.iterrows():
            alt_ind[str(key)] = ";".join(c for c in row["categories"] if c in cats)
    keys = sorted(set(dc.index) | {k for k, v in alt_ind.items() if v})
    rows = []
    for key in keys:
        t = table.loc[key]
        d = dc.loc[key] if key in dc.index else None
        designated = bool(d["designated"]) if d is not None else False
        indicated = bool(d["indicated"]) if d is not None else False
        conf = str(d["designation_confidence"]) if d is not None else ""
        hit = str(d["indicated_categories"]) if d is not None else ""
        status = float(t["status_index"]) if pd.notna(t.get("status_index")) else float("nan")
        gap = float(short.get(key, np.nan))
        if not bool(t["classifiable"]):
            explanation, detail = "no_data", str(t["classifiable_reason"])
        elif designated and indicated:
            explanation, detail = "agree", f"qualifies as {hit}"
        elif designated and np.isfinite(gap) and gap <= margin:
            explanation = "near_miss"
            detail = f"misses the nearest indicating category by {gap:.2f} SD (margin {margin:g} SD)"
        elif designated and conf == "scout-guess":
            explanation = "sub_ortsteil_estate"
            detail = (f"the designated area ({areas.get(key, '')}) is a neighbourhood inside the Ortsteil; the "
                      f"Ortsteil's status index {status:+.2f} averages it with its surroundings")
        elif designated:
            explanation = "outdated_designation"
            detail = (f"the source names the Ortsteil itself, but its status index is {status:+.2f} "
                      f"({gap:.2f} SD short): the designation no longer matches the need data")
        else:
            explanation = "new_candidate" if indicated else ""
            detail = f"qualifies as {hit}" if indicated else ""
        alt = alt_ind.get(key, "")
        change = ""
        if alternative is not None:
            change = ("same" if alt == hit else "other categories" if alt and indicated
                      else "indicated now, not by the alternative" if indicated
                      else "indicated by the alternative only")
        if not designated and not indicated and not alt:
            continue
        rows.append({"key": key, "name": str(t["name"]), "city": str(t["city"]), "designated": designated,
                     "designation_areas": str(areas.get(key, "")), "designation_confidence": conf,
                     "indicated": indicated, "indicated_categories": hit, "status_index": status,
                     "shortfall_sd": gap if not indicated else 0.0, "explanation": explanation, "detail": detail,
                     "indicated_alternative": bool(alt), "alternative_categories": alt,
                     "change_from_alternative": change})
    return pd.DataFrame(rows, columns=COLUMNS)
