"""Concurrent drawn areas against a real gunicorn (2 workers x 4 threads): no worker may crash.

Issue 11: 2-20 concurrent ``POST /api/v1/eligibility`` with valid polygons of 2,000-10,000 vertices killed the
worker (SIGSEGV / SIGABRT, "double free or corruption"): request threads evaluated ``intersects`` on the
snapshot's shared, prepared district geometries, and GEOS builds a prepared geometry's internals lazily on
first use, which is not thread-safe. The polygons here are SYNTHETIC TEST GEOMETRY: finely sampled circles
(9,999 points + the closing one = 10,000 vertices, the service's limit) around lon 8.93, lat 53.06 (Osterholz,
next to Tenever) with several radii.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from tests.servers import free_port, gunicorn_command, serve_app

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

CENTRE = (8.93, 53.06)  # lon, lat (WGS84)
RADII_M = (150, 300, 500, 800, 1200)
VERTICES = 10_000
BURSTS = 3
CONCURRENT = 20
CRASH = re.compile(r"was sent|exited with code|SIGSEGV|SIGABRT|double free|WORKER TIMEOUT|Segmentation", re.I)


def synthetic_circle(radius_m: float, *, phase: float = 0.0) -> dict:  # type: ignore[type-arg]
    """A valid polygon of exactly ``VERTICES`` vertices (synthetic test geometry), as a GeoJSON Feature."""
    c = gpd.GeoSeries([shapely.Point(*CENTRE)], crs=4326).to_crs(25832).iloc[0]
    a = phase + np.linspace(0.0, 2.0 * np.pi, VERTICES - 1, endpoint=False)
    ring = np.column_stack([c.x + radius_m * np.cos(a), c.y + radius_m * np.sin(a)])
    poly = gpd.GeoSeries([shapely.Polygon(ring)], crs=25832).to_crs(4326).iloc[0]
    assert poly.is_valid and shapely.get_num_coordinates(poly) == VERTICES
    return {"type": "Feature", "properties": {"note": "synthetic test geometry"},
            "geometry": json.loads(shapely.to_geojson(poly))}


def _post(url: str, body: bytes) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/geo+json"})
    try:
        with urllib.request.urlopen(req, timeout=180) as r:
            return r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", "")
    except OSError as e:  # a worker that died mid-request resets the connection
        return -1, repr(e)


def _worker_pids(log: str) -> list[int]:
    return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", log)]


def test_concurrent_large_polygons_crash_no_worker(snapshots_dir: Path, tmp_path: Path) -> None:
    bodies = [json.dumps(synthetic_circle(r, phase=0.1 * k)).encode()
              for k in range(CONCURRENT // len(RADII_M)) for r in RADII_M]
    assert len(bodies) == CONCURRENT
    port = free_port()
    config = {"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path / "instance")}
    log_path = tmp_path / "gunicorn.log"
    results: list[tuple[int, str]] = []
    with serve_app(gunicorn_command(config, port, workers=2, threads=4), port, log_path) as base:
        url = f"{base}/api/v1/eligibility"
        deadline = time.monotonic() + 90
        while len(booted := _worker_pids(log_path.read_text())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(BURSTS):
            with ThreadPoolExecutor(CONCURRENT) as pool:
                results.extend(pool.map(lambda b: _post(url, b), bodies))
        with urllib.request.urlopen(f"{base}/api/v1/status", timeout=30) as r:
            assert r.status == 200
        log = log_path.read_text()
        alive = []
        for pid in booted:
            try:
                os.kill(pid, 0)  # signal 0: only asks whether the process exists
                alive.append(pid)
            except ProcessLookupError:
                pass
    crashes = [line for line in log.splitlines() if CRASH.search(line)]
    assert crashes == [], f"worker crashes in the server log {log_path}: {crashes[:10]}"
    assert len(booted) == 2 and _worker_pids(log) == booted, f"workers were restarted: {_worker_pids(log)}"
    assert alive == booted
    codes = [code for code, _ in results]
    assert len(codes) == BURSTS * CONCURRENT
    assert all(code in (200, 413, 422) for code in codes), sorted(set(results))
    assert codes.count(200) == len(codes), f"valid 10,000-vertex polygons must be answered: {sorted(set(codes))}"


RACE = r'''
import sys, threading
import numpy as np, shapely
from geo.analysis.interpolate import estimate_custom_area, prepare_area_index
from geo.pipeline.snapshot import load_snapshot

wide = load_snapshot(sys.argv[1]).wide("ortsteil")
centre = wide.set_index("key").geometry["04011373"].representative_point()
a = np.linspace(0, 2 * np.pi, 9999, endpoint=False)
polys = [shapely.Polygon(np.c_[centre.x + r * np.cos(a), centre.y + r * np.sin(a)])
         for r in (300, 500, 800, 1200, 1600, 2000, 2500, 3000)]
for _ in range(int(sys.argv[2])):
    frame = wide.copy()
    frame.geometry = shapely.from_wkb(shapely.to_wkb(wide.geometry.to_numpy()))
    shapely.prepare(frame.geometry.to_numpy())  # shared and prepared, as the point locator leaves them
    index = prepare_area_index(frame)  # what the service does once per snapshot
    barrier = threading.Barrier(len(polys))
    def work(p):
        barrier.wait()
        estimate_custom_area(p, index, crs="EPSG:25832")
    threads = [threading.Thread(target=work, args=(p,)) for p in polys]
    [t.start() for t in threads]
    [t.join() for t in threads]
print("ok")
'''


def test_threads_on_freshly_prepared_districts_do_not_crash(snapshots_dir: Path) -> None:
    """In-process and deterministic enough to fail before the fix (SIGSEGV within a few rounds): 8 threads
    released at once on districts whose shared geometries were just prepared. Runs in a child process so that
    a crash fails the test instead of killing pytest."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", RACE, str(snapshots_dir), "20"], cwd=Path(__file__).parents[2],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-2000:])
