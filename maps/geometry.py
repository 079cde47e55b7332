"""Light web geometry: a clean coverage, simplified together, in EPSG:4326 with few decimals.

Neighbouring districts must keep sharing their borders exactly after simplification and rounding, so the map
shows neither gaps nor overlaps. The steps:

1. **Clean coverage** (:func:`clean_coverage`): the published boundaries have a few sub-square-metre overlaps
   and edges that almost, but not exactly, match. All boundaries are noded together and polygonised; every face
   goes to the district that contains it (an overlap to the first), and sliver gaps below ``max_gap_m2`` go
   to the neighbour with the longest common border. Larger gaps (rivers or land outside every district) stay.
2. **Coverage simplification** (``shapely.coverage_simplify``): shared edges are simplified once, for both
   neighbours.
3. **Reprojection and rounding** to ``decimals`` in EPSG:4326: a shared vertex is the same number on both
   sides, so it is rounded the same way on both sides.

The views of the map (:func:`view_box`, :func:`main_part_box`) and its label points are computed here too.
Nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

#: default tolerance of the coverage simplification, metres (EPSG:25832)
DEFAULT_TOLERANCE_M = 15.0
#: default number of decimals of longitude/latitude (5 decimals: about 1 m)
DEFAULT_DECIMALS = 5


def _check_frame(gdf: gpd.GeoDataFrame, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise ValueError(f"{what}: the frame has no CRS; set one (the snapshot layers are EPSG:25832)")
    if not gdf.crs.is_projected:
        raise ValueError(f"{what}: expected a projected CRS in metres (EPSG:25832), got {gdf.crs.to_string()}")


def clean_coverage(gdf: gpd.GeoDataFrame, *, max_gap_m2: float = 500.0) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` whose polygons form a valid coverage (no overlaps, exactly matching edges).

    Parameters
    ----------
    gdf
        Polygons in a projected CRS in metres.
    max_gap_m2
        Gaps between districts smaller than this are given to the neighbour with the longest shared border.
    """
    _check_frame(gdf, "clean_coverage")
    geoms = shapely.make_valid(gdf.geometry.values)
    geoms = shapely.set_precision(geoms, 0.01)  # 1 cm grid: near-identical vertices become identical
    if shapely.coverage_is_valid(geoms):
        out = gdf.copy()
        out.geometry = geoms
        return out
    lines = shapely.union_all(shapely.boundary(geoms))
    faces = np.asarray(shapely.get_parts(shapely.polygonize([lines])))
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(geoms)
    hit_face, hit_geom = tree.query(points, predicate="intersects")
    owner = np.full(len(faces), -1)
    for f, g in zip(hit_face[::-1], hit_geom[::-1], strict=True):  # reversed: the first district wins
        owner[f] = g
    # slivers between districts: to the neighbour with the longest shared border
    for f in np.flatnonzero(owner < 0):
        if faces[f].area > max_gap_m2:
            continue
        near = tree.query(faces[f], predicate="intersects")
        if len(near) == 0:
            continue
        shared = [shapely.length(shapely.intersection(faces[f].boundary, geoms[g].boundary)) for g in near]
        owner[f] = near[int(np.argmax(shared))]
    parts = []
    for i in range(len(geoms)):
        mine = faces[owner == i]
        parts.append(shapely.union_all(mine) if len(mine) else shapely.Polygon())
    out = gdf.copy()
    out.geometry = shapely.make_valid(np.asarray(parts))
    return out


def web_geometry(gdf: gpd.GeoDataFrame, *, tolerance_m: float = DEFAULT_TOLERANCE_M,
                 decimals: int = DEFAULT_DECIMALS) -> gpd.GeoDataFrame:
    """Clean, simplify together and round ``gdf`` for the web; returns a frame in EPSG:4326.

    Parameters
    ----------
    gdf
        District polygons in a projected CRS in metres (the snapshot layers: EPSG:25832).
    tolerance_m
        Tolerance of ``shapely.coverage_simplify`` in metres; 0 keeps every vertex.
    decimals
        Decimals of longitude and latitude kept.
    """
    _check_frame(gdf, "web_geometry")
    if tolerance_m < 0:
        raise ValueError(f"web_geometry: tolerance_m must be >= 0, got {tolerance_m!r}")
    if not 3 <= int(decimals) <= 8:
        raise ValueError(f"web_geometry: decimals must be between 3 and 8, got {decimals!r}")
    clean = clean_coverage(gdf)
    geoms = clean.geometry.values
    if tolerance_m > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance_m)
    out = clean.set_geometry(geoms).to_crs(4326)
    rounded = shapely.transform(out.geometry.values, lambda c: np.round(c, int(decimals)))
    out = out.set_geometry(rounded)
    out.attrs = dict(gdf.attrs)
    return out


def view_box(geoms: gpd.GeoSeries) -> list[list[float]]:
    """The bounds of ``geoms`` (EPSG:4326) as Leaflet wants them: [[south, west], [north, east]]."""
    minx, miny, maxx, maxy = geoms.total_bounds
    return [[round(float(miny), 5), round(float(minx), 5)], [round(float(maxy), 5), round(float(maxx), 5)]]


def main_part_box(geoms: gpd.GeoSeries) -> list[list[float]]:
    """Return the :func:`view_box` of the districts that form the largest connected part of ``geoms``.

    An exclave, such as the city of Bremen's port area inside Bremerhaven, does not widen the view of its city.
    """
    merged = shapely.union_all(shapely.buffer(geoms.values, 1e-4))  # ~10 m: neighbours that touch are one part
    parts = list(getattr(merged, "geoms", [merged]))
    main = max(parts, key=lambda part: part.area)
    return view_box(geoms[shapely.intersects(geoms.values, main)])


def union_box(boxes: Sequence[list[list[float]]]) -> list[list[float]]:
    """The smallest box around several [[south, west], [north, east]] boxes."""
    return [[min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
            [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)]]


def label_order(districts: gpd.GeoDataFrame) -> list[int]:
    """Label priority: larger districts first (a smaller neighbour's label gives way when they would overlap)."""
    return [int(i) for i in np.argsort(-districts.geometry.area.to_numpy(), kind="stable")]


def label_points(districts: gpd.GeoDataFrame) -> list[list[float]]:
    """A point inside each district for its name label, as [lat, lon]."""
    reps = shapely.point_on_surface(districts.geometry.values)
    reps = gpd.GeoSeries(reps, crs=districts.crs).to_crs(4326)
    return [[round(p.y, 5), round(p.x, 5)] for p in reps]
