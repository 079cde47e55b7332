"""Funded versus comparable districts: matching on pre-start values and difference-in-differences.

The question: did districts change differently after their funding started than comparable districts without
funding? The method, step by step:

1. **Treated units**: districts in the designation list with a start year. The list does not hold start
   years; they come from the programme (``DEFAULT_START_YEARS``: WiN 1999, since the programme started in
   1998/1999; LLQ 2020, when the Senate created it; EFRE Stadtumbau 2014, the funding period 2014-2020). This
   is an assumption, named in every result. A district under several programmes takes the earliest start.
2. **Control pool**: districts of the same level that are not in the designation list at all (any programme,
   any confidence).
3. **Matching**: for each start-year cohort, the matching indicators at every pre-start year are
   standardised (over treated and pool) and each treated district gets its ``n_neighbours`` nearest pool
   districts (scikit-learn ``NearestNeighbors``, Euclidean, with replacement).
4. **Difference-in-differences** per outcome: for each unit ``delta = mean(post) - mean(pre)``; for each treated
   unit ``effect = delta - mean(delta of its controls)``; the estimate is the mean effect (the average effect
   on the treated). The 95 % interval comes from a seeded bootstrap over treated units (percentile method,
   matches held fixed).
5. **Pre-trend check** (needs >= 2 pre years): the same estimate between the first and the last pre-start
   year; if its interval excludes 0, treated and controls already diverged before the start.
6. **Verdict**: ``"supports a conclusion"`` only when the interval excludes 0, there are at least
   ``min_treated`` treated units, ``min_controls`` districts in the pool, ``min_pre_years`` pre-start years,
   ``min_post_years`` post-start years and the pre-trend check passes. Otherwise ``"data too thin to
   conclude"``, with every reason.

With the real need series (SGB II 2005-2018, unemployment 1999-2017) and WiN running since 1999, no need series
has a year before WiN started, and LLQ (2020) started after the series end: the cohort estimate above is "data
too thin to conclude" by construction, and the output says so with the years.

What the series *can* show is :func:`compare_changes`: how the designated Ortsteile changed over the observed
window (e.g. 2005 -> 2018) compared with undesignated Ortsteile that had a similar level at its start, while the
funding ran. That is a matched difference in changes, not an effect of the funding (the designated areas were
chosen for their need, and their funding started before the window); it comes with the checks that can be made:
a bootstrap interval, a placebo year (a fake start inside the window, where the designation did not change) and
placebo treated groups (random sets of undesignated Ortsteile run through the same estimator).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from geo.analysis.monitoring._common import check_long
from geo.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_START_YEARS",
    "SUPPORTS",
    "TOO_THIN",
    "ChangeComparison",
    "EvaluationResult",
    "compare_changes",
    "evaluate_funding",
    "start_years_from_designations",
]

#: assumed start year of each programme tag (the designation list has none)
DEFAULT_START_YEARS: dict[str, int] = {
    "win": 1999,
    "llq_kleinst_sonder": 2020,
    "llq_quartier_im_werden": 2020,
    "efre_stadtumbau": 2014,
}
SUPPORTS = "supports a conclusion"
TOO_THIN = "data too thin to conclude"
METHOD_BREAK_YEAR = 2016
#: need series compared by default (Ortsteilatlas; see geo/pipeline/need_catalogue.yml)
DEFAULT_OUTCOMES = ("sgb2_u65_pct", "sgb2_u15_pct", "unemployment_pct")
#: verdicts of :func:`compare_changes` (the causal effect is never identified by it)
DIFFERENCE = "designated Ortsteile changed differently (not an effect estimate)"
NO_DIFFERENCE = "no difference detectable"
NOT_COMPARABLE = "too few comparable Ortsteile"


@dataclass(frozen=True)
class EvaluationResult:
    """Result of :func:`evaluate_funding`.

    Attributes
    ----------
    outcomes
        One row per start-year cohort and outcome: ``start_year``, ``outcome``, ``estimate``, ``ci_low``,
        ``ci_high``, ``n_treated``, ``n_control_pool``, ``n_controls_matched``, ``pre_years``, ``post_years``,
        ``pretrend_estimate``, ``pretrend_ci_low``, ``pretrend_ci_high``, ``verdict`` and ``reason``.
    matches
        ``start_year``, ``treated_key``, ``control_key``, ``distance`` (in standardised units).
    treated
        The treated districts with ``start_year`` and how it was set (``start_year_source``).
    caveats
        Plain-language limits that apply to every estimate.
    """

    outcomes: pd.DataFrame
    matches: pd.DataFrame
    treated: pd.DataFrame
    caveats: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few plain sentences for a programme designer."""
        lines = []
        for r in self.outcomes.itertuples():
            est = "n/a" if np.isnan(r.estimate) else f"{r.estimate:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            lines.append(f"Start {r.start_year}, {r.outcome}: {est} -> {r.verdict}"
                         + (f" ({r.reason})" if r.reason else ""))
        return "\n".join([*lines, *(f"Caveat: {c}" for c in self.caveats)])


def start_years_from_designations(designations: pd.DataFrame, *,
                                  start_years: Mapping[str, int] = DEFAULT_START_YEARS) -> pd.DataFrame:
    """One row per designated key with its assumed start year.

    A ``start_year`` column in ``designations`` wins where it is set; otherwise the earliest start among the
    row's programmes (``;``-joined tags). Keys may themselves be ``;``-joined. Rows without a key or without a
    known programme are dropped.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``areas``, ``programmes``, ``confidence``, ``start_year`` (int), ``start_year_source``.
    """
    missing = [c for c in ("key", "programmes") if c not in designations.columns]
    if missing:
        raise ValidationError("cannot read the designations",
                              problems=[Problem("missing_column", f"designations lack {c!r}") for c in missing])
    rows = []
    for rec in designations.to_dict("records"):
        keys = [k.strip() for k in str(rec.get("key") or "").split(";") if k.strip() and k.strip() != "nan"]
        tags = [t.strip() for t in str(rec.get("programmes") or "").split(";") if t.strip()]
        explicit = rec.get("start_year")
        if explicit is not None and not pd.isna(explicit):
            start, source = int(explicit), "designation list"
        else:
            known = [(start_years[t], t) for t in tags if t in start_years]
            if not known:
                continue
            start, tag = min(known)
            source = f"assumed: programme '{tag}' started {start}"
        for key in keys:
            rows.append({"key": key, "areas": str(rec.get("area", "")), "programmes": ";".join(tags),
                         "confidence": rec.get("confidence", pd.NA), "start_year": start,
                         "start_year_source": source})
    cols = ["key", "areas", "programmes", "confidence", "start_year", "start_year_source"]
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    frame = frame.sort_values(["key", "start_year"], kind="stable")
    agg = frame.groupby("key", sort=True).agg(
        areas=("areas", lambda s: "; ".join(dict.fromkeys(s))),
        programmes=("programmes", lambda s: ";".join(sorted({t for p in s for t in p.split(";") if t}))),
        confidence=("confidence", "first"), start_year=("start_year", "min"),
        start_year_source=("start_year_source", "first"))
    return agg.reset_index()[cols]


def _bootstrap_ci(effects: np.ndarray, *, n_boot: int, rng: np.random.Generator,
                  alpha: float) -> tuple[float, float]:
    if len(effects) < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, len(effects), size=(n_boot, len(effects)))
    means = effects[idx].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def _did(values: pd.DataFrame, treated: list[str], matched: dict[str, list[str]], pre: list[int],
         post: list[int]) -> np.ndarray:
    """Per treated unit: (post mean - pre mean) minus the same for the mean of its controls; NaN-safe."""
    delta = values[post].mean(axis=1, skipna=False) - values[pre].mean(axis=1, skipna=False)
    out = []
    for key in treated:
        controls = delta.reindex(matched[key]).dropna()
        d = delta.get(key, np.nan)
        out.append(d - controls.mean() if len(controls) and not np.isnan(d) else np.nan)
    return np.asarray(out, dtype=float)


def evaluate_funding(long: pd.DataFrame, designations: pd.DataFrame, *,
                     outcomes: Sequence[str] = DEFAULT_OUTCOMES, matching_indicators: Sequence[str] | None = None,
                     level: str = "ortsteil", start_years: Mapping[str, int] = DEFAULT_START_YEARS,
                     confidences: Iterable[str] | None = None, n_neighbours: int = 3, n_boot: int = 999,
                     seed: int = 0, alpha: float = 0.05, min_treated: int = 5, min_controls: int = 10,
                     min_pre_years: int = 3, min_post_years: int = 2) -> EvaluationResult:
    """Compare funded districts with matched unfunded ones by difference-in-differences.

    Parameters
    ----------
    long
        Long indicator table.
    designations
        Designation list (``key``, ``programmes``, optional ``start_year``, ``confidence``, ``area``).
    outcomes
        Indicators whose change is compared.
    matching_indicators
        Indicators whose pre-start values define "comparable"; default the outcomes.
    level
        Level of the districts (designations must use keys of this level).
    start_years
        Assumed start year per programme tag (see :data:`DEFAULT_START_YEARS`).
    confidences
        Keep only designations with these ``confidence`` values (default all); the others are dropped from
        treated *and* controls.
    n_neighbours
        Controls per treated district.
    n_boot, seed, alpha
        Bootstrap draws, their seed and the interval level (``1 - alpha``).
    min_treated, min_controls, min_pre_years, min_post_years
        What "enough data" means for a verdict.

    Returns
    -------
    EvaluationResult
    """
    check_long(long, what="the evaluation")
    matching = list(matching_indicators or outcomes)
    problems = [Problem("indicator", f"indicator {n!r} not in the table at level {level!r}")
                for n in dict.fromkeys([*outcomes, *matching])
                if not ((long["indicator"] == n) & (long["level"] == level)).any()]
    if n_neighbours < 1 or n_boot < 10 or not 0 < alpha < 1:
        problems.append(Problem("option", f"n_neighbours={n_neighbours}, n_boot={n_boot}, alpha={alpha}"))
    if problems:
        raise ValidationError("cannot evaluate the funding", problems=problems)

    data = long[(long["level"] == level) & long["indicator"].isin([*outcomes, *matching])]
    data = data.assign(key=data["key"].astype(str))
    panel = {name: part.pivot_table(index="key", columns="year", values="value", aggfunc="first")
             for name, part in data.groupby("indicator")}
    with_data = set().union(*(set(p.index) for p in panel.values()))

    all_designated = start_years_from_designations(designations, start_years=start_years)
    designated_keys = set(all_designated["key"])
    treated_all = all_designated
    if confidences is not None:
        treated_all = all_designated[all_designated["confidence"].isin(list(confidences))]
    treated_all = treated_all[treated_all["key"].isin(with_data)].reset_index(drop=True)
    pool = sorted(with_data - designated_keys)
    rng = np.random.default_rng(seed)

    rows, match_rows = [], []
    caveats = [
        "Start years are assumptions from the programme history (" +
        ", ".join(f"{k}={v}" for k, v in start_years.items()) + "), not from the designation list.",
        "The designation list is current; areas funded earlier and since dropped count as controls.",
        "Matched controls are drawn with replacement; the bootstrap resamples treated districts only.",
    ]
    demographic = [o for o in outcomes if o.startswith("share_")]
    if demographic:
        caveats.append("Outcomes " + ", ".join(demographic) + " are demographic shares: they describe the "
                       "population and are not need.")
    years_all = sorted(int(y) for y in data["year"].unique())
    for start, cohort in treated_all.groupby("start_year", sort=True):
        start = int(start)
        pre = [y for y in years_all if y < start]
        post = [y for y in years_all if y >= start]
        if pre and post and pre[-1] < METHOD_BREAK_YEAR <= post[-1] and demographic:
            msg = (f"The population statistics changed method in {METHOD_BREAK_YEAR}; the comparison assumes the "
                   "break affects funded and comparison districts alike.")
            if msg not in caveats:
                caveats.append(msg)
        treated = cohort["key"].tolist()
        # features: each matching indicator at each pre year
        feats = pd.concat({n: panel[n].reindex(columns=pre) for n in matching}, axis=1) if pre else pd.DataFrame()
        feats = feats.reindex(treated + pool)
        usable = feats.dropna() if not feats.empty else feats
        t_ok = [k for k in treated if k in usable.index]
        c_ok = [k for k in pool if k in usable.index]
        matched: dict[str, list[str]] = {}
        if t_ok and c_ok and usable.shape[1] > 0:
            X = usable.to_numpy(dtype=float)
            sd = X.std(axis=0)
            Z = pd.DataFrame((X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0), index=usable.index)
            nn = NearestNeighbors(n_neighbors=min(n_neighbours, len(c_ok))).fit(Z.loc[c_ok].to_numpy())
            dist, ind = nn.kneighbors(Z.loc[t_ok].to_numpy())
            for i, key in enumerate(t_ok):
                matched[key] = [c_ok[j] for j in ind[i]]
                match_rows += [{"start_year": start, "treated_key": key, "control_key": c_ok[j],
                                "distance": float(d)} for j, d in zip(ind[i], dist[i], strict=True)]
        n_matched = len({c for cs in matched.values() for c in cs})
        for outcome in outcomes:
            vals = panel[outcome].reindex(columns=years_all)
            reasons = []
            est = lo = hi = pt = pt_lo = pt_hi = float("nan")
            if len(t_ok) < min_treated:
                reasons.append(f"{len(t_ok)} funded districts with complete pre-start data (need {min_treated})")
            if len(c_ok) < min_controls:
                reasons.append(f"{len(c_ok)} comparison districts (need {min_controls})")
            if len(pre) < min_pre_years:
                reasons.append(f"{len(pre)} years before the start {start} ({', '.join(map(str, pre)) or 'none'}; "
                               f"need {min_pre_years})")
            if len(post) < min_post_years:
                reasons.append(f"{len(post)} years from the start on (need {min_post_years})")
            if matched and post and pre:
                effects = _did(vals, t_ok, matched, pre, post)
                effects = effects[~np.isnan(effects)]
                if len(effects):
                    est = float(effects.mean())
                    lo, hi = _bootstrap_ci(effects, n_boot=n_boot, rng=rng, alpha=alpha)
                    if np.isnan(lo):
                        reasons.append("too few funded districts for an interval")
                    elif lo <= 0 <= hi:
                        reasons.append(f"the {1 - alpha:.0%} interval includes 0")
                if len(pre) >= 2:
                    placebo = _did(vals, t_ok, matched, [pre[0]], [pre[-1]])
                    placebo = placebo[~np.isnan(placebo)]
                    if len(placebo):
                        pt = float(placebo.mean())
                        pt_lo, pt_hi = _bootstrap_ci(placebo, n_boot=n_boot, rng=rng, alpha=alpha)
                        if not np.isnan(pt_lo) and not pt_lo <= 0 <= pt_hi:
                            reasons.append(f"funded and comparison districts already diverged before {start} "
                                           f"(pre-trend {pt:+.2f} [{pt_lo:+.2f}, {pt_hi:+.2f}])")
                else:
                    reasons.append("no pre-trend check possible (fewer than 2 years before the start)")
            elif not reasons:
                reasons.append("no matched comparison")
            rows.append({"start_year": start, "outcome": outcome, "estimate": est, "ci_low": lo, "ci_high": hi,
                         "n_treated": len(t_ok), "n_control_pool": len(c_ok), "n_controls_matched": n_matched,
                         "pre_years": ";".join(map(str, pre)), "post_years": ";".join(map(str, post)),
                         "pretrend_estimate": pt, "pretrend_ci_low": pt_lo, "pretrend_ci_high": pt_hi,
                         "verdict": TOO_THIN if reasons else SUPPORTS, "reason": "; ".join(reasons)})
    outcome_cols = ["start_year", "outcome", "estimate", "ci_low", "ci_high", "n_treated", "n_control_pool",
                    "n_controls_matched", "pre_years", "post_years", "pretrend_estimate", "pretrend_ci_low",
                    "pretrend_ci_high", "verdict", "reason"]
    return EvaluationResult(outcomes=pd.DataFrame(rows, columns=outcome_cols),
                            matches=pd.DataFrame(match_rows, columns=["start_year", "treated_key", "control_key",
                                                                      "distance"]),
                            treated=treated_all, caveats=caveats)


# ------------------------------------------------------------------------------ matched change comparison


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
        (years before the programme start in the series), ``verdict`` and ``reason``.
    matches
        ``outcome``, ``treated_key``, ``control_key``, ``distance`` (in the outcome's unit at the base year).
    caveats
        Limits that apply to every row.
    """

    outcomes: pd.DataFrame
    matches: pd.DataFrame
    caveats: list[str] = field(default_factory=list)


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
    """The placebo estimates of :func:`compare_changes`, all draws at once: per row of ``fakes`` (a permutation
    of the pool) its first ``n_fake`` Ortsteile are matched to the rest as :func:`_match_1d` matches, and the
    mean of :func:`_gap` is kept where it has a row. Each draw is sorted, averaged and filtered on its own, so
    the figures are those of one draw at a time."""
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
    from geo.analysis.monitoring.inequality import nearest_year

    check_long(long, what="the change comparison")
    problems = [Problem("indicator", f"indicator {n!r} not in the table at level {level!r}")
                for n in outcomes if not ((long["indicator"] == n) & (long["level"] == level)).any()]
    if n_neighbours < 1 or n_boot < 10 or n_placebo < 0 or not 0 < alpha < 1 or caliper_sd <= 0:
        problems.append(Problem("option", f"n_neighbours={n_neighbours}, n_boot={n_boot}, n_placebo={n_placebo}, "
                                          f"alpha={alpha}, caliper_sd={caliper_sd}"))
    if problems:
        raise ValidationError("cannot compare the changes", problems=problems)
    data = long[long["level"] == level]
    data = data.assign(key=data["key"].astype(str))
    designated = start_years_from_designations(designations, start_years=start_years)
    tags = set(programmes)
    is_prog = designated["programmes"].map(lambda p: bool(tags & set(str(p).split(";"))))
    prog_starts = {t: start_years[t] for t in tags if t in start_years}
    programme_start = min(prog_starts.values()) if prog_starts else None
    small: set[str] = set()
    if min_population is not None:
        pop = data[data["indicator"] == "population"].dropna(subset=["value"])
    rows, match_rows = [], []
    rng = np.random.default_rng(seed)
    for outcome in outcomes:
        panel = data[data["indicator"] == outcome].pivot_table(index="key", columns="year", values="value",
                                                             aggfunc="first")
        years = sorted(int(y) for y in panel.columns if panel[y].notna().sum() >= min_controls)
        b = int(base_year) if base_year is not None else (years[0] if years else None)
        e = int(end_year) if end_year is not None else (years[-1] if years else None)
        row: dict[str, object] = {"outcome": outcome, "base_year": b, "end_year": e}
        reasons: list[str] = []
        if b is None or e is None or b not in panel.columns or e not in panel.columns or e <= b:
            rows.append({**row, "verdict": NOT_COMPARABLE, "reason": "no window with data"})
            continue
        window = [y for y in years if b <= y <= e]
        if min_population is not None and len(pop):
            py = nearest_year(b, pop["year"].astype(int).unique())
            p = pop[pop["year"] == py].set_index("key")["value"]
            small = set(p.index[p < min_population])
        complete = panel[[b, e]].dropna().index.difference(sorted(small))
        treated_all = designated[is_prog & (designated["start_year"] <= b)]
        other_designated = set(designated["key"]) - set(treated_all["key"])
        t_keys = [k for k in treated_all["key"] if k in complete]
        pool = [k for k in complete if k not in set(designated["key"])]
        levels = panel[b]
        caliper = float(caliper_sd * np.nanstd(levels.reindex(complete).to_numpy(dtype=float)))
        values = panel.reindex(columns=window)
        lv = levels.to_dict()
        t_lev = np.array([lv[k] for k in t_keys], dtype=float)
        p_lev = np.array([lv[k] for k in pool], dtype=float)
        delta = (values[e] - values[b]).to_dict()
        t_d = np.array([delta[k] for k in t_keys], dtype=float)
        p_d = np.array([delta[k] for k in pool], dtype=float)
        order, ok = (_match_1d(t_lev, p_lev, n_neighbours, caliper) if len(t_keys) and len(pool)
                     else (np.zeros((len(t_keys), 0), dtype=int), np.zeros((len(t_keys), 0), dtype=bool)))
        has: list[bool] = (np.asarray(ok.any(axis=1), dtype=bool).tolist() if ok.size
                           else [False] * len(t_keys))
        outside = [k for k, h in zip(t_keys, has, strict=True) if not h]
        tk = [k for k, h in zip(t_keys, has, strict=True) if h]
        for i, key in enumerate(t_keys):
            for j, good in zip(order[i], ok[i], strict=True):
                if good:
                    match_rows.append({"outcome": outcome, "treated_key": key, "control_key": pool[j],
                                       "distance": float(abs(t_lev[i] - p_lev[j]))})
        ck = sorted({pool[j] for i in range(len(t_keys)) for j, good in zip(order[i], ok[i], strict=True) if good})
        effects = _gap(t_d, p_d, order, ok) if len(tk) else np.array([])
        est = lo = hi = pe = plo = phi = glo = ghi = gp = float("nan")
        if len(tk) < min_treated:
            reasons.append(f"{len(tk)} designated Ortsteile with a comparable undesignated one (need {min_treated})")
        if len(pool) < min_controls:
            reasons.append(f"{len(pool)} undesignated Ortsteile with data (need {min_controls})")
        if len(effects):
            est = float(effects.mean())
            lo, hi = _bootstrap_ci(effects, n_boot=n_boot, rng=rng, alpha=alpha)
        py = placebo_year if placebo_year is not None else window[len(window) // 2] if len(window) >= 3 else None
        if py is not None and b < py <= e and len(tk):
            pre = [y for y in window if y < py]
            post = [y for y in window if y >= py]
            pdelta = (values[post].mean(axis=1) - values[pre].mean(axis=1)).to_dict()
            pl = _gap(np.array([pdelta[k] for k in t_keys], dtype=float),
                      np.array([pdelta[k] for k in pool], dtype=float), order, ok)
            if len(pl):
                pe = float(pl.mean())
                plo, phi = _bootstrap_ci(pl, n_boot=n_boot, rng=rng, alpha=alpha)
        # placebo treated groups: random undesignated sets of the same size, matched to the rest of the pool
        groups = []
        if n_placebo and len(tk) and len(pool) > len(tk) + n_neighbours:
            groups = _placebo_groups(np.stack([rng.permutation(len(pool)) for _ in range(n_placebo)]), len(tk),
                                     p_lev, p_d, n_neighbours, caliper)
        if groups and not np.isnan(est):
            arr = np.asarray(groups)
            glo, ghi = (float(v) for v in np.quantile(arr, [alpha / 2, 1 - alpha / 2]))
            gp = float((np.abs(arr) >= abs(est)).mean())
        pre_years = [y for y in sorted(int(c) for c in panel.columns)
                     if programme_start is not None and y < programme_start]
        if reasons or np.isnan(lo):
            verdict = NOT_COMPARABLE
            if np.isnan(lo) and not reasons:
                reasons.append("too few designated Ortsteile for an interval")
        elif lo <= 0 <= hi:
            verdict = NO_DIFFERENCE
            reasons.append(f"the {1 - alpha:.0%} interval includes 0")
        else:
            verdict = DIFFERENCE
            if not np.isnan(gp) and gp > alpha:
                reasons.append(f"random groups of undesignated Ortsteile give an estimate as far from 0 in "
                               f"{gp:.0%} of {len(groups)} draws")
            if not np.isnan(plo) and not plo <= 0 <= phi:
                reasons.append(f"the gap moved inside the window (placebo year {py}: {pe:+.2f} "
                               f"[{plo:+.2f}, {phi:+.2f}])")
        if not pre_years:
            reasons.append(f"no year before the programme start {programme_start} in the series "
                           f"({min(int(c) for c in panel.columns)}-{max(int(c) for c in panel.columns)}): "
                           "no pre-trend check, no effect estimate")
        tv = values.reindex(tk)
        cv = values.reindex(ck)
        row.update({
            "n_designated": len(t_keys), "n_treated": len(tk), "n_outside_support": len(outside),
            "outside_support": ";".join(outside), "n_control_pool": len(pool), "n_controls_matched": len(ck),
            "n_excluded_designated": len(other_designated & set(complete)), "caliper": caliper,
            "treated_base_mean": float(tv[b].mean()) if len(tk) else float("nan"),
            "control_base_mean": float(cv[b].mean()) if len(ck) else float("nan"),
            "treated_change": float((tv[e] - tv[b]).mean()) if len(tk) else float("nan"),
            "control_change": float((cv[e] - cv[b]).mean()) if len(ck) else float("nan"),
            "estimate": est, "ci_low": lo, "ci_high": hi, "placebo_year": py, "placebo_estimate": pe,
            "placebo_ci_low": plo, "placebo_ci_high": phi, "placebo_groups": len(groups),
            "placebo_groups_low": glo, "placebo_groups_high": ghi, "placebo_groups_p": gp,
            "pre_years": ";".join(map(str, pre_years)), "verdict": verdict, "reason": "; ".join(reasons)})
        rows.append(row)
    caveats = [
        "The designation list is compiled by hand from public sources and is current; areas funded earlier and "
        "since dropped count as undesignated.",
        "WiN areas are often smaller than an Ortsteil (a few streets or one estate); the whole Ortsteil is "
        "counted as designated, which dilutes any difference.",
        "WiN started in " + str(programme_start) + " (assumed), before every need series of the Ortsteilatlas "
        "(SGB II from 2005, unemployment from 1999): there is no year before the start, so no counterfactual and "
        "no check of parallel trends before the start. The comparison describes how funded and similar "
        "unfunded Ortsteile changed while the funding ran; it does not measure the effect of the funding.",
        "Designated Ortsteile were chosen for their need: those with the highest levels have no comparable "
        "undesignated Ortsteil (outside common support) and are left out; matching on one year's level invites "
        "regression to the mean, which the placebo groups show the size of.",
        "LLQ started in 2020, after the series end (2018): it cannot be evaluated with these series.",
        "The list is current: Ortsteile whose need rose were more likely to be designated, so a rise among the "
        "designated is expected even without any effect of the funding (selection).",
    ]
    cols = ["outcome", "base_year", "end_year", "n_designated", "n_treated", "n_outside_support", "outside_support",
            "n_control_pool", "n_controls_matched", "n_excluded_designated", "caliper", "treated_base_mean",
            "control_base_mean", "treated_change", "control_change", "estimate", "ci_low", "ci_high",
            "placebo_year", "placebo_estimate", "placebo_ci_low", "placebo_ci_high", "placebo_groups",
            "placebo_groups_low", "placebo_groups_high", "placebo_groups_p", "pre_years", "verdict", "reason"]
    return ChangeComparison(outcomes=pd.DataFrame(rows, columns=cols),
                            matches=pd.DataFrame(match_rows, columns=["outcome", "treated_key", "control_key",
                                                                      "distance"]),
                            caveats=caveats)
