"""Monitoring over time: ``/api/v1/monitoring/...`` (JSON) and the page ``/monitoring`` (German/English).

Thin adapters over :mod:`service.api.monitoring`, which reads what ``quartiere build`` published in the snapshot
version; nothing is computed here. ``init_app`` registers the blueprints.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, g, render_template, request

from geo.analysis.monitoring.comparison import comparison_verdict
from maps.evaluation import verdict_words
from service.api import eligibility as el
from service.api.monitoring import Monitoring, district_answer, inequality_answer, poverty_answer
from service.web.context import state
from service.web.page_common import page_data, page_headers, page_setup

log = logging.getLogger(__name__)

api_bp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1/monitoring")
page_bp = Blueprint("monitoring", __name__)

JSON = "application/json"
#: need series whose inequality is shown first (child poverty first); the default of the indicator choice
PAGE_INDICATORS = ("sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct")
#: indicators charted for one district (need series first, then residents)
DISTRICT_INDICATORS = ("sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct", "long_term_unemployment_pct",
                       "population")
DEFAULT_DISTRICT = "04011373"  # Tenever


def current_monitoring() -> Monitoring:
    """The monitoring this request's snapshot version published (ProductMissingError when it has none)."""
    return state().monitoring


# ------------------------------------------------------------------------------------------------- API


@api_bp.get("/inequality")
def inequality() -> Response:
    """``GET /api/v1/monitoring/inequality``: inequality series of an indicator at a level (``?indicator=&level=``)."""
    body = inequality_answer(current_monitoring(), request.args.get("indicator"), level=request.args.get("level"))
    return Response(el.dumps(body), content_type=JSON)


@api_bp.get("/poverty")
def poverty() -> Response:
    """``GET /api/v1/monitoring/poverty``: the published poverty section in words."""
    return Response(el.dumps(poverty_answer(current_monitoring())), content_type=JSON)


@api_bp.get("/districts/<key>")
def district(key: str) -> Response:
    """``GET /api/v1/monitoring/districts/<key>``: a district's published indicator series, trends and analysis."""
    return Response(el.dumps(district_answer(current_monitoring(), key)), content_type=JSON)


# ------------------------------------------------------------------------------------------------- page

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Monitoring: Ungleichheit und Entwicklung", "Monitoring: inequality and trends"),
    "intro": ("Wie ungleich sind die Ortsteile bei Armut und Arbeitslosigkeit, und wie entwickeln sie sich? Alle "
              "Werte aus dem Datenstand {version}. Die Bedarfsreihen des Ortsteilatlas reichen bis 2018 "
              "(SGB II) bzw. 2017 (Arbeitslosigkeit); jede Zahl nennt ihr Jahr.",
              "How unequal are the districts in poverty and unemployment, and how do they develop? All values "
              "from data version {version}. The need series of the Ortsteilatlas run to 2018 (SGB II) and 2017 "
              "(unemployment); every figure names its year."),
    "poverty": ("Kinderarmut und SGB II: Ungleichheit zwischen den Ortsteilen",
                "Child poverty and SGB II: inequality between the Ortsteile"),
    "poverty_note": ("Ortsteile der Stadt Bremen (für Bremerhaven veröffentlicht der Ortsteilatlas nichts). "
                     "Gini: 0 = alle gleich. Theil zwischen + innerhalb der Stadtbezirke = gesamt. "
                     "Dezilverhältnis P90/P10: das 90. durch das 10. Perzentil der Ortsteilwerte.",
                     "Ortsteile of the city of Bremen (the Ortsteilatlas publishes nothing for Bremerhaven). "
                     "Gini: 0 = all equal. Theil between + within Stadtbezirke = total. Decile ratio P90/P10: "
                     "the 90th over the 10th percentile of the Ortsteil values."),
    "gini_need": ("Gini-Koeffizient zwischen den Ortsteilen, {y0}–{y1}", "Gini coefficient between the Ortsteile, "
                  "{y0}–{y1}"),
    "theil_u15": ("Theil-Index der Kinderarmut (SGB II unter 15), {y0}–{y1}",
                  "Theil index of child poverty (SGB II under 15), {y0}–{y1}"),
    "weights": ("Gewichtung", "Weights"),
    "gini": ("Gini", "Gini"), "theil": ("Theil-Index", "Theil index"),
    "theil_total": ("Theil gesamt", "Theil total"), "theil_between": ("Theil zwischen Stadtbezirken",
                                                                     "Theil between Stadtbezirke"),
    "theil_within": ("Theil innerhalb der Stadtbezirke", "Theil within Stadtbezirke"),
    "decile": ("Dezilverhältnis P90/P10", "Decile ratio P90/P10"), "cv": ("Variationskoeffizient",
                                                                          "Coefficient of variation"),
    "mean": ("Mittel (gewichtet)", "Mean (weighted)"),
    "by_denominator": ("Nenner des Ortsteilatlas", "atlas denominator"),
    "nearest": ("Bevölkerungsjahr {y}", "population year {y}"), "same_year": ("gleiches Jahr", "same year"),
    "seg_need": ("Segregation der SGB-II-Leistungsberechtigten", "Segregation of SGB II recipients"),
    "seg_need_note": ("Aus Anzahlen: Leistungsberechtigte (aus Quote und Einwohnern unter 65 rückgerechnet) "
                      "unter den Einwohnern unter 65, in den Jahren mit beiden Anzahlen ({years}). "
                      "Dissimilaritätsindex: Anteil der Leistungsberechtigten, der umziehen müsste, damit jeder "
                      "Ortsteil denselben Anteil hätte (0 bis 1). Isolationsindex: Anteil der Leistungsberechtigten "
                      "im Ortsteil der durchschnittlichen leistungsberechtigten Person (Untergrenze: der Anteil in "
                      "der Stadt).",
                      "From counts: recipients (reconstructed from the rate and the residents under 65) among the "
                      "residents under 65, in the years with both counts ({years}). Index of dissimilarity: share "
                      "of recipients who would have to move for every Ortsteil to have the same share (0 to 1). "
                      "Isolation index: share of recipients in the Ortsteil of the average recipient (floor: the "
                      "city-wide share)."),
    "dissimilarity": ("Dissimilaritätsindex der SGB-II-Leistungsberechtigten", "Index of dissimilarity of SGB II "
                      "recipients"),
    "dissimilarity_short": ("Dissimilaritätsindex", "Index of dissimilarity"),
    "isolation": ("Isolationsindex", "Isolation index"), "moran": ("Moran's I", "Moran's I"),
    "city_share": ("Anteil in der Stadt", "City-wide share"),
    "need_warnings": ("Frühwarnung auf Bedarf", "Early warnings on need"),
    "need_rule": ("Regel (Annahmen): In jeder der letzten {p} Perioden von {step} Jahren stieg die Quote um mehr als "
                  "die Schwelle (Prozentpunkte pro Jahr): {thr}. Nur Bedarfsreihen; Anteile nach "
                  "Staatsangehörigkeit oder Alter sind nie Kriterien. Nur Ortsteile mit mindestens 300 "
                  "Einwohnern.",
                  "Rule (assumptions): in each of the last {p} periods of {step} years the rate rose by more than "
                  "the threshold (percentage points per year): {thr}. Need series only; shares by nationality or "
                  "age are never criteria. Only Ortsteile with at least 300 residents."),
    "evaluation": ("Evaluation: WiN-Ortsteile und vergleichbare Ortsteile", "Evaluation: WiN Ortsteile and "
                   "comparable Ortsteile"),
    "verdict": ("Ergebnis", "Verdict"), "limits": ("Grenzen", "Limits"),
    "outcome": ("Ergebnisgröße", "Outcome"), "window": ("Zeitraum", "Period"),
    "n_treated": ("WiN-Ortsteile (verglichen / ohne Gegenstück)", "WiN Ortsteile (compared / no counterpart)"),
    "diff": ("Differenz der Veränderung (Pp.)", "Difference of change (pp)"),
    "interval": ("95-%-Intervall (Bootstrap)", "95 % interval (bootstrap)"),
    "placebo_groups": ("Zufallsgruppen (95 %)", "Random groups (95 %)"),
    "placebo_year": ("Placebo-Jahr", "Placebo year"),
    "eval_seed": ("Bootstrap mit {n} Ziehungen, {g} Zufallsgruppen, fester Startwert {seed}.",
                  "Bootstrap with {n} draws, {g} random groups, fixed seed {seed}."),
    "descriptive": ("Beschreibende Demografie (kein Bedarfsindikator)", "Descriptive demography (not a need "
                    "indicator)"),
    "descriptive_note": ("Die Verteilung ausländischer Staatsangehöriger beschreibt die Bevölkerung; sie ist kein "
                         "Bedarf und kein Kriterium.",
                         "The distribution of foreign nationals describes the population; it is neither need nor a "
                         "criterion."),
    "seg_foreign": ("Dissimilaritätsindex ausländischer Staatsangehöriger", "Index of dissimilarity of foreign "
                    "nationals"),
    "other": ("Ungleichheit eines weiteren Indikators", "Inequality of another indicator"),
    "indicator": ("Indikator", "Indicator"), "district": ("Ortsteil", "District"), "show": ("Anzeigen", "Show"),
    "trends": ("Entwicklung eines Ortsteils", "Trends of one district"),
    "trend": ("Trend pro Jahr, alle Jahre", "Trend per year, all years"),
    "trend_early": ("Trend pro Jahr bis 2010", "Trend per year up to 2010"),
    "trend_recent": ("Trend pro Jahr seit 2010", "Trend per year since 2010"),
    "trend_change": ("Wie stark sich der Trend seit 2010 geändert hat", "How much the trend has changed since 2010"),
    "trend_note": ("Trend: mittlere Veränderung pro Jahr (Regressionsgerade) in der Einheit des Indikators; "
                   "positiv heißt steigend.",
                   "Trend: average change per year (regression line) in the indicator's unit; positive means "
                   "rising."),
    "years": ("Jahre", "Years"),
    "warning": ("Frühwarnung", "Early warning"), "warnings": ("Frühwarnliste", "Early-warning list"),
    "warning_yes": ("Frühwarnung: ja", "Early warning: yes"), "warning_no": ("keine Frühwarnung", "no early warning"),
    "none": ("keine", "none"), "last_periods": ("letzte Veränderungen (Pp. pro Jahr)", "last changes (pp per year)"),
    "threshold": ("Schwelle", "threshold"), "hotspot": ("Hot Spot (Statusindex)", "Hot spot (status index)"),
    "type": ("Quartierstyp", "District type"), "profile": ("Profil", "Profile"),
    "year": ("Jahr", "Year"), "note_theil": ("Zwischen + innerhalb = gesamt.", "Between + within = total."),
}


def _texts(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {k: v[i] for k, v in TEXT.items()}


def periods_text(text: Any, lang: str) -> str:
    """The published ``"2011-2014: +3.55; 2014-2017: -0.41"`` with dashes and, in German, decimal commas."""
    out = re.sub(r"(\d{4})-(\d{4})", "\\1–\\2", str(text or ""))
    return re.sub(r"(\d)\.(\d)", "\\1,\\2", out) if lang == "de" else out


def _v(x: Any) -> float:
    return float(x) if x is not None else float("nan")


def _weight_text(row: dict[str, Any], tx: dict[str, str]) -> str:
    basis = str(row.get("weight_basis") or "")
    if basis == "denominator":
        return tx["by_denominator"]
    if row.get("weight_year") is not None:
        return tx["nearest"].format(y=row["weight_year"])
    return tx["same_year"] if "same year" in basis else basis


def _poverty_context(mon: Monitoring, lang: str, tx: dict[str, str], label: Any) -> dict[str, Any]:
    """Charts and tables of the poverty section (everything read from the published product)."""
    from maps.charts import line_chart
    from maps.i18n import t

    pv = mon.poverty()
    ineq = pv["inequality"]
    series = [n for n in PAGE_INDICATORS if n in ineq]
    years = [r["year"] for n in series for r in ineq[n] if r["gini"] is not None]
    y0, y1 = (min(years), max(years)) if years else (None, None)
    charts = []
    if series:
        charts.append(line_chart({label(n): [(r["year"], _v(r["gini"])) for r in ineq[n]] for n in series},
                                 title=tx["gini_need"].format(y0=y0, y1=y1), lang=lang, decimals=2))
    u15 = ineq.get("sgb2_u15_pct", [])
    if u15:
        uy = [r["year"] for r in u15]
        charts.append(line_chart({tx["theil_total"]: [(r["year"], _v(r["theil"])) for r in u15],
                                  tx["theil_between"]: [(r["year"], _v(r["theil_between"])) for r in u15],
                                  tx["theil_within"]: [(r["year"], _v(r["theil_within"])) for r in u15]},
                                 title=tx["theil_u15"].format(y0=min(uy), y1=max(uy)), lang=lang, decimals=3))
    tables = [{"indicator": n, "label": label(n),
               "weights": t(f"weight_basis.{n}", lang) if n in pv["weights"] else "",
               "rows": [{**r, "weight_text": _weight_text(r, tx)} for r in ineq[n]]} for n in series]
    seg = pv["segregation"]["rows"]
    seg_years = ", ".join(str(r["year"]) for r in seg)
    seg_chart = line_chart({tx["dissimilarity_short"]: [(r["year"], _v(r["dissimilarity"])) for r in seg],
                            tx["isolation"]: [(r["year"], _v(r["isolation"])) for r in seg],
                            tx["city_share"]: [(r["year"], _v(r["group_share"])) for r in seg]},
                           title=f"{tx['seg_need']}, {seg[0]['year']}–{seg[-1]['year']}" if seg else tx["seg_need"],
                           lang=lang, decimals=2)
    ew = pv["early_warning"]
    rule = ew["rule"]
    thr = ", ".join(f"{label(n)} {v:g} ({', '.join(map(str, rule['years'].get(n, [])))})".replace(".", ",")
                    if lang == "de" else f"{label(n)} {v:g} ({', '.join(map(str, rule['years'].get(n, [])))})"
                    for n, v in rule["thresholds"].items())
    need_warns = sorted(({"key": r["key"], "name": str(mon.snapshot.district(r["key"]).get("name", r["key"])),
                          "indicator": label(r["indicator"]), "periods": periods_text(r["last_periods"], lang),
                          "years": str(r.get("years") or "").replace(";", ", ")} for r in ew["rows"]),
                        key=lambda r: (r["name"], r["indicator"]))
    ev = pv["evaluation"]
    eval_ctx: dict[str, Any] = {"available": bool(ev.get("available"))}
    if ev.get("available"):
        verdict = verdict_words(comparison_verdict(ev["comparison"]), lang)
        rows = [{"label": label(r["outcome"]), "window": f"{r['base_year']}–{r['end_year']}",
                 "treated": r["n_treated"], "outside": r["n_outside_support"], "estimate": r["estimate"],
                 "ci_low": r["ci_low"], "ci_high": r["ci_high"], "groups_low": r["placebo_groups_low"],
                 "groups_high": r["placebo_groups_high"], "placebo_year": r["placebo_year"],
                 "placebo": r["placebo_estimate"], "placebo_low": r["placebo_ci_low"],
                 "placebo_high": r["placebo_ci_high"]} for r in ev["comparison"]]
        eval_ctx.update(headline=verdict["headline"], sentences=verdict["outcomes"], limits=verdict["limits"],
                        rows=rows, seed_text=tx["eval_seed"].format(n=ev["n_boot"], g=ev["n_placebo_groups"],
                                                                    seed=ev["seed"]))
    return {"poverty_charts": charts, "poverty_tables": tables, "seg_need_chart": seg_chart, "seg_need": seg,
            "seg_need_note": tx["seg_need_note"].format(years=seg_years), "need_warns": need_warns,
            "need_rule": tx["need_rule"].format(p=rule["periods"], step=rule["step_years"], thr=thr),
            "evaluation": eval_ctx}


def _page_context(mon: Monitoring, lang: str, indicator: str, key: str) -> dict[str, Any]:
    from maps.charts import line_chart
    from maps.i18n import indicator_label, t

    tx = _texts(lang)
    table = mon.inequality("ortsteil")

    def label(n: str) -> str:
        return indicator_label(n, lang, unit=False) if n in table else indicator_label(n, lang)

    rows = table.get(indicator, [])

    def col(name: str) -> list[tuple[int, float]]:
        return [(r["year"], _v(r[name])) for r in rows]

    ry = [r["year"] for r in rows]
    span = f", {min(ry)}–{max(ry)}" if ry else ""
    other_chart = line_chart({tx["theil_total"]: col("theil"), tx["theil_between"]: col("theil_between"),
                              tx["theil_within"]: col("theil_within")},
                             title=f"{tx['theil']} – {label(indicator)}{span}", lang=lang, decimals=3)
    desc = mon.descriptive_segregation("ortsteil")
    desc_chart = line_chart({tx["dissimilarity_short"]: [(r["year"], _v(r["dissimilarity"])) for r in desc]},
                            title=(f"{tx['seg_foreign']}, {desc[0]['year']}–{desc[-1]['year']}" if desc
                                   else tx["seg_foreign"]), lang=lang, decimals=2)
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
            yrs = [y for y, v in item["series"] if v is not None]
            title = label(ind) + (f", {min(yrs)}–{max(yrs)}" if yrs else "")
            district_charts.append(line_chart({name: pts}, title=title,
                                              unit="" if item["unit"] == "persons" else item["unit"], lang=lang,
                                              decimals=0 if item["unit"] == "persons" else 1))
            tr = item.get("trend") or {}
            trends.append({"label": indicator_label(ind, lang), "unit": item["unit"],
                           "years": f"{tr['first_year']}–{tr['last_year']}" if tr else "",
                           "slope": tr.get("slope_per_year"), "change": tr.get("trend_change"),
                           "early": tr.get("slope_early"), "recent": tr.get("slope_recent"),
                           "decimals": 0 if item["unit"] == "persons" else 2})
        warns = [{**w, "label": indicator_label(w["indicator"], lang),
                  "periods": periods_text(w.get("last_periods"), lang)} for w in body["early_warning"]["indicators"]]
    an = mon.analysis()
    hot = an.loc[key] if key in an.index else None
    ctx = {
        "tx": tx, "other_chart": other_chart, "desc_chart": desc_chart, "district_charts": district_charts,
        "trends": trends, "warns": warns, "warning": bool(body and body["early_warning"]["warning"]),
        "indicators": [(n, label(n)) for n in table], "indicator": indicator, "key": key, "name": name,
        "hotspot": (t(f"hotspot.{hot['hotspot']}", lang) if hot is not None and isinstance(hot["hotspot"], str)
                    else None),
        "district_type": (hot["type_label_en" if lang == "en" else "type_label_de"] if hot is not None else None),
        "intro": tx["intro"].format(version=mon.version),
        "indicator_label": lambda n: indicator_label(n, lang),
    }
    ctx.update(_poverty_context(mon, lang, tx, label))
    return ctx


# the pages' CSP nonce, language and headers (see the contract at the top of service/web/pages.py)
page_bp.before_request(page_setup)
page_bp.after_request(page_headers)


@page_bp.route("/monitoring")
def page() -> str:
    """``/monitoring``: the monitoring page for an indicator (``?indicator=``) and a district (``?district=``)."""
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
