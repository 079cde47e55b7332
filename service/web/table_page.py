"""The table of every Ortsteil (``/table``) and its CSV (``/table.csv``).

Need indicators with their years, classes, basis and confidence, then the demographic context.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from flask import Blueprint, Response, g, render_template

from maps.i18n import (
    class_label,
    indicator_label,
    t,
)
from maps.overview import category_text
from service.web.page_common import PageData, need_columns, page_data, page_decimals

TABLE_CONTEXT = ["population", "share_under_18_pct", "share_aged_65_plus_pct", "population_change_5y_pct"]





def _table_frame(data: PageData, lang: str) -> pd.DataFrame:
    """The frame of the table page and its CSV, with column headings in ``lang``.

    Need indicators with their years, classes, basis and confidence, then the demographic context.
    ``attrs["decimals"]``: the decimals of each numeric column (by its unit).
    """
    from service.api.answers import basis_answer

    tab = data.table
    decimals: dict[str, int] = {}
    out = pd.DataFrame({
        t("map.key", lang): tab["key"],
        "Name": tab["name"],
        t("map.city", lang): tab.get("city"),
    })
    for name in need_columns(data.definition):
        if name not in tab.columns:
            continue
        label = indicator_label(name, lang)
        out[label] = pd.to_numeric(tab[name], errors="coerce").round(page_decimals(name))
        decimals[label] = page_decimals(name)
        years = pd.to_numeric(tab[f"{name}__year"], errors="coerce") if f"{name}__year" in tab else None
        out[t("table.year_of", lang).format(label=indicator_label(name, lang, unit=False))] = (
            [str(int(y)) if pd.notna(y) and pd.notna(v) else "" for y, v in zip(years, out[label], strict=True)]
            if years is not None else "")
    if "status_class" in tab:
        out[t("layer.status", lang)] = [class_label("status_class", s, lang) if isinstance(s, str) and s else ""
                                        for s in tab["status_class"]]
    if "dynamics_class" in tab:
        out[t("layer.dynamics", lang)] = [class_label("dynamics_class", s, lang) if isinstance(s, str) and s else ""
                                          for s in tab["dynamics_class"]]
    cities = [str(c) for c in tab.get("city", pd.Series([""] * len(tab)))]
    bases = {c: basis_answer(data.definition, c) for c in set(cities)}
    out[t("table.basis", lang)] = [_basis_short(bases[c], lang) for c in cities]
    out[t("table.confidence", lang)] = [t(f"confidence_level.{bases[c]['confidence']}", lang)
                                        if bases[c]["confidence"] else "" for c in cities]
    if "categories" in tab:
        out[t("map.category", lang)] = [category_text(c, lang) if isinstance(c, list | tuple) and len(c) else ""
                                        for c in tab["categories"]]
    if "designated" in tab:
        out[t("layer.designations", lang)] = [
            _programmes_text(p, lang) if bool(d) and isinstance(p, str) else ""
            for d, p in zip(tab["designated"], tab.get("designation_programmes"), strict=True)]
    if "budget_eur" in tab:
        out["Budget EUR"] = pd.to_numeric(tab["budget_eur"], errors="coerce").round(2)
        decimals["Budget EUR"] = 0
    for name in TABLE_CONTEXT:
        if name in tab.columns:
            label = _table_change_label(data, name, lang)
            if name != "population":
                label = f"{label} – {t('layer.context_suffix', lang)}"
            out[label] = pd.to_numeric(tab[name], errors="coerce").round(page_decimals(name))
            decimals[label] = page_decimals(name)
    out = out.reset_index(drop=True)
    out.attrs["decimals"] = decimals
    return out


def _table_change_label(data: PageData, name: str, lang: str) -> str:
    """A column's label; a change names the two years it compares when every Ortsteil compares the same."""
    from service.api.profile import is_change, with_period

    label = indicator_label(name, lang)
    if not is_change(name):
        return label
    ind = data.snapshot.indicators
    rows = ind[(ind["indicator"] == name) & (ind["level"] == "ortsteil") & ind["value"].notna()
               & (ind["year"] <= data.snapshot.latest_year)].dropna(subset=["base_year"])
    last = rows[rows["year"] == rows["year"].max()] if len(rows) else rows
    periods = {(int(b), int(y)) for b, y in zip(last["base_year"], last["year"], strict=True)}
    return with_period(label, periods.pop()) if len(periods) == 1 else label


def _basis_short(basis: dict[str, Any], lang: str) -> str:
    """``"Programmgrundlage"`` or ``"eigene Grundlage: Wahlbeteiligung Bürgerschaftswahl"``."""
    from service.api.answers import plain_label

    if not basis.get("own_basis"):
        return t("basis.programme", lang)
    names = ", ".join(plain_label(indicator_label(i, lang)) for i in basis.get("status_indicators", []))
    return f"{t('basis.own', lang)}: {names}"


def _programmes_text(text: str, lang: str) -> str:
    """``"win;llq_quartier_im_werden"`` -> the programmes' names in ``lang`` (unknown ids unchanged)."""
    out = []
    for p in (x for x in text.split(";") if x and x != "nan"):
        word = t(f"programme.{p}", lang)
        out.append(p if word == f"programme.{p}" else word)
    return ", ".join(out)


def table() -> str:
    """``/table``: the table of every Ortsteil, filterable by city."""
    data = page_data()
    frame = _table_frame(data, g.lang)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    cities = sorted(str(c) for c in data.table["city"].dropna().unique()) if "city" in data.table else []
    return render_template("pages/table.html", data=data, frame=frame, numeric=set(numeric), cities=cities,
                           city_col=t("map.city", g.lang), decimals=frame.attrs.get("decimals", {}))


def table_csv() -> Response:
    """``/table.csv``: the same table as a CSV download (UTF-8 with BOM for Excel)."""
    data = page_data()
    frame = _table_frame(data, g.lang)
    from service.api.exports import to_csv

    # the service's one CSV writer: formula-like cells neutralised, CR/LF inside cells quoted; with a BOM for Excel
    name = f"quartiere-{data.snapshot.version}.csv"
    return Response("\ufeff".encode() + to_csv(frame), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})



def register(bp: Blueprint) -> None:
    """``/table`` and its CSV ``/table.csv``."""
    bp.add_url_rule("/table", "table", table)
    bp.add_url_rule("/table.csv", "table_csv", table_csv)
