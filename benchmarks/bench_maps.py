"""Page weight and time to first render: our overview map versus ``GeoDataFrame.explore()``, in one run.

Usage::

    python benchmarks/bench_maps.py [--snapshots DIR] [--data DIR] [--runs 5]

Builds a snapshot from the official data when ``--snapshots`` is not given. Both pages show the same 113
Ortsteile. Weight counts the HTML plus every script, stylesheet and data file the page loads (measured from the
browser's responses; ``explore()`` loads its scripts from CDNs, so for it the network is allowed and its CDN
bytes are counted as transferred, uncompressed body sizes). Time to first render is the time from navigation
until the map has drawn all 113 district paths, in headless Chromium (Debian's /usr/bin/chromium). Our page is
served by the app (gunicorn-free, Flask's test server in a thread); explore()'s page is written to a file and
served by a plain static file server (so that our app's Content-Security-Policy does not block its CDN
scripts).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import logging
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


#: explore()'s CDN files and where the same file is in an npm package (fetched with ``npm pack``)
CDN_FILES = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": ("leaflet@1.9.3", "dist/leaflet.js"),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": ("leaflet@1.9.3", "dist/leaflet.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        ("bootstrap@5.2.2", "dist/js/bootstrap.bundle.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css":
        ("bootstrap@5.2.2", "dist/css/bootstrap.min.css"),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        ("@fortawesome/fontawesome-free@6.2.0", "css/all.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": ("d3@3.5.5", "d3.min.js"),
}


def npm_files(cache: Path) -> dict[str, bytes]:
    """The CDN files of :data:`CDN_FILES` from npm packages (``npm pack``), cached in ``cache``."""
    out: dict[str, bytes] = {}
    cache.mkdir(parents=True, exist_ok=True)
    for url, (spec, inner) in CDN_FILES.items():
        folder = cache / spec.replace("/", "_")
        if not folder.is_dir():
            done = subprocess.run(["npm", "pack", spec, "--pack-destination", str(cache)], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                continue
            tgz = cache / done.stdout.strip().splitlines()[-1]
            folder.mkdir()
            with tarfile.open(tgz) as tar:
                tar.extractall(folder, filter="data")
        path = folder / "package" / inner
        if path.is_file():
            out[url] = path.read_bytes()
    return out


def measure(browser, url: str, runs: int, cdn: dict[str, bytes] | None = None) -> tuple[int, float, int]:  # type: ignore[no-untyped-def]
    """(bytes loaded, median ms until 113 paths are drawn, number of requests) for ``url``.

    Requests to other hosts are answered from ``cdn`` (the same files, from npm) or with an empty body, so
    the comparison runs without internet access and without CDN latency (explore()'s best case).
    """
    times, weight, requests = [], 0, 0
    for _ in range(runs):
        # bypass_csp only lets Playwright's own polling script run; the pages load the same resources
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = ctx.new_page()
        sizes: list[int] = []

        files = cdn or {}

        def route(r, _request=None, files=files):  # type: ignore[no-untyped-def]
            if r.request.url.startswith("http://127.0.0.1"):
                r.continue_()
            else:
                r.fulfill(status=200, body=files.get(r.request.url, b""))

        page.route("**/*", route)

        def on_response(resp, sizes=sizes):  # type: ignore[no-untyped-def]
            with contextlib.suppress(Exception):
                sizes.append(len(resp.body()))

        page.on("response", on_response)
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 113",
                               timeout=60_000)
        times.append((time.perf_counter() - t0) * 1000)
        page.wait_for_load_state("networkidle")
        weight, requests = sum(sizes), len(sizes)
        ctx.close()
    return weight, statistics.median(times), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=Path)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from geo.pipeline.snapshot import load_snapshot
    from service.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    snaps = args.snapshots
    if snaps is None:
        from geo.pipeline.build import assemble
        from geo.pipeline.publish import publish

        snaps = tmp / "snapshots"
        publish(assemble(args.data), snaps)
    wide = load_snapshot(snaps).wide("ortsteil")
    explore_html = tmp / "explore.html"
    cols = ["key", "name", "city", "population", "share_foreign_pct", "geometry"]
    wide[cols].explore(column="share_foreign_pct").save(str(explore_html))

    app = create_app({"SNAPSHOTS": str(snaps), "INSTANCE": str(tmp / "instance")})

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    app.test_client().get("/")  # load the state and render the map once (cached), as a running service has
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ours = measure(browser, f"{base}/", args.runs)
        cdn = npm_files(Path.home() / ".cache" / "quartiere-bench-npm")
        theirs = measure(browser, f"http://127.0.0.1:{plain.server_port}/explore.html", args.runs, cdn)
        browser.close()
    server.shutdown()
    plain.shutdown()
    layers = app.test_client().get("/").get_data(as_text=True).count('"group":')
    print(f"{'page':<28}{'weight (bytes)':>16}{'requests':>10}{'first render (ms, median)':>28}")
    print(f"{'overview (ours)':<28}{ours[0]:>16,}{ours[2]:>10}{ours[1]:>28.0f}")
    print(f"{'GeoDataFrame.explore()':<28}{theirs[0]:>16,}{theirs[2]:>10}{theirs[1]:>28.0f}")
    print(f"ratio ours/explore: weight {ours[0] / theirs[0]:.2f}, first render {ours[1] / theirs[1]:.2f}")
    missing = [u for u in CDN_FILES if u not in cdn] + ["leaflet.awesome-markers js/css, glyphicons css, "
                                                        "awesome rotate css (not on npm: served empty)"]
    print(f"explore(): CDN files served locally from npm packages; counted as 0 bytes: {missing}")
    print(f"ours: {layers} thematic layers, all scripts from the app; explore(): 1 layer, scripts from CDNs")


if __name__ == "__main__":
    main()
