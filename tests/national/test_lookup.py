"""Batch lookup: borders, outside points, synthetic points; the Dask engine equals the in-memory one."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import CRSError, InputError
from geo.national.lookup import GemeindeIndex, PointSampler, assign_partition, lookup_memory, summarise, with_keys


def _layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"key": ["01001002", "01001001"], "population": [100.0, 300.0]},
                            geometry=[shapely.box(10, 0, 20, 10), shapely.box(0, 0, 10, 10)], crs="EPSG:3035")


def _result() -> pd.DataFrame:
    return pd.DataFrame({"key": ["01001001", "01001002"], "status_class": ["low", "medium"],
                         "is_high_need": [True, False], "is_watch_list": [True, True]})


def test_border_outside_and_classes() -> None:
    index = GemeindeIndex.from_layer(_layer(), _result())
    pts = pd.DataFrame({"x": [5.0, 10.0, 15.0, 50.0], "y": [5.0, 5.0, 5.0, 5.0]})
    out = with_keys(assign_partition(pts, index), index)
    assert out["key"].tolist() == ["01001001", "01001001", "01001002", ""]  # border: lowest key
    assert out["status_class"].tolist() == ["low", "low", "medium", ""]
    assert out["categories"].tolist() == ["high_need;watch_list", "high_need;watch_list", "watch_list", ""]
    assert summarise(assign_partition(pts, index), index)["points"].tolist() == [1, 2, 1]


def test_errors() -> None:
    with pytest.raises(CRSError):
        GemeindeIndex.from_layer(_layer().to_crs(4326))
    with pytest.raises(InputError, match="x and y"):
        assign_partition(pd.DataFrame({"lon": [1.0]}), GemeindeIndex.from_layer(_layer()))


def test_synthetic_points_inside_and_deterministic() -> None:
    sampler = PointSampler.from_layer(_layer())
    a = sampler.sample(2000, seed=1, partition=3)
    assert a.equals(sampler.sample(2000, seed=1, partition=3)) and a["synthetic"].all()
    res = lookup_memory(a, GemeindeIndex.from_layer(_layer()))
    assert (res["gemeinde"] >= 0).all()
    share = (res["gemeinde"] == 0).mean()  # 01001001 has 3/4 of the residents
    assert 0.7 < share < 0.8


@pytest.mark.realdata
def test_dask_lookup_equals_memory(national_assembly, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geo.national import dask_engine as de

    layer = national_assembly.layers["gemeinden"]
    index = GemeindeIndex.from_layer(layer)
    sampler = PointSampler.from_layer(layer)
    with de.dask_client(n_workers=2, memory_limit="1GB") as client:
        run = de.batch_lookup_dask(index, n_points=50_000, sampler=sampler, seed=5, partition_points=20_000,
                                   out=tmp_path / "out", client=client)
        pts = pd.concat([sampler.sample(n, seed=5, partition=i) for i, n in enumerate((20_000, 20_000, 10_000))],
                        ignore_index=True)
        mem = lookup_memory(pts, index)
        dgp = de.lookup_dask_geopandas(pts.iloc[:5000], layer, client=client)
    assert run.n_points == 50_000 and run.n_partitions == 3
    assert np.array_equal(run.counts["points"].to_numpy(), summarise(mem, index)["points"].to_numpy())
    back = pd.concat([pd.read_parquet(f) for f in sorted((tmp_path / "out").glob("*.parquet"))], ignore_index=True)
    assert np.array_equal(back["gemeinde"].to_numpy(), mem["gemeinde"].to_numpy())
    assert dgp["key"].tolist() == with_keys(mem.iloc[:5000], index)["key"].tolist()
