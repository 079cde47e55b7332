"""How the designated Ortsteile changed over the observed window against undesignated ones with a similar start.

:func:`compare_changes` is a matched difference in changes, not an effect of the funding (the designated areas
were chosen for their need, and their funding started before the window; see
:mod:`geo.analysis.monitoring.evaluation`). It comes with the checks that can be made: a bootstrap interval, a
placebo year (a fake start inside the window, where the designation did not change) and placebo treated groups
(random sets of undesignated Ortsteile run through the same estimator). Reasons, caveats and the verdict are
:class:`~geo.analysis.monitoring.messages.Message` codes; :func:`comparison_verdict` sums the rows up, still as
codes and figures (the words: :mod:`maps.evaluation`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.analysis.monitoring._common import check_long
from geo.analysis.monitoring.evaluation import (
    DEFAULT_OUTCOMES,
    DEFAULT_START_YEARS,
    bootstrap_ci,
    start_years_from_designations,
)
from geo.analysis.monitoring.messages import Message
from geo.errors import Problem, ValidationError

__all__ = [
    "DIFFERENCE",
    "NOT_COMPARABLE",
    "NO_DIFFERENCE",
    "ChangeComparison",
    "compare_changes",
    "comparison_verdict",
]

#: verdicts of :func:`compare_changes` (codes; the causal effect is never identified by it)
DIFFERENCE = "difference"
NO_DIFFERENCE = "no_difference"
NOT_COMPARABLE = "not_comparable"
COLUMNS = ["outcome", "base_year", "end_year", "n_designated", "n_treated", "n_outside_support", "outside_support",
           "n_control_pool", "n_controls_matched", "n_excluded_designated", "caliper", "treated_base_mean",
           "control_base_mean", "treated_change", "control_change", "estimate", "ci_low", "ci_high",
           "placebo_year", "placebo_estimate", "placebo_ci_low", "placebo_ci_high", "placebo_groups",
           "placebo_groups_low", "placebo_groups_high", "placebo_groups_p", "pre_years", "verdict", "reasons"]
#: limits of every comparison (codes of the catalogue's ``evaluation.caveat.*``)
CAVEATS = ("list_hand_compiled", "win_smaller_than_ortsteil", "no_year_before_start", "chosen_for_need",
           "llq_after_series", "selection")


@dataclass(frozen=True)
class ChangeComparison:
    """Result of :func:`compare_changes`.

    Attributes
    ----------
    outcomes
        One row per outcome: ``outcome``, ``base_year``, ``end_year``, ``n_designated`` (with both years),
        ``n_treated`` (with a comparable control), ``n_outside_support`` (no undesignated Ortsteil within the
        caliper), ``outside_support`` (their keys, ``;``-joined), ``n_control_pool``, ``n_controls_matched``,
        ``caliper``, ``treated_base_mean``, ``control_base_mean``, ``treated_change``, ``control_change``,
        ``estimate`` (mean over treated of own change minus the mean change of its controls), ``ci_low``,
        ``ci_high`` (bootstrap over treated, percentile), ``placebo_year``, ``placebo_estimate``,
        ``placebo_ci_low``, ``placebo_ci_high``, ``placebo_groups`` (how many random groups),
        ``placebo_groups_low``, ``placebo_groups_high`` (their central ``1 - alpha`` range),
        ``placebo_groups_p`` (share of groups with an estimate at least as far from 0), ``pre_years``
        (years before the programme start in the series), ``verdict`` (:data:`DIFFERENCE`, :data:`NO_DIFFERENCE` or
        :data:`NOT_COMPARABLE`) and ``reasons`` (a tuple of :class:`Message`).
    matches
        ``outcome``, ``treated_key``, ``control_key``, ``distance`` (in the outcome's unit at the base year).
    caveats
        Limits that apply to every row (:class:`Message` codes).
    """

    outcomes: pd.DataFrame
    matches: pd.DataFrame
    caveats: list[Message] = field(default_factory=list)


def _match_1d(t_level: np.ndarray, p_level: np.ndarray, k: int, caliper: float) -> tuple[np.ndarray, np.ndarray]:
    """For each treated level its ``k`` nearest pool levels (with replacement, ties by pool order).

    Returns the pool indices (``n_t x k``) and a mask of those within ``caliper``; a treated row whose mask is
    all False has no comparable control (outside common support).
    """
    k = min(k, len(p_level))
    dist = np.abs(t_level[:, None] - p_level[None, :])
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(dist, order, axis=1) <= caliper


def _gap(t_delta: np.ndarray, p_delta: np.ndarray, order: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per treated row with a control: own change minus the mean change of its controls (NaN-safe)."""
    c = np.where(ok, p_delta[order], np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gap = t_delta - np.nanmean(c, axis=1)
    return gap[ok.any(axis=1) & np.isfinite(gap)]


def _placebo_groups(fakes: np.ndarray, n_fake: int, p_level: np.ndarray, p_delta: np.ndarray, k: int,
                    caliper: float) -> list[float]:
    """Compute the placebo estimates of :func:`compare_changes`, all draws at once.

    Per row of ``fakes`` (a permutation of the pool) its first ``n_fake`` Ortsteile are matched to the rest
    as :func:`_match_1d` matches, and the mean of :func:`_gap` is kept where it has a row. Each draw is sorted,
    averaged and filtered on its own, so the figures are those of one draw at a time.
    """
    f, rest = fakes[:, :n_fake], fakes[:, n_fake:]
    k = min(k, rest.shape[1])
    dist = np.abs(p_level[f][:, :, None] - p_level[rest][:, None, :])
    order = np.argsort(dist, axis=2, kind="stable")[:, :, :k]
    ok = np.take_along_axis(dist, order, axis=2) <= caliper
    c = np.where(ok, np.take_along_axis(p_delta[rest][:, None, :], order, axis=2), np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gap = p_delta[f] - np.nanmean(c, axis=2)
    keep = ok.any(axis=2) & np.isfinite(gap)
    return [float(g[m].mean()) for g, m in zip(gap, keep, strict=True) if m.any()]


@dataclass(frozen=True)
class _Setup:
    """What every outcome of one :func:`compare_changes` call shares."""

    data: pd.DataFrame
    designated: pd.DataFrame
    is_programme: pd.Series
    population: pd.DataFrame | None
    programme_start: int | None
    base_year: int | None
    end_year: int | None
    placebo_year: int | None
    n_neighbours: int
    caliper_sd: float
    n_boot: int
    n_placebo: int
    alpha: float
    min_treated: int
    min_controls: int
    min_population: float | None


@dataclass
class _Matched:
    """The designated Ortsteile of one outcome, their pool and the matches between them."""

    t_keys: list[str]
    pool: list[str]
    complete: pd.Index
    other_designated: set[str]
    caliper: float
    values: pd.DataFrame
    p_lev: np.ndarray
    order: np.ndarray
    ok: np.ndarray
    treated: list[str]
    outside: list[str]
    controls: list[str]
    rows: list[dict[str, Any]]


def _check(long: pd.DataFrame, outcomes: Sequence[str], level: str, n_neighbours: int, n_boot: int,
           n_placebo: int, alpha: float, caliper_sd: float) -> None:
    check_long(long, what="the change comparison")
    problems = [Problem("indicator", f"indicator {n!r} not in the table at level {level!r}")
                for n in outcomes if not ((long["indicator"] == n) & (long["level"] == level)).any()]
    if n_neighbours < 1 or n_boot < 10 or n_placebo < 0 or not 0 < alpha < 1 or caliper_sd <= 0:
        problems.append(Problem("option", f"n_neighbours={n_neighbours}, n_boot={n_boot}, n_placebo={n_placebo}, "
                                          f"alpha={alpha}, caliper_sd={caliper_sd}"))
    if problems:
        raise ValidationError("cannot compare the changes", problems=problems)


def _match(panel: pd.DataFrame, outcome: str, b: int, e: int, window: list[int], s: _Setup) -> _Matched:
    """Designated Ortsteile with both years, their undesignated pool and the nearest pool levels at ``b``."""
    from geo.analysis.monitoring.inequality import nearest_year

    small: set[str] = set()
    if s.population is not None and len(s.population):
        py = nearest_year(b, s.population["year"].astype(int).unique())
        p = s.population[s.population["year"] == py].set_index("key")["value"]
        small = set(p.index[p < s.min_population])
    complete = panel[[b, e]].dropna().index.difference(sorted(small))
    designated = s.designated
    treated_all = designated[s.is_programme & (designated["start_year"] <= b)]
    t_keys = [k for k in treated_all["key"] if k in complete]
    pool = [k for k in complete if k not in set(designated["key"])]
    levels = panel[b]
    caliper = float(s.caliper_sd * np.nanstd(levels.reindex(complete).to_numpy(dtype=float)))
    lv = levels.to_dict()
    t_lev = np.array([lv[k] for k in t_keys], dtype=float)
    p_lev = np.array([lv[k] for k in pool], dtype=float)
    order, ok = (_match_1d(t_lev, p_lev, s.n_neighbours, caliper) if len(t_keys) and len(pool)
                 else (np.zeros((len(t_keys), 0), dtype=int), np.zeros((len(t_keys), 0), dtype=bool)))
    has: list[bool] = np.asarray(ok.any(axis=1), dtype=bool).tolist() if ok.size else [False] * len(t_keys)
    rows = [{"outcome": outcome, "treated_key": key, "control_key": pool[j],
             "distance": float(abs(t_lev[i] - p_lev[j]))}
            for i, key in enumerate(t_keys) for j, good in zip(order[i], ok[i], strict=True) if good]
    controls = sorted({pool[j] for i in range(len(t_keys)) for j, good in zip(order[i], ok[i], strict=True)
                       if good})
    return _Matched(t_keys=t_keys, pool=pool, complete=complete,
                    other_designated=set(designated["key"]) - set(treated_all["key"]), caliper=caliper,
                    values=panel.reindex(columns=window), p_lev=p_lev, order=order, ok=ok,
                    treated=[k for k, h in zip(t_keys, has, strict=True) if h],
                    outside=[k for k, h in zip(t_keys, has, strict=True) if not h], controls=controls, rows=rows)


def _estimate(m: _Matched, b: int, e: int, window: list[int], s: _Setup,
              rng: np.random.Generator) -> dict[str, Any]:
    """The estimate with its bootstrap interval, the placebo year and the placebo groups (in this order of draws)."""
    nan = float("nan")
    out: dict[str, Any] = {"estimate": nan, "ci_low": nan, "ci_high": nan, "placebo_estimate": nan,
                           "placebo_ci_low": nan, "placebo_ci_high": nan, "placebo_groups_low": nan,
                           "placebo_groups_high": nan, "placebo_groups_p": nan}
    delta = (m.values[e] - m.values[b]).to_dict()
    t_d = np.array([delta[k] for k in m.t_keys], dtype=float)
    p_d = np.array([delta[k] for k in m.pool], dtype=float)
    effects = _gap(t_d, p_d, m.order, m.ok) if len(m.treated) else np.array([])
    if len(effects):
        out["estimate"] = float(effects.mean())
        out["ci_low"], out["ci_high"] = bootstrap_ci(effects, n_boot=s.n_boot, rng=rng, alpha=s.alpha)
    py = s.placebo_year if s.placebo_year is not None else window[len(window) // 2] if len(window) >= 3 else None
    out["placebo_year"] = py
    if py is not None and b < py <= e and len(m.treated):
        pre = [y for y in window if y < py]
        post = [y for y in window if y >= py]
        pdelta = (m.values[post].mean(axis=1) - m.values[pre].mean(axis=1)).to_dict()
        pl = _gap(np.array([pdelta[k] for k in m.t_keys], dtype=float),
                  np.array([pdelta[k] for k in m.pool], dtype=float), m.order, m.ok)
        if len(pl):
            out["placebo_estimate"] = float(pl.mean())
            out["placebo_ci_low"], out["placebo_ci_high"] = bootstrap_ci(pl, n_boot=s.n_boot, rng=rng,
                                                                         alpha=s.alpha)
    # placebo treated groups: random undesignated sets of the same size, matched to the rest of the pool
    groups: list[float] = []
    if s.n_placebo and len(m.treated) and len(m.pool) > len(m.treated) + s.n_neighbours:
        groups = _placebo_groups(np.stack([rng.permutation(len(m.pool)) for _ in range(s.n_placebo)]),
                                 len(m.treated), m.p_lev, p_d, s.n_neighbours, m.caliper)
    out["placebo_groups"] = len(groups)
    if groups and not np.isnan(out["estimate"]):
        arr = np.asarray(groups)
        out["placebo_groups_low"], out["placebo_groups_high"] = (float(v) for v in
                                                                 np.quantile(arr, [s.alpha / 2, 1 - s.alpha / 2]))
        out["placebo_groups_p"] = float((np.abs(arr) >= abs(out["estimate"])).mean())
    return out


def _verdict(m: _Matched, est: dict[str, Any], pre_years: list[int], columns: pd.Index,
             s: _Setup) -> tuple[str, tuple[Message, ...]]:
    """The verdict code and every reason for it."""
    reasons: list[Message] = []
    if len(m.treated) < s.min_treated:
        reasons.append(Message("few_designated_matched", {"n": len(m.treated), "min": s.min_treated}))
    if len(m.pool) < s.min_controls:
        reasons.append(Message("few_undesignated", {"n": len(m.pool), "min": s.min_controls}))
    lo, hi = est["ci_low"], est["ci_high"]
    if reasons or np.isnan(lo):
        verdict = NOT_COMPARABLE
        if np.isnan(lo) and not reasons:
            reasons.append(Message("no_interval_designated"))
    elif lo <= 0 <= hi:
        verdict = NO_DIFFERENCE
        reasons.append(Message("interval_includes_zero", {"level": round(100 * (1 - s.alpha))}))
    else:
        verdict = DIFFERENCE
        gp, plo, phi = est["placebo_groups_p"], est["placebo_ci_low"], est["placebo_ci_high"]
        if not np.isnan(gp) and gp > s.alpha:
            reasons.append(Message("random_groups_as_far", {"share": gp, "n": est["placebo_groups"]}))
        if not np.isnan(plo) and not plo <= 0 <= phi:
            reasons.append(Message("gap_moved", {"year": est["placebo_year"], "estimate": est["placebo_estimate"],
                                                 "low": plo, "high": phi}))
    if not pre_years:
        reasons.append(Message("no_year_before_programme", {"start": s.programme_start,
                                                            "first": min(int(c) for c in columns),
                                                            "last": max(int(c) for c in columns)}))
    return verdict, tuple(reasons)


def _compare_outcome(outcome: str, s: _Setup, rng: np.random.Generator) -> tuple[dict[str, Any], list[dict]]:
    """One row of :func:`compare_changes` and its matches."""
    data = s.data
    panel = data[data["indicator"] == outcome].pivot_table(index="key", columns="year", values="value",
                                                         aggfunc="first")
    years = sorted(int(y) for y in panel.columns if panel[y].notna().sum() >= s.min_controls)
    b = int(s.base_year) if s.base_year is not None else (years[0] if years else None)
    e = int(s.end_year) if s.end_year is not None else (years[-1] if years else None)
    row: dict[str, Any] = {"outcome": outcome, "base_year": b, "end_year": e}
    if b is None or e is None or b not in panel.columns or e not in panel.columns or e <= b:
        return {**row, "verdict": NOT_COMPARABLE, "reasons": (Message("no_window"),)}, []
    window = [y for y in years if b <= y <= e]
    m = _match(panel, outcome, b, e, window, s)
    est = _estimate(m, b, e, window, s, rng)
    pre_years = [y for y in sorted(int(c) for c in panel.columns)
                 if s.programme_start is not None and y < s.programme_start]
    verdict, reasons = _verdict(m, est, pre_years, panel.columns, s)
    tv, cv = m.values.reindex(m.treated), m.values.reindex(m.controls)
    nan = float("nan")
    row.update({
        "n_designated": len(m.t_keys), "n_treated": len(m.treated), "n_outside_support": len(m.outside),
        "outside_support": ";".join(m.outside), "n_control_pool": len(m.pool),
        "n_controls_matched": len(m.controls), "n_excluded_designated": len(m.other_designated & set(m.complete)),
        "caliper": m.caliper,
        "treated_base_mean": float(tv[b].mean()) if len(m.treated) else nan,
        "control_base_mean": float(cv[b].mean()) if len(m.controls) else nan,
        "treated_change": float((tv[e] - tv[b]).mean()) if len(m.treated) else nan,
        "control_change": float((cv[e] - cv[b]).mean()) if len(m.controls) else nan,
        **est, "pre_years": ";".join(map(str, pre_years)), "verdict": verdict, "reasons": reasons})
    return row, m.rows


def compare_changes(long: pd.DataFrame, designations: pd.DataFrame, *,
                    outcomes: Sequence[str] = DEFAULT_OUTCOMES, programmes: Sequence[str] = ("win",),
                    level: str = "ortsteil", start_years: Mapping[str, int] = DEFAULT_START_YEARS,
                    base_year: int | None = None, end_year: int | None = None, placebo_year: int | None = None,
                    n_neighbours: int = 3, caliper_sd: float = 0.5, n_boot: int = 999, n_placebo: int = 499,
                    seed: int = 0, alpha: float = 0.05, min_treated: int = 5, min_controls: int = 10,
                    min_population: float | None = 300.0) -> ChangeComparison:
    """Change of designated Ortsteile over the observed window against undesignated ones with a similar start.

    Parameters
    ----------
    long
        Long indicator table (needs ``population`` at ``level`` when ``min_population`` is set).
    designations
        Designation list (see :func:`start_years_from_designations`).
    outcomes
        Rates compared (default :data:`DEFAULT_OUTCOMES`).
    programmes
        Programme tags whose Ortsteile are "designated" (default WiN). Ortsteile designated only under other
        programmes, or whose programme started after ``base_year``, are neither treated nor controls.
    base_year, end_year
        The window; default the first and the last year of each outcome's series.
    placebo_year
        Fake start inside the window (default the middle year): the same matches, mean of the years from it on
        minus the mean of the years before it. Designation did not change then, so an interval that excludes 0
        means the gap between designated and matched Ortsteile was moving inside the window.
    n_neighbours, caliper_sd
        Controls per designated Ortsteil, nearest by the outcome at ``base_year``; a control further away than
        ``caliper_sd`` standard deviations of the base-year values (over all Ortsteile) does not count, and a
        designated Ortsteil without any control within it is "outside common support" (left out, and listed).
    n_boot, n_placebo, seed, alpha
        Bootstrap draws, placebo groups, the seed of both and the interval level ``1 - alpha``.
    min_treated, min_controls
        Fewest matched designated and pool Ortsteile for any estimate.
    min_population
        Leave out Ortsteile with fewer residents (population of the population year nearest ``base_year``);
        their rates rest on small numbers. None keeps all.

    Returns
    -------
    ChangeComparison
    """
    _check(long, outcomes, level, n_neighbours, n_boot, n_placebo, alpha, caliper_sd)
    data = long[long["level"] == level]
    data = data.assign(key=data["key"].astype(str))
    designated = start_years_from_designations(designations, start_years=start_years)
    tags = set(programmes)
    prog_starts = {t: start_years[t] for t in tags if t in start_years}
    programme_start = min(prog_starts.values()) if prog_starts else None
    setup = _Setup(
        data=data, designated=designated,
        is_programme=designated["programmes"].map(lambda p: bool(tags & set(str(p).split(";")))),
        population=(data[data["indicator"] == "population"].dropna(subset=["value"])
                    if min_population is not None else None),
        programme_start=programme_start, base_year=base_year, end_year=end_year, placebo_year=placebo_year,
        n_neighbours=n_neighbours, caliper_sd=caliper_sd, n_boot=n_boot, n_placebo=n_placebo, alpha=alpha,
        min_treated=min_treated, min_controls=min_controls, min_population=min_population)
    rng = np.random.default_rng(seed)
    rows, match_rows = [], []
    for outcome in outcomes:
        row, matches = _compare_outcome(outcome, setup, rng)
        rows.append(row)
        match_rows += matches
    caveats = [Message(c, {"start": programme_start} if c == "no_year_before_start" else {}) for c in CAVEATS]
    return ChangeComparison(outcomes=pd.DataFrame(rows, columns=COLUMNS),
                            matches=pd.DataFrame(match_rows, columns=["outcome", "treated_key", "control_key",
                                                                      "distance"]),
                            caveats=caveats)


def _finite(value: Any) -> bool:
    return value is not None and bool(np.isfinite(value))


def comparison_verdict(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Give the plain verdict of :func:`compare_changes` as codes and figures.

    It is read from the comparison's rows (the ``outcomes`` frame's records or the published ones).

    Returns
    -------
    dict
        ``pattern`` (``"worse"``, ``"better"``, ``"none"`` or ``"mixed"``: where the intervals lie; every outcome
        here is higher-is-worse), ``no_pre_years`` (no series has a year before the programme start) and
        ``outcomes``: one :class:`Message` per row, ``compared`` with its figures or ``too_few_comparable``.
    """
    signs = set()
    for r in rows:
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is None or hi is None or not (_finite(lo) and _finite(hi)):
            signs.add("none")
        elif lo > 0:
            signs.add("worse")
        elif hi < 0:
            signs.add("better")
        else:
            signs.add("none")
    outcomes = []
    for r in rows:
        if r.get("n_treated") is None or not _finite(r.get("estimate")):
            outcomes.append(Message("too_few_comparable", {"outcome": r["outcome"]}))
            continue
        outcomes.append(Message("compared", {k: r.get(k) for k in (
            "outcome", "base_year", "end_year", "n_treated", "treated_change", "n_controls_matched",
            "control_change", "estimate", "ci_low", "ci_high", "placebo_groups_low", "placebo_groups_high",
            "placebo_year", "placebo_estimate", "placebo_ci_low", "placebo_ci_high", "n_outside_support")}))
    return {"pattern": signs.pop() if len(signs) == 1 else "mixed",
            "no_pre_years": all(not r.get("pre_years") for r in rows), "outcomes": outcomes}
