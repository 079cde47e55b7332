"""The Dask engine: indicators, classification and batch lookup on a dask.distributed cluster.

* **Indicators** are computed per Land (one task each, :func:`compute_indicators_dask`); Gemeindeverbände and
  Kreise never cross a Land border, so the union equals the in-memory result (tested).
* **Classification** standardises every indicator over *all* areas (national mean and SD), so fitting it cannot
  be split without changing the result; the fit and rules for the 10,990 Gemeinden run as one task on the
  cluster (:func:`classify_dask`). What is partitioned is the work that grows with the input: the points.
* **Batch lookup** (:func:`batch_lookup_dask`): points come in partitions (from Parquet files or generated), each
  partition is assigned to Gemeinden and classified by :func:`geo.national.lookup.assign_partition` - the same
  function the in-memory engine runs - and written back to Parquet, so nothing is collected on the client.
  Workers spill to disk when they pass their memory limit (``memory_limit`` per worker, Dask's own spilling);
  the total is bounded by ``n_workers x memory_limit``. :func:`lookup_dask_geopandas` does the same join with
  dask-geopandas (``sjoin``) for comparison.

``scheduler=None`` starts a :class:`distributed.LocalCluster`; an address (``tcp://host:8786``) uses an existing
cluster, whose workers need this package installed (``pip install .`` on every worker).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.national.indicators import NationalInputs, compute_indicators, sort_long
from geo.national.lookup import GemeindeIndex, PointSampler, assign_partition, summarise
from geo.pipeline import indicators as ind

DEFAULT_PARTITION_POINTS = 2_000_000


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the Dask engine needs dask[distributed] and dask-geopandas: "
                          "pip install 'dask[distributed,dataframe]' dask-geopandas pyarrow") from exc


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2, threads_per_worker: int = 1,
                memory_limit: str | int = "3GB", local_directory: str | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client`: on ``scheduler`` if given, else on a new local cluster.

    ``memory_limit`` is per worker; a worker spills to ``local_directory`` from 60 % of it and pauses at 80 %
    (Dask's defaults), so the cluster stays within ``n_workers x memory_limit``.
    """
    _require_dask()
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    with tempfile.TemporaryDirectory(prefix="quartiere-dask-", dir=local_directory) as spill, \
            LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, memory_limit=memory_limit,
                         processes=True, dashboard_address=None, local_directory=spill) as cluster, \
            Client(cluster) as client:
        yield client


def compute_indicators_dask(inputs: NationalInputs, *, rule: ind.SmallNumberRule | None = None,
                            scheduler: str | None = None, client: Any = None) -> pd.DataFrame:
    """:func:`~geo.national.indicators.compute_indicators`, one task per Land; identical result."""
    if client is None:
        with dask_client(scheduler) as c:
            return compute_indicators_dask(inputs, rule=rule, client=c)
    scattered = client.scatter([inputs.for_lands([land]) for land in inputs.lands])
    parts = [client.submit(compute_indicators, part, rule=rule, pure=False) for part in scattered]
    return sort_long(pd.concat(client.gather(parts), ignore_index=True))


def classify_dask(table: pd.DataFrame, definition: Any, *, scheduler: str | None = None, client: Any = None,
                  **kwargs: Any) -> Any:
    """:func:`geo.classify.classify` as one task on the cluster (the national fit is global, see module doc)."""
    from geo.classify import classify

    if client is None:
        with dask_client(scheduler) as c:
            return classify_dask(table, definition, client=c, **kwargs)
    return client.submit(classify, table, definition, pure=False, **kwargs).result()


# ---------------------------------------------------------------------------------------------------------
# batch lookup
# ---------------------------------------------------------------------------------------------------------
@dataclass
class LookupRun:
    """What a batch lookup did: sizes, time, where the results are and the points per Gemeinde."""

    n_points: int
    n_partitions: int
    seconds: float
    output: Path | None
    counts: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def points_per_second(self) -> float:
        """The points looked up per second of wall time (NaN for a run that took no time)."""
        return self.n_points / self.seconds if self.seconds else float("nan")


def _sample_partition(sampler: PointSampler, n: int, seed: int, partition: int) -> pd.DataFrame:
    return sampler.sample(n, seed=seed, partition=partition)


def _lookup_partition(index: GemeindeIndex, points: pd.DataFrame, out: str | None, partition: int) -> pd.DataFrame:
    """Assign one partition, write it to ``out/part-<n>.parquet`` (if given), return its counts."""
    assigned = assign_partition(points, index)
    if out is not None:
        cols = ["x", "y", "gemeinde", *index.classes.columns]
        assigned[cols].to_parquet(Path(out) / f"part-{partition:05d}.parquet", index=False)
    return summarise(assigned, index)


def batch_lookup_dask(index: GemeindeIndex, *, n_points: int | None = None, sampler: PointSampler | None = None,
                      parquet_in: str | Path | None = None, out: str | Path | None = None, seed: int = 0,
                      partition_points: int = DEFAULT_PARTITION_POINTS, scheduler: str | None = None,
                      client: Any = None, memory_limit: str | int = "3GB", n_workers: int = 2,
                      max_in_flight: int | None = None) -> LookupRun:
    """Assign points to Gemeinden and classify them, partition by partition, on a Dask cluster.

    Parameters
    ----------
    index
        Polygons and classification codes (:meth:`GemeindeIndex.from_layer`); sent to every worker once.
    n_points, sampler, seed
        Generate ``n_points`` synthetic points with ``sampler`` (partition ``i`` from ``(seed, i)``) ...
    parquet_in
        ... or read the points (``x``, ``y`` in EPSG:3035) from a Parquet file or folder, one task per file.
    out
        Folder for the per-point results (``part-<n>.parquet``: x, y, gemeinde, class codes); ``None`` keeps
        only the counts per Gemeinde.
    partition_points
        Points per partition (memory per task is about 250 bytes x this).
    memory_limit, n_workers, scheduler
        Local cluster settings (``memory_limit`` per worker), or the address of an existing scheduler.
    max_in_flight
        Partitions submitted at a time (default ``4 x workers``): bounds the memory of queued results.
    """
    if client is None:
        with dask_client(scheduler, n_workers=n_workers, memory_limit=memory_limit) as c:
            return batch_lookup_dask(index, n_points=n_points, sampler=sampler, parquet_in=parquet_in, out=out,
                                     seed=seed, partition_points=partition_points, client=c,
                                     max_in_flight=max_in_flight)
    from distributed import as_completed

    t0 = time.perf_counter()
    out_dir = None
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
    [index_f] = client.scatter([index], broadcast=True)
    tasks: list[tuple[Any, ...]] = []
    if parquet_in is not None:
        files = sorted(Path(parquet_in).glob("*.parquet")) if Path(parquet_in).is_dir() else [Path(parquet_in)]
        tasks = [("file", str(f), i) for i, f in enumerate(files)]
    else:
        if n_points is None or sampler is None:
            raise ValueError("give n_points and sampler, or parquet_in")
        [sampler_f] = client.scatter([sampler], broadcast=True)
        sizes = [partition_points] * (n_points // partition_points)
        if n_points % partition_points:
            sizes.append(n_points % partition_points)
        tasks = [("gen", s, i) for i, s in enumerate(sizes)]
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    limit = max_in_flight or 4 * workers
    total = np.zeros(len(index.keys) + 1, dtype=np.int64)
    pending = iter(tasks)

    def submit(task: tuple[Any, ...]) -> Any:
        kind, arg, i = task
        if kind == "file":
            pts = client.submit(pd.read_parquet, arg, columns=["x", "y"], pure=False)
        else:
            pts = client.submit(_sample_partition, sampler_f, arg, seed, i, pure=False)
        return client.submit(_lookup_partition, index_f, pts, str(out_dir) if out_dir else None, i, pure=False)

    running = as_completed([submit(t) for _, t in zip(range(limit), pending, strict=False)])
    n_done = 0
    for fut in running:
        part = fut.result()
        total += part["points"].to_numpy()
        n_done += 1
        fut.release()
        nxt = next(pending, None)
        if nxt is not None:
            running.add(submit(nxt))
    seconds = time.perf_counter() - t0
    counts = pd.DataFrame({"key": np.append("", index.keys), "points": total})
    return LookupRun(n_points=int(total.sum()), n_partitions=n_done, seconds=seconds, output=out_dir, counts=counts,
                     meta={"partition_points": partition_points, "workers": workers})


def lookup_dask_geopandas(points: pd.DataFrame, layer: Any, *, npartitions: int = 4,
                          client: Any = None) -> pd.DataFrame:
    """The same assignment with dask-geopandas (``sjoin``, predicate ``intersects``; lowest key on borders).

    Returns ``x``, ``y`` and ``key`` in the order of ``points``. Slower than :func:`batch_lookup_dask` (a
    GeoDataFrame per partition) but the standard tool; used to cross-check the engines.
    """
    import dask.dataframe as dd
    import dask_geopandas

    ddf = dd.from_pandas(points[["x", "y"]].reset_index(names="_row"), npartitions=npartitions)
    pts = dask_geopandas.from_dask_dataframe(ddf, geometry=dask_geopandas.points_from_xy(ddf, "x", "y"))
    pts = pts.set_crs(layer.crs)
    joined = pts.sjoin(layer[["key", "geometry"]], how="inner", predicate="intersects")
    res = joined[["_row", "x", "y", "key"]]
    frame = res.compute() if client is None else client.compute(res).result()
    frame = pd.DataFrame(frame).sort_values(["_row", "key"]).drop_duplicates("_row").set_index("_row")
    out = points[["x", "y"]].reset_index(drop=True).copy()
    out["key"] = frame["key"].reindex(out.index).fillna("").astype(str).to_numpy()
    return out


def peak_memory_monitor(interval: float = 0.2) -> Any:
    """A context manager measuring the peak summed RSS of this process and all its children (bytes)."""
    import threading

    import psutil

    class _Monitor:
        def __init__(self) -> None:
            self.peak = 0
            self._stop = threading.Event()

        def _rss(self) -> int:
            me = psutil.Process()
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            return total

        def _run(self) -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, self._rss())
                self._stop.wait(interval)

        def __enter__(self) -> _Monitor:
            self.peak = self._rss()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
            return self

        def __exit__(self, *exc: object) -> None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss())

    return _Monitor()


def describe(run: LookupRun) -> Mapping[str, Any]:
    """The sizes and speed of a batch lookup as a small JSON-ready mapping (for a report or a log line)."""
    return {"points": run.n_points, "partitions": run.n_partitions, "seconds": round(run.seconds, 2),
            "points_per_second": round(run.points_per_second)}
