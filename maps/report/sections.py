"""The report's monitoring sections.

They hold the inequality and segregation tables, the early-warning list, the cohort evaluation and the poverty
section with the verdict of the matched change comparison.
"""

from __future__ import annotations

from typing import Any

from geo.analysis.monitoring.comparison import comparison_verdict
from geo.analysis.monitoring.evaluation import SUPPORTS
from geo.analysis.monitoring.poverty import (
    EARLY_WARNING_PERIODS,
    EARLY_WARNING_STEP_YEARS,
    EARLY_WARNING_THRESHOLDS,
    EVALUATION_BOOT,
    EVALUATION_PLACEBO_GROUPS,
    EVALUATION_SEED,
    INEQUALITY_SERIES,
    WEIGHT_BASES,
)
from maps.charts import line_chart
from maps.evaluation import caveat_text, reasons_text, verdict_words
from maps.i18n import indicator_label, t
from maps.report.data import ReportData
from maps.report.words import num, series, tr

__all__ = ["demography_context", "evaluation_context", "poverty_context", "warning_context"]


def demography_context(data: ReportData, lang: str) -> dict[str, Any]:
    """The inequality and segregation tables of the descriptive demography."""
    ineq_rows = [{"indicator": indicator_label(r.indicator, lang), "year": r.year, "n": r.n_districts,
                  "gini": num(r.gini, lang, 3), "theil": num(r.theil, lang, 3),
                  "between": num(r.theil_between, lang, 3), "within": num(r.theil_within, lang, 3),
                  "share": num(100 * r.theil_between_share, lang, 1), "cv": num(r.cv, lang, 2),
                  "p90": num(r.p90_p10_ratio, lang, 1)} for r in data.inequality.itertuples()]
    seg_rows = [{"year": r.year, "n": r.n_districts, "share": num(100 * r.group_share, lang, 1),
                 "dissimilarity": num(r.dissimilarity, lang, 3), "isolation": num(r.isolation, lang, 3),
                 "moran": num(r.morans_i, lang, 3), "p": num(r.morans_p_sim, lang, 3)}
                for r in data.segregation.itertuples()]
    return {"ineq_rows": ineq_rows, "seg_rows": seg_rows}


def warning_context(data: ReportData, lang: str) -> dict[str, Any]:
    """The early-warning list and its rule (thresholds per indicator, in pp per year)."""
    thr_text = ", ".join(f"{indicator_label(k, lang)} {tr('warning.threshold', lang, v=num(v, lang, 1))}"
                         for k, v in EARLY_WARNING_THRESHOLDS.items() if k in data.directions)
    warn_rows = [{"key": r.key, "name": r.name, "population": num(r.population, lang),
                  "indicator": indicator_label(r.indicator, lang), "periods": r.last_periods, "run": r.run_length}
                 for r in data.warnings.sort_values(["key", "indicator"]).itertuples()]
    return {"warn_rows": warn_rows, "warn_note": tr("warning.note", lang, p=EARLY_WARNING_PERIODS,
                                                    step=EARLY_WARNING_STEP_YEARS, thr=thr_text)}


def _interval(low: Any, high: Any, lang: str) -> str:
    return f"[{num(low, lang, 2)}; {num(high, lang, 2)}]"


def evaluation_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Build the cohort difference-in-differences table, one row per start year and outcome.

    Its reasons and caveats are given in words.
    """
    ev = data.evaluation
    rows = []
    if ev is not None:
        for r in ev.outcomes.itertuples():
            ok = r.verdict == SUPPORTS
            rows.append({
                "start": r.start_year, "outcome": indicator_label(r.outcome, lang),
                "estimate": num(r.estimate, lang, 2),
                "interval": _interval(r.ci_low, r.ci_high, lang) if r.ci_low == r.ci_low else "–",
                "treated": r.n_treated, "controls": r.n_controls_matched,
                "pretrend": (f"{num(r.pretrend_estimate, lang, 2)} "
                             f"{_interval(r.pretrend_ci_low, r.pretrend_ci_high, lang)}")
                if r.pretrend_ci_low == r.pretrend_ci_low else num(r.pretrend_estimate, lang, 2),
                "verdict": tr("eval.supports" if ok else "eval.too_thin", lang), "supports": ok,
                "reason": reasons_text(r.reasons, lang)})
    return {"eval_rows": rows, "caveats": [caveat_text(c, lang) for c in ev.caveats] if ev is not None else [],
            "has_evaluation": ev is not None, "n_support": sum(r["supports"] for r in rows), "n_eval": len(rows)}


def poverty_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Tables, charts and the evaluation verdict of the poverty section."""
    pin = data.poverty_inequality
    kw: dict[str, Any] = {"lang": lang, "width": 540, "height": 250}
    charts: dict[str, Any] = {}
    rows = []
    if len(pin):
        ok = pin[pin["gini"].notna()]
        y0, y1 = int(ok["year"].min()), int(ok["year"].max())
        charts["gini"] = line_chart({indicator_label(n, lang): series(pin[pin["indicator"] == n], "gini")
                                     for n in INEQUALITY_SERIES if (pin["indicator"] == n).any()},
                                    title=tr("pov.gini", lang, y0=y0, y1=y1), decimals=2, **kw)
        u15 = pin[pin["indicator"] == "sgb2_u15_pct"]
        if len(u15):
            charts["theil"] = line_chart({tr("chart.total", lang): series(u15, "theil"),
                                          tr("chart.between_long", lang): series(u15, "theil_between"),
                                          tr("chart.within_long", lang): series(u15, "theil_within")},
                                         title=tr("pov.theil", lang, y0=int(u15["year"].min()),
                                                  y1=int(u15["year"].max())), decimals=3, **kw)
        for r in pin.itertuples():
            wt = tr("pov.denominator", lang) if r.weight_basis == "denominator" else (
                f"{int(r.weight_year)}" if r.weight_year == r.weight_year else
                tr("pov.same_year", lang))
            rows.append({"indicator": indicator_label(r.indicator, lang), "year": r.year, "n": r.n_districts,
                         "gini": num(r.gini, lang, 3), "theil": num(r.theil, lang, 3),
                         "between": num(r.theil_between, lang, 3), "within": num(r.theil_within, lang, 3),
                         "p90": num(r.p90_p10_ratio, lang, 1), "cv": num(r.cv, lang, 2), "weight": wt})
    weights = "; ".join(f"{indicator_label(n, lang)}: {t(f'weight_basis.{n}', lang)}" for n in WEIGHT_BASES)
    pseg = data.poverty_segregation
    seg_rows = [{"year": r.year, "n": r.n_districts, "share": num(100 * r.group_share, lang, 1),
                 "dissimilarity": num(r.dissimilarity, lang, 3), "isolation": num(r.isolation, lang, 3),
                 "moran": num(r.morans_i, lang, 2)} for r in pseg.itertuples()] if len(pseg) else []
    if len(pseg):
        charts["seg"] = line_chart({tr("chart.dissimilarity", lang): series(pseg, "dissimilarity"),
                                    tr("chart.isolation", lang): series(pseg, "isolation"),
                                    tr("chart.share", lang): series(pseg, "group_share")},
                                   title=f"{tr('pov.seg', lang)}, {int(pseg['year'].min())}–"
                                         f"{int(pseg['year'].max())}", decimals=2, **kw)
    verdict: dict[str, Any] | None = None
    comp_rows = []
    if data.comparison is not None:
        verdict = verdict_words(comparison_verdict(data.comparison.outcomes.to_dict("records")), lang)
        for r in data.comparison.outcomes.itertuples():
            comp_rows.append({
                "outcome": indicator_label(r.outcome, lang), "window": f"{r.base_year}–{r.end_year}",
                "treated": f"{r.n_treated} / {r.n_outside_support}", "estimate": num(r.estimate, lang, 2),
                "interval": f"[{num(r.ci_low, lang, 2)}; {num(r.ci_high, lang, 2)}]",
                "groups": f"[{num(r.placebo_groups_low, lang, 2)}; {num(r.placebo_groups_high, lang, 2)}]",
                "placebo": (f"{r.placebo_year}: {num(r.placebo_estimate, lang, 2)} "
                            f"[{num(r.placebo_ci_low, lang, 2)}; {num(r.placebo_ci_high, lang, 2)}]")})
    return {"pov_rows": rows, "pov_charts": charts, "pov_weights": weights, "pov_seg_rows": seg_rows,
            "pov_seg_years": ", ".join(str(r["year"]) for r in seg_rows), "pov_verdict": verdict,
            "pov_comp_rows": comp_rows,
            "pov_seed": tr("pov.seed", lang, n=EVALUATION_BOOT, g=EVALUATION_PLACEBO_GROUPS, seed=EVALUATION_SEED)}
