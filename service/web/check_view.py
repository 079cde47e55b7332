"""The check page's answer in words: categories with their margins, the status class, stability, an area's estimate.

Both answers of the check page come from the API's own answer objects (``/api/v1/eligibility``): a district's
published answer (``state().answers[key]``) and a drawn area's (:func:`service.api.area.area_eligibility`). This
module turns one such answer into what the page shows, in the page's language, so a district and a drawn area
are explained by the same sentences:

* every condition with value, operator, threshold and its **margin in plain words** ("knapp erfüllt: 0,06
  Standardabweichungen über der Schwelle"); a margin closer than :data:`NEAR_SD` standard deviations is "knapp";
* the status class as the **social status** it is ("Sozialstatus sehr niedrig – sehr hoher
  Unterstützungsbedarf"), so that "sehr niedrig" cannot be read as "low need";
* stability as a count ("93 von 100 Varianten der Gewichte und Schwellen kommen zum selben Ergebnis");
* for an area: estimated residents, the overlapped Ortsteile and why the estimate is uncertain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from geo.pipeline.indicators import REGISTRY
from maps.i18n import (
    class_label,
    fmt_number,
    indicator_label,
    operator_label,
    reason_text,
    rule_label,
    rule_value,
    t,
    unit_label,
)

#: a condition met or missed by less than this many standard deviations is "knapp" (just)
NEAR_SD = 0.25
#: the interpolation's policy (geo.analysis.interpolate): a district covered by less than this share is a "small part"
SMALL_PART = 0.25


def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def _label(field: str, lang: str) -> str:
    if field in REGISTRY:
        return indicator_label(field, lang)
    return rule_label(field, lang) or field


def _shown(field: str, value: Any, lang: str) -> str:
    """A value or threshold: numbers in the language's format, classes and flags in words."""
    x = _finite(value)
    if x is not None:
        unit = REGISTRY[field].unit if field in REGISTRY else ""
        decimals = 0 if unit.startswith("persons") or (x == round(x) and abs(x) >= 100) else 1 if unit else 2
        return fmt_number(x, lang, decimals=decimals)
    if value is None:
        return t("map.no_data", lang)
    return rule_value(field, str(value), lang)


def margin_text(reason: Mapping[str, Any], lang: str) -> str:
    """"knapp erfüllt: 0,06 Standardabweichungen über der Schwelle" (or the unit's amount, then the SDs)."""
    passed = bool(reason.get("passed"))
    margin, sd = _finite(reason.get("margin")), _finite(reason.get("margin_sd"))
    value, threshold = _finite(reason.get("value")), _finite(reason.get("threshold"))
    word = t("check.margin.pass" if passed else "check.margin.fail", lang)
    if margin is None or value is None or threshold is None:
        return word
    if sd is not None and abs(sd) < NEAR_SD:
        word = t("check.margin.near_pass" if passed else "check.margin.near_fail", lang)
    if value == threshold:
        return f"{word}: {t('check.margin.at', lang)}"
    side = t("check.margin.above" if value > threshold else "check.margin.below", lang)
    unit = str(reason.get("unit") or "")
    if unit == "SD":
        sds = fmt_number(abs(sd if sd is not None else margin), lang, decimals=2)
        return f"{word}: " + t("check.margin.sd", lang).format(sd=sds, side=side)
    amount = fmt_number(abs(margin), lang, decimals=0 if unit.startswith("persons") else 1)
    words = unit_label("pp" if unit == "%" else unit, lang)
    if sd is None:
        return f"{word}: " + t("check.margin.units_only", lang).format(amount=amount, unit=words, side=side)
    sds = fmt_number(abs(sd), lang, decimals=2)
    return f"{word}: " + t("check.margin.units", lang).format(amount=amount, unit=words, side=side, sd=sds)


def condition_view(reason: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """One condition of an answer's reasons in words: indicator, operator, value, threshold, margin, near."""
    field = str(reason.get("indicator") or "")
    return {
        "field": field, "label": _label(field, lang), "operator": operator_label(str(reason.get("operator")), lang),
        "value": _shown(field, reason.get("value"), lang), "threshold": _shown(field, reason.get("threshold"), lang),
        "passed": bool(reason.get("passed")), "part": reason.get("part") or "all",
        "margin": margin_text(reason, lang), "near": _near(reason),
    }


def _near(reason: Mapping[str, Any]) -> bool:
    sd = _finite(reason.get("margin_sd"))
    return sd is not None and abs(sd) < NEAR_SD


def categories_view(categories: list[Mapping[str, Any]], lang: str) -> dict[str, list[dict[str, Any]]]:
    """The answer's categories: ``applied`` and ``other`` (not met), each with its conditions in words."""
    out: dict[str, list[dict[str, Any]]] = {"applied": [], "other": []}
    for cat in categories:
        cid = str(cat.get("id"))
        label = t(f"cat.{cid}", lang)
        conditions = [condition_view(r, lang) for r in cat.get("reasons") or []]
        item = {"id": cid, "label": label if label != f"cat.{cid}" else str(cat.get("label") or cid),
                "conditions": conditions, "near": any(c["near"] for c in conditions)}
        out["applied" if cat.get("applies") else "other"].append(item)
    return out


def status_view(classification: Mapping[str, Any], lang: str) -> dict[str, str]:
    """The status and dynamics classes in words that say which way is need, and stability as a count."""
    status, dynamics = classification.get("status_class"), classification.get("dynamics_class")
    index = _finite(classification.get("status_index"))
    stability = _finite(classification.get("stability"))
    return {
        "status": t(f"check.status.{status}", lang) if isinstance(status, str) else "",
        "status_short": class_label("status_class", status, lang) if isinstance(status, str) else "",
        "status_index": (t("check.status_index", lang).format(value=fmt_number(index, lang, decimals=2))
                         if index is not None else ""),
        "dynamics": t(f"check.dynamics.{dynamics}", lang) if isinstance(dynamics, str) else "",
        "stability": (t("check.stability", lang).format(n=fmt_number(round(stability * 100), lang, decimals=0))
                      if stability is not None else ""),
        "borderline": t("check.borderline", lang) if classification.get("borderline") else "",
    }


def answer_view(answer: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """What the check page shows for one API answer (a district's or a drawn area's)."""
    cls = answer.get("classification") or {}
    view: dict[str, Any] = {
        "classifiable": bool(cls.get("classifiable")),
        "not_classifiable": reason_text(cls.get("not_classifiable_code") or cls.get("not_classifiable_reason"), lang),
        "categories": categories_view(list(answer.get("categories") or []), lang),
        "eligible": bool(answer.get("eligible")),
        **status_view(cls, lang),
    }
    if answer.get("estimate"):
        view["estimate"] = estimate_view(answer["estimate"], lang)
    return view


def estimate_view(estimate: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A drawn area's estimate: residents, area, the overlapped Ortsteile and the uncertainty in words."""
    sources = list(estimate.get("sources") or [])
    population = _finite(estimate.get("population"))
    rows = [{"key": s.get("key"), "name": s.get("name"),
             "share_of_area": fmt_number(100 * (_finite(s.get("custom_area_share")) or 0.0), lang, decimals=0),
             "share_of_district": fmt_number(100 * (_finite(s.get("district_share")) or 0.0), lang, decimals=0),
             "residents": fmt_number(_finite(s.get("population_estimate")) or 0.0, lang, decimals=0),
             "has_statistics": bool(s.get("has_statistics"))} for s in sources]
    notes = []
    if estimate.get("uncertainty"):
        with_stats = [s for s in sources if s.get("has_statistics")]
        small = [s for s in with_stats if (_finite(s.get("district_share")) or 0.0) < SMALL_PART]
        rests = sum(_finite(s.get("weight_in_estimate")) or 0.0 for s in small)
        if small and rests > 0:
            notes.append(t("check.area.small_parts", lang).format(
                pct=fmt_number(100 * rests, lang, decimals=0), small=fmt_number(100 * SMALL_PART, lang, decimals=0)))
        missing = sum(_finite(s.get("custom_area_share")) or 0.0 for s in sources if not s.get("has_statistics"))
        if missing > 0:
            notes.append(t("check.area.no_statistics", lang).format(pct=fmt_number(100 * missing, lang, decimals=0)))
        if not notes:
            notes.append(t("check.area.uncertain", lang))
    return {
        "population": fmt_number(population, lang, decimals=0) if population is not None else "–",
        "area_km2": fmt_number(_finite(estimate.get("area_km2")) or 0.0, lang, decimals=2),
        "uncertain": bool(estimate.get("uncertainty")), "notes": notes, "sources": rows,
    }
