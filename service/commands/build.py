"""``quartiere build`` and ``quartiere validate``: read, repair, validate, compute, publish."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from geo.config import DEFAULT_SNAPSHOTS, resolve_data_dir
from geo.errors import Problem, UsageError
from geo.pipeline.indicators import SmallNumberRule

if TYPE_CHECKING:
    from geo.pipeline.build import Assembly
    from geo.pipeline.locking import BuildLock


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``build`` and ``validate`` subcommands to the CLI's subparsers."""
    for name, helptext in (("build", "build and publish a new snapshot from the official files"),
                           ("validate", "read and validate the official files; report only, publish nothing")):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--data", metavar="DIR", help="official data folder (default: $QUARTIERE_DATA, else "
                       "../shared/data)")
        p.add_argument("--extra", metavar="FILE", action="append", type=Path, default=[],
                       help="own indicator table in tidy long form (key, year, indicator, value[, numerator, "
                       "denominator, source]); repeatable")
        p.add_argument("--dataset", default="bremen", choices=sorted(DATASETS),
                       help="which official data to build from (default: %(default)s)")
        p.add_argument("--engine", choices=("memory", "dask"), default="memory",
                       help="germany only: compute indicators in memory or partitioned by Land on Dask")
        p.add_argument("--scheduler", metavar="ADDRESS",
                       help="germany with --engine dask: address of an existing Dask scheduler (default: a local "
                       "cluster)")
        p.add_argument("--strict", action="store_true", help="treat warnings (e.g. repaired geometries) as errors")
        p.add_argument("--min-denominator", type=float, default=SmallNumberRule.min_denominator,
                       help="withhold a rate when its denominator is below this (default %(default)g)")
        p.add_argument("--min-numerator", type=float, default=SmallNumberRule.min_numerator,
                       help="withhold a rate when its numerator is below this (default %(default)g)")
        if name == "build":
            p.add_argument("--out", metavar="SNAPSHOTS", default=str(DEFAULT_SNAPSHOTS),
                           help="snapshots folder (default: %(default)s)")
            p.add_argument("--wait", metavar="SECONDS", type=float, default=0.0,
                           help="when another build holds the snapshots folder's lock, wait up to this long for "
                           "it (default %(default)g: fail at once with exit code 2)")
            p.add_argument("--programme", metavar="FILE", action="append", type=Path, default=[],
                           help="also publish the classification and monitoring of this programme definition "
                           "(the shipped programmes/lebendige-quartiere.yml is always published for bremen; "
                           "repeatable)")
            p.set_defaults(func=run_build)
        else:
            p.set_defaults(func=run_validate)


def _progress(msg: str) -> None:
    print(f"… {msg}", file=sys.stderr, flush=True)


#: dataset name -> module with ``assemble(data_dir, *, extra, rule, strict, progress) -> Assembly``
DATASETS = {"bremen": "geo.pipeline.build", "germany": "geo.national.build"}


def _assemble(args: argparse.Namespace) -> Assembly:
    import importlib

    module = importlib.import_module(DATASETS[args.dataset])
    rule = SmallNumberRule(min_denominator=args.min_denominator, min_numerator=args.min_numerator)
    options = {"engine": args.engine, "scheduler": args.scheduler} if args.dataset == "germany" else {}
    if args.dataset != "germany" and (args.engine != "memory" or args.scheduler):
        raise UsageError("--engine dask and --scheduler apply to --dataset germany only")
    assembly: Assembly = module.assemble(resolve_data_dir(args.data), extra=args.extra, rule=rule,
                                         strict=args.strict, progress=_progress, **options)
    return assembly


def _report(problems: list[Problem]) -> None:
    for p in problems:
        print(f"  {p}", file=sys.stderr)


def grouped_report(problems: list[Problem]) -> list[str]:
    """Problems grouped by file (those of no file first), errors before warnings, and a summary line."""
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        if p.severity == "info":
            continue
        by_file.setdefault(p.file or "", []).append(p)
    lines = []
    for file in sorted(by_file):
        items = sorted(by_file[file], key=lambda p: (p.severity != "error", p.check))
        lines.append(f"{file or '(all inputs)'}:")
        lines += [f"  [{p.severity}] {p.check}: {p.message}" for p in items]
    n_err = sum(p.severity == "error" for p in problems)
    n_warn = sum(p.severity == "warning" for p in problems)
    lines.append(f"{n_err} error(s), {n_warn} warning(s) in {len([f for f in by_file if f])} file(s)")
    return lines


def run_validate(args: argparse.Namespace) -> int:
    """Run ``quartiere validate``: read and check the official files, print the problems; exit code 0 or 2."""
    from geo.errors import ValidationError

    t0 = time.perf_counter()
    try:
        assembly = _assemble(args)
    except ValidationError as exc:
        print("\n".join(grouped_report(list(exc.problems))))
        print(f"invalid: {exc.message} ({time.perf_counter() - t0:.1f} s)")
        return 2
    print("\n".join(grouped_report(assembly.problems)))
    n_warn = sum(p.severity == "warning" for p in assembly.problems)
    print(f"valid: {sum(len(f) for f in assembly.layers.values())} districts, {len(assembly.indicators):,} "
          f"indicator rows, {len(assembly.repairs)} repairs, {n_warn} warnings ({time.perf_counter() - t0:.1f} s)")
    return 0


def _warn(msg: str) -> None:
    print(f"  [warning] {msg}", file=sys.stderr, flush=True)


def run_build(args: argparse.Namespace) -> int:
    """Run ``quartiere build`` under the build lock: build and publish a new snapshot; exit code 0."""
    from geo.pipeline.locking import build_lock

    if args.wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds, got {args.wait:g}")
    with build_lock(args.out, wait=args.wait, warn=_warn) as lock:
        return _build(args, lock)


def _build(args: argparse.Namespace, lock: BuildLock) -> int:
    from geo.pipeline.publish import publish

    t0 = time.perf_counter()
    assembly = _assemble(args)
    programmes: list[Path] = []
    if args.dataset == "bremen":
        from geo.classify import load_definition
        from geo.config import DEFAULT_PROGRAMME

        for programme in args.programme:
            load_definition(programme)  # a bad definition stops the build before anything is written
        programmes = [DEFAULT_PROGRAMME, *[p for p in args.programme if p.resolve() != DEFAULT_PROGRAMME.resolve()]]
    elif args.programme:
        raise UsageError("--programme applies to --dataset bremen only")
    _progress("writing snapshot, classifying and computing the monitoring products")
    # the QGIS styles of the GeoPackage come from maps; the command line (service.cli) passes them in
    path = publish(assembly, args.out, programmes=programmes, lock=lock, styler=getattr(args, "styler", None))
    _report([p for p in assembly.problems if p.severity != "info"])
    import json

    for item in json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("products_skipped", []):
        print(f"  [warning] programme {item['programme']}: not classified on this data, published without its "
              f"classification and monitoring (the service answers 503 for it): {item['reason']}", file=sys.stderr)
    layers = ", ".join(f"{len(f)} {name}" for name, f in assembly.layers.items())
    print(f"published {path.name} in {path.parent}: {layers}; {len(assembly.indicators):,} indicator rows "
          f"for {min(assembly.years)}-{max(assembly.years)}; {len(assembly.repairs)} repairs; "
          f"{sum(p.severity == 'warning' for p in assembly.problems)} warnings ({time.perf_counter() - t0:.1f} s)")
    return 0
