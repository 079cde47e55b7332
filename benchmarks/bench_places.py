"""Benchmark of the place search, in-process: ``python benchmarks/bench_places.py [--snapshots DIR]``.

Times, per query kind, the answer of ``GET /api/v1/places`` through the Flask test client (routing, search,
point lookup of address matches, JSON) and the bare search functions, with the invented address file of
``tests/data/addresses`` configured. Target: well under 20 ms per request. Without ``--snapshots`` a snapshot
is built from ``../shared/data`` into a temporary folder. Prints median and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUERIES = {"district, typo": "Tenver", "district, case": "GROEPELINGEN", "postcode": "28239",
           "address (file)": "Lindenhofstr. 3", "address, no match": "Nirgendwostraße 7",
           "postcode answer": None}


def _timed(fn, n: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", help="published snapshots folder (default: build one)")
    parser.add_argument("-n", type=int, default=500, help="repetitions per query")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    snapshots = args.snapshots
    if not snapshots:
        from geo.config import resolve_data_dir
        from geo.pipeline.build import assemble
        from geo.pipeline.publish import publish

        snapshots = str(Path(tmp.name) / "snapshots")
        publish(assemble(resolve_data_dir()), snapshots)
    from service.app import create_app

    app = create_app({"SNAPSHOTS": snapshots, "INSTANCE": str(Path(tmp.name) / "instance"),
                      "ADDRESS_FILE": str(REPO / "tests" / "data" / "addresses" / "hauskoordinaten_sample.csv")})
    client = app.test_client()
    st = app.extensions["quartiere"].holder.state
    geocoders = app.extensions["quartiere_geocoders"]
    from geo.places.geocode import search_places

    print(f"snapshot {st.version}; {len(st.places.index.variants)} spellings of {len(st.places.index.places)} "
          f"places; address file: {len(geocoders[0])} INVENTED addresses (tests/data/addresses); n={args.n}")
    print(f"{'query':<22}{'HTTP median':>12}{'HTTP p99':>10}{'search median':>15}{'p99':>8}   (ms)")
    for label, q in QUERIES.items():
        if q is None:
            url = "/api/v1/places/postcode/28239"

            def bare() -> None:
                st.places.postcode_tails["28239"]
        else:
            url = f"/api/v1/places?q={q}&limit=10"

            def bare(q: str = q) -> None:
                search_places(q, gazetteer=st.places.gazetteer, geocoders=geocoders, limit=10)

        def http(url: str = url) -> None:
            assert client.get(url).status_code == 200

        hm, hp = _timed(http, args.n)
        sm, sp = _timed(bare, args.n)
        print(f"{label:<22}{hm:>12.2f}{hp:>10.2f}{sm:>15.3f}{sp:>8.3f}")
    print("target: HTTP p99 well under 20 ms in-process (the remote geocoder is not timed: network-bound)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
