"""OGC API Features over the snapshot, framework-free: Core, GeoJSON, OpenAPI 3.0, CRS (Part 2), Filtering (Part 3).

Collections are prepared once per snapshot (:func:`build_collections`, see :mod:`service.api.ogc_features`): every
feature is reprojected to CRS84 (longitude, latitude) and serialised to GeoJSON at load time, so ``/items`` in
CRS84 filters, slices and joins bytes; another ``crs`` (:data:`service.api.ogc_crs.BREMEN_CRS`) reprojects the
page's geometries from the storage CRS (EPSG:25832). ``filter`` is CQL2 (:mod:`service.api.ogc_filter`), ``datetime``
matches the statistics' reference date, and every query parameter is checked (:mod:`service.api.ogc_query`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.classify import ClassificationResult
from geo.errors import UnknownKeyError
from geo.pipeline.snapshot import Snapshot
from service.api.ogc_crs import BREMEN_CRS, CRS84, EPSG, Reprojector, parse_bbox
from service.api.ogc_features import GEOJSON, FeatureTable, build_table, collection_doc, item, items
from service.api.ogc_query import DEFAULT_LIMIT, MAX_LIMIT

__all__ = ["CRS84", "DEFAULT_LIMIT", "GEOJSON", "MAX_LIMIT", "Collection", "collection_doc", "item", "items",
           "parse_bbox"]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
]
STORAGE_CRS = EPSG + "25832"
TITLES = {
    "ortsteile": ("Ortsteile", "Ortsteile of Bremen and Bremerhaven with the statistics of the latest year and "
                  "the classification by the official programme definition"),
    "stadtteile": ("Stadtteile", "Stadtteile of Bremen and Bremerhaven"),
    "stadtbezirke": ("Stadtbezirke", "Stadtbezirke of Bremen and Bremerhaven"),
    "designations": ("Official designations", "Designated funding areas (WiN, LLQ, ...) with their designation "
                     "attributes, drawn with the geometry of the district they are recorded for"),
}
#: a Bremen collection (the same type as the national ones)
Collection = FeatureTable


def _collection(cid: str, ids: list[str], frame: gpd.GeoDataFrame, reproject: Reprojector) -> Collection:
    title, desc = TITLES[cid]
    return build_table(cid, frame.to_crs(STORAGE_CRS), ids=ids, title=title, description=desc,
                       reproject=reproject)


def build_collections(snapshot: Snapshot, result: ClassificationResult | None) -> dict[str, Collection]:
    """The four collections of the snapshot (all attributes; stored in EPSG:25832, served in CRS84 and more)."""
    reproject = Reprojector.build(STORAGE_CRS, BREMEN_CRS)
    out: dict[str, Collection] = {}
    for name in ("ortsteile", "stadtteile", "stadtbezirke"):
        frame = snapshot.layers[name].sort_values("key").reset_index(drop=True)
        if name == "ortsteile" and result is not None:
            t = result.table[~result.table["is_extra"]].copy()
            t["categories"] = t["categories"].map(";".join)
            keep = [c for c in ("status_index", "status_class", "dynamics_index", "dynamics_class",
                                "matrix_cell", "categories", "stability", "borderline", "budget_eur",
                                "classifiable") if c in t.columns]
            t = t[["key", *keep]].rename(columns={"classifiable": "classifiable_by_programme"})
            frame = frame.merge(t, on="key", how="left")
        out[name] = _collection(name, frame["key"].astype(str).tolist(), frame, reproject)
    des = snapshot.designations
    geom_of: dict[str, Any] = {}
    for name in ("stadtbezirke", "stadtteile", "ortsteile"):
        layer = snapshot.layers[name]
        geom_of.update(zip(layer["key"].astype(str), layer.geometry, strict=True))
    if len(des):
        des = des.copy()
        keys = des["key"].astype("string").fillna("").astype(str).tolist() if "key" in des else [""] * len(des)
        ids, seen = [], {}  # type: ignore[var-annotated]
        for i, k in enumerate(keys):
            base = k or f"row{i + 1}"
            seen[base] = seen.get(base, 0) + 1
            ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
        frame = gpd.GeoDataFrame(pd.DataFrame(des).reset_index(drop=True),
                                 geometry=[geom_of.get(k) for k in keys], crs="EPSG:25832")
    else:
        ids, frame = [], gpd.GeoDataFrame({"key": []}, geometry=[], crs="EPSG:25832")
    out["designations"] = _collection("designations", ids, frame, reproject)
    return out


# --------------------------------------------------------------------------------------------- documents


def landing_page(base: str, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "OGC API Features: districts of Bremen and Bremerhaven, their statistics, the "
                       "classification of the programme Lebendige Quartiere and official designations",
        "links": [
            {"href": f"{base}", "rel": "self", "type": "application/json", "title": "this document"},
            {"href": f"{base}/api", "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0",
             "title": "the API definition"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json",
             "title": "conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json", "title": "collections"},
        ],
    }


def collections_doc(cols: Mapping[str, Collection], base: str) -> dict[str, Any]:
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json",
                   "title": "collections"}],
        "collections": [collection_doc(c, base) for c in cols.values()],
    }


def get_collection(cols: Mapping[str, Collection], cid: str) -> Collection:
    if cid not in cols:
        raise UnknownKeyError(f"no collection {cid!r}; collections: {', '.join(cols)}")
    return cols[cid]
