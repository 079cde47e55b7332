"""Monitoring over time: ``/api/v1/monitoring/...`` (JSON) and the page ``/monitoring`` (German/English).

Thin adapters over :mod:`service.monitoring`, which reads what ``quartiere build`` published in the snapshot
version; nothing is computed here. ``init_app`` registers the blueprints.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, render_template, request

from service import eligibility as el
from service.monitoring import INEQUALITY_LEVELS, Monitoring, district_answer, inequality_answer
from service.pages import page_headers, page_setup

log = logging.getLogger(__name__)

api_bp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1/monitoring")
page_bp = Blueprint("monitoring", __name__)

JSON = "application/json"
#: indicators whose Gini coefficients are charted together on the page (the report's choice)
PAGE_INDICATORS = ("share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
#: indicators charted for one district
DISTRICT_INDICATORS = ("population", "share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
DEFAULT_DISTRICT = "04011373"  # Tenever


def current_monitoring() -> Monitoring:
    from service.app import state

    return state().monitoring


# ------------------------------------------------------------------------------------------------- API


@api_bp.get("/inequality")
def inequality() -> Response:
    body = inequality_answer(current_monitoring(), request.args.get("indicator"), level=request.args.get("level"))
    return Response(el.dumps(body), content_type=JSON)


@api_bp.get("/districts/<key>")
def district(key: str) -> Response:
    return Response(el.dumps(district_answer(current_monitoring(), key)), content_type=JSON)


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI 3.0 path items of the monitoring API (merged into :func:`service.openapi.document`)."""
    problem = {"$ref": "#/components/responses/Problem"}
    num = {"type": "number", "nullable": True}
    ineq_row = {"type": "object", "required": ["year", "gini", "theil", "theil_between", "theil_within", "cv",
                                               "p90_p10_ratio"],
                "properties": {"year": {"type": "integer"}, "n_districts": {"type": "integer"},
                               "weighted": {"type": "boolean"}, "mean": num, "gini": num, "theil": num,
                               "theil_between": num, "theil_within": num, "theil_between_share": num, "cv": num,
                               "p90_p10_ratio": num, "note": {"type": "string"}}}
    seg_row = {"type": "object", "required": ["year", "dissimilarity", "isolation", "morans_i"],
               "properties": {"year": {"type": "integer"}, "n_districts": {"type": "integer"},
                              "group_share": num, "dissimilarity": num, "isolation": num, "morans_i": num,
                              "morans_expected_i": num, "morans_p_sim": num, "note": {"type": "string"}}}
    inequality_schema = {
        "type": "object", "required": ["indicator", "level", "snapshot_version", "series", "segregation"],
        "properties": {"indicator": {"type": "string"}, "unit": {"type": "string"},
                       "level": {"type": "string", "enum": list(INEQUALITY_LEVELS)},
                       "groups": {"type": "string"}, "snapshot_version": {"type": "string"},
                       "methods": {"type": "object"},
                       "series": {"type": "array", "items": ineq_row},
                       "segregation": {"type": "array", "items": seg_row}}}
    district_schema = {
        "type": "object",
        "required": ["key", "name", "level", "snapshot_version", "indicators", "early_warning", "early_warning_rule"],
        "properties": {
            "key": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string", "nullable": True},
            "level": {"type": "string"}, "snapshot_version": {"type": "string"},
            "trend_method": {"type": "string"},
            "indicators": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["series"],
                "properties": {"unit": {"type": "string"},
                               "series": {"type": "array", "items": {"type": "array"}},
                               "trend": {"type": "object"}}}},
            "early_warning": {"type": "object", "required": ["warning", "indicators"],
                              "properties": {"warning": {"type": "boolean"},
                                             "indicators": {"type": "array", "items": {"type": "object"}},
                                             "note": {"type": "string"}}},
            "early_warning_rule": {"type": "object", "required": ["periods", "directions", "thresholds"]},
            "hotspot_class": {"type": "string"},
            "district_type": {"type": "object", "nullable": True},
        }}
    return {
        "/api/v1/monitoring/inequality": {"get": {
            "summary": "Inequality between districts over time, and segregation of foreign nationals",
            "description": "Per year: Gini, Theil (total, between and within Stadtbezirke), coefficient of "
                           "variation and P90/P10 ratio of the indicator between districts; and the index of "
                           "dissimilarity, isolation index and global Moran's I of foreign nationals. Unknown "
                           "indicator or level: 400.",
            "operationId": "monitoringInequality",
            "parameters": [
                {"name": "indicator", "in": "query", "required": True, "schema": {"type": "string",
                 "example": "share_foreign_pct"}, "description": "indicator id, e.g. share_foreign_pct"},
                {"name": "level", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(INEQUALITY_LEVELS), "default": "ortsteil"},
                 "description": "districts compared"},
            ],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": inequality_schema}}},
                          "400": problem}}},
        "/api/v1/monitoring/districts/{key}": {"get": {
            "summary": "Time series, trends and early-warning status of one district",
            "description": "Every indicator's series up to the latest data year, its trend (OLS slope per "
                           "year) and change of trend, and the early-warning status with the rule applied. "
                           "Unknown key: 404.",
            "operationId": "monitoringDistrict",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string", "example": "04011373"},
                            "description": "8-digit district key (Ortsteil, Stadtteil, Stadtbezirk or city)"}],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": district_schema}}},
                          "404": problem}}},
    }


# ------------------------------------------------------------------------------------------------- page

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Monitoring: Ungleichheit und Entwicklung", "Monitoring: inequality and trends"),
    "intro": ("Wie ungleich sind die Ortsteile, und wie entwickeln sie sich? Alle Werte aus dem Datenstand "
              "{version}, Jahre bis {year}.",
              "How unequal are the districts, and how do they develop? All values from data version {version}, "
              "years up to {year}."),
    "gini": ("Gini-Koeffizient zwischen den Ortsteilen", "Gini coefficient between the districts"),
    "theil": ("Theil-Index: zwischen und innerhalb der Stadtbezirke", "Theil index: between and within Stadtbezirke"),
    "theil_total": ("gesamt", "total"), "theil_between": ("zwischen Stadtbezirken", "between Stadtbezirke"),
    "theil_within": ("innerhalb der Stadtbezirke", "within Stadtbezirke"),
    "segregation": ("Segregation der ausländischen Bevölkerung", "Segregation of foreign nationals"),
    "dissimilarity": ("Segregationsindex (Dissimilarität)", "index of dissimilarity"),
    "isolation": ("Isolationsindex", "isolation index"), "moran": ("Moran's I", "Moran's I"),
    "indicator": ("Indikator", "Indicator"), "district": ("Ortsteil", "District"), "show": ("Anzeigen", "Show"),
    "trends": ("Entwicklung eines Ortsteils", "Trends of one district"),
    "trend": ("Trend pro Jahr", "trend per year"), "trend_change": ("Trendänderung (seit 2010 minus bis 2010)",
                                                                   "change of trend (since 2010 minus up to 2010)"),
    "warning": ("Frühwarnung", "Early warning"), "warnings": ("Frühwarnliste", "Early-warning list"),
    "warning_yes": ("Frühwarnung: ja", "Early warning: yes"), "warning_no": ("keine Frühwarnung", "no early warning"),
    "warning_rule": ("Regel: Die letzten {p} Veränderungen (zwischen aufeinanderfolgenden Jahren, pro Jahr; bei "
                     "Anzahlen in % pro Jahr) gingen jeweils um mehr als die Schwelle in die ungünstige Richtung.",
                     "Rule: each of the last {p} changes (between consecutive observed years, per year; % per year "
                     "for counts) went the unfavourable way by more than the threshold."),
    "none": ("keine", "none"), "last_periods": ("letzte Veränderungen", "last changes"),
    "threshold": ("Schwelle", "threshold"), "hotspot": ("Hot Spot (Statusindex)", "Hot spot (status index)"),
    "type": ("Quartierstyp", "District type"), "profile": ("Profil", "Profile"),
    "year": ("Jahr", "Year"), "note_theil": ("Zwischen + innerhalb = gesamt.", "Between + within = total."),
}


def _texts(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {k: v[i] for k, v in TEXT.items()}


def _page_context(mon: Monitoring, lang: str, indicator: str, key: str) -> dict[str, Any]:
    from maps.charts import line_chart
    from maps.i18n import indicator_label, t

    tx = _texts(lang)
    table = mon.inequality("ortsteil")
    label = {n: indicator_label(n, lang).split(" (")[0] for n in table}
    gini = {label[n]: [(r["year"], r["gini"] if r["gini"] is not None else float("nan")) for r in table[n]]
            for n in PAGE_INDICATORS if n in table}
    charts = [line_chart(gini, title=tx["gini"], lang=lang, decimals=2)]
    rows = table.get(indicator, [])

    def col(name: str) -> list[tuple[int, float]]:
        return [(r["year"], r[name] if r[name] is not None else float("nan")) for r in rows]

    charts.append(line_chart({tx["theil_total"]: col("theil"), tx["theil_between"]: col("theil_between"),
                              tx["theil_within"]: col("theil_within")},
                             title=f"{tx['theil']} – {label.get(indicator, indicator)}", lang=lang, decimals=3))
    seg = mon.segregation("ortsteil")

    def scol(name: str) -> list[tuple[int, float]]:
        return [(r["year"], r[name] if r[name] is not None else float("nan")) for r in seg]

    charts.append(line_chart({tx["dissimilarity"]: scol("dissimilarity"), tx["isolation"]: scol("isolation"),
                              tx["moran"]: scol("morans_i")}, title=tx["segregation"], lang=lang, decimals=2))
    districts = mon.districts("ortsteil")
    body = districts.get(key)
    district_charts, trends, warns = [], [], []
    name = key
    if body is not None:
        name = str(mon.snapshot.district(key).get("name", key))
        for ind in DISTRICT_INDICATORS:
            item = body["indicators"].get(ind)
            if not item:
                continue
            pts = [(y, v if v is not None else float("nan")) for y, v in item["series"]]
            district_charts.append(line_chart({name: pts}, title=label.get(ind, indicator_label(ind, lang)),
                                              unit="" if item["unit"] == "persons" else item["unit"], lang=lang,
                                              decimals=0 if item["unit"] == "persons" else 1))
            tr = item.get("trend") or {}
            trends.append({"label": indicator_label(ind, lang), "unit": item["unit"],
                           "slope": tr.get("slope_per_year"), "change": tr.get("trend_change")})
        warns = body["early_warning"]["indicators"]
    rule = mon.warning_rule()
    warning_list = []
    for k, b in districts.items():
        if b["early_warning"]["warning"]:
            hit = [w for w in b["early_warning"]["indicators"] if w["warning"]]
            warning_list.append({"key": k, "name": str(mon.snapshot.district(k).get("name", k)),
                                 "indicators": ", ".join(indicator_label(w["indicator"], lang) for w in hit),
                                 "periods": "; ".join(w["last_periods"] for w in hit)})
    warning_list.sort(key=lambda r: r["name"])
    an = mon.analysis()
    hot = an.loc[key] if key in an.index else None
    return {
        "tx": tx, "charts": charts, "district_charts": district_charts, "trends": trends, "warns": warns,
        "warning": bool(body and body["early_warning"]["warning"]), "warning_list": warning_list,
        "rule_text": tx["warning_rule"].format(p=rule["periods"]),
        "indicators": [(n, label[n]) for n in table], "indicator": indicator, "key": key, "name": name,
        "hotspot": (t(f"hotspot.{hot['hotspot']}", lang) if hot is not None and isinstance(hot["hotspot"], str)
                    else None),
        "district_type": (hot["type_label_en" if lang == "en" else "type_label_de"] if hot is not None else None),
        "intro": tx["intro"].format(version=mon.version, year=mon.snapshot.latest_year),
        "indicator_label": lambda n: indicator_label(n, lang),
    }


# the pages' CSP nonce, language and headers (see the contract at the top of service/pages.py)
page_bp.before_request(page_setup)
page_bp.after_request(page_headers)


@page_bp.route("/monitoring")
def page() -> str:
    from service.pages import page_data

    data = page_data()
    mon = current_monitoring()
    table = mon.inequality("ortsteil")
    indicator = request.args.get("indicator") or PAGE_INDICATORS[0]
    if indicator not in table:
        indicator = PAGE_INDICATORS[0]
    key = request.args.get("district") or DEFAULT_DISTRICT
    if key not in mon.districts("ortsteil"):
        key = DEFAULT_DISTRICT
    ctx = _page_context(mon, g.lang, indicator, key)
    names = data.names
    return render_template("pages/monitoring.html", data=data, names=names, **ctx)


# ------------------------------------------------------------------------------------------------- setup


def init_app(app: Flask, *, pages: bool = True) -> None:
    """Register the monitoring API (and the page when ``pages``)."""
    app.register_blueprint(api_bp)
    if pages:
        app.register_blueprint(page_bp)
