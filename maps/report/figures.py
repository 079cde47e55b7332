"""The report's pictures: the interactive map document, the static SVG map and the line charts."""

from __future__ import annotations

import re
import warnings
from typing import Any

from markupsafe import Markup, escape

from maps import palettes
from maps.charts import line_chart
from maps.i18n import indicator_label, t
from maps.overview import overview_map
from maps.render import map_parts
from maps.report.data import CHART_INDICATORS, MAP_INDICATORS, THEIL_INDICATOR, Leaflet, ReportData
from maps.report.words import series, tr

__all__ = ["charts", "interactive_map_document", "static_map_svg"]


def interactive_map_document(data: ReportData, lang: str, leaflet: Leaflet) -> str:
    """A complete HTML document with the folium overview map and Leaflet inlined (for ``<iframe srcdoc>``)."""
    js, css = leaflet.js, leaflet.css
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = overview_map(data.wide, classification=data.result.table, lang=lang, asset_base="__VENDOR__",
                         profile_url="#d-__KEY__", use_hash=False, initial_layer="categories",
                         config={"indicators": list(MAP_INDICATORS)})
        parts = map_parts(m)
    head = re.sub(r'<script src="__VENDOR__/[^"]*"></script>', "", str(parts.head))
    head = re.sub(r'<link rel="stylesheet" href="__VENDOR__/[^"]*"\s*/?>', "", head)
    if "__VENDOR__" in head:  # pragma: no cover - a new asset the maps engineer added
        raise RuntimeError("the map needs an asset the report does not inline")
    # the srcdoc document may run its script before the iframe is laid out: fit the view again once loaded
    # (first view: the city of Bremen, where the statistics are; the map's buttons show both cities)
    # (Ortsteil 04011123 belongs to Bremen but lies inside Bremerhaven and has no statistics: left out of the fit)
    has = data.wide["has_statistics"].astype(bool) if "has_statistics" in data.wide else None
    focus = data.wide[has] if has is not None and has.any() else data.wide
    minx, miny, maxx, maxy = (round(float(v), 5) for v in focus.to_crs(4326).total_bounds)
    refit = ("<script>(function(){var m=window['" + parts.name + "'],done=false;function fit(){var c=m.getContainer();"
             "if(done||!c.clientWidth||!c.clientHeight){return;}done=true;m.invalidateSize();"
             f"m.fitBounds([[{miny},{minx}],[{maxy},{maxx}]],{{animate:false}});}}"
             "if(window.ResizeObserver){new ResizeObserver(fit).observe(m.getContainer());}"
             "window.addEventListener('load',fit);fit();})();</script>")
    return ("<!DOCTYPE html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\">"
            f"<style>{css}</style><script>{js}</script>{head}</head>"
            f"<body>{parts.body}{parts.script}{refit}</body></html>")


def static_map_svg(data: ReportData, lang: str, *, width: int = 900, tolerance_m: float = 40.0) -> Markup:
    """A static SVG map of the categories: the city of Bremen and Bremerhaven side by side, with a legend."""
    table = data.result.table.set_index("key")
    frame = data.wide[["key", "name", "city", "geometry"]].copy()
    frame["cat"] = [palettes.primary_category(table.at[k, "categories"] if k in table.index else None,
                                              bool(table.at[k, "classifiable"]) if k in table.index else False)
                    for k in frame["key"]]
    frame["geometry"] = frame.geometry.simplify(tolerance_m, preserve_topology=True)
    panels = [(c, frame[frame["city"] == c]) for c in ("Bremen", "Bremerhaven") if (frame["city"] == c).any()]
    # one common scale: metres per pixel
    gap, pad, legend_w = 20, 10, 210
    spans = [(p.total_bounds[2] - p.total_bounds[0], p.total_bounds[3] - p.total_bounds[1]) for _, p in panels]
    total_w = sum(s[0] for s in spans)
    scale = (width - legend_w - gap * (len(panels) - 1) - 2 * pad) / total_w
    height = int(max(s[1] for s in spans) * scale + 2 * pad + 24)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="q-map" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-labelledby="static-map-title">',
           f'<title id="static-map-title">{escape(tr("sec.map", lang))}</title>']
    x_off = pad
    for (city, part), (sw, _sh) in zip(panels, spans, strict=True):
        minx, _miny, _maxx, maxy = part.total_bounds
        out.append(f'<text x="{x_off:.0f}" y="16" font-size="13" font-weight="600" fill="#222">{escape(city)}</text>')

        def project(x: float, y: float, x0: float = x_off, left: float = minx,
                    top: float = maxy) -> tuple[float, float]:
            return x0 + (x - left) * scale, 24 + pad + (top - y) * scale

        for row in part.itertuples():
            colour = palettes.CATEGORY_COLOURS.get(row.cat, palettes.NO_DATA)
            d = _svg_path(row.geometry, project)
            label = f"{row.name} ({row.key}): {t(f'cat.{row.cat}', lang)}"
            out.append(f'<path d="{d}" fill="{colour}" stroke="#555" stroke-width="0.5" fill-rule="evenodd">'
                       f"<title>{escape(label)}</title></path>")
        x_off += sw * scale + gap
    ly = 40
    lx = width - legend_w + 10
    counts = frame["cat"].value_counts()
    for cat, colour in palettes.CATEGORY_COLOURS.items():
        n = int(counts.get(cat, 0))
        if not n and cat not in ("none", "not_classifiable"):
            continue
        out.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" fill="{colour}" stroke="#555"/>'
                   f'<text x="{lx + 20}" y="{ly}" font-size="12" fill="#222">{escape(t(f"cat.{cat}", lang))} '
                   f"({n})</text>")
        ly += 20
    out.append("</svg>")
    return Markup("".join(out))


def _svg_path(geom: Any, project: Any) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [project(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def charts(data: ReportData, lang: str) -> dict[str, Markup]:
    """The demography charts: Gini of :data:`CHART_INDICATORS`, Theil split, segregation, Moran's I."""
    ineq = data.inequality
    gini = {indicator_label(ind, lang): series(ineq[ineq["indicator"] == ind], "gini") for ind in CHART_INDICATORS}
    th = ineq[ineq["indicator"] == THEIL_INDICATOR]
    theil = {tr("chart.total", lang): series(th, "theil"),
             tr("chart.between_long", lang): series(th, "theil_between"),
             tr("chart.within_long", lang): series(th, "theil_within")}
    seg = data.segregation
    segc = {tr("chart.dissimilarity", lang): series(seg, "dissimilarity"),
            tr("chart.isolation", lang): series(seg, "isolation"),
            tr("chart.share", lang): series(seg, "group_share")}
    moran = {tr("chart.moran_series", lang): series(seg, "morans_i")}
    kw: dict[str, Any] = {"lang": lang, "width": 540, "height": 250}
    charts = {
        "gini": line_chart(gini, title=tr("chart.gini", lang), decimals=2, **kw),
        "theil": line_chart(theil, title=tr("chart.theil", lang, ind=indicator_label(THEIL_INDICATOR, lang)),
                            decimals=3, **kw),
        "segregation": line_chart(segc, title=tr("chart.seg", lang), decimals=2, **kw),
        "moran": line_chart(moran, title=tr("chart.moran", lang), decimals=2, **kw),
    }
    return charts
