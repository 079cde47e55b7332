"""Vectorised point-in-district lookup (framework-free).

A :class:`PointLocator` is built once per snapshot. It answers "which district contains each of these
points?" for one point or a million without a Python loop over points or polygons:

1. A regular grid (default 25 m cells, EPSG:25832) covers both cities. Every cell that a district boundary
   touches, and its eight neighbours, is marked *mixed*. The remaining cells form connected regions that no
   boundary crosses, so each region lies entirely inside one district (or outside all): one exact test of a
   single cell centre per region labels the whole region (``scipy.ndimage.label``).
2. A point in a labelled cell is answered by one array index. A point in a mixed cell is answered exactly by
   a shapely ``STRtree`` query with the ``intersects`` predicate (boundary included).

Boundary rule (documented, deterministic): a point that lies in several districts of a level (exactly on a
shared boundary or vertex, or in an overlap left by the source data) goes to the district with the
**smallest key**. A point in no Ortsteil but inside a Stadtteil (a hole of the Ortsteil layer) is answered
with that Stadtteil (the *fallback* layer). A point in neither is outside both cities (``-1``).

The answers are identical to an exact ``intersects`` spatial join with the same smallest-key rule; the grid is
only an accelerator (cells near a boundary are never answered from the grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from geo.errors import CRSError, ValidationError

OUTSIDE = -1
_MIXED = -2
DEFAULT_CELL_M = 25.0


@dataclass(frozen=True)
class PointLocator:
    """Point lookup against one snapshot's districts (EPSG:25832).

    Attributes
    ----------
    keys : ndarray of str
        Key of every *leaf*: ``keys[:n_primary]`` are the primary layer (Ortsteile) sorted by key, the rest the
        fallback layer (Stadtteile) sorted by key.
    n_primary : int
        Number of primary leaves.
    """

    keys: np.ndarray
    n_primary: int
    primary_tree: shapely.STRtree
    fallback_tree: shapely.STRtree | None
    x0: float
    y0: float
    cell: float
    grid: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the cell grid."""
        return (int(self.grid.shape[0]), int(self.grid.shape[1]))

    def mixed_share(self) -> float:
        """Share of the labelled (inside) cells that need an exact test."""
        inside = (self.grid != OUTSIDE).sum()
        return float((self.grid == _MIXED).sum() / inside) if inside else 0.0


def _sorted_geoms(frame: gpd.GeoDataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    if frame.crs is None or frame.crs.to_epsg() != 25832:
        raise CRSError(f"the {what} layer must be in EPSG:25832, got {frame.crs}")
    if "key" not in frame.columns:
        raise ValidationError(f"the {what} layer has no 'key' column")
    order = np.argsort(frame["key"].astype(str).to_numpy(), kind="stable")
    keys = frame["key"].astype(str).to_numpy()[order]
    geoms = frame.geometry.to_numpy()[order]
    return keys, geoms


def exact_lookup(locator: PointLocator, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Exact leaf index of each point (STRtree, ``intersects``, smallest key wins); ``-1`` outside."""
    n = len(xs)
    out = np.full(n, OUTSIDE, dtype=np.int64)
    if n == 0:
        return out
    pts = shapely.points(xs, ys)
    pi, gi = locator.primary_tree.query(pts, predicate="intersects")
    if len(pi):
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, pi, gi)
        hit = best != np.iinfo(np.int64).max
        out[hit] = best[hit]
    miss = np.flatnonzero(out == OUTSIDE)
    if len(miss) and locator.fallback_tree is not None:
        pi, gi = locator.fallback_tree.query(pts[miss], predicate="intersects")
        if len(pi):
            best = np.full(len(miss), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, pi, gi)
            hit = best != np.iinfo(np.int64).max
            out[miss[hit]] = best[hit] + locator.n_primary
    return out


def build_locator(primary: gpd.GeoDataFrame, fallback: gpd.GeoDataFrame | None = None, *,
                  cell: float = DEFAULT_CELL_M) -> PointLocator:
    """Prepare the lookup for ``primary`` (Ortsteile) with ``fallback`` (Stadtteile) for its holes.

    Parameters
    ----------
    primary, fallback
        Layers in EPSG:25832 with a ``key`` column.
    cell
        Grid cell size in metres (memory grows with ``1 / cell**2``; 25 m is about 4 M cells, 8 MB).
    """
    if not cell > 0:
        raise ValidationError(f"cell must be positive, got {cell!r}")
    pkeys, pgeoms = _sorted_geoms(primary, "primary")
    frames = [pgeoms]
    keys = [pkeys]
    ftree = None
    if fallback is not None and len(fallback):
        fkeys, fgeoms = _sorted_geoms(fallback, "fallback")
        frames.append(fgeoms)
        keys.append(fkeys)
        ftree = shapely.STRtree(fgeoms)
    all_geoms = np.concatenate(frames)
    shapely.prepare(all_geoms)
    bounds = shapely.total_bounds(all_geoms)
    x0, y0 = bounds[0] - 2 * cell, bounds[1] - 2 * cell
    nx = int(np.ceil((bounds[2] + 2 * cell - x0) / cell))
    ny = int(np.ceil((bounds[3] + 2 * cell - y0) / cell))

    mixed = np.zeros((ny, nx), dtype=bool)
    edges = shapely.segmentize(shapely.boundary(all_geoms), cell / 2)
    coords = shapely.get_coordinates(edges)
    ix = np.floor((coords[:, 0] - x0) / cell).astype(np.int64)
    iy = np.floor((coords[:, 1] - y0) / cell).astype(np.int64)
    mixed[iy, ix] = True
    mixed = ndimage.binary_dilation(mixed, structure=np.ones((3, 3), dtype=bool))

    locator = PointLocator(keys=np.concatenate(keys).astype(object), n_primary=len(pkeys),
                           primary_tree=shapely.STRtree(pgeoms), fallback_tree=ftree,
                           x0=float(x0), y0=float(y0), cell=float(cell),
                           grid=np.empty((0, 0), dtype=np.int16))
    regions, n_regions = ndimage.label(~mixed)
    flat = regions.ravel()
    _, first = np.unique(flat, return_index=True)  # first cell of region 0 (= mixed) .. n_regions
    rep = first[1:] if flat[first[0]] == 0 else first
    ry, rx = np.divmod(rep, nx)
    labels = exact_lookup(locator, x0 + (rx + 0.5) * cell, y0 + (ry + 0.5) * cell)
    if len(all_geoms) >= np.iinfo(np.int16).max:
        raise ValidationError("too many districts for the lookup grid")
    lut = np.empty(n_regions + 1, dtype=np.int16)
    lut[0] = _MIXED
    lut[1:] = labels
    grid = lut[regions]
    object.__setattr__(locator, "grid", grid)
    return locator


def lookup_points(locator: PointLocator, xs: np.ndarray | list[float], ys: np.ndarray | list[float]) -> np.ndarray:
    """Leaf index of each point (EPSG:25832 coordinates); ``-1`` outside both cities or not finite.

    Parameters
    ----------
    locator
        From :func:`build_locator`.
    xs, ys
        Easting and northing in metres, same length.

    Returns
    -------
    ndarray of int64
        Index into ``locator.keys``: below ``locator.n_primary`` an Ortsteil, else a fallback Stadtteil.
    """
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValidationError(f"xs and ys must be 1-d arrays of the same length, got {x.shape} and {y.shape}")
    ny, nx = locator.grid.shape
    with np.errstate(invalid="ignore"):
        fx = np.floor((x - locator.x0) / locator.cell)
        fy = np.floor((y - locator.y0) / locator.cell)
        inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # False for NaN
    out = np.full(x.shape, OUTSIDE, dtype=np.int64)
    idx = np.flatnonzero(inside)
    lab = locator.grid[fy[idx].astype(np.int64), fx[idx].astype(np.int64)].astype(np.int64)
    out[idx] = lab
    mixed = idx[lab == _MIXED]
    if len(mixed):
        out[mixed] = exact_lookup(locator, x[mixed], y[mixed])
    return out


def lookup_point(locator: PointLocator, x: float, y: float) -> int:
    """Leaf index of one point (fast path without array allocation for labelled cells)."""
    ny, nx = locator.grid.shape
    if not (np.isfinite(x) and np.isfinite(y)):
        return OUTSIDE
    fx = int((x - locator.x0) // locator.cell)
    fy = int((y - locator.y0) // locator.cell)
    if not (0 <= fx < nx and 0 <= fy < ny):
        return OUTSIDE
    lab = int(locator.grid[fy, fx])
    if lab != _MIXED:
        return lab
    return int(exact_lookup(locator, np.array([x]), np.array([y]))[0])
