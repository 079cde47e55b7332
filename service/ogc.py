"""OGC API Features (Core, GeoJSON, OpenAPI 3.0) over the snapshot, framework-free.

Collections are prepared once per snapshot (:func:`build_collections`): every feature is reprojected to CRS84
(longitude, latitude) and serialised to GeoJSON text at load time, so ``/items`` filters a bbox array,
slices and joins strings.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.classify import ClassificationResult
from geo.errors import InputError, Problem, UnknownKeyError
from geo.snapshot import Snapshot
from service.eligibility import clean, dumps

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
GEOJSON = "application/geo+json"
TITLES = {
    "ortsteile": ("Ortsteile", "Ortsteile of Bremen and Bremerhaven with the statistics of the latest year and "
                  "the classification by the official programme definition"),
    "stadtteile": ("Stadtteile", "Stadtteile of Bremen and Bremerhaven"),
    "stadtbezirke": ("Stadtbezirke", "Stadtbezirke of Bremen and Bremerhaven"),
    "designations": ("Official designations", "Designated funding areas (WiN, LLQ, ...) with their designation "
                     "attributes, drawn with the geometry of the district they are recorded for"),
}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    ids: list[str]
    features: list[str]  # GeoJSON Feature text, CRS84
    geoms: np.ndarray  # shapely geometries, CRS84
    extent: list[float]
    position: dict[str, int]


def _feature_texts(ids: list[str], frame: gpd.GeoDataFrame) -> tuple[list[str], np.ndarray]:
    geo84 = frame.to_crs("OGC:CRS84")
    geoms = geo84.geometry.to_numpy()
    texts = shapely.to_geojson(geoms)
    props = [clean(r) for r in pd.DataFrame(frame.drop(columns="geometry")).to_dict("records")]
    out = [f'{{"type":"Feature","id":{dumps(i)},"geometry":{g if g is not None else "null"},'
           f'"properties":{dumps(p)}}}' for i, g, p in zip(ids, texts, props, strict=True)]
    return out, geoms


def _collection(cid: str, ids: list[str], frame: gpd.GeoDataFrame) -> Collection:
    texts, geoms = _feature_texts(ids, frame)
    shapely.prepare(geoms)
    b = shapely.total_bounds(geoms[~shapely.is_missing(geoms)]) if len(geoms) else [np.nan] * 4
    title, desc = TITLES[cid]
    return Collection(id=cid, title=title, description=desc, ids=ids, features=texts, geoms=geoms,
                      extent=[float(v) for v in b], position={k: i for i, k in enumerate(ids)})


def build_collections(snapshot: Snapshot, result: ClassificationResult | None) -> dict[str, Collection]:
    """The four collections of the snapshot (CRS84, all attributes)."""
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
        out[name] = _collection(name, frame["key"].astype(str).tolist(), frame)
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
    out["designations"] = _collection("designations", ids, frame)
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


class _Described(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def extent(self) -> Any: ...


def collection_doc(c: _Described, base: str) -> dict[str, Any]:
    """OGC API collection document of any collection with id, title, description and extent (CRS84)."""
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [c.extent], "crs": CRS84}},
        "links": [
            {"href": f"{base}/collections/{c.id}", "rel": "self", "type": "application/json", "title": c.title},
            {"href": f"{base}/collections/{c.id}/items", "rel": "items", "type": GEOJSON,
             "title": f"{c.title} (GeoJSON)"},
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


def _int_param(args: Mapping[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer, got {raw!r}",
                         problems=[Problem(check="parameter", message=f"{name}={raw!r}")]) from None
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise InputError(f"{name} must be in {rng}, got {value}",
                         problems=[Problem(check="parameter", message=f"{name}={value}")])
    return value


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` (or the 6-number 3-D form) in CRS84."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"bbox must be 4 (or 6) comma-separated numbers, got {raw!r}") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise InputError(f"bbox must be 4 (or 6) comma-separated finite numbers, got {raw!r}")
    x0, y0, x1, y1 = nums
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InputError(f"bbox {raw!r} is not in CRS84 (longitude -180..180, latitude -90..90)")
    if y0 > y1:
        raise InputError(f"bbox {raw!r}: the lower latitude is above the upper one")
    return x0, y0, x1, y1


def page_links(c: _Described, args: Mapping[str, str], base: str, *, limit: int, offset: int,
               matched: int) -> list[dict[str, str]]:
    """self, collection, next and prev links of an ``/items`` page (the bbox filter carried along)."""
    href = f"{base}/collections/{c.id}/items"
    keep = {"bbox": args["bbox"]} if args.get("bbox") else {}
    links = [{"href": f"{href}?{urlencode({**keep, 'limit': limit, 'offset': offset})}", "rel": "self",
              "type": GEOJSON, "title": "this page"},
             {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json",
              "title": c.title}]
    if offset + limit < matched:
        links.append({"href": f"{href}?{urlencode({**keep, 'limit': limit, 'offset': offset + limit})}",
                      "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": f"{href}?{urlencode({**keep, 'limit': limit, 'offset': max(0, offset - limit)})}",
                      "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return links


def items(c: Collection, args: Mapping[str, str], base: str) -> str:
    """The ``/items`` answer as GeoJSON text (FeatureCollection with links and counts)."""
    limit = _int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(args, "offset", 0, 0, None)
    bbox = parse_bbox(args.get("bbox"))
    idx = np.arange(len(c.features))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        if x0 <= x1:
            box = shapely.box(x0, y0, x1, y1)
        else:  # crosses the antimeridian
            box = shapely.union(shapely.box(x0, y0, 180, y1), shapely.box(-180, y0, x1, y1))
        # the request's own box first: the shared geometries are prepared, and GEOS builds a prepared geometry's
        # indexes lazily on first use, which is not safe from several request threads at once
        idx = idx[shapely.intersects(box, c.geoms)]
    matched = len(idx)
    page = idx[offset:offset + limit]
    links = page_links(c, args, base, limit=limit, offset=offset, matched=matched)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    feats = ",".join(c.features[i] for i in page)
    return (f'{{"type":"FeatureCollection","features":[{feats}],"links":{dumps(links)},'
            f'"numberMatched":{matched},"numberReturned":{len(page)},"timeStamp":"{stamp}"}}')


def item(c: Collection, fid: str, base: str) -> str:
    if fid not in c.position:
        raise UnknownKeyError(f"no feature {fid!r} in collection {c.id!r}")
    text = c.features[c.position[fid]]
    links = [{"href": f"{base}/collections/{c.id}/items/{fid}", "rel": "self", "type": GEOJSON,
              "title": "this feature"},
             {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json",
              "title": c.title}]
    return text[:-1] + f',"links":{dumps(links)}}}'
