"""Benchmark of the national run: build, classification, and the batch-lookup scaling curve.

::

    python benchmarks/bench_national.py                       # 1M and 10M points, both engines
    python benchmarks/bench_national.py --sizes 1M,10M,100M   # the full curve (100M: Dask only, several minutes)
    python benchmarks/bench_national.py --sizes 100M --engines dask --memory-limit 3GB --workers 2

Points are SYNTHETIC: drawn inside the real VG5000 Gemeinde polygons in proportion to their residents
(:class:`geo.national.lookup.PointSampler`), deterministically from ``--seed``. Each point is assigned to its
Gemeinde and gets the Gemeinde's classification (status class, dynamics class, category bits).

Engines: ``memory`` holds all points of a size at once (skipped when the estimate exceeds ``--memory-budget``);
``dask`` runs partitions of ``--partition-points`` on a local cluster (``--workers`` x ``--memory-limit``,
spilling to disk) and writes the per-point results to Parquet unless ``--no-write``. Peak memory is the largest
summed RSS of this process and all its children (the workers), sampled every 0.2 s; it includes the baseline
(this process with the polygons loaded), printed separately. Throughput counts generation + lookup (+ writing
for Dask) for both engines.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: bytes per point of the in-memory engine (x, y, shapely point, query pairs, outputs), measured at 1M
MEMORY_BYTES_PER_POINT = 260


def _size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * mult)


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="official data folder (default: $QUARTIERE_DATA, else ../shared/data)")
    p.add_argument("--sizes", default="1M,10M", help="comma-separated point counts (default %(default)s)")
    p.add_argument("--engines", default="memory,dask", help="memory,dask (default %(default)s)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="3GB", help="per Dask worker (default %(default)s)")
    p.add_argument("--memory-budget", default="8GB", help="skip the in-memory engine above this estimate")
    p.add_argument("--partition-points", default="2M")
    p.add_argument("--seed", type=int, default=20250131)
    p.add_argument("--no-write", action="store_true", help="Dask: keep only counts, write no per-point Parquet")
    p.add_argument("--out", help="folder for Parquet results (default: a temporary folder, removed)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args(argv)

    from geo.classify import classify
    from geo.config import resolve_data_dir
    from geo.national import dask_engine as de
    from geo.national.build import assemble
    from geo.national.lookup import GemeindeIndex, PointSampler, lookup_memory, summarise
    from geo.pipeline.snapshot import Snapshot

    figures: dict[str, object] = {}
    t0 = time.perf_counter()
    a = assemble(resolve_data_dir(args.data))
    figures["build_s"] = round(time.perf_counter() - t0, 1)
    figures["build_timings_s"] = {k: round(v, 1) for k, v in a.timings.items()}
    snap = Snapshot(path=Path("."), manifest={"years": a.years, "version": "bench"}, layers=a.layers,
                    indicators=a.indicators, designations=a.designations)
    programme = REPO / "programmes" / "germany-screening.yml"
    t1 = time.perf_counter()
    kreise = classify(snap.wide("kreis"), programme)
    figures["classify_kreise_s"] = round(time.perf_counter() - t1, 1)
    t1 = time.perf_counter()
    gem_res = classify(snap.wide("gemeinde"), programme)
    figures["classify_gemeinden_s"] = round(time.perf_counter() - t1, 1)
    figures["classified"] = {"gemeinden": int(gem_res.table["classifiable"].sum()), "gemeinden_total":
                             len(gem_res.table), "kreise": int(kreise.table["classifiable"].sum())}
    print(f"build {figures['build_s']} s {figures['build_timings_s']}; classify Kreise "
          f"{figures['classify_kreise_s']} s, Gemeinden {figures['classify_gemeinden_s']} s", flush=True)
    layer = a.layers["gemeinden"]
    index = GemeindeIndex.from_layer(layer, gem_res.table)
    sampler = PointSampler.from_layer(layer)
    del a, snap, gem_res, kreise
    gc.collect()

    budget = _size(args.memory_budget.replace("GB", "G").replace("MB", "M"))
    part = _size(args.partition_points)
    out_root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-national-"))
    with de.peak_memory_monitor() as base:
        time.sleep(0.3)
    figures["baseline_rss"] = base.peak
    print(f"baseline RSS (polygons, index, interpreter): {_gb(base.peak)}", flush=True)
    rows = []
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for size in [_size(s) for s in args.sizes.split(",")]:
        for engine in engines:
            row: dict[str, object] = {"points": size, "engine": engine}
            if engine == "memory":
                estimate = size * MEMORY_BYTES_PER_POINT + base.peak
                if estimate > budget:
                    row["skipped"] = f"estimated {_gb(estimate)} > budget {_gb(budget)}"
                    rows.append(row)
                    print(row, flush=True)
                    continue
                with de.peak_memory_monitor() as mon:
                    t = time.perf_counter()
                    pts = sampler.sample(size, seed=args.seed)
                    t_gen = time.perf_counter() - t
                    res = lookup_memory(pts, index)
                    counts = summarise(res, index)
                    secs = time.perf_counter() - t
                    del pts, res
                    gc.collect()
                row.update(seconds=round(secs, 1), generate_s=round(t_gen, 1),
                           points_per_s=round(size / secs), peak_rss=mon.peak,
                           outside=int(counts["points"].iloc[0]))
            else:
                out = None if args.no_write else out_root / f"{engine}-{size}"
                with de.peak_memory_monitor() as mon:
                    run = de.batch_lookup_dask(index, n_points=size, sampler=sampler, seed=args.seed,
                                               partition_points=part, out=out, memory_limit=args.memory_limit,
                                               n_workers=args.workers)
                written = sum(f.stat().st_size for f in out.glob("*.parquet")) if out else 0
                row.update(seconds=round(run.seconds, 1), points_per_s=round(run.points_per_second),
                           peak_rss=mon.peak, partitions=run.n_partitions, parquet_bytes=written,
                           outside=int(run.counts["points"].iloc[0]))
                if out is not None:
                    shutil.rmtree(out, ignore_errors=True)
            rows.append(row)
            print({k: (_gb(float(v)) if k in ("peak_rss", "parquet_bytes") else v)  # type: ignore[arg-type]
                   for k, v in row.items()}, flush=True)
    if not args.out:
        shutil.rmtree(out_root, ignore_errors=True)
    figures["lookup"] = rows
    print("\npoints        engine  seconds   points/s  peak RSS   note")
    for r in rows:
        if "skipped" in r:
            print(f"{r['points']:>12,}  {r['engine']:<6}  {'-':>7}  {'-':>9}  {'-':>8}   {r['skipped']}")
        else:
            print(f"{r['points']:>12,}  {r['engine']:<6}  {r['seconds']:>7}  {r['points_per_s']:>9,}  "
                  f"{_gb(float(r['peak_rss'])):>8}")  # type: ignore[arg-type]
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
