"""Benchmark the monitoring product of the build: one command, its time against classify() run alongside.

    python benchmarks/bench_monitoring.py [SNAPSHOTS] [--runs 3] [--save DOC.json] [--reference DOC.json]
                                          [--repo DIR]

1. ``geo.analysis.monitoring.products.monitoring_product`` on the current version of the snapshots folder ``SNAPSHOTS``
   (default: the configured ``snapshots`` folder) with the shipped definition and its classification, ``--runs``
   times: prints the median                                                                 target < 2.5 s
   baseline: ``classify()`` of the same districts (no Monte Carlo), median of as many runs, printed as the
   "monitoring/classify ratio" (compare ratios, not seconds, when other work shares the CPUs)
2. checks the document's stable fields: format, snapshot version and definition hash, every district of
   ``levels`` with a body, the poverty section and its series, no NaN (strict JSON), and every run giving the
   same document.
3. ``--reference DOC.json`` compares the document with one saved by ``--save`` (e.g. by the commit before,
   through ``--repo`` pointing at a checkout of it): same structure and values, numbers equal or within 1e-12
   relative. Exit status 1 when a check or the comparison fails.

Nothing is built here: make the snapshot first (``quartiere build --out DIR``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.5
REL_TOL = 1e-12


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    """Median wall seconds of ``runs`` calls and the last result."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON documents differ (numbers within ``REL_TOL`` relative count as equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}: key {k!r} only in {'reference' if k in a else 'document'}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items in the reference, {len(b)} in the document"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    numbers = (int, float)
    if (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool)
            and type(a) is type(b)):
        return [] if a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0) else [f"{path}: {a!r} != {b!r}"]
    return [] if type(a) is type(b) and a == b else [f"{path}: {a!r} != {b!r}"]


def stable_field_problems(doc: dict[str, Any], snapshot: Any, definition: Any, fmt: str) -> list[str]:
    problems = []
    if doc.get("format") != fmt:
        problems.append(f"format {doc.get('format')!r}, expected {fmt!r}")
    if doc.get("snapshot_version") != str(snapshot.version):
        problems.append(f"snapshot_version {doc.get('snapshot_version')!r} is not {snapshot.version!r}")
    if doc.get("definition_hash") != str(definition.hash):
        problems.append("definition_hash is not the definition's hash")
    levels: dict[str, str] = doc.get("levels") or {}
    for level in sorted(set(levels.values())):
        keys = {k for k, lv in levels.items() if lv == level}
        bodies = set((doc.get("districts") or {}).get(level, {}))
        if keys != bodies:
            problems.append(f"{level}: {len(keys ^ bodies)} districts with a level but no body, or the reverse")
    poverty = doc.get("poverty") or {}
    missing = [n for n in poverty.get("series", []) if n not in poverty.get("inequality", {})]
    if not poverty.get("series") or missing:
        problems.append(f"poverty series missing from its inequality section: {missing or 'no series'}")
    for level in ("ortsteil", "stadtteil"):
        if level not in (doc.get("inequality") or {}) or level not in (doc.get("segregation") or {}):
            problems.append(f"no inequality or segregation for {level}")
    try:
        json.dumps(doc, allow_nan=False)
    except ValueError as exc:
        problems.append(f"not strict JSON: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("snapshots", nargs="?", default=None, help="snapshots folder (default: the configured one)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each (median printed)")
    ap.add_argument("--save", help="write the document here (JSON, sorted keys)")
    ap.add_argument("--reference", help="compare the document with one written by --save")
    ap.add_argument("--repo", default=str(REPO), help="import geo from this checkout (default: this repository)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(args.repo).resolve()))

    from geo.analysis.monitoring.products import FORMAT, monitoring_product
    from geo.classify import classify, load_definition
    from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS
    from geo.pipeline.snapshot import load_snapshot

    snapshots = Path(args.snapshots) if args.snapshots else Path(args.repo) / DEFAULT_SNAPSHOTS
    snapshot = load_snapshot(snapshots)
    definition = load_definition(DEFAULT_PROGRAMME)
    wide = snapshot.wide("ortsteil")
    import geo

    print(f"geo from {Path(geo.__file__).parent}; snapshot {snapshot.version} ({snapshots}); "
          f"definition {definition.id} ({definition.hash[:12]}); {len(wide)} Ortsteile; {args.runs} runs each")
    result = classify(wide, definition)  # also the warm-up (imports, libpysal)
    t_classify, _ = timed(lambda: classify(wide, definition), args.runs)
    docs: list[dict[str, Any]] = []
    t_monitoring, _ = timed(lambda: docs.append(monitoring_product(snapshot, definition, result, wide)), args.runs)
    doc = docs[-1]
    verdict = "OK " if t_monitoring < TARGET_SECONDS else "SLOW"
    print(f"[{verdict}] monitoring_product, median of {args.runs}   {t_monitoring:8.3f} s  "
          f"(target < {TARGET_SECONDS:g} s)")
    print(f"       classify() baseline, median of {args.runs}  {t_classify:8.3f} s")
    print(f"       monitoring/classify ratio             {t_monitoring / t_classify:8.1f}")

    text = json.dumps(doc, sort_keys=True)
    problems = stable_field_problems(doc, snapshot, definition, FORMAT)
    if any(json.dumps(d, sort_keys=True) != text for d in docs):
        problems.append("the runs gave different documents")
    print(f"[{'OK ' if not problems else 'FAIL'}] stable fields: {len(doc['levels'])} districts, "
          f"{sum(len(v) for v in doc['districts'].values())} bodies, {len(text):,} bytes of JSON")
    for p in problems:
        print(f"       {p}")
    if args.save:
        Path(args.save).write_text(text, encoding="utf-8")
        print(f"       document written to {args.save}")
    if args.reference:
        reference = json.loads(Path(args.reference).read_text(encoding="utf-8"))
        diffs = differences(reference, json.loads(text))
        same_bytes = json.dumps(reference, sort_keys=True) == text
        print(f"[{'OK ' if not diffs else 'FAIL'}] against {args.reference}: "
              + ("identical JSON" if same_bytes else f"{len(diffs)} differences beyond {REL_TOL:g} relative"
                 if diffs else f"equal within {REL_TOL:g} relative"))
        for d in diffs[:20]:
            print(f"       {d}")
        problems += diffs
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
