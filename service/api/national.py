"""The national layers (Gemeinden, Gemeindeverbände, Kreise, Länder) for the OGC API and the national map.

Framework-free. :func:`load_national` reads one published national snapshot (``quartiere build --dataset
germany``) once, obtains the national screening classification of every classified level (published, cached in
the instance folder, or computed here once and cached), and prepares per layer a :class:`NationalCollection`
(:class:`service.api.ogc_features.FeatureTable`, the same as the Bremen collections'):

* the features sorted by key, reprojected once from EPSG:3035 to CRS84 and rounded to 6 decimals (~0.1 m;
  the VG5000 boundaries are generalised for 1:5,000,000, so nothing is lost);
* every feature serialised once to GeoJSON **bytes**, so a page of ``/items`` is a ``b",".join`` of slices;
* an ``STRtree`` over the CRS84 geometries plus their envelopes for ``bbox`` (:func:`query_bbox`);
* the CRSs of :data:`service.api.ogc_crs.NATIONAL_CRS` (EPSG:31467 besides the Bremen ones; storage EPSG:3035),
  CQL2 filters over the attributes and ``datetime`` against the statistics' reference date.

Nothing is computed on the request path except the query, the join and, for a CRS other than CRS84, the
reprojection of the page's geometries.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

import geo.national.indicators  # noqa: F401  (registers the national indicators' labels and units)
from geo.classify import ClassificationResult, Definition, classify, load_definition, load_result, save_result
from geo.config import NATIONAL_PROGRAMME
from geo.errors import QuartiereError, SnapshotError
from geo.pipeline.snapshot import GPKG, MANIFEST, Snapshot, current_version
from service.api import ogc_features
from service.api.ogc_crs import EPSG, NATIONAL_CRS, Reprojector
from service.api.ogc_features import FeatureTable, build_table, collection_doc, query_bbox

log = logging.getLogger(__name__)

#: collection id -> (level, title, description)
LAYERS: dict[str, tuple[str, str, str]] = {
    "gemeinden": ("gemeinde", "Gemeinden (Germany)",
                  "All Gemeinden of Germany (BKG VG5000) with their national indicators and the national "
                  "screening classification"),
    "gemeindeverbaende": ("gemeindeverband", "Gemeindeverbände (Germany)",
                          "All Gemeindeverbände of Germany (BKG VG5000) with their national indicators and the "
                          "national screening classification"),
    "kreise": ("kreis", "Kreise (Germany)",
               "All Kreise and kreisfreie Städte of Germany (BKG VG5000) with their national indicators, GISD and "
               "the national screening classification"),
    "laender": ("land", "Länder (Germany)", "The 16 Länder of Germany (BKG VG5000) with their indicators"),
}
#: levels the national screening classifies (the Länder are too few for z-scores)
CLASSIFIED = ("gemeinde", "gemeindeverband", "kreis")
#: classification columns added to every feature of a classified level
CLASS_COLUMNS = ("classifiable", "classifiable_reason", "status_index", "status_class", "dynamics_index",
                 "dynamics_class", "matrix_cell", "categories", "stability", "borderline")
DECIMALS = 6
STORAGE_CRS = EPSG + "3035"
__all__ = ["collection_doc", "query_bbox"]


#: a national collection (the same type as the Bremen ones)
NationalCollection = FeatureTable


@dataclass(frozen=True)
class NationalState:
    """A loaded national snapshot: layers (EPSG:3035), classifications per layer and the OGC collections."""

    snapshot: Snapshot  # layers only (the long indicator table is dropped after classifying)
    definition: Definition
    results: dict[str, ClassificationResult]  # by collection id
    collections: dict[str, NationalCollection]
    seconds: dict[str, float]
    loaded_at: float = field(default_factory=time.time)
    cache: dict[str, Any] = field(default_factory=dict)  # rendered map parts and the like, per version

    @property
    def version(self) -> str:
        return self.snapshot.version

    def frame(self, collection: str) -> gpd.GeoDataFrame:
        """The layer of ``collection`` (EPSG:3035, sorted by key) joined with its classification."""
        layer = self.snapshot.layers[collection].sort_values("key").reset_index(drop=True)
        result = self.results.get(collection)
        if result is None:
            return layer
        t = _class_table(result)
        return layer.merge(t, on="key", how="left")


# ----------------------------------------------------------------------------------------------- loading


def _read(path: Path, layer: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=True, **kwargs)
    except Exception:  # pyarrow missing or too old: the plain reader gives the same frame, slower
        return pyogrio.read_dataframe(path, layer=layer, **kwargs)


def _keys_as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    for col in [c for c in frame.columns if c == "key" or c.endswith("_key")]:
        frame[col] = frame[col].astype("string")
    return frame


def read_layers(root: Path, version: str) -> tuple[Path, dict[str, Any], dict[str, gpd.GeoDataFrame]]:
    """Manifest and polygon layers of a national snapshot version (no indicator table)."""
    path = root / version
    if not (path / MANIFEST).is_file() or not (path / GPKG).is_file():
        raise SnapshotError(f"{path}: snapshot version is missing or incomplete")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    missing = [n for n in LAYERS if n not in manifest.get("layers", [])]
    if missing:
        raise SnapshotError(f"{path}: not a national snapshot (dataset {manifest.get('dataset')!r}); "
                            f"layers {missing} missing — build one with `quartiere build --dataset germany`")
    layers = {n: _keys_as_strings(_read(path / GPKG, n)) for n in LAYERS}
    return path, manifest, layers


def _read_indicators(path: Path, levels: list[str]) -> pd.DataFrame:
    where = "level IN (" + ",".join(f"'{lv}'" for lv in levels) + ")"
    table = _read(path / GPKG, "indicators", read_geometry=False, where=where)
    table["key"] = table["key"].astype("string")
    return table


def national_result(snapshot: Snapshot, definition: Definition, level: str, *, instance: Path | None,
                    indicators: Any) -> ClassificationResult:
    """The screening result of ``level``: published, cached in ``instance``, or computed now (and cached).

    Published: ``<version>/classifications/<level>-<definition hash>.json``; cached:
    ``<instance>/classifications/<version>/national-<level>-<hash>.json``. ``indicators`` is a callable giving
    the long indicator table (read only when a level must be computed).
    """
    published = snapshot.path / "classifications" / f"{level}-{definition.hash}.json"
    if published.is_file():
        return load_result(published)
    cached = (instance / "classifications" / snapshot.version / f"national-{level}-{definition.hash}.json"
              if instance else None)
    if cached is not None and cached.is_file():
        try:
            return load_result(cached)
        except QuartiereError:
            log.warning("ignoring unreadable cached classification %s", cached)
    full = Snapshot(path=snapshot.path, manifest=snapshot.manifest, layers=snapshot.layers,
                    indicators=indicators(), designations=pd.DataFrame())
    result = classify(full.wide(level), definition, meta={"snapshot_version": snapshot.version, "level": level})
    if cached is not None:
        try:
            save_result(result, cached)
        except OSError as exc:
            log.warning("cannot cache the national classification in %s: %s", cached, exc)
    return result


def _class_table(result: ClassificationResult) -> pd.DataFrame:
    t = result.table
    t = t[~t["is_extra"]].copy() if "is_extra" in t else t.copy()
    t["key"] = t["key"].astype(str)
    if "categories" in t:
        t["categories"] = [";".join(c) if isinstance(c, list | tuple | np.ndarray) else (c or "")
                           for c in t["categories"]]
    keep = [c for c in CLASS_COLUMNS if c in t.columns]
    return t[["key", *keep]].rename(columns={"classifiable": "classifiable_by_programme"})


def _with_parent_names(name: str, frame: pd.DataFrame, layers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    out = frame
    for parent, col, label in (("kreise", "kreis_key", "kreis_name"), ("laender", "land_key", "land_name")):
        if name != parent and col in out.columns and label not in out.columns:
            names = dict(zip(layers[parent]["key"].astype(str), layers[parent]["name"].astype(str), strict=True))
            out[label] = [names.get(str(k)) if isinstance(k, str) else None for k in out[col].astype(object)]
    return out


def build_collection(cid: str, frame: gpd.GeoDataFrame, *, title: str, description: str,
                     decimals: int = DECIMALS, reproject: Reprojector | None = None) -> NationalCollection:
    """A :class:`NationalCollection` of ``frame`` (any CRS; stored in EPSG:3035, sorted by ``key`` here)."""
    if frame.crs is None:
        raise ValueError(f"build_collection: layer {cid!r} has no CRS")
    if "key" not in frame.columns or frame["key"].isna().any() or frame["key"].duplicated().any():
        raise ValueError(f"build_collection: layer {cid!r} needs unique, non-empty keys")
    frame = frame.sort_values("key").reset_index(drop=True).to_crs(STORAGE_CRS)
    return build_table(cid, frame, ids=frame["key"].astype(str).tolist(), title=title, description=description,
                       reproject=reproject or Reprojector.build(STORAGE_CRS, NATIONAL_CRS), decimals=decimals)


def load_national(root: str | os.PathLike[str], *, programme: str | os.PathLike[str] | None = None,
                  instance: str | os.PathLike[str] | None = None, version: str | None = None) -> NationalState:
    """Load ``version`` (default CURRENT) of the national snapshots folder ``root`` and prepare everything."""
    t0 = time.perf_counter()
    root = Path(root)
    version = version or current_version(root)
    path, manifest, layers = read_layers(root, version)
    secs = {"read": time.perf_counter() - t0}
    snapshot = Snapshot(path=path, manifest=manifest, layers=layers, indicators=pd.DataFrame(),
                        designations=pd.DataFrame())
    definition = load_definition(programme or NATIONAL_PROGRAMME)
    inst = Path(instance) if instance else None
    long: list[pd.DataFrame] = []

    def indicators() -> pd.DataFrame:  # read once, only if some level must be classified here
        if not long:
            long.append(_read_indicators(path, list(CLASSIFIED)))
        return long[0]

    t1 = time.perf_counter()
    results = {cid: national_result(snapshot, definition, level, instance=inst, indicators=indicators)
               for cid, (level, _, _) in LAYERS.items() if level in CLASSIFIED}
    long.clear()
    secs["classify"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    state = NationalState(snapshot=snapshot, definition=definition, results=results, collections={}, seconds=secs)
    reproject = Reprojector.build(STORAGE_CRS, NATIONAL_CRS)
    for cid, (_, title, desc) in LAYERS.items():
        frame = _with_parent_names(cid, state.frame(cid), layers)
        state.collections[cid] = build_collection(cid, frame, title=title, description=desc, reproject=reproject)
    secs["collections"] = time.perf_counter() - t2
    secs["total"] = time.perf_counter() - t0
    log.info("national snapshot %s loaded in %.1f s (%s)", version, secs["total"],
             ", ".join(f"{k} {v:.1f} s" for k, v in secs.items()))
    return state


# ----------------------------------------------------------------------------------------------- queries


def items(c: NationalCollection, args: Mapping[str, str], base: str) -> bytes:
    """The ``/items`` answer (GeoJSON FeatureCollection with links, numberMatched, numberReturned) as bytes."""
    return ogc_features.items(c, args, base)[0]


def item(c: NationalCollection, fid: str, base: str) -> bytes:
    """One feature by key, with its links, as GeoJSON bytes (CRS84)."""
    return ogc_features.item(c, fid, base)[0]


# ----------------------------------------------------------------------------------------------- the map page

#: web geometry of the national map: tolerance of the coverage simplification (EPSG:3035 metres) and decimals
MAP_TOLERANCE_M = 500.0
MAP_DECIMALS = 4
PANEL_INDICATORS = ("population", "sgb2_rate_pct", "child_poverty_pct", "unemployment_share_pct", "gisd_score",
                    "income_tax_per_inhabitant_eur", "population_change_5y_pct")


def kreise_map_frames(state: NationalState) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, gpd.GeoDataFrame]:
    """Districts, classification and web geometry of the Kreis map (cached in ``state.cache``).

    ``city`` carries the Land's name (shown in the tooltip); the classification keeps the status and dynamics
    classes (the national categories have no map colours of their own; the page lists them per Kreis).
    """
    cached = state.cache.get("kreise-map-frames")
    if cached is not None:
        return cached
    from maps import web_geometry

    layers = state.snapshot.layers
    kreise = layers["kreise"].sort_values("key").reset_index(drop=True)
    lands = dict(zip(layers["laender"]["key"].astype(str), layers["laender"]["name"].astype(str), strict=True))
    kreise = kreise.assign(city=[lands.get(str(k), "") for k in kreise["land_key"].astype(object)])
    result = state.results.get("kreise")
    cls = None
    if result is not None:
        t = result.table
        t = t[~t["is_extra"]] if "is_extra" in t else t
        cls = pd.DataFrame(t[["key", *[c for c in ("status_class", "dynamics_class") if c in t]]]).copy()
        cls["key"] = cls["key"].astype(str)
    web = web_geometry(kreise, tolerance_m=MAP_TOLERANCE_M, decimals=MAP_DECIMALS)
    frames = (kreise, cls, web)
    state.cache["kreise-map-frames"] = frames
    return frames


def find_kreis(state: NationalState, text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Kreis keys meant by ``text`` (a key, ``Name (key)`` or a name) and suggestions when unsure."""
    kreise = state.collections["kreise"]
    text = text.strip()
    if text in kreise.position:
        return [text], []
    if text.endswith(")") and "(" in text:
        inner = text.rsplit("(", 1)[1].rstrip(")").strip()
        if inner in kreise.position:
            return [inner], []
    layer = state.snapshot.layers["kreise"]
    names = [(str(k), str(n)) for k, n in zip(layer["key"], layer["name"], strict=True)]
    low = text.casefold()
    exact = sorted(k for k, n in names if n.casefold() == low)
    if exact:
        return exact, []
    partial = sorted((n, k) for k, n in names if low and low in n.casefold())
    if len(partial) == 1:
        return [partial[0][1]], []
    return [], [(k, n) for n, k in partial[:10]]


def kreis_panel(state: NationalState, key: str, lang: str) -> dict[str, Any]:
    """What the page shows about one Kreis: name, Land, status and dynamics classes, categories, indicators."""
    from geo.pipeline.indicators import REGISTRY
    from maps.i18n import fmt_number, indicator_label, reason_text, t

    frame = state.cache.get("kreise-frame")
    if frame is None:
        frame = state.cache["kreise-frame"] = state.frame("kreise").set_index("key", drop=False)
    row = frame.loc[key]
    labels = {c.id: c.label for c in state.definition.categories}
    cats = [c for c in str(row.get("categories") or "").split(";") if c]
    lands = state.cache.get("land-names")
    if lands is None:
        lay = state.snapshot.layers["laender"]
        lands = state.cache["land-names"] = dict(zip(lay["key"].astype(str), lay["name"].astype(str), strict=True))
    indicators = []
    for name in PANEL_INDICATORS:
        if name not in frame.columns:
            continue
        value = pd.to_numeric(pd.Series([row[name]]), errors="coerce").iloc[0]
        unit = REGISTRY[name].unit if name in REGISTRY else ""
        dec = 0 if unit in ("persons", "EUR") else (3 if name == "gisd_score" else 1)
        indicators.append({"label": indicator_label(name, lang),
                           "value": fmt_number(float(value), lang, decimals=dec) if value == value else "–"})
    status = row.get("status_class")
    dynamics = row.get("dynamics_class")
    classifiable = row.get("classifiable_by_programme")
    return {
        "key": key, "name": str(row["name"]), "bez": str(row.get("bez") or ""),
        "land": lands.get(str(row.get("land_key")), ""),
        "classifiable": bool(classifiable) if classifiable is not None and classifiable == classifiable else False,
        "reason": reason_text(str(row.get("classifiable_reason") or ""), lang),
        "status": t(f"status.{status}", lang) if isinstance(status, str) and status else "–",
        "status_id": status if isinstance(status, str) else "",
        "status_index": fmt_number(float(row["status_index"]), lang, decimals=2)
        if pd.notna(row.get("status_index")) else "–",
        "dynamics": t(f"dynamics.{dynamics}", lang) if isinstance(dynamics, str) and dynamics else "–",
        "categories": [t(f"cat.{c}", lang) if t(f"cat.{c}", lang) != f"cat.{c}" else labels.get(c, c)
                       for c in cats],
        "indicators": indicators,
    }
