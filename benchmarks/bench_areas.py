"""Benchmark of drawn-area answers (one command): ``python benchmarks/bench_areas.py [--snapshots DIR]``.

In-process (no HTTP), on the loaded service state of the current snapshot, one thread:

* **new path**: ``service.api.area.area_eligibility``: the estimate against the districts prepared once
  (``prepare_area_index``) and the score from the stored index model (``score_rows``), nothing refitted;
* **baseline** (named, measured in the same run): the refit path the service used before issue 11: the same
  estimate, then ``geo.classify.classify`` of all Ortsteile with the area as an extra row (``draws=0``) and
  the area's rows picked out of that result.

Areas (SYNTHETIC TEST GEOMETRY): a 200 m buffer (65 vertices) around the representative point of Tenever
(Ortsteil 04011373; the point is taken from the snapshot), and a finely sampled circle of 10,000 vertices
(radius 800 m, around lon 8.93, lat 53.06). Prints median and p95 in milliseconds per path and area, the
ratio baseline / new path, the median CPU time of the thread (the cost, unaffected by other
processes on the machine), and asserts that both paths give the same classification and categories.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def baseline_answer(state: Any, body: Any, *, crs: str | None, max_vertices: int) -> dict[str, Any]:
    """The pre-issue-11 scoring: refit the whole classification with the area as an extra row."""
    from geo.analysis.interpolate import estimate_custom_area
    from geo.classify import classify
    from service.api.answers import classification_parts
    from service.api.area import AREA_KEY, area_prep, complete_estimate

    use_crs = crs if crs else (None if "crs" in body else "EPSG:4326")
    est = estimate_custom_area(body, area_prep(state).index, crs=use_crs, key=AREA_KEY, name="Drawn area",
                               max_vertices=max_vertices)
    frame, _ = complete_estimate(est.frame, est.sources, state.wide, state.definition.input_columns())
    result = classify(state.wide, state.definition, extra_rows=frame, draws=0,
                      meta={"snapshot_version": state.version})
    extra = result.table[result.table["is_extra"]]
    reasons = result.reasons[result.reasons["key"] == AREA_KEY]
    sub = type(result)(table=extra, reasons=reasons, near_misses=result.near_misses.iloc[0:0],
                       designation_check=result.designation_check.iloc[0:0], budget=result.budget,
                       robustness=result.robustness.iloc[0:0], policy=result.policy,
                       definition_id=result.definition_id, definition_hash=result.definition_hash)
    return classification_parts(sub, state.definition, extra=True)[AREA_KEY]


def same(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-12 (matrix products over different row counts may round the last bit)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-12, atol=1e-12))
    return bool(a == b)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU (this thread) milliseconds per run; CPU is the cost, wall also shows contention."""
    out = fn()  # warm-up (imports, first-use caches), not counted
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.thread_time()
        out = fn()
        wall.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.thread_time() - c0) * 1000.0)
    return wall, cpu, out


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main(argv: list[str] | None = None) -> int:
    from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", default=str(DEFAULT_SNAPSHOTS))
    ap.add_argument("--programme", default=str(DEFAULT_PROGRAMME))
    ap.add_argument("--repeat", type=int, default=50, help="timed runs of the new path per area")
    ap.add_argument("--baseline-repeat", type=int, default=10, help="timed runs of the baseline per area")
    args = ap.parse_args(argv)

    import geopandas as gpd
    import shapely

    from service.api.area import area_eligibility, area_prep
    from service.api.state import load_state

    t0 = time.perf_counter()
    state = load_state(args.snapshots, args.programme)
    t1 = time.perf_counter()
    prep = area_prep(state)  # what load_state prepares once per snapshot
    t2 = time.perf_counter()
    print(f"snapshot {state.version}: state loaded in {t1 - t0:.1f} s, drawn-area preparation "
          f"{(t2 - t1) * 1000:.0f} ms (model {prep.model_source})")

    point = state.snapshot.layers["ortsteile"].set_index("key").geometry["04011373"].representative_point()
    buffer = json.loads(shapely.to_geojson(point.buffer(200.0)))
    centre = gpd.GeoSeries([shapely.Point(8.93, 53.06)], crs=4326).to_crs(25832).iloc[0]
    a = np.linspace(0.0, 2.0 * np.pi, 9_999, endpoint=False)
    circle = shapely.Polygon(np.column_stack([centre.x + 800.0 * np.cos(a), centre.y + 800.0 * np.sin(a)]))
    circle84 = json.loads(shapely.to_geojson(gpd.GeoSeries([circle], crs=25832).to_crs(4326).iloc[0]))
    areas = [
        (f"200 m buffer in Tenever (x={point.x:.0f}, y={point.y:.0f}, "
         f"{shapely.get_num_coordinates(point.buffer(200.0))} vertices)", buffer, "EPSG:25832"),
        ("circle r=800 m, 10,000 vertices (WGS84)", circle84, None),
    ]
    limit = 10_000
    print(f"{'area':<62} {'path':<9} {'median ms':>10} {'p95 ms':>9} {'cpu med':>8} {'runs':>5}")
    for label, body, crs in areas:
        new_t, new_c, answer = timed(lambda b=body, c=crs: area_eligibility(state, b, crs=c, max_vertices=limit),
                              args.repeat)
        old_t, old_c, parts = timed(lambda b=body, c=crs: baseline_answer(state, b, crs=c, max_vertices=limit),
                             args.baseline_repeat)
        new_class = {k: v for k, v in answer["classification"].items() if k != "stability_note"}
        assert same(new_class, parts["classification"]), (new_class, parts["classification"])
        assert same(answer["categories"], parts["categories"]), "categories and reasons differ"
        for path, t, c in (("new", new_t, new_c), ("baseline", old_t, old_c)):
            print(f"{label:<62} {path:<9} {statistics.median(t):>10.1f} {p95(t):>9.1f} "
                  f"{statistics.median(c):>8.1f} {len(t):>5}")
        print(f"{'':<62} {'ratio':<9} {statistics.median(old_t) / statistics.median(new_t):>9.1f}x "
              f"(baseline median / new median); same classification, categories and reasons: yes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
