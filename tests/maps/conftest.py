"""Fixtures for the map tests: a tiny synthetic coverage (no files) and the real snapshot's Ortsteile."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely


def grid_districts(n: int = 3, size: float = 1000.0, *, names: list[str] | None = None) -> gpd.GeoDataFrame:
    """``n`` x ``n`` square districts in EPSG:25832 whose shared edges have many (jittered) vertices."""
    rng = np.random.default_rng(7)
    xs = np.linspace(480000, 480000 + n * size, n + 1)
    ys = np.linspace(5880000, 5880000 + n * size, n + 1)
    # wiggly vertical and horizontal lines shared by neighbours
    steps = 40
    def jitter(i: int, j: int) -> float:
        return float(rng.normal(0, 15)) if 0 < i < n and 0 < j < steps else 0.0

    vlines = {i: [(xs[i] + jitter(i, j), ys[0] + j * (ys[-1] - ys[0]) / steps) for j in range(steps + 1)]
              for i in range(n + 1)}
    hlines = {i: [(xs[0] + j * (xs[-1] - xs[0]) / steps, ys[i] + jitter(i, j)) for j in range(steps + 1)]
              for i in range(n + 1)}
    lines = [shapely.LineString(v) for v in vlines.values()] + [shapely.LineString(h) for h in hlines.values()]
    faces = list(shapely.get_parts(shapely.polygonize([shapely.union_all(lines)])))
    faces.sort(key=lambda p: (round(p.centroid.y, -2), round(p.centroid.x, -2)))
    k = len(faces)
    keys = [f"0401{i:04d}" for i in range(k)]
    frame = gpd.GeoDataFrame({
        "key": keys,
        "name": names or [f"Quartier {i}" for i in range(k)],
        "city": ["Bremen"] * k,
        "population": np.arange(k) * 1000.0 + 500,
        "share_foreign_pct": np.linspace(5, 40, k),
        "share_under_18_pct": np.linspace(10, 25, k),
        "share_aged_65_plus_pct": np.linspace(12, 30, k)[::-1],
        "density_per_km2": np.linspace(100, 9000, k),
        "population_change_5y_pct": np.linspace(-5, 25, k),
        "designated": [i % 3 == 0 for i in range(k)],
        "designation_programmes": ["win" if i % 3 == 0 else None for i in range(k)],
    }, geometry=faces, crs=25832)
    return frame


def tiny_classification(frame: pd.DataFrame) -> pd.DataFrame:
    k = len(frame)
    status = ["high", "medium", "low", "very_low"]
    dyn = ["positive", "stable", "negative"]
    return pd.DataFrame({
        "key": frame["key"],
        "categories": [["win"] if i % 4 == 3 else (["watch_list"] if i % 4 == 1 else []) for i in range(k)],
        "status_class": [status[i % 4] for i in range(k)],
        "dynamics_class": [dyn[i % 3] for i in range(k)],
        "classifiable": [True] * k,
    })


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return grid_districts()
