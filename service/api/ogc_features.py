"""One collection of the OGC API, ready to be queried and paged: the Bremen and the national layers alike.

:func:`build_table` prepares a layer once per snapshot (before any request thread):

* the features sorted by key, reprojected once to CRS84 and serialised to GeoJSON **bytes**, with the byte span
  of each geometry, so a page in CRS84 is a ``b",".join`` of slices and a page in another CRS swaps only the
  geometries (reprojected from the storage geometries on demand, page by page: nothing is cached, memory stays
  bounded by the page size);
* an ``STRtree`` over the CRS84 geometries plus their envelopes for ``bbox`` (see :func:`query_bbox`);
* the attribute table with nullable dtypes for CQL2 filters (:mod:`service.api.ogc_filter`) and each feature's
  reference date (31 December of its statistics' ``year``: the tables are "Stand 31.12.") for ``datetime``.

Missing values are ``null`` (NaN, NA and empty strings alike). Results keep key order, so ``offset`` paging is
stable; ``numberMatched`` counts every feature the query selects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import UnknownKeyError
from service.api import ogc_filter
from service.api.eligibility import clean, dumps
from service.api.ogc_crs import CRS84, Reprojector, bbox_query
from service.api.ogc_query import Temporal, check_parameters, limit_offset, parse_datetime

GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: parameters carried from a request into its ``self``/``next``/``prev`` links
CARRIED = ("bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "filter-crs")


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """One layer of the OGC API (see module docstring)."""

    id: str
    title: str
    description: str
    ids: list[str]
    features: list[bytes]  # GeoJSON Feature, CRS84
    spans: np.ndarray  # (n, 2) byte offsets of each feature's geometry value
    geoms: np.ndarray  # prepared shapely geometries, CRS84
    envelopes: np.ndarray  # (n, 4) minx, miny, maxx, maxy (CRS84)
    tree: shapely.STRtree
    source: np.ndarray  # geometries in the storage CRS (x east, y north)
    reproject: Reprojector
    attrs: pd.DataFrame  # the properties, nullable dtypes
    temporal: Temporal | None
    extent: list[float]
    position: dict[str, int]
    properties: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def _null_empty(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" else v) for k, v in clean(record).items()}


def _reference_days(attrs: pd.DataFrame) -> Temporal | None:
    if "year" not in attrs.columns:
        return None
    years = pd.to_numeric(attrs["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    days = np.array([np.datetime64(f"{int(y):04d}-12-31") if np.isfinite(y) else np.datetime64("NaT")
                     for y in years], dtype="datetime64[D]")
    return Temporal(days)


def build_table(cid: str, frame: gpd.GeoDataFrame, *, ids: list[str], title: str, description: str,
                reproject: Reprojector, decimals: int | None = None) -> FeatureTable:
    """A :class:`FeatureTable` of ``frame`` (in ``reproject.storage``; rows in the order of ``ids``).

    ``decimals`` rounds the CRS84 coordinates (``None``: full precision).
    """
    if frame.crs is None:
        raise ValueError(f"build_table: layer {cid!r} has no CRS")
    source = frame.geometry.to_numpy()
    geoms = frame.to_crs("OGC:CRS84").geometry.to_numpy()
    if decimals is not None:
        geoms = shapely.transform(geoms, lambda c: np.round(c, decimals))
    texts = shapely.to_geojson(geoms)
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    records = [_null_empty(r) for r in plain.astype(object).to_dict("records")]
    feats, spans = [], np.zeros((len(ids), 2), dtype=np.int64)
    for n, (i, g, p) in enumerate(zip(ids, texts, records, strict=True)):
        head = f'{{"type":"Feature","id":{dumps(i)},"geometry":'.encode()
        geom = (g if g is not None else "null").encode()
        feats.append(head + geom + f',"properties":{dumps(p)}}}'.encode())
        spans[n] = (len(head), len(head) + len(geom))
    shapely.prepare(geoms)
    ok = ~shapely.is_missing(geoms)
    extent = [float(v) for v in shapely.total_bounds(geoms[ok])] if ok.any() else [-180.0, -90.0, 180.0, 90.0]
    attrs = ogc_filter.table(records, list(plain.columns))
    return FeatureTable(id=cid, title=title, description=description, ids=ids, features=feats, spans=spans,
                        geoms=geoms, envelopes=shapely.bounds(geoms), tree=shapely.STRtree(geoms), source=source,
                        reproject=reproject, attrs=attrs, temporal=_reference_days(attrs), extent=extent,
                        position={k: i for i, k in enumerate(ids)}, properties=list(plain.columns))


# ----------------------------------------------------------------------------------------------- queries


def query_bbox(c: FeatureTable, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Positions (in key order) of the features of ``c`` intersecting ``bbox`` (CRS84; may cross 180°).

    The tree's envelope candidates whose envelope lies inside the box are accepted without a geometry test; only
    the rest are tested exactly, the request's own box first: the shared geometries are prepared, and GEOS builds
    a prepared geometry's indexes lazily on first use, which is not safe from several request threads at once.
    """
    x0, y0, x1, y1 = bbox
    boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
    found = []
    for bx0, by0, bx1, by1 in boxes:
        box = shapely.box(bx0, by0, bx1, by1)
        cand = c.tree.query(box)
        env = c.envelopes[cand]
        inside = (env[:, 0] >= bx0) & (env[:, 1] >= by0) & (env[:, 2] <= bx1) & (env[:, 3] <= by1)
        rest = cand[~inside]
        found.append(cand[inside])
        found.append(rest[shapely.intersects(box, c.geoms[rest])])
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=int)


def select(c: FeatureTable, args: Mapping[str, str]) -> np.ndarray:
    """Positions (key order) of the features ``bbox``, ``datetime`` and ``filter`` select together."""
    box = bbox_query(args, c.reproject)
    when = parse_datetime(args.get("datetime"))
    text = args.get("filter")
    filter_crs = c.reproject.check(args.get("filter-crs") or CRS84, "filter-crs")
    ogc_filter.check_lang(args.get("filter-lang"))  # an unknown filter-lang is an error, with or without filter
    mask = np.ones(len(c), dtype=bool)
    if box is not None:
        hits = (query_bbox(c, box) if isinstance(box, tuple)
                else np.sort(c.tree.query(box, predicate="intersects")))
        keep = np.zeros(len(c), dtype=bool)
        keep[hits] = True
        mask &= keep
    if when is not None:
        mask &= c.temporal.matches(when) if c.temporal is not None else False
    if text:
        node = ogc_filter.parse(text, args.get("filter-lang"))
        mask &= ogc_filter.evaluate(node, c.attrs, c.source,
                                    lambda g: c.reproject.to_storage(g, filter_crs))
    return np.flatnonzero(mask)


def _encode(c: FeatureTable, positions: np.ndarray, crs: str) -> list[bytes]:
    if crs == CRS84 or not len(positions):
        return [c.features[i] for i in positions]
    texts = shapely.to_geojson(c.reproject.output(c.source[positions], crs))
    out = []
    for i, g in zip(positions, texts, strict=True):
        f, (s0, s1) = c.features[i], c.spans[i]
        out.append(f[:s0] + (g.encode() if g is not None else b"null") + f[s1:])
    return out


def page_links(c: FeatureTable, args: Mapping[str, str], base: str, *, limit: int, offset: int,
               matched: int) -> list[dict[str, str]]:
    """self, collection, next and prev links of an ``/items`` page (the query carried along)."""
    href = f"{base}/collections/{c.id}/items"
    keep = {k: args[k] for k in CARRIED if args.get(k)}

    def url(start: int) -> str:
        return f"{href}?{urlencode({**keep, 'limit': limit, 'offset': start})}"

    links = [{"href": url(offset), "rel": "self", "type": GEOJSON, "title": "this page"},
             {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json",
              "title": c.title}]
    if offset + limit < matched:
        links.append({"href": url(offset + limit), "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": url(max(0, offset - limit)), "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return links


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def items(c: FeatureTable, args: Mapping[str, str], base: str) -> tuple[bytes, str]:
    """The ``/items`` answer (GeoJSON FeatureCollection with links and counts) and the CRS of its coordinates."""
    check_parameters(args, "items", f=args.get("f"))
    limit, offset = limit_offset(args)
    crs = c.reproject.check(args.get("crs") or CRS84, "crs")
    idx = select(c, args)
    page = idx[offset:offset + limit]
    links = page_links(c, args, base, limit=limit, offset=offset, matched=len(idx))
    head = b'{"type":"FeatureCollection","features":['
    tail = (f'],"links":{dumps(links)},"numberMatched":{len(idx)},"numberReturned":{len(page)},'
            f'"timeStamp":"{_stamp()}"}}').encode()
    return head + b",".join(_encode(c, page, crs)) + tail, crs


def item(c: FeatureTable, fid: str, base: str, args: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """One feature by id, with its links, and the CRS of its coordinates."""
    args = args or {}
    check_parameters(args, "item", f=args.get("f"))
    crs = c.reproject.check(args.get("crs") or CRS84, "crs")
    if fid not in c.position:
        raise UnknownKeyError(f"no feature {fid!r} in collection {c.id!r}")
    query = f"?{urlencode({'crs': crs})}" if args.get("crs") else ""
    links = [{"href": f"{base}/collections/{c.id}/items/{fid}{query}", "rel": "self", "type": GEOJSON,
              "title": "this feature"},
             {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json",
              "title": c.title}]
    text = _encode(c, np.array([c.position[fid]]), crs)[0]
    return text[:-1] + f',"links":{dumps(links)}}}'.encode(), crs


# ----------------------------------------------------------------------------------------------- documents


def collection_doc(c: FeatureTable, base: str) -> dict[str, Any]:
    """The OGC API collection document: extents (CRS84, reference dates), CRSs offered, links."""
    extent: dict[str, Any] = {"spatial": {"bbox": [c.extent], "crs": CRS84}}
    interval = c.temporal.interval() if c.temporal is not None else None
    if interval is not None:
        extent["temporal"] = {"interval": [interval], "trs": TRS}
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": list(c.reproject.offered),
        "storageCrs": c.reproject.storage,
        "extent": extent,
        "links": [
            {"href": f"{base}/collections/{c.id}", "rel": "self", "type": "application/json", "title": c.title},
            {"href": f"{base}/collections/{c.id}/items", "rel": "items", "type": GEOJSON,
             "title": f"{c.title} (GeoJSON)"},
            {"href": f"{base}/collections/{c.id}/queryables", "rel": QUERYABLES_REL, "type": SCHEMA_JSON,
             "title": f"{c.title}: queryable properties"},
        ],
    }


def queryables_doc(c: FeatureTable, base: str) -> dict[str, Any]:
    """The queryables document (JSON Schema) of a collection, with its one geometry type or ``any``."""
    kinds = {t for t in shapely.get_type_id(c.geoms[~shapely.is_missing(c.geoms)]).tolist()}
    names = {3: "polygon", 6: "multipolygon", 0: "point", 1: "linestring"}
    kind = names.get(next(iter(kinds)), "any") if len(kinds) == 1 else "any"
    return ogc_filter.queryables(c.attrs, url=f"{base}/collections/{c.id}/queryables",
                                 title=f"{c.title}: queryable properties", geometry=kind)

