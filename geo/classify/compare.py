"""Scenarios: run a draft definition against the same table and compare it with the base."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.classify.result import ClassificationResult


@dataclass
class Comparison:
    """Base versus draft.

    Attributes
    ----------
    areas : DataFrame
        One row per area whose categories or budget differ: ``key, name, city, population,
        base_categories, draft_categories, gained, lost, base_budget_eur, draft_budget_eur, budget_shift_eur``.
    categories : DataFrame
        Per category: ``areas_gained, areas_lost, residents_gained, residents_lost``, base and draft counts.
    budget : DataFrame
        Per group: base and draft allocated amounts and the shift.
    base_hash, draft_hash : str
        Definition hashes of both sides.
    """

    areas: pd.DataFrame
    categories: pd.DataFrame
    budget: pd.DataFrame
    base_id: str
    draft_id: str
    base_hash: str
    draft_hash: str

    def to_text(self) -> str:
        """A plain-text report for the terminal."""
        lines = [
            f"Scenario comparison: base {self.base_id} ({self.base_hash[:12]}) -> draft {self.draft_id} "
            f"({self.draft_hash[:12]})",
            "",
            "Per category (areas gained / lost, residents gained / lost):",
        ]
        for r in self.categories.itertuples():
            lines.append(
                f"  {r.category:<22} base {r.base_areas:>3}  draft {r.draft_areas:>3}  "
                f"+{r.areas_gained} / -{r.areas_lost} areas, +{r.residents_gained:,.0f} / "
                f"-{r.residents_lost:,.0f} residents"
            )
        lines += ["", "Budget per group (EUR):"]
        for r in self.budget.itertuples():
            lines.append(
                f"  {r.group:<14} base {r.base_allocated_eur:>14,.2f}  draft {r.draft_allocated_eur:>14,.2f}  "
                f"shift {r.shift_eur:>+14,.2f}"
            )
        lines += ["", f"Areas that change ({len(self.areas)}):"]
        for r in self.areas.itertuples():
            lines.append(
                f"  {r.key} {r.name:<28} gained [{r.gained}] lost [{r.lost}] budget {r.budget_shift_eur:+,.2f}"
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`areas`, the areas whose categories or budget differ."""
        return self.areas.copy()


def _cats(table: pd.DataFrame) -> dict[str, set[str]]:
    return {str(k): set(c) for k, c in zip(table["key"], table["categories"], strict=True)}


AREA_COLUMNS = ["key", "name", "city", "population", "base_categories", "draft_categories", "gained", "lost",
                "base_budget_eur", "draft_budget_eur", "budget_shift_eur"]
CATEGORY_COLUMNS = ["category", "base_areas", "draft_areas", "areas_gained", "areas_lost", "residents_gained",
                    "residents_lost"]


def _changed_areas(bt: pd.DataFrame, dt: pd.DataFrame, keys: list[str], bc: dict[str, set[str]],
                   dc: dict[str, set[str]]) -> pd.DataFrame:
    """One row per area whose categories or budget (by half a cent or more) differ."""
    rows = []
    for k in keys:
        b, d = bc.get(k, set()), dc.get(k, set())
        src = bt if k in bt.index else dt
        bb = float(bt.at[k, "budget_eur"]) if k in bt.index else np.nan
        db = float(dt.at[k, "budget_eur"]) if k in dt.index else np.nan
        shift = np.nan_to_num(db) - np.nan_to_num(bb)
        if b == d and abs(shift) < 0.005:
            continue
        rows.append({"key": k, "name": str(src.at[k, "name"]), "city": str(src.at[k, "city"]),
                     "population": float(src.at[k, "population"]), "base_categories": ";".join(sorted(b)),
                     "draft_categories": ";".join(sorted(d)), "gained": ";".join(sorted(d - b)),
                     "lost": ";".join(sorted(b - d)), "base_budget_eur": bb, "draft_budget_eur": db,
                     "budget_shift_eur": round(float(shift), 2)})
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def _category_changes(all_cats: list[str], keys: list[str], bc: dict[str, set[str]], dc: dict[str, set[str]],
                      pop: Mapping[str, float]) -> pd.DataFrame:
    """Per category: areas before and after, areas and residents gained and lost."""
    crow = []
    for c in all_cats:
        gained = [k for k in keys if c in dc.get(k, set()) and c not in bc.get(k, set())]
        lost = [k for k in keys if c in bc.get(k, set()) and c not in dc.get(k, set())]
        crow.append({"category": c, "base_areas": sum(c in v for v in bc.values()),
                     "draft_areas": sum(c in v for v in dc.values()), "areas_gained": len(gained),
                     "areas_lost": len(lost),
                     "residents_gained": float(np.nansum([pop.get(k, np.nan) for k in gained])),
                     "residents_lost": float(np.nansum([pop.get(k, np.nan) for k in lost]))})
    return pd.DataFrame(crow, columns=CATEGORY_COLUMNS)


def _allocated(res: ClassificationResult, g: str) -> float:
    b = res.budget
    if b.empty or g not in set(b["group"]):
        return 0.0
    return float(b.loc[b["group"] == g, "allocated_eur"].iloc[0])


def _budget_changes(base: ClassificationResult, draft: ClassificationResult) -> pd.DataFrame:
    """Per group: the budget allocated before and after, and the shift."""
    groups = sorted(
        set(base.budget.get("group", pd.Series(dtype=str))) | set(draft.budget.get("group", pd.Series(dtype=str)))
    )
    return pd.DataFrame(
        [{"group": g, "base_allocated_eur": _allocated(base, g), "draft_allocated_eur": _allocated(draft, g),
          "shift_eur": round(_allocated(draft, g) - _allocated(base, g), 2)} for g in groups],
        columns=["group", "base_allocated_eur", "draft_allocated_eur", "shift_eur"],
    )


def compare_results(base: ClassificationResult, draft: ClassificationResult) -> Comparison:
    """Compare two results over the same areas (areas only in one side count as gained/lost entirely)."""
    bt = base.table[~base.table["is_extra"]].set_index("key")
    dt = draft.table[~draft.table["is_extra"]].set_index("key")
    keys = sorted(set(bt.index) | set(dt.index))
    bc, dc = _cats(base.table), _cats(draft.table)
    pop = {**dict(zip(bt.index, bt["population"], strict=True)), **dict(zip(dt.index, dt["population"], strict=True))}
    all_cats = list(dict.fromkeys([*_cat_ids(base), *_cat_ids(draft)]))
    return Comparison(
        areas=_changed_areas(bt, dt, keys, bc, dc),
        categories=_category_changes(all_cats, keys, bc, dc, pop),
        budget=_budget_changes(base, draft),
        base_id=base.definition_id,
        draft_id=draft.definition_id,
        base_hash=base.definition_hash,
        draft_hash=draft.definition_hash,
    )


def _cat_ids(res: ClassificationResult) -> list[str]:
    cats = res.definition.get("categories", []) if isinstance(res.definition, Mapping) else []
    return [str(c.get("id")) for c in cats if isinstance(c, Mapping)]


def compare_definitions(
    table: pd.DataFrame,
    base: Any,
    draft: Any,
    *,
    draws: int | None = 0,
    seed: int | None = None,
) -> tuple[Comparison, ClassificationResult, ClassificationResult]:
    """Classify ``table`` with both definitions (paths, mappings or Definitions) and compare.

    ``draws`` defaults to 0 (no Monte Carlo) because the comparison does not use stability.
    """
    from geo.classify.engine import classify

    b = classify(table, base if not isinstance(base, os.PathLike) else str(base), draws=draws, seed=seed)
    d = classify(table, draft if not isinstance(draft, os.PathLike) else str(draft), draws=draws, seed=seed)
    return compare_results(b, d), b, d
