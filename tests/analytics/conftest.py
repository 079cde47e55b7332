"""Tiny hand-made fixtures for the analytics tests (no files: every value is written here).

The grid: unit squares of 1 km x 1 km in EPSG:25832 near Bremen (origin 487000 E, 5880000 N).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

X0, Y0 = 487_000.0, 5_880_000.0
KM = 1000.0


def square(col: float, row: float, width: float = 1.0, height: float = 1.0):
    """A box in grid units (km) from the origin."""
    return box(X0 + col * KM, Y0 + row * KM, X0 + (col + width) * KM, Y0 + (row + height) * KM)


@pytest.fixture
def grid_districts() -> gpd.GeoDataFrame:
    return make_grid()


def make_grid() -> gpd.GeoDataFrame:
    """Three Ortsteile in a row (A, B, C) and one Bremerhaven-like district D without statistics.

    ====  ===========  ==========  =================  ========
    key   population   foreign     under_18           square
    ====  ===========  ==========  =================  ========
    A     1000         200         150                (0, 0)
    B     400          40          100                (1, 0)
    C     2000         100         300                (2, 0)
    D     NaN          NaN         NaN (no stats)     (3, 0)
    ====  ===========  ==========  =================  ========
    """
    rows = [
        ("04011001", "Alpha", "Bremen", 1000.0, 200.0, 150.0, True),
        ("04011002", "Beta", "Bremen", 400.0, 40.0, 100.0, True),
        ("04011003", "Gamma", "Bremen", 2000.0, 100.0, 300.0, True),
        ("04012001", "Delta", "Bremerhaven", float("nan"), float("nan"), float("nan"), False),
    ]
    return gpd.GeoDataFrame(
        {
            "key": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "city": [r[2] for r in rows],
            "level": "ortsteil",
            "year": 2023,
            "area_km2": 1.0,
            "stadtteil_key": ["04011010", "04011010", "04011020", "04012010"],
            "stadtbezirk_key": ["04011100", "04011100", "04011100", "04012100"],
            "city_key": ["04011000", "04011000", "04011000", "04012000"],
            "has_statistics": [r[6] for r in rows],
            "population": [r[3] for r in rows],
            "foreign_nationals": [r[4] for r in rows],
            "under_18": [r[5] for r in rows],
        },
        geometry=[square(i, 0) for i in range(4)],
        crs="EPSG:25832",
    )
