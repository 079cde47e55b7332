"""Tiny hand-made tables and definitions for the classify tests (no real data)."""

from __future__ import annotations

import copy
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

# A 3 x 3 grid of 1 km squares (EPSG:25832) in "Bremen" plus two "Bremerhaven" areas without statistics.
# x = share of something bad (%), higher is worse; growth = 5-year population change (%).
GRID = [
    # key,       name, col,row, population, x,    growth, designated
    ("00000001", "A", 0, 0, 5000, 10.0, 1.0, False),
    ("00000002", "B", 1, 0, 4000, 30.0, 0.0, True),
    ("00000003", "C", 2, 0, 3000, 30.0, 2.0, False),
    ("00000004", "D", 0, 1, 6000, 30.0, -1.0, False),
    ("00000005", "E", 1, 1, 1500, 12.0, 40.0, True),
    ("00000006", "F", 2, 1, 2500, 30.0, 0.5, False),
    ("00000007", "G", 0, 2, 800, 30.0, 1.0, False),
    ("00000008", "H", 1, 2, 7000, 30.0, 3.0, False),
    ("00000009", "I", 2, 2, 200, 50.0, 0.0, False),
]


def grid_table(*, geometry: bool = True) -> pd.DataFrame:
    rows = []
    for key, name, c, r, pop, x, g, des in GRID:
        rows.append(
            {
                "key": key,
                "name": name,
                "city": "Bremen",
                "has_statistics": True,
                "population": float(pop),
                "x": x,
                "growth": g,
                "designated": des,
                "designation_programmes": "win" if des else "",
                "designation_confidence": "named-ortsteil" if des else "",
                "geometry": box(c * 1000, r * 1000, (c + 1) * 1000, (r + 1) * 1000),
            }
        )
    for i, des in ((1, True), (2, False)):
        rows.append(
            {
                "key": f"0000010{i}",
                "name": f"BHV{i}",
                "city": "Bremerhaven",
                "has_statistics": False,
                "population": np.nan,
                "x": np.nan,
                "growth": np.nan,
                "designated": des,
                "designation_programmes": "win" if des else "",
                "designation_confidence": "stated-in-source" if des else "",
                "geometry": box(10000 + i * 1000, 0, 11000 + i * 1000, 1000),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:25832")
    if not geometry:
        return pd.DataFrame(gdf.drop(columns="geometry"))
    return gdf


BASE_DEFINITION: dict[str, Any] = {
    "id": "test-programme",
    "version": "1",
    "min_population": 300,
    "classifiable_when": [
        {
            "field": "has_statistics",
            "op": "==",
            "value": True,
            "reason": "no district statistics published",
            "optional": True,
        }
    ],
    "indicators": [
        {"id": "x", "direction": "higher_is_worse", "unit": "%"},
        {"id": "growth", "direction": "higher_is_worse", "unit": "%"},
    ],
    "indices": {
        "status": {
            "method": "zscore",
            "components": [{"indicator": "x", "weight": 1}],
            "cutoffs": [-1.0, 1.0, 1.5],
            "labels": ["high", "medium", "low", "very_low"],
        },
    },
    "categories": [
        {
            "id": "win",
            "all": [
                {"field": "status_index", "op": ">=", "value": 0.5},
                {"field": "population", "op": ">=", "value": 2000},
            ],
        },
        {"id": "quartier_im_werden", "all": [{"field": "growth", "op": ">=", "value": 20}]},
        {
            "id": "phase_out_candidate",
            "all": [
                {"field": "designated", "op": "==", "value": True},
                {"category": ["win", "quartier_im_werden"], "is": False},
            ],
        },
    ],
    "robustness": {"draws": 50, "seed": 1},
    "budget": {
        "categories": ["win", "quartier_im_werden"],
        "totals": {"Bremen": 1000.0, "Bremerhaven": 400.0},
        "need_field": "status_index",
        "need_offset": 1.0,
        "need_minimum": 0.5,
    },
}


def definition(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE_DEFINITION)
    d.update(changes)
    return d
