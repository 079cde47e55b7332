"""Coordinate transformation to EPSG:25832 (one pyproj Transformer per CRS and thread)."""

from __future__ import annotations

import threading

import numpy as np
from pyproj import Transformer

_local = threading.local()


def _transformer(crs: str) -> Transformer:
    """The calling thread's Transformer from ``crs`` to EPSG:25832, made once per CRS and thread."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    tr = cache.get(crs)
    if tr is None:
        tr = cache[crs] = Transformer.from_crs(crs, "EPSG:25832", always_xy=True)
    return tr


def to_utm(xs: np.ndarray, ys: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates from ``crs`` (x = easting/longitude) to EPSG:25832."""
    if crs == "EPSG:25832":
        return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    tr = _transformer(crs)
    x, y = tr.transform(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def point_to_utm(x: float, y: float, crs: str) -> tuple[float, float]:
    """Transform one point from ``crs`` (x = easting/longitude) to EPSG:25832."""
    if crs == "EPSG:25832":
        return x, y
    tr = _transformer(crs)
    ox, oy = tr.transform(x, y)
    return float(ox), float(oy)
