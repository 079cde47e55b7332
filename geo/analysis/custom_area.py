"""A user-drawn area at the edge: a polygon, a GeoSeries or GeoJSON in, one valid polygon in EPSG:25832 out.

:func:`read_custom_area` rejects with a plain reason what cannot be estimated: no or conflicting CRS, unreadable,
empty, invalid or non-polygonal input, more than one feature, too many vertices. The estimate itself is
:func:`geo.analysis.interpolate.estimate_custom_area`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from geo.errors import CRSError, GeometryError, LimitError

__all__ = ["AREA_CRS", "DEFAULT_MAX_VERTICES", "read_custom_area"]

#: areas are measured only in this CRS (ETRS89 / UTM zone 32N)
AREA_CRS = "EPSG:25832"
DEFAULT_MAX_VERTICES = 10_000


def _crs_from_geojson(obj: Mapping[str, Any]) -> str | None:
    """The name in a GeoJSON object's (old-style) ``crs`` member, None without one."""
    crs = obj.get("crs")
    if crs is None:
        return None
    if isinstance(crs, Mapping):
        props = crs.get("properties") or {}
        name = props.get("name") if isinstance(props, Mapping) else None
        if isinstance(name, str):
            return name
    raise CRSError(f"the GeoJSON 'crs' member is not understood: {crs!r}; expected "
                   "{'type': 'name', 'properties': {'name': 'EPSG:4326'}}")


def _geometry_from_geojson(obj: Mapping[str, Any]) -> BaseGeometry:
    """The geometry of a GeoJSON Geometry, Feature or FeatureCollection of exactly one Feature."""
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features") or []
        if len(features) != 1:
            raise GeometryError(f"expected exactly one feature with the area, got {len(features)}")
        return _geometry_from_geojson(features[0])
    if kind == "Feature":
        geom = obj.get("geometry")
        if geom is None:
            raise GeometryError("the feature has no geometry")
        return _geometry_from_geojson(geom)
    try:
        return shape(obj)
    except Exception as exc:  # shapely raises several types for malformed input
        raise GeometryError(f"the GeoJSON geometry cannot be read: {exc}") from exc


def _parse_crs(value: Any, origin: str) -> CRS:
    """A pyproj CRS; an unknown one is a :class:`CRSError` naming where it came from."""
    try:
        return CRS.from_user_input(value)
    except PyprojCRSError as exc:
        raise CRSError(f"unknown coordinate reference system {value!r} ({origin})") from exc


def read_custom_area(area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | Mapping[str, Any] | str, *,
                     crs: Any = None, max_vertices: int = DEFAULT_MAX_VERTICES) -> BaseGeometry:
    """Validate a user-supplied area and return it as a polygon in EPSG:25832.

    Parameters
    ----------
    area
        A shapely (Multi)Polygon, a one-row GeoSeries/GeoDataFrame, or GeoJSON (a mapping or a string) with
        a Geometry, a Feature or a FeatureCollection of exactly one Feature.
    crs
        The CRS of ``area`` (anything pyproj understands, e.g. ``"EPSG:4326"``). Required unless the input
        declares one itself (GeoSeries/GeoDataFrame ``crs`` or the GeoJSON ``crs`` member); when both are
        given they must agree.
    max_vertices
        Largest number of vertices accepted.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        A valid, non-empty Polygon or MultiPolygon in EPSG:25832.

    Raises
    ------
    CRSError
        No CRS declared, an unknown CRS, or two declarations that disagree.
    GeometryError
        Unreadable, empty, invalid (with shapely's reason) or not polygonal; more than one feature.
    LimitError
        More than ``max_vertices`` vertices.
    """
    geom, declared, origin = _area_geometry(area)
    if declared is None and crs is None:
        raise CRSError("the area has no declared coordinate reference system; pass crs= (for example "
                       "'EPSG:4326' for longitude/latitude or 'EPSG:25832' for UTM 32N)")
    if declared is not None and crs is not None and _parse_crs(declared, origin) != _parse_crs(crs, "crs="):
        raise CRSError(f"the area declares {declared!s} in {origin} but crs={crs!s} was passed")
    source_crs = _parse_crs(crs if crs is not None else declared, "crs=" if crs is not None else origin)
    _check_polygon(geom, max_vertices)
    out = gpd.GeoSeries([geom], crs=source_crs).to_crs(AREA_CRS).iloc[0]
    if out.is_empty or out.area <= 0 or not np.isfinite(out.area):
        raise GeometryError("the area has no extent after projection to EPSG:25832 "
                            f"(check that its coordinates really are in {source_crs.to_string()})")
    if not out.is_valid:  # reprojection can create tiny self-intersections
        out = shapely.make_valid(out)
    return out


def _area_geometry(area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | Mapping[str, Any] | str,
                   ) -> tuple[BaseGeometry, Any, str]:
    """The geometry of the input, the CRS it declares itself (or None) and where that declaration is."""
    declared: Any = None
    origin = "the input"
    if isinstance(area, str):
        try:
            area = json.loads(area)
        except json.JSONDecodeError as exc:
            raise GeometryError(f"the area is not valid GeoJSON: {exc.msg} at position {exc.pos}") from exc
    if isinstance(area, gpd.GeoDataFrame):
        area = area.geometry
    if isinstance(area, gpd.GeoSeries):
        if len(area) != 1:
            raise GeometryError(f"expected exactly one geometry with the area, got {len(area)}")
        declared, origin = area.crs, "the GeoSeries' crs"
        geom = area.iloc[0]
    elif isinstance(area, BaseGeometry):
        geom = area
    elif isinstance(area, Mapping):
        declared, origin = _crs_from_geojson(area), "the GeoJSON 'crs' member"
        geom = _geometry_from_geojson(area)
    else:
        raise GeometryError(f"the area must be a polygon, a GeoSeries or GeoJSON, got {type(area).__name__}")
    return geom, declared, origin


def _check_polygon(geom: BaseGeometry | None, max_vertices: int) -> None:
    """Raise unless the geometry is a non-empty, valid (Multi)Polygon of at most ``max_vertices`` vertices."""
    if geom is None or geom.is_empty:
        raise GeometryError("the area is empty")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise GeometryError(f"the area must be a Polygon or MultiPolygon, got {geom.geom_type}")
    n_vertices = int(shapely.get_num_coordinates(geom))
    if n_vertices > max_vertices:
        raise LimitError(f"the area has {n_vertices} vertices; at most {max_vertices} are accepted "
                         "(simplify the outline)")
    if not geom.is_valid:
        raise GeometryError(f"the area is not a valid polygon: {explain_validity(geom)}")
