r"""``quartiere national``: classification, GISD replication and batch lookup for all of Germany.

::

    quartiere national classify --data ../shared/data --level gemeinde --out de-gemeinden.csv [--engine dask]
    quartiere national gisd --data ../shared/data [--out gisd-comparison.csv]
    quartiere national lookup --data ../shared/data --synthetic 10000000 --out points/ --engine dask \
        --memory-limit 3GB [--scheduler tcp://host:8786]
    quartiere national lookup --snapshot snapshots-de --points my-points.parquet --out points/

``--snapshot`` reads a published national snapshot (``quartiere build --dataset germany``); ``--data`` builds
one in memory from the official files. ``--engine dask`` runs on a local cluster, or on an existing one with
``--scheduler ADDRESS`` (every worker needs this package: ``pip install .``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from geo.config import NATIONAL_PROGRAMME, resolve_data_dir
from geo.errors import InputError


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["memory", "dask"], default="memory",
                   help="in-memory (default) or Dask (partitioned; local cluster unless --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of an existing Dask scheduler "
                   "(e.g. tcp://10.0.0.5:8786); default: start a local cluster")
    p.add_argument("--workers", type=int, default=2, help="local cluster: worker processes (default %(default)s)")
    p.add_argument("--memory-limit", default="3GB", help="local cluster: memory per worker; workers spill to "
                   "disk above 60%% of it (default %(default)s)")


def _source_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--snapshot", metavar="SNAPSHOTS", help="published national snapshot folder")
    g.add_argument("--data", metavar="DIR", help="official data folder: build in memory (default: $QUARTIERE_DATA, "
                   "else ../shared/data)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``national`` subcommand and its actions ``classify``, ``gisd`` and ``lookup`` to the CLI."""
    p = sub.add_parser("national", help="all of Germany: classification, GISD replication, batch lookup",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nsub = p.add_subparsers(dest="national_command", required=True, metavar="ACTION")
    c = nsub.add_parser("classify", help="classify every Gemeinde or Kreis with a programme definition")
    _source_options(c)
    _engine_options(c)
    c.add_argument("--level", choices=["gemeinde", "gemeindeverband", "kreis"], default="gemeinde")
    c.add_argument("--programme", default=str(NATIONAL_PROGRAMME), help="programme definition (YAML)")
    c.add_argument("--draws", type=int, help="Monte Carlo draws (default: the definition's)")
    c.add_argument("--out", required=True, help="CSV of the result table; the full result (reasons) as .json")
    c.set_defaults(func=run_classify)
    g = nsub.add_parser("gisd", help="replicate the RKI GISD from its inputs and compare with the release")
    g.add_argument("--data", metavar="DIR", help="official data folder")
    g.add_argument("--out", help="CSV of the per-year comparison")
    g.set_defaults(func=run_gisd)
    lk = nsub.add_parser("lookup", help="assign points to Gemeinden and classify them, partitioned")
    _source_options(lk)
    _engine_options(lk)
    src = lk.add_mutually_exclusive_group(required=True)
    src.add_argument("--points", help="Parquet file or folder of points (x, y in EPSG:3035)")
    src.add_argument("--synthetic", type=int, metavar="N", help="N synthetic points inside the real polygons")
    lk.add_argument("--seed", type=int, default=0)
    lk.add_argument("--partition-points", type=int, default=2_000_000, help="points per partition")
    lk.add_argument("--programme", default=str(NATIONAL_PROGRAMME))
    lk.add_argument("--out", help="folder for per-point results (Parquet); counts per Gemeinde as counts.csv")
    lk.set_defaults(func=run_lookup)


def _progress(msg: str) -> None:
    print(f"… {msg}", file=sys.stderr, flush=True)


def load_national(args: argparse.Namespace) -> Any:
    """A :class:`geo.pipeline.snapshot.Snapshot` of the national data: published (``--snapshot``) or built in memory."""
    from geo.pipeline.snapshot import Snapshot, load_snapshot

    if getattr(args, "snapshot", None):
        return load_snapshot(args.snapshot)
    from geo.national.build import assemble

    a = assemble(resolve_data_dir(args.data), progress=_progress, engine=getattr(args, "engine", "memory"),
                 scheduler=getattr(args, "scheduler", None))
    return Snapshot(path=Path("."), manifest={"years": a.years, "version": "in-memory"}, layers=a.layers,
                    indicators=a.indicators, designations=a.designations)


def classify_level(snapshot: Any, level: str, programme: str, *, engine: str = "memory",
                   scheduler: str | None = None, draws: int | None = None) -> Any:
    """Classify one national level; the Dask engine runs the (global) fit as one task on the cluster."""
    from geo.classify import classify

    table = snapshot.wide(level)
    if engine == "dask":
        from geo.national.dask_engine import classify_dask

        return classify_dask(table, programme, scheduler=scheduler, draws=draws)
    return classify(table, programme, draws=draws)


def run_classify(args: argparse.Namespace) -> int:
    """Run ``quartiere national classify``: classify every district of ``--level``, write the CSV; exit code 0."""
    from geo.classify import save_result

    snap = load_national(args)
    _progress(f"classifying {args.level} ({args.engine} engine)")
    res = classify_level(snap, args.level, args.programme, engine=args.engine, scheduler=args.scheduler,
                         draws=args.draws)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = res.table.copy()
    table["categories"] = table["categories"].map(";".join)
    table.to_csv(out, index=False)
    save_result(res, out.with_suffix(".json"))
    n = len(table)
    print(f"classified {int(table['classifiable'].sum())} of {n} {args.level} units; "
          f"{n - int(table['classifiable'].sum())} not classifiable (reason in classifiable_reason); "
          f"written to {out}")
    return 0


def run_gisd(args: argparse.Namespace) -> int:
    """Run ``quartiere national gisd``: rebuild the GISD from its inputs and compare it with the release."""
    from geo.national import gisd, sources

    root = resolve_data_dir(args.data)
    gem = sources.read_vg250ew(root / "de-verwaltungsgebiete/vg250ew_2022-12-31_attribute/vg250ew_gem_attribute.csv",
                               "gemeinde")
    gem = gem.assign(gemeindeverband_key=gem["ars"].str[:9], kreis_key=gem["key"].str[:5])
    inputs = sources.read_gisd_inputs(root / "de-gisd-rki/inputs/gisd_input_indicators_long.csv.gz")
    release = sources.read_gisd_release(root / "de-gisd-rki/release_2025_v1.0/GISD_Bund_Kreis.csv")
    _, kreise, model = gisd.gisd_from_inputs(gem, inputs)
    table = gisd.compare_with_release(kreise, release)
    print(model.weights().round(3).to_string(index=False))
    print(table.round(4).to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def run_lookup(args: argparse.Namespace) -> int:
    """Run ``quartiere national lookup``: assign given or synthetic points to their Gemeinde; exit code 0."""
    from geo.national.lookup import GemeindeIndex, PointSampler, lookup_memory, summarise

    snap = load_national(args)
    res = classify_level(snap, "gemeinde", args.programme, draws=0)
    layer = snap.layer("gemeinde")
    index = GemeindeIndex.from_layer(layer, res.table)
    out = Path(args.out) if args.out else None
    if args.engine == "dask":
        from geo.national.dask_engine import batch_lookup_dask

        run = batch_lookup_dask(index, n_points=args.synthetic,
                                sampler=PointSampler.from_layer(layer) if args.synthetic else None,
                                parquet_in=args.points, out=out, seed=args.seed,
                                partition_points=args.partition_points, scheduler=args.scheduler,
                                memory_limit=args.memory_limit, n_workers=args.workers)
        counts, n, secs = run.counts, run.n_points, run.seconds
    else:
        import time

        t0 = time.perf_counter()
        if args.synthetic:
            pts = PointSampler.from_layer(layer).sample(args.synthetic, seed=args.seed)
        else:
            try:
                pts = pd.read_parquet(args.points, columns=["x", "y"])
            except (OSError, ValueError) as exc:
                raise InputError(f"{args.points}: cannot read points (Parquet with x, y): {exc}") from exc
        assigned = lookup_memory(pts, index)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            assigned.to_parquet(out / "part-00000.parquet", index=False)
        s = summarise(assigned, index)
        counts = pd.DataFrame({"key": ["", *index.keys], "points": s["points"].to_numpy()})
        n, secs = len(pts), time.perf_counter() - t0
    if out is not None:
        counts.to_csv(out / "counts.csv", index=False)
    outside = int(counts.loc[counts["key"] == "", "points"].sum())
    print(f"assigned {n:,} points ({outside:,} outside Germany) in {secs:.1f} s ({n / secs:,.0f} points/s)")
    return 0
