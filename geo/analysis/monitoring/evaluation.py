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
6. **Verdict**: :data:`SUPPORTS` (a conclusion) only when the interval excludes 0, there are at least
   ``min_treated`` treated units, ``min_controls`` districts in the pool, ``min_pre_years`` pre-start years,
   ``min_post_years`` post-start years and the pre-trend check passes. Otherwise :data:`TOO_THIN`, with every
   reason as a :class:`~geo.analysis.monitoring.messages.Message` (code and figures, never a sentence).

With the real need series (SGB II 2005-2018, unemployment 1999-2017) and WiN running since 1999, no need series
has a year before WiN started, and LLQ (2020) started after the series end: the cohort estimate above is "data
too thin" by construction, and the output says so with the years.

What the series *can* show is
:func:`geo.analysis.monitoring.comparison.compare_changes`: how the designated Ortsteile changed over the observed
window (e.g. 2005 -> 2018) compared with undesignated Ortsteile that had a similar level at its start, while the
funding ran. That is a matched difference in changes, not an effect of the funding (the designated areas were
chosen for their need, and their funding started before the window); it comes with the checks that can be made:
a bootstrap interval, a placebo year (a fake start inside the window, where the designation did not change) and
placebo treated groups (random sets of undesignated Ortsteile run through the same estimator).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from geo.analysis.monitoring._common import check_long
from geo.analysis.monitoring.messages import Message
from geo.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_START_YEARS",
    "SUPPORTS",
    "TOO_THIN",
    "EvaluationResult",
    "bootstrap_ci",
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
#: verdicts of :func:`evaluate_funding` (codes)
SUPPORTS = "supports"
TOO_THIN = "too_thin"
METHOD_BREAK_YEAR = 2016
#: need series compared by default (Ortsteilatlas; see geo/pipeline/need_catalogue.yml)
DEFAULT_OUTCOMES = ("sgb2_u65_pct", "sgb2_u15_pct", "unemployment_pct")
OUTCOME_COLUMNS = ["start_year", "outcome", "estimate", "ci_low", "ci_high", "n_treated", "n_control_pool",
                   "n_controls_matched", "pre_years", "post_years", "pretrend_estimate", "pretrend_ci_low",
                   "pretrend_ci_high", "verdict", "reasons"]


@dataclass(frozen=True)
class EvaluationResult:
    """Result of :func:`evaluate_funding`.

    Attributes
    ----------
    outcomes
        One row per start-year cohort and outcome: ``start_year``, ``outcome``, ``estimate``, ``ci_low``,
        ``ci_high``, ``n_treated``, ``n_control_pool``, ``n_controls_matched``, ``pre_years``, ``post_years``,
        ``pretrend_estimate``, ``pretrend_ci_low``, ``pretrend_ci_high``, ``verdict`` (:data:`SUPPORTS` or
        :data:`TOO_THIN`) and ``reasons`` (a tuple of :class:`Message`).
    matches
        ``start_year``, ``treated_key``, ``control_key``, ``distance`` (in standardised units).
    treated
        The treated districts with ``start_year`` and how it was set (``start_year_source``).
    caveats
        Limits that apply to every estimate (:class:`Message` codes).
    """

    outcomes: pd.DataFrame
    matches: pd.DataFrame
    treated: pd.DataFrame
    caveats: list[Message] = field(default_factory=list)


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


def bootstrap_ci(effects: np.ndarray, *, n_boot: int, rng: np.random.Generator,
                 alpha: float) -> tuple[float, float]:
    """Percentile interval of the mean of ``effects`` from ``n_boot`` resamples; NaN with fewer than 2."""
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


@dataclass(frozen=True)
class _Rules:
    """What "enough data" means for a verdict, and how the intervals are drawn."""

    n_boot: int
    alpha: float
    min_treated: int
    min_controls: int
    min_pre_years: int
    min_post_years: int


def _check(long: pd.DataFrame, outcomes: Sequence[str], matching: list[str], level: str, n_neighbours: int,
           n_boot: int, alpha: float) -> None:
    check_long(long, what="the evaluation")
    problems = [Problem("indicator", f"indicator {n!r} not in the table at level {level!r}")
                for n in dict.fromkeys([*outcomes, *matching])
                if not ((long["indicator"] == n) & (long["level"] == level)).any()]
    if n_neighbours < 1 or n_boot < 10 or not 0 < alpha < 1:
        problems.append(Problem("option", f"n_neighbours={n_neighbours}, n_boot={n_boot}, alpha={alpha}"))
    if problems:
        raise ValidationError("cannot evaluate the funding", problems=problems)


def _caveats(start_years: Mapping[str, int], outcomes: Sequence[str]) -> list[Message]:
    caveats = [Message("start_years_assumed", {"years": dict(start_years)}),
               Message("designation_list_current"), Message("controls_with_replacement")]
    demographic = [o for o in outcomes if o.startswith("share_")]
    if demographic:
        caveats.append(Message("demographic_outcomes", {"outcomes": demographic}))
    return caveats


def _match_cohort(panel: Mapping[str, pd.DataFrame], matching: list[str], treated: list[str], pool: list[str],
                  pre: list[int], n_neighbours: int) -> tuple[list[str], list[str], dict[str, list[tuple[str, float]]]]:
    """Match each treated district to its nearest pool districts on the pre-year indicators.

    Returns the treated and pool districts with every matching indicator at every pre year, and per treated
    district its ``n_neighbours`` nearest pool districts (standardised values, Euclidean, with replacement)
    with distances.
    """
    # features: each matching indicator at each pre year
    feats = pd.concat({n: panel[n].reindex(columns=pre) for n in matching}, axis=1) if pre else pd.DataFrame()
    feats = feats.reindex(treated + pool)
    usable = feats.dropna() if not feats.empty else feats
    t_ok = [k for k in treated if k in usable.index]
    c_ok = [k for k in pool if k in usable.index]
    matched: dict[str, list[tuple[str, float]]] = {}
    if t_ok and c_ok and usable.shape[1] > 0:
        X = usable.to_numpy(dtype=float)
        sd = X.std(axis=0)
        Z = pd.DataFrame((X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0), index=usable.index)
        nn = NearestNeighbors(n_neighbors=min(n_neighbours, len(c_ok))).fit(Z.loc[c_ok].to_numpy())
        dist, ind = nn.kneighbors(Z.loc[t_ok].to_numpy())
        for i, key in enumerate(t_ok):
            matched[key] = [(c_ok[j], float(d)) for j, d in zip(ind[i], dist[i], strict=True)]
    return t_ok, c_ok, matched


def _data_reasons(t_ok: list[str], c_ok: list[str], start: int, pre: list[int], post: list[int],
                  rules: _Rules) -> list[Message]:
    reasons = []
    if len(t_ok) < rules.min_treated:
        reasons.append(Message("few_treated", {"n": len(t_ok), "min": rules.min_treated}))
    if len(c_ok) < rules.min_controls:
        reasons.append(Message("few_controls", {"n": len(c_ok), "min": rules.min_controls}))
    if len(pre) < rules.min_pre_years:
        reasons.append(Message("few_pre_years", {"n": len(pre), "start": start, "years": list(pre),
                                                 "min": rules.min_pre_years}))
    if len(post) < rules.min_post_years:
        reasons.append(Message("few_post_years", {"n": len(post), "min": rules.min_post_years}))
    return reasons


def _cohort_row(vals: pd.DataFrame, outcome: str, start: int, pre: list[int], post: list[int], t_ok: list[str],
                c_ok: list[str], matched: dict[str, list[str]], rules: _Rules,
                rng: np.random.Generator) -> dict[str, object]:
    """Estimate, interval and pre-trend of one outcome in one start-year cohort, with the verdict's reasons."""
    reasons = _data_reasons(t_ok, c_ok, start, pre, post, rules)
    est = lo = hi = pt = pt_lo = pt_hi = float("nan")
    if matched and post and pre:
        effects = _did(vals, t_ok, matched, pre, post)
        effects = effects[~np.isnan(effects)]
        if len(effects):
            est = float(effects.mean())
            lo, hi = bootstrap_ci(effects, n_boot=rules.n_boot, rng=rng, alpha=rules.alpha)
            if np.isnan(lo):
                reasons.append(Message("no_interval"))
            elif lo <= 0 <= hi:
                reasons.append(Message("interval_includes_zero", {"level": round(100 * (1 - rules.alpha))}))
        if len(pre) >= 2:
            placebo = _did(vals, t_ok, matched, [pre[0]], [pre[-1]])
            placebo = placebo[~np.isnan(placebo)]
            if len(placebo):
                pt = float(placebo.mean())
                pt_lo, pt_hi = bootstrap_ci(placebo, n_boot=rules.n_boot, rng=rng, alpha=rules.alpha)
                if not np.isnan(pt_lo) and not pt_lo <= 0 <= pt_hi:
                    reasons.append(Message("pre_trend_diverged", {"start": start, "estimate": pt, "low": pt_lo,
                                                                  "high": pt_hi}))
        else:
            reasons.append(Message("no_pre_trend_check"))
    elif not reasons:
        reasons.append(Message("no_match"))
    return {"start_year": start, "outcome": outcome, "estimate": est, "ci_low": lo, "ci_high": hi,
            "n_treated": len(t_ok), "n_control_pool": len(c_ok),
            "n_controls_matched": len({c for cs in matched.values() for c in cs}),
            "pre_years": ";".join(map(str, pre)), "post_years": ";".join(map(str, post)),
            "pretrend_estimate": pt, "pretrend_ci_low": pt_lo, "pretrend_ci_high": pt_hi,
            "verdict": TOO_THIN if reasons else SUPPORTS, "reasons": tuple(reasons)}


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
    matching = list(matching_indicators or outcomes)
    _check(long, outcomes, matching, level, n_neighbours, n_boot, alpha)
    data = long[(long["level"] == level) & long["indicator"].isin([*outcomes, *matching])]
    data = data.assign(key=data["key"].astype(str))
    panel = {name: part.pivot_table(index="key", columns="year", values="value", aggfunc="first")
             for name, part in data.groupby("indicator")}
    with_data = set().union(*(set(p.index) for p in panel.values()))

    all_designated = start_years_from_designations(designations, start_years=start_years)
    treated_all = all_designated
    if confidences is not None:
        treated_all = all_designated[all_designated["confidence"].isin(list(confidences))]
    treated_all = treated_all[treated_all["key"].isin(with_data)].reset_index(drop=True)
    pool = sorted(with_data - set(all_designated["key"]))
    rng = np.random.default_rng(seed)
    rules = _Rules(n_boot=n_boot, alpha=alpha, min_treated=min_treated, min_controls=min_controls,
                   min_pre_years=min_pre_years, min_post_years=min_post_years)
    caveats = _caveats(start_years, outcomes)
    demographic = [o for o in outcomes if o.startswith("share_")]
    years_all = sorted(int(y) for y in data["year"].unique())
    rows, match_rows = [], []
    for start, cohort in treated_all.groupby("start_year", sort=True):
        start = int(start)
        pre = [y for y in years_all if y < start]
        post = [y for y in years_all if y >= start]
        if pre and post and pre[-1] < METHOD_BREAK_YEAR <= post[-1] and demographic:
            msg = Message("method_break", {"year": METHOD_BREAK_YEAR})
            if msg not in caveats:
                caveats.append(msg)
        t_ok, c_ok, matched = _match_cohort(panel, matching, cohort["key"].tolist(), pool, pre, n_neighbours)
        match_rows += [{"start_year": start, "treated_key": key, "control_key": c, "distance": d}
                       for key, pairs in matched.items() for c, d in pairs]
        controls = {key: [c for c, _ in pairs] for key, pairs in matched.items()}
        for outcome in outcomes:
            rows.append(_cohort_row(panel[outcome].reindex(columns=years_all), outcome, start, pre, post, t_ok,
                                    c_ok, controls, rules, rng))
    return EvaluationResult(outcomes=pd.DataFrame(rows, columns=OUTCOME_COLUMNS),
                            matches=pd.DataFrame(match_rows, columns=["start_year", "treated_key", "control_key",
                                                                      "distance"]),
                            treated=treated_all, caveats=caveats)
