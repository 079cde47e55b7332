"""The report's template context: the summary, the districts table, the key points, the sources and the map."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from maps.i18n import reason_text, t
from maps.report.data import SYNTHETIC_MARKERS, Leaflet, ReportData
from maps.report.designations import basis_context, designation_context
from maps.report.figures import charts, interactive_map_document, static_map_svg
from maps.report.sections import demography_context, evaluation_context, poverty_context, warning_context
from maps.report.words import category_labels, num, tr

__all__ = ["report_context"]


def _district_rows(table: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """One row per Ortsteil: status, dynamics, categories (or why it is not classifiable), stability, budget."""

    def cls_label(prefix: str, v: Any) -> str:
        return t(f"{prefix}.{v}", lang) if isinstance(v, str) and v else "–"

    def reason_label(reason: str) -> str:
        text = reason_text(reason, lang)
        return f"{t('cat.not_classifiable', lang)}: {text}" if text else ""

    return [{
        "key": r.key, "name": r.name, "city": r.city, "population": num(r.population, lang),
        "status": cls_label("status", r.status_class), "status_class": r.status_class or "",
        "status_index": num(r.status_index, lang, 2), "dynamics": cls_label("dynamics", r.dynamics_class),
        "dynamics_class": r.dynamics_class or "",
        "categories": category_labels(list(r.categories), lang) or (reason_label(r.classifiable_reason)
                                                                     if not r.classifiable else "–"),
        "cat_ids": list(r.categories), "classifiable": bool(r.classifiable),
        "stability": (num(100 * r.stability, lang) + " %") if r.stability == r.stability else "–",
        "borderline": bool(r.borderline), "budget": num(r.budget_eur, lang) if r.budget_eur == r.budget_eur
        else "",
    } for r in table.itertuples()]


def _summary(data: ReportData, table: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Areas, residents and budget per category; the budget per city."""
    cat_rows = []
    for cid in data.definition.category_ids:
        sel = table[table[f"is_{cid}"]]
        cat_rows.append({"id": cid, "label": t(f"cat.{cid}", lang), "n": len(sel),
                         "residents": num(sel["population"].sum(), lang),
                         "budget": num(sel["budget_eur"].sum(), lang) if sel["budget_eur"].notna().any() else "–"})
    budget_rows = [{"group": b.group, "total": num(b.total_eur, lang), "allocated": num(b.allocated_eur, lang),
                    "unallocated": num(b.unallocated_eur, lang),
                    "note": tr(f"sum.note.{b.note}", lang) if b.note else ""} for b in data.result.budget.itertuples()]
    return {"n_areas": len(table), "n_classifiable": int(table["classifiable"].sum()),
            "n_not_classifiable": int((~table["classifiable"]).sum()), "cat_rows": cat_rows,
            "budget_rows": budget_rows}


def _points(data: ReportData, table: pd.DataFrame, lang: str, evaluation: dict[str, Any]) -> list[str]:
    """The key points of the summary, each with its figures."""
    defn = data.definition
    indicated = table[table[[f"is_{c}" for c in defn.indicating_categories]].any(axis=1)] \
        if defn.indicating_categories else table.iloc[0:0]
    points = [tr("pt.categories", lang, n=len(indicated), w=int(table["is_win"].sum()) if "is_win" in table else 0)]
    dc = data.result.designation_check
    if len(dc):
        des, ind = dc["designated"].astype(bool), dc["indicated"].astype(bool)
        points.append(tr("pt.designations", lang, d=int(des.sum()), both=int((des & ind).sum()),
                         new=int((~des & ind).sum()), old=int((des & ~ind).sum())))
    pin = data.poverty_inequality
    th = (pin[(pin["indicator"] == "sgb2_u15_pct") & pin["gini"].notna()] if len(pin) else pin)
    if len(th):
        points.append(tr("pt.inequality", lang, g0=num(th["gini"].iloc[0], lang, 2), y0=int(th["year"].iloc[0]),
                         g1=num(th["gini"].iloc[-1], lang, 2), y1=int(th["year"].iloc[-1]),
                         b=num(100 * th["theil_between_share"].iloc[-1], lang, 0)))
    pseg = data.poverty_segregation
    sg = pseg[pseg["dissimilarity"].notna()] if len(pseg) else pseg
    if len(sg):
        points.append(tr("pt.segregation", lang, d0=num(sg["dissimilarity"].iloc[0], lang, 2),
                         y0=int(sg["year"].iloc[0]), d1=num(sg["dissimilarity"].iloc[-1], lang, 2),
                         y1=int(sg["year"].iloc[-1]), m1=num(sg["morans_i"].iloc[-1], lang, 2)))
    points.append(tr("pt.warning", lang, n=data.warnings["key"].nunique()))
    cls = table[table["classifiable"]]
    points.append(tr("pt.borderline", lang, n=int(cls["borderline"].sum()),
                     p=num(100 * defn.robustness.stability_threshold, lang)))
    if evaluation["has_evaluation"]:
        points.append(tr("pt.evaluation", lang, s=evaluation["n_support"], n=evaluation["n_eval"]))
    return points


def _sources(data: ReportData, lang: str) -> dict[str, Any]:
    """The input files of the data version and the sources of the designations."""
    snap = data.snapshot
    inputs = [{"path": i["path"], "bytes": num(i.get("bytes"), lang),
               "synthetic": any(m in i["path"].lower() for m in SYNTHETIC_MARKERS)}
              for i in snap.manifest.get("inputs", [])]
    des_sources = []
    if len(snap.designations) and "sources" in snap.designations.columns:
        for area, src in snap.designations[["area", "sources"]].drop_duplicates("area").itertuples(index=False):
            des_sources.append({"area": area, "sources": [s.strip() for s in str(src).split("|") if s.strip()]})
    return {"inputs": inputs, "des_sources": des_sources}


def _map(data: ReportData, lang: str, leaflet: Leaflet | None) -> dict[str, Any]:
    """The interactive map when Leaflet is given, else the static SVG map."""
    if leaflet is not None:
        return {"interactive_map": interactive_map_document(data, lang, leaflet), "static_map": None,
                "map_note": tr("map.note", lang)}
    return {"interactive_map": None, "static_map": static_map_svg(data, lang), "map_note": tr("map.static_note", lang)}


def report_context(data: ReportData, lang: str, leaflet: Leaflet | None) -> dict[str, Any]:
    """Everything the template ``report.html`` shows, in ``lang``."""
    res, snap, defn = data.result, data.snapshot, data.definition
    table = res.table[~res.table["is_extra"]].copy()
    table["status_index_sort"] = table["status_index"].fillna(-99)
    table = table.sort_values(["city", "status_index_sort", "key"], ascending=[True, False, True])
    evaluation = evaluation_context(data, lang)
    return {
        "lang": lang, "t": lambda key, **kw: tr(key, lang, **kw), "year": data.year,
        "generated": tr("generated", lang, date=dt.date.today().isoformat(), version=snap.version, defn=defn.id,
                        dver=defn.version, hash=defn.hash[:12]),
        **_summary(data, table, lang), "points": _points(data, table, lang, evaluation),
        "district_rows": _district_rows(table, lang), "draws": res.meta.get("draws", defn.robustness.draws),
        **basis_context(data, lang), **designation_context(data, lang), **demography_context(data, lang),
        "charts": charts(data, lang), **warning_context(data, lang), **poverty_context(data, lang), **evaluation,
        **_sources(data, lang), "policy": res.policy.splitlines(), "synthetic": data.synthetic,
        **_map(data, lang, leaflet), "definition_title": defn.title,
    }
