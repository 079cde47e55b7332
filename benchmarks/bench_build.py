"""Benchmark: a full build from the official data, wall time and peak memory, imports included.

Run: ``python benchmarks/bench_build.py [--data DIR] [--repeat N]``

Each run is a fresh process (``quartiere build``), so imports count. The baseline, measured in the same run,
is the bare cost of importing geopandas and reading the same boundary shapefiles and CSV files with
geopandas/pandas defaults, without any repair, validation or indicator work: the ratio says what the pipeline
adds on top of just opening the files. Target: under 10 s wall on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BASELINE = """
import glob, sys, geopandas as gpd, pandas as pd
root = sys.argv[1]
for f in glob.glob(root + '/*/original/hb_*.shp'):
    gpd.read_file(f)
for f in glob.glob(root + '/bremen-*/raw/*.csv'):
    pd.read_csv(f, sep=';', encoding='iso-8859-1', skiprows=4, header=None, on_bad_lines='skip')
"""


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    quartiere = str(Path(sys.executable).parent / "quartiere")
    builds, bases = [], []
    peak_build = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            wall, _ = _run([sys.executable, "-c", BASELINE, args.data])
            bases.append(wall)
            wall, peak = _run([quartiere, "build", "--data", args.data, "--out", f"{tmp}/s{i}"])
            builds.append(wall)
            peak_build = max(peak_build, peak)
    b, base = statistics.median(builds), statistics.median(bases)
    print(f"full build (quartiere build, fresh process, imports included): median {b:.2f} s wall over "
          f"{args.repeat} runs (min {min(builds):.2f} s), peak RSS of children {peak_build:.0f} MiB")
    print(f"baseline (import geopandas + plain read of the same files): median {base:.2f} s")
    print(f"ratio build / baseline: {b / base:.2f}x; target < 10 s: {'met' if b < 10 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
