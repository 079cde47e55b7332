"""The district profile ``/districts/<key>``.

It shows the need indicators against the city, the programme's reasons, context, charts, the designation and the
analysis published for the district.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, g, render_template

from geo.errors import Problem, UnknownKeyError
from geo.pipeline.indicators import REGISTRY
from maps.charts import line_chart
from maps.i18n import (
    fmt_number,
    indicator_label,
    operator_label,
    rule_label,
    rule_value,
    t,
    unit_label,
)
from maps.overview import category_text
from service.web.context import state
from service.web.page_common import PageData, page_data, page_decimals

#: demographic context on the profile (descriptive; never a need indicator)
PROFILE_INDICATORS = [
    "population", "share_foreign_pct", "share_under_18_pct", "share_under_6_pct", "share_aged_65_plus_pct",
    "share_aged_80_plus_pct", "share_foreign_under_18_pct", "share_migration_background_pct", "share_male_pct",
    "density_per_km2", "population_change_2y_pct", "population_change_5y_pct", "mean_age_years",
]
SERIES_INDICATORS = ["population", "share_under_18_pct", "share_aged_65_plus_pct", "share_foreign_pct"]
#: context columns of the table page after the need indicators (descriptive)


def _value(frame: pd.DataFrame, key: str, col: str) -> float:
    if col not in frame.columns or key not in frame.index:
        return math.nan
    v = pd.to_numeric(pd.Series([frame.at[key, col]]), errors="coerce").iloc[0]
    return float(v)


def _year(frame: pd.DataFrame, key: str, col: str) -> int | None:
    """The year the value of ``col`` comes from for district ``key`` (the snapshot's ``X__year``)."""
    y = _value(frame, key, f"{col}__year")
    return int(y) if math.isfinite(y) else None


def _series(snapshot: Any, key: str, indicator: str) -> list[tuple[int, float]]:
    ind = snapshot.indicators
    sub = ind[(ind["key"] == key) & (ind["indicator"] == indicator) & (ind["year"] <= snapshot.latest_year)]
    sub = sub.dropna(subset=["value"]).sort_values("year")
    return [(int(y), float(v)) for y, v in zip(sub["year"], sub["value"], strict=True)]


def _unit(name: str) -> str:
    ind = REGISTRY.get(name)
    return "" if ind is None or ind.unit == "persons" else ind.unit


def _city_value(city_rows: pd.DataFrame, name: str, year: Any = None) -> float:
    """The city's value of ``name`` (of ``year`` when given and published, else its latest)."""
    c = city_rows[city_rows["indicator"] == name].dropna(subset=["value"]).sort_values("year")
    if year is not None and (c["year"] == year).any():
        c = c[c["year"] == year]
    return float(c["value"].iloc[-1]) if len(c) else math.nan


def _need_rows(data: PageData, key: str, city_rows: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The area's index indicators (its basis') from the published answer: value, year, z, contribution."""
    from service.api.profile import change_period, period_text, with_period

    answer = state().answers.get(key) or {}
    out = []
    for item in answer.get("indicators") or []:
        name, unit = item["indicator"], item.get("unit") or ""
        v = item.get("value")
        v = math.nan if v is None else float(v)
        cv = _city_value(city_rows, name, item.get("year"))
        period = change_period(data.snapshot.indicators, key, name, item.get("year"))
        label = indicator_label(name, lang) if name in REGISTRY else item.get("label", name)
        out.append({
            "name": name, "index": t(f"index.{item['index']}", lang), "label": with_period(label, period),
            "value": v, "city": cv, "unit": unit,
            "unit_text": unit_label(unit, lang), "decimals": page_decimals(name),
            "year": period_text(period) or item.get("year"),
            "z": item.get("z"), "contribution": item.get("contribution"),
            "delta": v - cv if math.isfinite(v) and math.isfinite(cv) and unit == "%" else None,
        })
    return out


def _fmt_rule_value(value: Any, text: Any, lang: str, decimals: int | None = None) -> str:
    """A rule's value or threshold in words.

    Numbers in the language's format (``decimals`` of the field, counts whole), other values as their text.
    """
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        x = float(value)
        if math.isfinite(x):
            if decimals is None:
                decimals = 0 if x == round(x) and abs(x) >= 100 else 2
            return fmt_number(x, lang, decimals=decimals)
    txt = str(text)
    return t("map.no_data", lang) if txt in ("", "nan", "None") else txt


def _reasons(data: PageData, key: str, lang: str) -> list[dict[str, Any]]:
    """Per category of the definition: applies or not, with its conditions, values, thresholds, margins."""
    from service.api.profile import change_period, decimals_of, with_period

    reasons = data.result.reasons
    rows = reasons[reasons["key"].astype(str) == key]
    out = []
    for cat in data.definition.categories:
        sub = rows[rows["category"] == cat.id]
        applies = bool(sub["category_applies"].any()) if len(sub) else False
        conditions = []
        for r in sub.itertuples():
            fld = str(r.field)
            label = indicator_label(fld, lang) if fld in REGISTRY else (rule_label(fld, lang) or fld)
            dec = decimals_of(fld, 2) if fld in REGISTRY else None
            conditions.append({
                "label": with_period(label, change_period(data.snapshot.indicators, key, fld)), "field": fld,
                "operator": operator_label(str(r.operator), lang),
                "value": _fmt_rule_value(r.value, rule_value(fld, str(r.value_text), lang), lang, dec),
                "threshold": _fmt_rule_value(r.threshold, rule_value(fld, str(r.threshold_text), lang), lang,
                                             dec),
                "passed": bool(r.passed), "decimals": 2 if dec is None else dec,
                "margin": r.margin if isinstance(r.margin, float) and math.isfinite(r.margin) else None,
                "margin_sd": r.margin_sd if isinstance(r.margin_sd, float) and math.isfinite(r.margin_sd) else None,
                "unit": unit_label(str(r.unit), lang) if str(r.unit) not in ("nan", "None") else "",
                "description": str(r.description),
            })
        out.append({"id": cat.id, "label": t(f"cat.{cat.id}", lang), "applies": applies, "conditions": conditions})
    return out


def district_context(data: PageData, key: str) -> dict[str, Any]:
    """The template context of a district's profile (the check page shows it too); raises UnknownKeyError if unknown."""
    from service.api.profile import designation_text

    lang = g.lang
    table = data.table
    if key not in table.index:
        raise UnknownKeyError(f"there is no district {key!r}",
                              problems=[Problem("unknown_district", f"no district has the key {key!r}", key=key)])
    row = table.loc[key]
    snapshot = data.snapshot
    city_key = str(row.get("city_key", ""))
    ind = snapshot.indicators
    city_rows = ind[(ind["key"] == city_key) & (ind["level"] == "stadt")]
    need = _need_rows(data, key, city_rows, lang)
    need_names = {n["name"] for n in need}
    from service.api.profile import change_period, context_rows, no_statistics_text, period_text, with_period

    indicators: list[dict[str, Any]] = []
    for name in PROFILE_INDICATORS:
        if name not in table.columns or name in need_names:
            continue
        v = _value(table, key, name)
        year = _year(table, key, name) or data.wide.attrs.get("indicator_years", {}).get(name)
        period = change_period(ind, key, name, year)
        cv = _city_value(city_rows, name, year)
        indicators.append({"label": with_period(indicator_label(name, lang), period), "value": v, "city": cv,
                           "unit": _unit(name), "decimals": page_decimals(name), "year": period_text(period) or year,
                           "delta": v - cv if math.isfinite(v) and math.isfinite(cv) and _unit(name) == "%" else None})
    no_statistics = no_statistics_text(row, lang)
    if no_statistics:  # only the city's figures are published; the district's own (census, elections) follow
        indicators = [i for i in indicators if math.isfinite(float(i["city"]))]
        own_context = context_rows(ind, key, city_key, sorted(need_names), lang, snapshot.latest_year)
    else:
        own_context = []
    city_name = str(row.get("city", ""))

    def chart(name: str) -> Any:
        own = _series(snapshot, key, name)
        if not own:
            return None
        series = {str(row["name"]): own}
        if _unit(name) == "%":
            series[city_name] = _series(snapshot, city_key, name)
        return line_chart(series, title=indicator_label(name, lang, unit=False), unit=unit_label(_unit(name), lang),
                          lang=lang, decimals=page_decimals(name))

    # need series: the status index's indicators (levels, not the change indicators of the dynamics index)
    need_charts = [c for c in (chart(n["name"]) for n in need if n["unit"] != "pp") if c is not None]
    charts = [c for c in (chart(n) for n in SERIES_INDICATORS) if c is not None]

    basis = (state().answers.get(key) or {}).get("basis")
    cats = row.get("categories")
    cats = list(cats) if isinstance(cats, list | tuple | np.ndarray) else []
    checks = data.result.designation_check
    check = checks[checks["key"].astype(str) == key]
    explanation = _designation_explanation(data, key, row, lang)
    near = data.result.near_misses
    near = near[near["key"].astype(str) == key]
    parents = []
    for col in ("stadtteil_key", "stadtbezirk_key"):
        k = row.get(col)
        if isinstance(k, str) and k:
            try:
                parents.append((k, str(snapshot.district(k)["name"])))
            except Exception:
                parents.append((k, k))
    return {
        "row": row, "key": key, "categories": cats, "category_text": category_text(cats, lang),
        "no_statistics": no_statistics, "own_context": own_context,
        "designation": designation_text(row, lang),
        "reasons": _reasons(data, key, lang), "indicators": indicators, "charts": charts,
        "need": need, "need_charts": need_charts, "basis": basis,
        "check": check.iloc[0].to_dict() if len(check) else None, "explanation": explanation,
        "near": [r._asdict() for r in near.itertuples()], "parents": parents,
        "status": row.get("status_class") if isinstance(row.get("status_class"), str) else "",
        "dynamics": row.get("dynamics_class") if isinstance(row.get("dynamics_class"), str) else "",
    }


def _designation_explanation(data: PageData, key: str, row: Any, lang: str) -> str:
    """Why this designated or indicated Ortsteil stands where it does; empty when not listed.

    The published designated-versus-data row in words (the report's sentence,
    :func:`maps.report.designation_explanation`).
    """
    from maps.report import designation_explanation

    published = data.result.meta.get("designations_versus_data") or {}
    for item in published.get("rows") or []:
        if str(item.get("key")) == key:
            return designation_explanation(item, lang, reason=row.get("classifiable_reason"))
    return ""


def district(key: str) -> str:
    """``/districts/<key>``: the district profile page, with the monitoring analysis when it is published."""
    data = page_data()
    ctx = district_context(data, key)
    from service.api.monitoring import profile_analysis

    ctx["analysis"] = (profile_analysis(data.monitoring, key, g.lang) if data.monitoring else
                       {"hotspot": None, "district_type": None})
    return render_template("pages/district.html", data=data, **ctx)



def register(bp: Blueprint) -> None:
    """``/districts/<key>``: the district profile."""
    bp.add_url_rule("/districts/<key>", "district", district)
