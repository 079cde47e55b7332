"""Budget split: a group's annual budget across its qualifying areas, exact to the cent.

Formula (all parts configurable in the definition's ``budget`` section)::

    weight_i = population_i ** population_exponent * need_i
    need_i   = max(need_minimum, need_offset + need_field_i)     (need_minimum when the field is missing)
    amount_i = clip(lambda * weight_i, floor_eur, cap_eur)       (lambda chosen so the amounts sum to the total)

The continuous amounts are turned into integer cents by the largest-remainder method (ties broken by area id),
so the amounts of a group add up to its total to the cent. When floors alone exceed the total, every area
gets an equal share; when caps bind everywhere, the remainder stays unallocated and is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def largest_remainder(exact_cents: np.ndarray, total_cents: int, *, ids: np.ndarray | None = None) -> np.ndarray:
    """Round non-negative exact cent amounts to integers that sum to ``total_cents``.

    Every amount is rounded down, then the missing cents go one each to the largest fractional parts
    (ties: smaller id first). If the rounded-down sum is already above the total (only possible when the
    exact amounts sum to more), cents are taken from the smallest fractional parts.
    """
    exact = np.asarray(exact_cents, dtype=float)
    n = exact.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base = np.floor(exact + 1e-9).astype(np.int64)
    frac = exact - base
    rest = int(total_cents - int(base.sum()))
    tiebreak = np.arange(n) if ids is None else pd.Series(ids).rank(method="first").to_numpy()
    if rest > 0:
        order = np.lexsort((tiebreak, -frac))
        k = min(rest, n)
        base[order[:k]] += 1
        rest -= k
        if rest > 0:  # more than one cent per area missing: spread evenly
            base += rest // n
            base[order[: rest % n]] += 1
    elif rest < 0:
        order = np.lexsort((-tiebreak, frac))
        take = -rest
        for i in order:
            if take == 0:
                break
            if base[i] > 0:
                base[i] -= 1
                take -= 1
    return base


def solve_amounts(weights: np.ndarray, total: float, *, floor: float = 0.0, cap: float | None = None) -> np.ndarray:
    """Continuous amounts ``clip(lambda * w, floor, cap)`` summing to ``total`` (or to ``n * cap``)."""
    w = np.asarray(weights, dtype=float)
    n = w.size
    if n == 0:
        return np.zeros(0)
    hi = np.inf if cap is None else cap
    if n * floor >= total:
        return np.full(n, total / n)
    if np.isfinite(hi) and n * hi <= total:
        return np.full(n, hi)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    if w.max() <= 0:
        w = np.ones(n)
    w = w / w.max()  # scale-free: lambda stays in a sane range even for tiny weights
    w = np.where(w >= 1e-12, w, 0.0)  # weights below 1e-12 of the largest count as none

    def amounts(lam: float) -> np.ndarray:
        return np.clip(lam * w, floor, hi)

    most = np.where(w > 0, hi, floor)  # areas without weight never get more than the floor
    if most.sum() <= total:
        return most

    lo_l, hi_l = 0.0, max(total, 1.0)
    while amounts(hi_l).sum() < total:  # terminates: the largest weight is 1, so lambda = total suffices
        hi_l *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo_l + hi_l)
        if amounts(mid).sum() < total:
            lo_l = mid
        else:
            hi_l = mid
    a = amounts(hi_l)
    # remove the tiny bisection error on the free (unclipped) areas
    free = (a > floor) & (a < hi)
    if free.any():
        a[free] += (total - a.sum()) * w[free] / w[free].sum()
    return a


def split_budget(
    *,
    ids: np.ndarray,
    groups: np.ndarray,
    eligible: np.ndarray,
    population: np.ndarray,
    need: np.ndarray,
    totals: dict[str, float],
    population_exponent: float = 1.0,
    floor_eur: float = 0.0,
    cap_eur: float | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Split each group's total across its eligible areas.

    Returns
    -------
    amounts : ndarray of float
        EUR per area (whole cents; NaN for areas not eligible).
    summary : DataFrame
        One row per group: ``group, total_eur, allocated_eur, unallocated_eur, n_areas, note``; ``note`` is
        a code, empty or ``no_qualifying_area``, ``floors_exceed_total``, ``all_at_cap``.
    """
    ids = np.asarray(ids).astype(str)
    groups = np.asarray(groups).astype(str)
    eligible = np.asarray(eligible, dtype=bool)
    pop = np.nan_to_num(np.asarray(population, dtype=float), nan=0.0)
    weight = np.power(np.maximum(pop, 0.0), population_exponent) * np.asarray(need, dtype=float)
    amounts = np.full(ids.size, np.nan)
    rows = []
    for group, total in totals.items():
        total_cents = round(total * 100)
        sel = np.where(eligible & (groups == group))[0]
        note = ""
        if sel.size == 0:
            note = "no_qualifying_area"  # the budget is not allocated by the data
            rows.append((group, total, 0.0, total, 0, note))
            continue
        cont = solve_amounts(weight[sel], total, floor=floor_eur, cap=cap_eur)
        target = min(total_cents, round(float(cont.sum()) * 100))
        if sel.size * floor_eur > total:
            note = "floors_exceed_total"  # equal shares
        cents = largest_remainder(cont * 100.0, target, ids=ids[sel])
        amounts[sel] = cents / 100.0
        allocated = int(cents.sum())
        if allocated < total_cents:
            note = note or "all_at_cap"  # the remainder is not allocated
        rows.append((group, total, allocated / 100.0, (total_cents - allocated) / 100.0, int(sel.size), note))
    summary = pd.DataFrame(rows, columns=["group", "total_eur", "allocated_eur", "unallocated_eur", "n_areas", "note"])
    summary["group"] = summary["group"].astype(str)
    summary["note"] = summary["note"].astype(str)
    return amounts, summary
