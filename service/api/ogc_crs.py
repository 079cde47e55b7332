"""Coordinate reference systems of the OGC API (Part 2, CRS by reference), framework-free.

CRSs are named by their OGC URIs. Inside the service every geometry is stored with x = east (longitude) and
y = north (latitude), whatever the CRS; the axis order of a CRS (EPSG:4258 and EPSG:4326 are latitude first,
EPSG:3035 and EPSG:31467 northing first) applies only where coordinates cross the API: output coordinates,
``bbox`` with ``bbox-crs`` and geometry literals of a ``filter`` with ``filter-crs``. A :class:`Reprojector` holds
the pyproj transformers of one storage CRS, built once when a snapshot is loaded (before any request thread);
pyproj's ``Transformer`` is safe to share between threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo.errors import CRSError, InputError, Problem

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
#: CRSs offered by the Bremen collections (first: the default)
BREMEN_CRS = (CRS84, EPSG + "25832", EPSG + "4258", EPSG + "3035", EPSG + "4326")
#: CRSs offered by the national collections (Gauß-Krüger zone 3 besides, still found in older Länder data)
NATIONAL_CRS = (*BREMEN_CRS, EPSG + "31467")
#: decimals of output coordinates: projected (metres) to the millimetre, geographic (degrees) to about 1 mm
DECIMALS_PROJECTED = 3
DECIMALS_GEOGRAPHIC = 8
#: vertices per side of a bounding box reprojected to another CRS (its sides curve)
DENSIFY = 64


def _pyproj(uri: str) -> CRS:
    return CRS("OGC:CRS84") if uri in (CRS84, CRS84H) else CRS.from_user_input(uri)


def north_first(uri: str) -> bool:
    """True when the first axis of ``uri`` points north (latitude or northing first)."""
    return _pyproj(uri).axis_info[0].direction in ("north", "south")


def epsg_code(uri: str) -> str:
    """``EPSG:25832`` for its URI (``OGC:CRS84`` for CRS84)."""
    return "OGC:CRS84" if uri in (CRS84, CRS84H) else "EPSG:" + uri.rsplit("/", 1)[1]


@dataclass(frozen=True, eq=False)
class Reprojector:
    """Transformers between one storage CRS and every CRS offered (all with x = east, y = north)."""

    storage: str
    offered: tuple[str, ...]
    to_crs: dict[str, Transformer] = field(default_factory=dict)  # storage -> uri
    from_crs: dict[str, Transformer] = field(default_factory=dict)  # uri -> storage
    to_crs84: dict[str, Transformer] = field(default_factory=dict)  # uri -> CRS84
    swap: dict[str, bool] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, storage: str, offered: tuple[str, ...]) -> Reprojector:
        """The transformers between ``storage`` and each CRS ``offered`` (``storage`` must be one of them)."""
        if storage not in offered:
            raise ValueError(f"storage CRS {storage} must be one of the CRSs offered")
        r = cls(storage=storage, offered=offered)
        src = _pyproj(storage)
        for uri in offered:
            crs = _pyproj(uri)
            r.to_crs[uri] = Transformer.from_crs(src, crs, always_xy=True)
            r.from_crs[uri] = Transformer.from_crs(crs, src, always_xy=True)
            r.to_crs84[uri] = Transformer.from_crs(crs, _pyproj(CRS84), always_xy=True)
            r.swap[uri] = north_first(uri)
            r.decimals[uri] = DECIMALS_GEOGRAPHIC if crs.is_geographic else DECIMALS_PROJECTED
        return r

    def check(self, uri: str, param: str) -> str:
        """``uri`` if it is offered, else a :class:`CRSError` naming the parameter and the CRSs offered."""
        if uri not in self.offered:
            raise CRSError(f"{param}: CRS {uri!r} is not supported; use one of: {', '.join(self.offered)}",
                           problems=[Problem(check="parameter", message=f"{param}={uri}")])
        return uri

    def output(self, geoms: np.ndarray, uri: str) -> np.ndarray:
        """Storage geometries in ``uri``, in that CRS's axis order, rounded (see module docstring)."""
        transformer = None if uri == self.storage else self.to_crs[uri]
        swap, decimals = self.swap[uri], self.decimals[uri]

        def fn(xy: np.ndarray) -> np.ndarray:
            if transformer is not None:
                x, y = transformer.transform(xy[:, 0], xy[:, 1])
                xy = np.column_stack([x, y])
            if swap:
                xy = xy[:, ::-1]
            return np.round(xy, decimals)

        return shapely.transform(geoms, fn)

    def _input(self, geom: shapely.Geometry, uri: str, transformers: dict[str, Transformer],
               target: str, what: str) -> shapely.Geometry:
        """A geometry given in ``uri``'s axis order as x = east, y = north in ``target``."""
        swap = self.swap[uri]
        transformer = None if uri == target or (uri == CRS84H and target == CRS84) else transformers[uri]

        def fn(xy: np.ndarray) -> np.ndarray:
            if swap:
                xy = xy[:, ::-1]
            if transformer is not None:
                x, y = transformer.transform(xy[:, 0], xy[:, 1])
                xy = np.column_stack([x, y])
            return xy

        outside = CRSError(f"{what}: coordinates given in {uri} lie outside the area where that CRS is defined",
                           problems=[Problem(check="parameter", message=what)])
        try:
            step = _segment(geom) if transformer is not None else None
            if step is not None:
                geom = shapely.segmentize(geom, step)
            out = shapely.transform(geom, fn)
        except (shapely.errors.GEOSException, ValueError):  # absurd sizes (1e300 m) cannot be densified
            raise outside from None
        if not np.isfinite(shapely.get_coordinates(out)).all():
            raise outside
        return out

    def to_storage(self, geom: shapely.Geometry, uri: str, what: str = "filter") -> shapely.Geometry:
        """A geometry given in ``uri`` in the storage CRS (a :class:`CRSError` naming ``what`` outside its area)."""
        return self._input(geom, uri, self.from_crs, self.storage, what)

    def to_lonlat(self, geom: shapely.Geometry, uri: str, what: str = "bbox") -> shapely.Geometry:
        """A geometry given in ``uri`` in CRS84 (a :class:`CRSError` naming ``what`` outside its area)."""
        return self._input(geom, uri, self.to_crs84, CRS84, what)


def _segment(geom: shapely.Geometry) -> float | None:
    """The densification step of ``geom`` (``None``: a point, nothing to densify)."""
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(geom))
    with np.errstate(over="ignore", invalid="ignore"):
        size = max(x1 - x0, y1 - y0)
    if not math.isfinite(size):
        raise ValueError("geometry too large")
    return size / DENSIFY if size > 0 else None


# --------------------------------------------------------------------------------------------- bbox


def bbox_numbers(raw: str) -> list[float]:
    """The 4 (or 6, 3-D) finite numbers of a ``bbox`` as 4 numbers (heights dropped)."""
    try:
        nums = [float(p) for p in raw.split(",")]
    except ValueError:
        raise InputError(f"bbox must be 4 (or 6) comma-separated numbers, got {raw!r}",
                         problems=[Problem(check="parameter", message=f"bbox={raw}")]) from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise InputError(f"bbox must be 4 (or 6) comma-separated finite numbers, got {raw!r}",
                         problems=[Problem(check="parameter", message=f"bbox={raw}")])
    return nums


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` (or the 6-number 3-D form) in CRS84; may cross the antimeridian."""
    if raw is None or raw == "":
        return None
    x0, y0, x1, y1 = bbox_numbers(raw)
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InputError(f"bbox {raw!r} is not in CRS84 (longitude -180..180, latitude -90..90)",
                         problems=[Problem(check="parameter", message=f"bbox={raw}")])
    if y0 > y1:
        raise InputError(f"bbox {raw!r}: the lower latitude is above the upper one",
                         problems=[Problem(check="parameter", message=f"bbox={raw}")])
    return x0, y0, x1, y1


BBox = tuple[float, float, float, float]


def bbox_query(args: Mapping[str, str], reproject: Reprojector) -> BBox | shapely.Geometry | None:
    """The ``bbox`` of a request: a CRS84 tuple (``bbox-crs`` CRS84, the default), else a CRS84 polygon."""
    raw = args.get("bbox")
    uri = args.get("bbox-crs") or CRS84
    if uri != CRS84H:
        reproject.check(uri, "bbox-crs")
    if raw is None or raw == "":
        return None
    if uri in (CRS84, CRS84H):
        return parse_bbox(raw)
    a0, b0, a1, b1 = bbox_numbers(raw)
    if a0 > a1 or b0 > b1:
        raise InputError(f"bbox {raw!r}: a lower corner coordinate is above the upper one",
                         problems=[Problem(check="parameter", message=f"bbox={raw}")])
    # the numbers are in the CRS's axis order; to_lonlat swaps them where it is north first
    box = shapely.box(a0, b0, a1, b1)
    return reproject.to_lonlat(box, uri)


def content_crs(uri: str) -> str:
    """The ``Content-Crs`` header value of a features response."""
    return f"<{uri}>"

