"""Batch point lookup: assign points to Gemeinden and attach their classification, one partition at a time.

A partition is a plain DataFrame with ``x``, ``y`` (metres, EPSG:3035). :func:`assign_partition` is the one
function both engines run: the in-memory engine on all points at once (:func:`lookup_memory`), the Dask engine
(:mod:`geo.national.dask_engine`) on every partition. Points on a shared border belong to the Gemeinde with the
lowest key; points outside every polygon get key index -1 (``key`` empty).

Synthetic points for benchmarks and tests (:func:`synthetic_points`) are drawn inside the real polygons,
proportional to the residents, deterministically from ``(seed, partition)``; they are labelled ``synthetic``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import CRSError, InputError
from geo.national import NATIONAL_CRS

OUTSIDE = -1


@dataclass
class GemeindeIndex:
    """The polygons and per-Gemeinde classification codes a lookup needs (picklable, shipped once to workers).

    ``classes`` holds one small-integer column per classification field (e.g. ``status_class`` coded by
    ``class_labels``) and ``categories``, a bit mask over ``category_ids``.
    """

    keys: np.ndarray
    geoms: np.ndarray
    classes: pd.DataFrame
    class_labels: dict[str, list[str]]
    category_ids: list[str]

    def __post_init__(self) -> None:
        self._tree: shapely.STRtree | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_tree"] = None  # rebuilt on the worker (not picklable, cheap to build)
        return state

    @property
    def tree(self) -> shapely.STRtree:
        """The spatial index over the Gemeinde polygons, built on first use."""
        if self._tree is None:
            shapely.prepare(self.geoms)
            self._tree = shapely.STRtree(self.geoms)
        return self._tree

    @classmethod
    def from_layer(cls, layer: gpd.GeoDataFrame, result_table: pd.DataFrame | None = None, *,
                   class_fields: tuple[str, ...] = ("status_class", "dynamics_class")) -> GemeindeIndex:
        """Build the index from a Gemeinde layer (EPSG:3035) and, optionally, a classification result table."""
        if layer.crs is None or layer.crs.to_epsg() != 3035:
            raise CRSError(f"the Gemeinde layer must be in {NATIONAL_CRS}, got {layer.crs}")
        layer = layer.sort_values("key").reset_index(drop=True)
        keys = layer["key"].astype(str).to_numpy(dtype=object)
        classes = pd.DataFrame(index=range(len(keys)))
        labels: dict[str, list[str]] = {}
        cats: list[str] = []
        if result_table is not None:
            res = result_table.set_index("key").reindex(keys)
            for f in class_fields:
                if f not in res.columns:
                    continue
                vals = res[f].fillna("").astype(str)
                labels[f] = sorted(v for v in vals.unique() if v)
                code = {v: i for i, v in enumerate(labels[f])}
                classes[f] = vals.map(lambda v, c=code: c.get(v, -1)).to_numpy(dtype=np.int8)
            cats = [c[3:] for c in res.columns if c.startswith("is_")]
            mask = np.zeros(len(keys), dtype=np.uint16)
            for bit, c in enumerate(cats):
                mask |= (res[f"is_{c}"].fillna(False).to_numpy(dtype=bool).astype(np.uint16) << bit)
            classes["categories"] = mask
        return cls(keys=keys, geoms=layer.geometry.to_numpy(), classes=classes, class_labels=labels,
                   category_ids=cats)


def assign_xy(index: GemeindeIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the Gemeinde containing each point (lowest key on borders), -1 outside."""
    pts = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    inp, hit = index.tree.query(pts, predicate="intersects")
    out = np.full(len(pts), np.iinfo(np.int32).max, dtype=np.int64)
    np.minimum.at(out, inp, hit)
    out[out == np.iinfo(np.int32).max] = OUTSIDE
    return out.astype(np.int32)


def assign_partition(points: pd.DataFrame, index: GemeindeIndex) -> pd.DataFrame:
    """Assign one partition of points (``x``, ``y`` in EPSG:3035) and attach the classification codes.

    Returns the input columns plus ``gemeinde`` (position in ``index.keys``, -1 outside) and one column per
    classification field (``-1`` when not classified).
    """
    if not {"x", "y"} <= set(points.columns):
        raise InputError(f"points need columns x and y (EPSG:3035 metres), got {list(points.columns)}")
    idx = assign_xy(index, points["x"].to_numpy(), points["y"].to_numpy())
    out = points.copy()
    out["gemeinde"] = idx
    inside = idx >= 0
    for col in index.classes.columns:
        vals = index.classes[col].to_numpy()
        fill = 0 if col == "categories" else -1
        arr = np.full(len(idx), fill, dtype=vals.dtype)
        arr[inside] = vals[idx[inside]]
        out[col] = arr
    return out


def summarise(assigned: pd.DataFrame, index: GemeindeIndex) -> pd.DataFrame:
    """Points per Gemeinde (and outside): a small table that can be summed across partitions."""
    counts = np.bincount(assigned["gemeinde"].to_numpy() + 1, minlength=len(index.keys) + 1)
    return pd.DataFrame({"gemeinde": np.arange(-1, len(index.keys)), "points": counts})


def with_keys(assigned: pd.DataFrame, index: GemeindeIndex) -> pd.DataFrame:
    """Readable result: ``key`` and class labels instead of codes (for small batches and the API)."""
    out = assigned.copy()
    g = out["gemeinde"].to_numpy()
    keys = np.append(index.keys, "")
    out["key"] = keys[np.where(g >= 0, g, len(index.keys))]
    for f, labels in index.class_labels.items():
        lab = np.array([*labels, ""], dtype=object)
        c = out[f].to_numpy()
        out[f] = lab[np.where(c >= 0, c, len(labels))]
    if index.category_ids:
        m = out["categories"].to_numpy()
        out["categories"] = [";".join(c for b, c in enumerate(index.category_ids) if v >> b & 1) for v in m]
    return out


def lookup_memory(points: pd.DataFrame, index: GemeindeIndex) -> pd.DataFrame:
    """The in-memory engine: every point at once."""
    return assign_partition(points, index)


# ---------------------------------------------------------------------------------------------------------
# synthetic points
# ---------------------------------------------------------------------------------------------------------
@dataclass
class PointSampler:
    """Draws synthetic points inside the Gemeinde polygons, proportional to the residents."""

    geoms: np.ndarray
    weights: np.ndarray
    bounds: np.ndarray

    @classmethod
    def from_layer(cls, layer: gpd.GeoDataFrame) -> PointSampler:
        """A sampler over a Gemeinde layer, weighted by ``population`` (by area if the layer counts no one)."""
        layer = layer.sort_values("key").reset_index(drop=True)
        pop = layer["population"].fillna(0).clip(lower=0).to_numpy(dtype=float)
        if pop.sum() <= 0:
            pop = layer.geometry.area.to_numpy()
        geoms = layer.geometry.to_numpy()
        return cls(geoms=geoms, weights=pop / pop.sum(), bounds=shapely.bounds(geoms))

    def sample(self, n: int, *, seed: int, partition: int = 0) -> pd.DataFrame:
        """``n`` points (``x``, ``y``, ``synthetic``); identical for the same ``(seed, partition)``."""
        rng = np.random.default_rng([seed, partition])
        poly = rng.choice(len(self.geoms), size=n, p=self.weights)
        x = np.empty(n)
        y = np.empty(n)
        todo = np.arange(n)
        shapely.prepare(self.geoms)
        while todo.size:
            b = self.bounds[poly[todo]]
            tx = b[:, 0] + rng.random(todo.size) * (b[:, 2] - b[:, 0])
            ty = b[:, 1] + rng.random(todo.size) * (b[:, 3] - b[:, 1])
            ok = shapely.contains_xy(self.geoms[poly[todo]], tx, ty)
            x[todo[ok]] = tx[ok]
            y[todo[ok]] = ty[ok]
            todo = todo[~ok]
        return pd.DataFrame({"x": x, "y": y, "synthetic": np.ones(n, dtype=bool)})
