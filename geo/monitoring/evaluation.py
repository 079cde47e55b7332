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

With the real data (8 years, a method break in 2016, WiN since 1998/99, so only 1980 and 1990 before the
start) the honest verdict is mostly "data too thin to conclude"; the output says so and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from geo.errors import Problem, ValidationError
from geo.monitoring._common import check_long

__all__ = [
    "DEFAULT_START_YEARS",
    "SUPPORTS",
    "TOO_THIN",
    "EvaluationResult",
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
DEFAULT_OUTCOMES = ("share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")


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
        "Outcomes are demographic indicators; poverty and education series per district are not published.",
        "Matched controls are drawn with replacement; the bootstrap resamples treated districts only.",
    ]
    years_all = sorted(int(y) for y in data["year"].unique())
    for start, cohort in treated_all.groupby("start_year", sort=True):
        start = int(start)
        pre = [y for y in years_all if y < start]
        post = [y for y in years_all if y >= start]
        if pre and post and pre[-1] < METHOD_BREAK_YEAR <= post[-1]:
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
