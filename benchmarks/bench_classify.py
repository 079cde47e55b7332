"""Benchmark the classification engine: one command, figures and ratios against baselines run alongside.

    python benchmarks/bench_classify.py [--snapshot SNAPSHOTS] [--rows 100000]

1. classify all districts of the snapshot with the shipped definition (no Monte Carlo)      target < 1 s
   baseline: a naive row-by-row pandas loop computing the same z-score status index and WiN rule
2. 1,000 Monte Carlo draws on all districts                                                   target < 10 s
   baseline: the same Monte Carlo code unvectorised (one draw at a time), measured on 50 draws, scaled x20
3. a plain SYNTHETIC table of 100,000 rows (table mode, with reasons, no Monte Carlo)        target < 5 s
   baseline: the naive loop, measured on 2,000 rows and scaled x50

Without a snapshot (``--snapshot`` missing or empty) step 1 and 2 use a synthetic table of 113 districts,
labelled SYNTHETIC in the output.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.classify import classify, load_definition  # noqa: E402
from geo.classify import engine as engine_mod  # noqa: E402
from geo.config import DEFAULT_PROGRAMME  # noqa: E402

DEFINITION = load_definition(DEFAULT_PROGRAMME)


def _status(definition=DEFINITION) -> dict[str, tuple[float, int]]:
    """Status components of the programme's basis: column -> (weight, sign)."""
    spec = definition.index("status")
    return {definition.indicator(c.indicator).column: (c.weight, definition.indicator(c.indicator).sign)
            for c in spec.components}


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """A SYNTHETIC wide table with every column the shipped definition (and each group basis) reads, drawn
    at random (clearly not real data)."""
    rng = np.random.default_rng(seed)
    pop = rng.integers(100, 20_000, n).astype(float)
    df = pd.DataFrame(
        {
            "key": [f"S{i:07d}" for i in range(n)],
            "name": [f"synthetic {i}" for i in range(n)],
            "city": np.where(rng.random(n) < 0.8, "Bremen", "Bremerhaven"),
            "has_statistics": rng.random(n) < 0.9,
            "population": pop,
            "designated": rng.random(n) < 0.15,
        }
    )
    for d in (DEFINITION, *DEFINITION.bases.values()):
        for col in d.input_columns():
            if col in df.columns:
                continue
            if col.endswith("__denominator"):
                df[col] = np.round(pop * rng.uniform(0.6, 0.9, n))
            elif col.endswith("__numerator"):
                den = col.replace("__numerator", "__denominator")
                if den not in df.columns:
                    df[den] = np.round(pop * rng.uniform(0.6, 0.9, n))
                df[col] = rng.binomial(df[den].to_numpy(np.int64), np.clip(rng.normal(0.15, 0.08, n), 0.01, 0.9))
            elif col.endswith("_pp") or "change" in col:
                df[col] = rng.normal(0.5, 1.5, n)
            elif col == "density_per_km2":
                df[col] = rng.lognormal(7.5, 1.2, n)
            elif col.endswith("_population"):
                df[col] = pop * rng.uniform(0.9, 1.1, n)
            else:
                df[col] = rng.uniform(1, 60, n)
        for ind in d.indicators:  # the rate itself beside its counts (the naive baseline reads it)
            if ind.shrinkage is not None and ind.column not in df.columns:
                sh = ind.shrinkage
                df[ind.column] = sh.scale * df[sh.numerator] / np.maximum(df[sh.denominator], 1)
    return df


def naive_baseline(table: pd.DataFrame) -> pd.Series:
    """Row-by-row pandas: z-scores, weighted sum, standardise again, WiN rule (the obvious loop), on the
    programme basis' status components."""
    status = _status()
    ok = table["has_statistics"].astype(bool) & (table["population"] >= 300)
    ref = table[ok].dropna(subset=list(status))
    stats = {c: (ref[c].mean(), ref[c].std(ddof=0)) for c in status}
    sums = {}
    for _, row in table.iterrows():
        if not (row["has_statistics"] and row["population"] >= 300):
            continue
        s = 0.0
        for c, (weight, sign) in status.items():
            mean, sd = stats[c]
            s += weight * sign * (row[c] - mean) / sd
        sums[row["key"]] = s
    values = [v for v in sums.values() if v == v]
    m, sd = float(np.mean(values)), float(np.std(values))
    out = {}
    for key, s in sums.items():
        z = (s - m) / sd
        row = table.loc[table["key"] == key].iloc[0]
        out[key] = bool(z >= 1.0 and row["population"] >= 2000)
    return pd.Series(out)


def timed(fn, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def load_districts(snapshot: str | None) -> tuple[pd.DataFrame, str]:
    if snapshot:
        try:
            from geo.pipeline.snapshot import load_snapshot

            snap = load_snapshot(snapshot)
            return snap.wide(level="ortsteil"), f"real snapshot {snap.version}"
        except Exception as exc:  # a benchmark falls back to synthetic data, and says so
            print(f"(snapshot not usable: {exc}; using SYNTHETIC districts)")
    return synthetic(113, seed=1), "SYNTHETIC 113 districts"


def line(label: str, seconds: float, target: float, baseline: float | None, base_label: str) -> None:
    verdict = "OK " if seconds < target else "SLOW"
    ratio = f"{baseline / seconds:8.1f}x faster than {base_label} ({baseline:.3f} s)" if baseline else ""
    print(f"[{verdict}] {label:<58} {seconds:8.3f} s  (target < {target:g} s)  {ratio}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snapshot", default=str(REPO / "snapshots"), help="snapshots folder (default ./snapshots)")
    ap.add_argument("--rows", type=int, default=100_000, help="rows of the synthetic plain table")
    args = ap.parse_args(argv)
    definition = DEFINITION
    districts, source = load_districts(args.snapshot if Path(args.snapshot).exists() else None)
    print(f"definition {definition.id} ({definition.hash[:12]}); districts: {source}, {len(districts)} rows")
    classify(districts, definition, draws=0)  # warm-up (imports, libpysal)

    t1 = timed(lambda: classify(districts, definition, draws=0))
    b1 = timed(lambda: naive_baseline(districts), repeat=1)
    line(f"1. classify all districts ({source})", t1, 1.0, b1, "naive row loop")

    t2 = timed(lambda: classify(districts, definition, draws=1000), repeat=1)
    original = engine_mod.monte_carlo

    def one_at_a_time(*a, **k):
        k["chunk"] = 1
        k["draws"] = 50
        return original(*a, **k)

    engine_mod.monte_carlo = one_at_a_time
    try:
        base50 = timed(lambda: classify(districts, definition, draws=50), repeat=1) - t1
    finally:
        engine_mod.monte_carlo = original
    line("2. 1,000 Monte Carlo draws (vectorised, includes classify)", t2, 10.0, base50 * 20, "1 draw at a time, x20")

    big = synthetic(args.rows, seed=2)
    t3 = timed(lambda: classify(big, definition, draws=0), repeat=1)
    t3b = timed(lambda: classify(big, definition, draws=0, reasons=False), repeat=1)
    small = big.head(2000)
    b3 = timed(lambda: naive_baseline(small), repeat=1) * (args.rows / 2000)
    line(f"3. SYNTHETIC plain table, {args.rows:,} rows, with reasons", t3, 5.0, b3, "naive loop (2k rows, scaled)")
    line(f"   SYNTHETIC plain table, {args.rows:,} rows, without reasons", t3b, 5.0, None, "")
    r = classify(big, definition, draws=0, reasons=True)
    print(f"   reasons table: {len(r.reasons):,} rows; categories: {int(r.table['categories'].map(len).gt(0).sum()):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
