"""The overview map: every district once, styled per thematic layer.

:func:`overview_map` takes the districts (a snapshot's wide frame, EPSG:25832) and optionally a
classification table, and returns a :class:`folium.Map`. The geometry is sent once, as one GeoJSON whose
features carry only their index; every thematic layer is a list of class numbers (one per district), its legend
(labels, colours, counts) and the formatted values shown in the tooltip. A small script (``maps/_script.py``)
restyles the one GeoJSON when the user picks another layer. Nothing here reads files or the network: scripts
and stylesheets are linked under ``asset_base`` (served by the app), and there are no tiles unless a tile URL is
configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure

from geo.pipeline.indicators import REGISTRY
from maps import palettes
from maps._script import ThematicLayers
from maps.classes import categorical_classes, classify_values
from maps.geometry import (
    DEFAULT_DECIMALS,
    DEFAULT_TOLERANCE_M,
    label_order,
    label_points,
    main_part_box,
    union_box,
    view_box,
    web_geometry,
)
from maps.i18n import check_lang, class_label, fmt_number, indicator_label, t, unit_label

#: Default configuration; any key may be overridden by the ``config`` argument of :func:`overview_map`.
DEFAULT_CONFIG: dict[str, Any] = {
    "scheme": "Quantiles",           # mapclassify scheme for indicator layers
    "k": 5,                          # number of classes
    "indicator_overrides": {         # per indicator: {"scheme": ..., "k": ...}
        "population": {"scheme": "FisherJenks", "k": 5},
        "density_per_km2": {"scheme": "FisherJenks", "k": 5},
    },
    "indicators": None,              # None: every indicator of the registry present in the frame
    "tolerance_m": DEFAULT_TOLERANCE_M,
    "decimals": DEFAULT_DECIMALS,
    "tiles": None,                   # None: plain background; else a tile URL template
    "attribution": "",               # required with tiles
    "label_zoom": 12,                # district names shown from this zoom on
    "outline": palettes.OUTLINE,
    # need indicators of the default programme, each shown with the year of its value; then residents
    "tooltip_indicators": ["sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct", "turnout_state_election_pct",
                           "population"],
    # indicator layers grouped as need indicators; None: those with a direction in the registry. Every other
    # indicator is descriptive context (its own group, labelled so, never the initial layer)
    "need_indicators": None,
}

NEED_DIRECTIONS = ("higher_is_worse", "higher_is_better", "lower_is_worse")

#: layer ids in the order of the layer switch (indicators follow)
PROGRAMME_LAYERS = ("categories", "designations", "status", "dynamics", "hotspots", "district_type")
CATEGORY_ORDER = palettes.CATEGORY_ORDER
ASSETS = {"js": [("leaflet", "leaflet/leaflet.js")], "css": [("leaflet_css", "leaflet/leaflet.css")]}


def _check_input(districts: gpd.GeoDataFrame, classification: pd.DataFrame | None) -> None:
    problems = []
    if not isinstance(districts, gpd.GeoDataFrame):
        raise TypeError(f"overview_map: districts must be a GeoDataFrame, got {type(districts).__name__}")
    for col in ("key", "name"):
        if col not in districts.columns:
            problems.append(f"districts lack the column {col!r}")
    if districts.crs is None:
        problems.append("districts have no CRS (expected EPSG:25832)")
    if "key" in districts.columns and districts["key"].duplicated().any():
        dups = sorted(districts.loc[districts["key"].duplicated(), "key"].astype(str))[:5]
        problems.append(f"duplicate keys in districts: {dups}")
    if classification is not None and "key" not in classification.columns:
        problems.append("classification table lacks the column 'key'")
    if problems:
        raise ValueError("overview_map: " + "; ".join(problems))


def _decimals(name: str) -> int:
    ind = REGISTRY.get(name)
    return 0 if ind is None or ind.unit in ("persons", "persons/km²") else 1


def category_text(cats: Any, lang: str) -> str:
    """Categories of one district as text (``"–"`` for none)."""
    if isinstance(cats, str):
        cats = [c for c in cats.split(";") if c]
    if cats is None or (isinstance(cats, float) and np.isnan(cats)) or len(cats) == 0:
        return t("cat.none", lang)
    return ", ".join(t(f"cat.{c}", lang) for c in cats)


def thematic_layers(frame: pd.DataFrame, *, lang: str, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every thematic layer the columns of ``frame`` allow, as plain dicts (id, group, title, classes, legend...)."""
    g_prog, g_ana = t("group.programme", lang), t("group.analysis", lang)
    layers: list[dict[str, Any]] = []
    if "categories" in frame:
        layers.append(_category_layer(frame, lang, g_prog))
    if "designated" in frame:
        layers.append(_designation_layer(frame, lang, g_prog))
    layers += _class_layers(frame, lang, g_prog)
    if "hotspot" in frame:
        layers.append(_hotspot_layer(frame, lang, g_ana))
    if "district_type" in frame:
        layers.append(_district_type_layer(frame, lang, g_ana))
    layers += _indicator_layers(frame, lang=lang, config=config)
    layers.append({"id": "outline", "group": g_prog, "title": t("layer.outline", lang),
                   "classes": np.full(len(frame), -1, dtype=int), "legend": [], "outline": True})
    for lay in layers:
        lay["missing"] = int((np.asarray(lay["classes"]) < 0).sum()) if not lay.get("outline") else 0
        lay["classes"] = [int(c) for c in lay["classes"]]
    return layers


def _category_layer(frame: pd.DataFrame, lang: str, group: str) -> dict[str, Any]:
    """The categories layer: each district coloured by its first category by precedence."""
    primary = [palettes.primary_category(c, k) for c, k in zip(frame["categories"],
                                                     frame.get("classifiable", [None] * len(frame)),
                                                     strict=True)]
    order = [*CATEGORY_ORDER, "none", "not_classifiable"]
    classes, legend = categorical_classes(primary, order, palettes.CATEGORY_COLOURS,
                                          {c: t(f"cat.{c}", lang) for c in order})
    return {"id": "categories", "group": group, "title": t("layer.categories", lang),
            "classes": classes, "legend": legend, "note": t("map.multiple", lang),
            "values": [t("cat.not_classifiable", lang) if p == "not_classifiable" else
                       category_text(c, lang) for c, p in zip(frame["categories"], primary, strict=True)]}


def _designation_layer(frame: pd.DataFrame, lang: str, group: str) -> dict[str, Any]:
    """The designations layer: the programme group of each district's designation and its area names."""
    progs = frame["designation_programmes"] if "designation_programmes" in frame else [None] * len(frame)
    des = [palettes.designation_group(p, bool(d) if d == d else False)
           for p, d in zip(progs, frame["designated"], strict=True)]
    order = list(palettes.DESIGNATION_COLOURS)
    des_labels = {c: t(f"des.{c}", lang) for c in order}
    classes, legend = categorical_classes(des, order, palettes.DESIGNATION_COLOURS, des_labels)
    areas = frame["designation_areas"] if "designation_areas" in frame else [None] * len(frame)
    values = [t(f"des.{d}", lang) + (f" ({a})" if isinstance(a, str) and a else "") for d, a in zip(des, areas,
                                                                                                  strict=True)]
    return {"id": "designations", "group": group, "title": t("layer.designations", lang),
            "classes": classes, "legend": legend, "values": values}


def _class_layers(frame: pd.DataFrame, lang: str, group: str) -> list[dict[str, Any]]:
    """The status and dynamics class layers, each value with its basis confidence where that is lower."""
    layers = []
    for lid, col, colours in (("status", "status_class", palettes.STATUS_COLOURS),
                              ("dynamics", "dynamics_class", palettes.DYNAMICS_COLOURS)):
        if col not in frame:
            continue
        order = list(colours)
        labels = {c: class_label(col, c, lang) for c in order}
        classes, legend = categorical_classes(list(frame[col]), order, colours, labels)
        conf = _confidence_words(frame, lang)
        values = [(labels.get(v, t("map.no_data", lang)) if isinstance(v, str) else t("map.no_data", lang))
                  + (f" ({c})" if c else "") for v, c in zip(frame[col], conf["row"], strict=True)]
        layer = {"id": lid, "group": group, "title": t(f"layer.{lid}", lang), "classes": classes,
                 "legend": legend, "values": values}
        if conf["note"]:
            layer["note"] = conf["note"]
        layers.append(layer)
    return layers


def _hotspot_layer(frame: pd.DataFrame, lang: str, group: str) -> dict[str, Any]:
    """The hot spot layer (local Moran's I classes)."""
    order = list(palettes.HOTSPOT_COLOURS)
    labels = {c: t(f"hotspot.{c}", lang) for c in order}
    classes, legend = categorical_classes(list(frame["hotspot"]), order, palettes.HOTSPOT_COLOURS, labels)
    return {"id": "hotspots", "group": group, "title": t("layer.hotspots", lang), "classes": classes,
            "legend": legend, "values": [labels.get(v, t("map.no_data", lang)) for v in frame["hotspot"]]}


def _district_type_layer(frame: pd.DataFrame, lang: str, group: str) -> dict[str, Any]:
    """The typology layer: one qualitative colour per district type."""
    kinds = sorted({str(v) for v in frame["district_type"] if isinstance(v, str) or pd.notna(v)})
    colours = dict(zip(kinds, palettes.qualitative(len(kinds)), strict=True))
    vals = [str(v) if (isinstance(v, str) or pd.notna(v)) else None for v in frame["district_type"]]
    classes, legend = categorical_classes(vals, kinds, colours, {k: k for k in kinds})
    return {"id": "district_type", "group": group, "title": t("layer.district_type", lang),
            "classes": classes, "legend": legend,
            "values": [v if v is not None else t("map.no_data", lang) for v in vals]}


def _indicator_names(frame: pd.DataFrame, config: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """The indicator layers to draw (need indicators first) and which of them are need indicators."""
    wanted = config.get("indicators")
    names = list(wanted) if wanted is not None else [n for n in REGISTRY if n in frame]
    need_ids = config.get("need_indicators")
    need = set(need_ids) if need_ids is not None else {n for n, ind in REGISTRY.items()
                                                       if ind.direction in NEED_DIRECTIONS}
    names = [n for n in names if n in need] + [n for n in names if n not in need]
    missing = [n for n in names if n not in frame]
    if missing:
        raise ValueError(f"overview_map: indicators not in the districts frame: {missing}")
    return names, need


def _indicator_layers(frame: pd.DataFrame, *, lang: str, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One layer per indicator with values, classed by the configured scheme; context indicators labelled so."""
    g_need, g_ctx = t("group.need", lang), t("group.context", lang)
    names, need = _indicator_names(frame, config)
    overrides = config.get("indicator_overrides") or {}
    layers = []
    for name in names:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().sum() == 0:
            continue
        opts = {"scheme": config["scheme"], "k": config["k"], **overrides.get(name, {})}
        unit = REGISTRY[name].unit if name in REGISTRY else ""
        dec = _decimals(name)
        classes, legend, note = classify_values(values, scheme=opts["scheme"], k=int(opts["k"]), lang=lang,
                                                unit=unit, decimals=dec)
        label = indicator_label(name, lang)
        is_need = name in need
        if not is_need:
            label = f"{label} – {t('layer.context_suffix', lang)}"
        years = _years(frame, name)
        unit_txt = unit_label(unit, lang)
        layers.append({"id": name, "group": g_need if is_need else g_ctx, "title": label, "classes": classes,
                       "legend": legend, "note": note if is_need else f"{note}; {t('group.context', lang)}",
                       "values": [fmt_number(x, lang, decimals=dec) + (f" {unit_txt}" if unit not in ("persons", "")
                                                                      and x == x else "")
                                  + (f" ({y})" if y and x == x else "") for x, y in zip(values, years, strict=True)]})
    return layers


def _years(frame: pd.DataFrame, name: str) -> list[str]:
    """Per row the year the value of ``name`` is from (the snapshot's ``X__year``), "" where unknown."""
    col = f"{name}__year"
    if col not in frame:
        return [""] * len(frame)
    ys = pd.to_numeric(frame[col], errors="coerce")
    return [str(int(y)) if pd.notna(y) else "" for y in ys]


def _confidence_words(frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    """``basis_confidence`` in words: per row where below the best present; a note naming each city's if they differ."""
    if "basis_confidence" not in frame:
        return {"row": [""] * len(frame), "note": ""}
    rank = {"high": 3, "medium": 2, "low": 1}
    conf = [c if isinstance(c, str) and c in rank else "" for c in frame["basis_confidence"]]
    best = max((rank[c] for c in conf if c), default=0)
    word = t("basis.confidence", lang)
    rows = [f"{word} {t(f'confidence_level.{c}', lang)}" if c and rank[c] < best else "" for c in conf]
    note = ""
    if len({c for c in conf if c}) > 1:
        cities = frame["city"].astype(str) if "city" in frame else pd.Series(["*"] * len(frame))
        per_city: dict[str, str] = {}
        for city, c in zip(cities, conf, strict=True):
            if c:
                per_city.setdefault(city, c)
        note = "; ".join(f"{city}: {word} {t(f'confidence_level.{c}', lang)}" for city, c in sorted(per_city.items()))
        note = f"{t('map.status_note', lang)}. {note}"
    return {"row": rows, "note": note}


def overview_map(
    districts: gpd.GeoDataFrame,
    *,
    classification: pd.DataFrame | None = None,
    lang: str = "de",
    config: Mapping[str, Any] | None = None,
    layers: Sequence[str] | None = None,
    initial_layer: str = "status",
    asset_base: str = "/static/vendor",
    profile_url: str = "/districts/__KEY__",
    click_url: str | None = None,
    use_hash: bool = True,
    height: str = "100%",
    web: gpd.GeoDataFrame | None = None,
    focus: Mapping[str, Sequence[str]] | None = None,
    all_label: str | None = None,
    zoom_by_city: bool = True,
) -> folium.Map:
    """Build the overview map of all districts in ``districts``.

    Parameters
    ----------
    districts
        One row per district, EPSG:25832, with ``key`` and ``name`` (and ``city``, indicators, ``designated``,
        ``designation_programmes``, ``hotspot``, ``district_type`` where available).
    classification
        A classification result's ``table`` (``key``, ``categories``, ``status_class``, ``dynamics_class``,
        ``classifiable``); joined on ``key``.
    lang
        ``"de"`` (default) or ``"en"``.
    config
        Overrides of :data:`DEFAULT_CONFIG` (classification scheme and classes, tiles, simplification).
    layers
        Layer ids to keep (default: all that the columns allow); indicator layers are named by their column.
    initial_layer
        The layer shown first: the status class of the programme's need index (falls back to the first layer).
    asset_base
        URL prefix under which the app serves ``leaflet/leaflet.js`` and ``leaflet/leaflet.css``.
    profile_url
        Link in the popup; ``__KEY__`` is replaced by the district key.
    click_url
        If given, a click anywhere goes to this URL with ``__LON__`` and ``__LAT__`` replaced (the eligibility
        check), instead of opening a popup.
    use_hash
        Remember the chosen layer in the URL fragment (``#layer=<id>``).
    web
        The districts' geometry already passed through :func:`maps.geometry.web_geometry` (EPSG:4326, same row
        order), to reuse between calls; computed when omitted.
    focus
        Extra zoom buttons: label -> district keys (e.g. ``{"Bremen": ["04011"]}`` on a national map).
    all_label
        Label of the button showing every district (default: "both cities").
    zoom_by_city
        One zoom button per value of the ``city`` column (when there is one).
    """
    cfg = _checked_config(districts, classification, lang, config)
    frame = _with_classification(districts, classification)
    web = _web(districts, web, cfg, n_rows=len(frame))
    thematic = _chosen_layers(thematic_layers(frame, lang=lang, config=cfg), layers)
    ids = [lay["id"] for lay in thematic]
    rows, tip_labels = _tooltips(frame, [c for c in cfg["tooltip_indicators"] if c in frame], lang)
    data = {
        "geo": {"type": "FeatureCollection", "features": _features(web)},
        "rows": rows,
        "tipLabels": tip_labels,
        "labels": label_points(districts),
        "layers": thematic,
        "initial": initial_layer if initial_layer in ids else ids[0],
        "bounds": _view_bounds(frame, web, focus=focus, zoom_by_city=zoom_by_city),
        "noData": palettes.NO_DATA,
        "outline": cfg["outline"],
        "labelZoom": int(cfg["label_zoom"]),
        "labelOrder": label_order(districts),
        "profileUrl": profile_url,
        "clickUrl": click_url,
        "useHash": bool(use_hash),
        "t": _words(lang, all_label),
    }
    return _folium_map(web, data, cfg=cfg, height=height, asset_base=asset_base)


def _checked_config(districts: gpd.GeoDataFrame, classification: pd.DataFrame | None, lang: str,
                    config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check the arguments of :func:`overview_map`; the default configuration with ``config``'s overrides."""
    check_lang(lang)
    _check_input(districts, classification)
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    if cfg["tiles"] and not cfg["attribution"]:
        raise ValueError("overview_map: config 'tiles' needs an 'attribution'")
    return cfg


def _web(districts: gpd.GeoDataFrame, web: gpd.GeoDataFrame | None, cfg: Mapping[str, Any],
         n_rows: int) -> gpd.GeoDataFrame:
    """The districts' web geometry: the one given (same rows) or computed with the configured simplification."""
    if web is None:
        web = web_geometry(districts, tolerance_m=float(cfg["tolerance_m"]), decimals=int(cfg["decimals"]))
    if len(web) != n_rows:
        raise ValueError(f"overview_map: web geometry has {len(web)} rows, districts {n_rows}")
    return web


def _words(lang: str, all_label: str | None) -> dict[str, str]:
    """The words the map's script shows (popup, layer switch, zoom buttons)."""
    return {"key": t("map.key", lang), "layer": t("map.layer", lang), "noData": t("map.no_data", lang),
            "both": all_label or t("map.both", lang), "profile": t("map.profile", lang)}


def _with_classification(districts: gpd.GeoDataFrame, classification: pd.DataFrame | None) -> pd.DataFrame:
    """The districts' attributes (no geometry) with the classification's columns joined on ``key``."""
    frame = pd.DataFrame(districts.drop(columns=districts.geometry.name)).reset_index(drop=True)
    frame["key"] = frame["key"].astype(str)
    if classification is not None:
        cls = pd.DataFrame(classification).copy()
        cls["key"] = cls["key"].astype(str)
        extra = [c for c in cls.columns if c == "key" or c not in frame.columns or c in (
            "categories", "status_class", "dynamics_class", "classifiable", "basis", "basis_confidence")]
        frame = frame.drop(columns=[c for c in extra if c != "key" and c in frame.columns])
        frame = frame.merge(cls[extra], on="key", how="left")
    return frame


def _chosen_layers(thematic: list[dict[str, Any]], layers: Sequence[str] | None) -> list[dict[str, Any]]:
    """The thematic layers asked for (all when ``layers`` is None); an unknown id is an error."""
    if layers is None:
        return thematic
    unknown = set(layers) - {lay["id"] for lay in thematic}
    if unknown:
        raise ValueError(f"overview_map: unknown or unavailable layers {sorted(unknown)}")
    return [lay for lay in thematic if lay["id"] in layers]


def _features(web: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoJSON features that carry only their row index (mapping() gives tuples; json turns them into arrays)."""
    return [{"type": "Feature", "properties": {"i": i}, "geometry": shapely.geometry.mapping(g)}
            for i, g in enumerate(web.geometry.values)]


def _tooltips(frame: pd.DataFrame, tip_cols: list[str], lang: str) -> tuple[list[list[str]], list[str]]:
    """Per district the tooltip's texts (key, name, city, category, status, indicators...) and their labels."""
    tip_years = {c: _years(frame, c) for c in tip_cols}
    cats = frame["categories"] if "categories" in frame else [None] * len(frame)
    status = frame["status_class"] if "status_class" in frame else [None] * len(frame)
    rows = []
    for i in range(len(frame)):
        row = [frame.at[i, "key"], str(frame.at[i, "name"]), str(frame.at[i, "city"]) if "city" in frame else ""]
        if "categories" in frame:
            flag = frame.at[i, "classifiable"] if "classifiable" in frame else None
            not_cls = isinstance(flag, bool | np.bool_) and not flag
            row.append(t("cat.not_classifiable", lang) if not_cls else category_text(cats[i], lang))
        if "status_class" in frame:
            s = status[i]
            row.append(class_label("status_class", s, lang) if isinstance(s, str) and s else t("map.no_data", lang))
        if "basis_confidence" in frame:
            c = frame.at[i, "basis_confidence"]
            row.append(t(f"confidence_level.{c}", lang) if isinstance(c, str) and c else t("map.no_data", lang))
        row += [_tooltip_value(frame.at[i, c], c, tip_years[c][i], lang) for c in tip_cols]
        rows.append(row)
    tip_labels = ([t("map.category", lang)] if "categories" in frame else []) + (
        [t("map.status", lang)] if "status_class" in frame else []) + (
        [f"{t('map.basis', lang)}: {t('basis.confidence', lang)}"] if "basis_confidence" in frame else []) + [
        indicator_label(c, lang) for c in tip_cols]
    return rows, tip_labels


def _tooltip_value(value: Any, name: str, year: str, lang: str) -> str:
    """One indicator value for the tooltip, with its unit and the year it is from."""
    ind = REGISTRY.get(name)
    x = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    unit = (f" {unit_label(ind.unit, lang)}" if ind is not None and ind.unit not in ("persons",) and x == x
            else "")
    return fmt_number(x, lang, decimals=_decimals(name)) + unit + (f" ({year})" if year and x == x else "")


def _view_bounds(frame: pd.DataFrame, web: gpd.GeoDataFrame, *, focus: Mapping[str, Sequence[str]] | None,
                 zoom_by_city: bool) -> dict[str, list[list[float]]]:
    """The zoom buttons' views: all districts (``*``), each city's main part, and each ``focus`` entry."""
    bounds = {"*": view_box(web.geometry)}
    if "city" in frame and zoom_by_city:
        for city in sorted(frame["city"].dropna().unique()):
            bounds[str(city)] = main_part_box(web.geometry[(frame["city"] == city).to_numpy()])
        bounds["*"] = union_box([b for name, b in bounds.items() if name != "*"])
    for label, keys in (focus or {}).items():
        chosen = frame["key"].isin([str(k) for k in keys]).to_numpy()
        if chosen.any():
            bounds[str(label)] = view_box(web.geometry[chosen])
    return bounds


def _folium_map(web: gpd.GeoDataFrame, data: dict[str, Any], *, cfg: Mapping[str, Any], height: str,
                asset_base: str) -> folium.Map:
    """The folium map around the districts: optional tiles, the app's assets and the thematic layers' data."""
    centre = web.geometry.union_all().centroid
    m = folium.Map(location=[centre.y, centre.x], zoom_start=10, tiles=None, control_scale=True,
                   height=height, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5)  # fit views closely
    if cfg["tiles"]:
        folium.TileLayer(tiles=cfg["tiles"], attr=cfg["attribution"], name="basemap").add_to(m)
    use_assets(m, asset_base)
    m.add_child(ThematicLayers(data))
    cast(Figure, m.get_root()).html.add_child(Element(""))  # keeps the figure's html section present
    return m


def use_assets(m: folium.Map, asset_base: str) -> folium.Map:
    """Point the map's scripts and stylesheets at ``asset_base`` (the app's vendor route).

    Folium's CDN defaults (jQuery, Bootstrap, awesome-markers), which these maps do not use, are dropped.
    """
    base = asset_base.rstrip("/")
    m.default_js = [(name, f"{base}/{path}") for name, path in ASSETS["js"]]
    m.default_css = [(name, f"{base}/{path}") for name, path in ASSETS["css"]]
    return m
