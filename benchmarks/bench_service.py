"""Benchmark of the HTTP service (one command): ``python benchmarks/bench_service.py [--snapshots DIR]``.

1. The service and a bare Flask app returning ``{}`` run under gunicorn with the same settings
   (``service.commands.serve.gunicorn_options``: gthread, ``--workers``/``--threads``); wrk (Debian package,
   installed by ``benchmarks/setup.sh``) drives each with 16 connections; throughput, p50 and p99 are printed
   with the ratio eligibility / bare.
2. 100,000 points through ``POST /api/v1/eligibility/batch`` (CSV in, CSV out), wall time.
3. In-process lookup of 1,000,000 points with ``service.api.lookup.lookup_points`` against ``geopandas.sjoin``
   (intersects, smallest key on ties) on the same Ortsteile: identical answers asserted, ratio printed.

The points are SYNTHETIC: drawn uniformly at random (fixed seed) inside the real district polygons; the
single-point benchmark uses one fixed point in Tenever.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TENEVER = (8.958208, 53.070638)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, port: int, snapshots: str, workers: int, threads: int) -> None:
    """Child process: run ``kind`` (service | bare) under gunicorn with the shared options."""
    from service.commands.serve import gunicorn_options, run_gunicorn

    args = argparse.Namespace(host="127.0.0.1", port=port, workers=workers, threads=threads)
    options = gunicorn_options(args)
    if kind == "bare":
        def factory():  # type: ignore[no-untyped-def]
            from flask import Flask

            app = Flask("bare")

            @app.get("/")
            def empty():  # type: ignore[no-untyped-def]
                return {}

            return app
    else:
        def factory():  # type: ignore[no-untyped-def]
            from service.app import create_app

            return create_app({"SNAPSHOTS": snapshots, "INSTANCE": os.environ["BENCH_INSTANCE"]})
    run_gunicorn(factory, options)


def _start(kind: str, snapshots: str, workers: int, threads: int, instance: str) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    port = _free_port()
    env = {**os.environ, "BENCH_INSTANCE": instance}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--snapshots",
                             snapshots, "--workers", str(workers), "--threads", str(threads)],
                            env=env, start_new_session=True, cwd=REPO)
    url = f"http://127.0.0.1:{port}/" + ("api/v1/status" if kind == "service" else "")
    deadline = time.time() + 180
    warm_in_a_row = 0
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                body = resp.read()
        except OSError:
            time.sleep(0.3)
            continue
        if kind == "bare":
            return proc, port
        # steady state: every worker has loaded the snapshot and its published products (nothing is computed
        # after that); status answers come from any worker, so ask until many answers in a row succeed
        warm_in_a_row = warm_in_a_row + 1 if b'"snapshot_version"' in body else 0
        if warm_in_a_row >= 20:
            return proc, port
        time.sleep(0.05)
    _stop(proc)
    raise SystemExit(f"{kind} server did not start (or did not finish its start-up work) within 180 s")


def _stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    proc.wait(timeout=30)


def _first_ms(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        r.read()
    return (time.perf_counter() - t0) * 1000


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else (v * 1000 if unit == "s" else v)


def wrk(url: str, seconds: int, connections: int = 16) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "non2xx": float(non2xx.group(1)) if non2xx else 0.0}


def synthetic_points(layer, n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """``n`` points uniformly at random inside the union of ``layer``'s polygons (SYNTHETIC)."""
    import shapely

    union = shapely.union_all(layer.geometry.to_numpy())
    shapely.prepare(union)
    x0, y0, x1, y1 = layer.total_bounds
    rng = np.random.default_rng(seed)
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < n:
        cx, cy = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
        keep = shapely.contains_xy(union, cx, cy)
        xs, ys = np.concatenate([xs, cx[keep]]), np.concatenate([ys, cy[keep]])
    return xs[:n], ys[:n]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--snapshots", help="snapshots folder (default: build one from ../shared/data into a temp dir)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--serve", choices=["service", "bare"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.snapshots, args.workers, args.threads)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    try:
        snapshots = args.snapshots
        if not snapshots:
            from geo.config import resolve_data_dir
            from geo.pipeline.build import assemble
            from geo.pipeline.publish import publish

            snapshots = str(tmp / "snapshots")
            publish(assemble(resolve_data_dir()), snapshots)
        from geo.pipeline.snapshot import load_snapshot

        snap = load_snapshot(snapshots)
        print(f"snapshot {snap.version}; gunicorn gthread workers={args.workers} threads={args.threads}; "
              f"wrk 16 connections, {args.seconds} s each")
        if shutil.which("wrk") is None:
            print("wrk not found: run benchmarks/setup.sh (apt-get install wrk) first")
            return 1
        instance = str(tmp / "instance")

        # 1. single point vs bare Flask
        t_start = time.perf_counter()
        svc, sport = _start("service", snapshots, args.workers, args.threads, instance)
        start_s = time.perf_counter() - t_start
        try:
            bare, bport = _start("bare", snapshots, args.workers, args.threads, instance)
            try:
                # 0. the first requests after start-up: everything is read from the published snapshot
                first = {path: _first_ms(f"http://127.0.0.1:{sport}{path}")
                         for path in ("/monitoring", "/api/v1/monitoring/inequality?indicator=population",
                                      "/api/v1/monitoring/districts/04011373")}
                bare_first = _first_ms(f"http://127.0.0.1:{bport}/")
                print(f"start-up until every worker answers: {start_s:.1f} s")
                for path, ms in first.items():
                    print(f"first {path} after start-up: {ms:.0f} ms (target <= 200 ms for /monitoring); "
                          f"bare Flask first request {bare_first:.1f} ms, ratio {ms / bare_first:.0f}x")
                point_url = f"http://127.0.0.1:{sport}/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}"
                wrk(point_url, 2)  # warm-up
                wrk(f"http://127.0.0.1:{bport}/", 2)
                e = wrk(point_url, args.seconds)
                b = wrk(f"http://127.0.0.1:{bport}/", args.seconds)
            finally:
                _stop(bare)
            print(f"eligibility (point in Tenever): {e['rps']:8.0f} req/s  p50 {e['p50_ms']:.2f} ms  "
                  f"p99 {e['p99_ms']:.2f} ms  non-2xx {e['non2xx']:.0f}")
            print(f"bare Flask {{}}:                  {b['rps']:8.0f} req/s  p50 {b['p50_ms']:.2f} ms  "
                  f"p99 {b['p99_ms']:.2f} ms")
            print(f"ratio eligibility / bare: {e['rps'] / b['rps']:.2f} (target >= 0.70); "
                  f"p99 target < 10 ms: {'met' if e['p99_ms'] < 10 else 'NOT met'}")

            # 2. 100,000 synthetic points through the batch endpoint
            from pyproj import Transformer

            xs, ys = synthetic_points(snap.layers["ortsteile"], 100_000)
            lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(xs, ys)
            body = "id,lon,lat\n" + "\n".join(f"{i},{a:.7f},{b_:.7f}"
                                              for i, (a, b_) in enumerate(zip(lon, lat, strict=True)))
            req = urllib.request.Request(f"http://127.0.0.1:{sport}/api/v1/eligibility/batch",
                                         data=body.encode(), method="POST",
                                         headers={"Content-Type": "text/csv", "Accept": "text/csv"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=120) as r:
                out = r.read()
            dt = time.perf_counter() - t0
            rows = out.count(b"\n") - 1
            print(f"batch: 100,000 SYNTHETIC points (uniform in the real polygons) via HTTP CSV: {dt:.2f} s "
                  f"({rows:,} rows back; target < 3 s)")
        finally:
            _stop(svc)

        # 3. in-process 1,000,000 points vs geopandas.sjoin
        import geopandas as gpd

        from service.api.lookup import build_locator, lookup_points

        ort = snap.layers["ortsteile"]
        loc = build_locator(ort, snap.layers["stadtteile"])
        xs, ys = synthetic_points(ort, 1_000_000, seed=7)
        t0 = time.perf_counter()
        leaves = lookup_points(loc, xs, ys)
        mine_t = time.perf_counter() - t0
        mine = np.where((leaves >= 0) & (leaves < loc.n_primary), loc.keys[np.clip(leaves, 0, None)], "")
        t0 = time.perf_counter()
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=ort.crs)
        joined = gpd.sjoin(pts, ort[["key", "geometry"]], how="left", predicate="intersects")
        ref = joined["key"].groupby(level=0).min().reindex(range(len(xs))).fillna("")
        sjoin_t = time.perf_counter() - t0
        identical = bool((ref.astype(str).to_numpy() == mine.astype(str)).all())
        print(f"in-process 1,000,000 SYNTHETIC points: lookup_points {mine_t:.2f} s, geopandas.sjoin "
              f"{sjoin_t:.2f} s, ratio {sjoin_t / mine_t:.1f}x (target >= 5x); identical answers: {identical}")
        return 0 if identical else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
