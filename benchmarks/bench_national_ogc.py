"""Benchmark of the national OGC API collections (one command)::

    python benchmarks/bench_national_ogc.py [--national DIR] [--snapshots DIR] [--repeat 3]

What QGIS (or GDAL's OAPIF driver) does when it browses the Gemeinden:

1. page through all 10,990 Gemeinden with ``limit=1000`` (11 requests, following ``next``);
2. a viewport over one Land (the bounding box of Niedersachsen, with Bremen inside) with ``limit=1000``, paged.

Each is timed (a) in-process through ``service.api.national.items`` against a baseline run alongside — the Bremen
collections' approach (:func:`service.api.ogc.items`: ``shapely.intersects`` over every geometry, ``str`` features
joined as text) on the same national layer — (b) through Flask's test client and (c) through gunicorn
(``quartiere serve --national-snapshots``, 1 worker, 4 threads) over HTTP on localhost. Prints seconds per page
(max and mean), bytes, and the ratio baseline / ours. Target: every page well under 0.5 s.

Without ``--national`` a national snapshot is built from ``../shared/data`` (about 30 s); without
``--snapshots`` a Bremen snapshot is built too (the service needs one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LAND = "03"  # Niedersachsen (its bounding box holds Bremen and Bremerhaven)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pages(get: Callable[[str], bytes], first: str) -> tuple[list[float], int, int, int]:
    """Follow ``next`` from ``first``: seconds per page, requests, features, bytes."""
    times, n, size, url = [], 0, 0, first
    while url:
        t0 = time.perf_counter()
        body = get(url)
        times.append(time.perf_counter() - t0)
        doc = json.loads(body)
        n += doc["numberReturned"]
        size += len(body)
        url = next((lk["href"] for lk in doc["links"] if lk["rel"] == "next"), "")
    return times, len(times), n, size


def _row(label: str, runs: list[tuple[list[float], int, int, int]]) -> tuple[str, float]:
    times = [t for r in runs for t in r[0]]
    _, reqs, feats, size = runs[-1]
    total = statistics.median(sum(r[0]) for r in runs)
    print(f"  {label:<34} {reqs:>3} req  {feats:>6} features  {size / 1e6:6.1f} MB  total {total:6.3f} s  "
          f"per page max {max(times):.3f} s mean {statistics.mean(times):.3f} s")
    return label, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--national", help="national snapshots folder (default: build from ../shared/data)")
    ap.add_argument("--snapshots", help="Bremen snapshots folder (default: build from ../shared/data)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median total, max page)")
    args = ap.parse_args()

    from geo.config import resolve_data_dir

    tmp = Path(tempfile.mkdtemp(prefix="bench-national-ogc-"))
    if not args.snapshots:
        from geo.pipeline.build import assemble
        from geo.pipeline.publish import publish

        args.snapshots = str(tmp / "bremen")
        publish(assemble(resolve_data_dir(None)), args.snapshots)
    if not args.national:
        from geo.national.build import assemble as assemble_de
        from geo.pipeline.publish import publish

        t0 = time.perf_counter()
        args.national = str(tmp / "germany")
        publish(assemble_de(resolve_data_dir(None)), args.national)
        print(f"national snapshot built in {time.perf_counter() - t0:.1f} s")
    instance = tmp / "instance"

    from service.api import national
    from service.app import create_app

    t0 = time.perf_counter()
    app = create_app({"SNAPSHOTS": args.snapshots, "NATIONAL_SNAPSHOTS": args.national, "INSTANCE": str(instance),
                      "PAGES": False})
    print(f"app with national layers created in {time.perf_counter() - t0:.1f} s (first start classifies and "
          "caches; later starts read the cache)")
    st = app.extensions["quartiere_national"].state
    print("national load: " + ", ".join(f"{k} {v:.2f} s" for k, v in st.seconds.items()))
    gem = st.collections["gemeinden"]
    land = st.collections["laender"]
    x0, y0, x1, y1 = (float(v) for v in land.envelopes[land.position[LAND]])
    bbox = f"{x0:.4f},{y0:.4f},{x1:.4f},{y1:.4f}"
    all_q = "/ogcapi/collections/gemeinden/items?limit=1000"
    bbox_q = f"/ogcapi/collections/gemeinden/items?limit=1000&bbox={bbox}"
    print(f"Gemeinden: {len(gem)}; viewport = bounding box of Land {LAND}: {bbox}")

    # baseline: the Bremen collections' approach on the same layer (str features, intersects over all)
    import numpy as np
    import shapely

    texts = [f.decode() for f in gem.features]
    geoms = gem.geoms.copy()
    shapely.prepare(geoms)
    assert isinstance(geoms, np.ndarray)
    base = "http://bench/ogcapi"

    def baseline_items(c: object, args: dict[str, str], base: str) -> str:
        """The Bremen collections' first approach: intersects over every geometry, str features joined."""
        from service.api.ogc_crs import parse_bbox
        from service.api.ogc_features import page_links
        from service.api.ogc_query import limit_offset

        limit, offset = limit_offset(args)
        bbox = parse_bbox(args.get("bbox"))
        idx = np.arange(len(texts))
        if bbox is not None:
            idx = idx[shapely.intersects(shapely.box(*bbox), geoms)]
        page = idx[offset:offset + limit]
        links = page_links(gem, args, base, limit=limit, offset=offset, matched=len(idx))
        return (f'{{"type":"FeatureCollection","features":[{",".join(texts[i] for i in page)}],'
                f'"links":{json.dumps(links)},"numberMatched":{len(idx)},"numberReturned":{len(page)}}}')

    base_c = gem

    def inproc(fn: Callable[..., object], c: object) -> Callable[[str], bytes]:
        def get(url: str) -> bytes:
            out = fn(c, dict(parse_qsl(urlsplit(url).query)), base)
            return out if isinstance(out, bytes) else str(out).encode()
        return get

    client = app.test_client()

    def flask_get(url: str) -> bytes:
        parts = urlsplit(url)
        return client.get(parts.path + ("?" + parts.query if parts.query else "")).data

    results: dict[str, float] = {}
    for name, first in (("all Gemeinden, limit=1000", all_q), (f"bbox of Land {LAND}, limit=1000", bbox_q)):
        print(f"\n{name}")
        for label, get, url in (
            ("baseline (ogc.items, in-process)", inproc(baseline_items, base_c), base + first[len("/ogcapi"):]),
            ("national.items (in-process)", inproc(national.items, gem), base + first[len("/ogcapi"):]),
            ("Flask test client", flask_get, first),
        ):
            runs = [_pages(get, url) for _ in range(args.repeat)]
            results[f"{name}|{label}"] = _row(label, runs)[1]
        ratio = results[f"{name}|baseline (ogc.items, in-process)"] / results[f"{name}|national.items (in-process)"]
        print(f"  ratio baseline / national.items: {ratio:.1f}x")

    # gunicorn through `quartiere serve`
    port = _free_port()
    cmd = [sys.executable, "-m", "service.cli", "serve", "--snapshots", args.snapshots, "--national-snapshots",
           args.national, "--instance", str(instance), "--port", str(port), "--workers", "1", "--threads", "4"]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ})
    http = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{http}/ogcapi/collections/kreise", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)

        def http_get(url: str) -> bytes:
            with urllib.request.urlopen(url if url.startswith("http") else http + url, timeout=30) as r:
                return bytes(r.read())

        for name, first in (("all Gemeinden, limit=1000", all_q), (f"bbox of Land {LAND}, limit=1000", bbox_q)):
            print(f"\n{name} through gunicorn (HTTP, localhost)")
            runs = [_pages(http_get, http + first) for _ in range(args.repeat)]
            _row("gunicorn", runs)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group of this server only (own session)
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
