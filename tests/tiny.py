"""The tiny SYNTHETIC snapshot: six invented square Ortsteile, built and published by the project's own pipeline.

The inputs are in ``tests/data/tiny_snapshot/`` (written by its ``make_tiny_snapshot.py``; see
``tests/data/README.md``). :func:`lay_out` puts them into the folder layout of the official data (boundary
shapefiles under ``bremen-verwaltungsgrenzen/original/``, table 12411-03-03 under
``bremen-bevoelkerung-ortsteile/raw/``); :func:`publish_tiny` runs :func:`geo.pipeline.build.assemble` and
:func:`geo.pipeline.publish.publish` on it with the synthetic programme. It needs nothing from the official data
and takes a few seconds.

The map (EPSG:25832, every square 1 km × 1 km)::

    Bremen (Stadtbezirk 04011900)                       Bremerhaven (Stadtbezirk 04012900)
    y 5884000 +------------+------------+               y 5934000 +------------+------------+
              | Ahornfeld  | Birkenfeld |  Stadtteil              | Eschenfeld | Fichtenfeld|  Stadtteil
              | 04011911   | 04011912   |  04011910               | 04012911   | 04012912   |  04012910
    y 5883000 +------------+------------+                         |            |            |
              | Cedernfeld | Dornfeld   |  Stadtteil    y 5933000 +------------+------------+
              | 04011921   | 04011922   |  04011920          x 473000      474000       475000
    y 5882000 +------------+------------+
         x 487000       488000       489000

The constants below are the expected answers, worked out by hand from the inputs.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import geopandas as gpd

HERE = Path(__file__).resolve().parent / "data" / "tiny_snapshot"
PROGRAMME = HERE / "synthetic_programme.yml"
BOUNDARIES = "bremen-verwaltungsgrenzen/original"
STATISTICS = "bremen-bevoelkerung-ortsteile/raw"
YEARS = (2021, 2023)

#: key -> (name, city, Stadtteil key, residents 2023, foreign nationals 2023), from make_tiny_snapshot.py
ORTSTEILE = {
    "04011911": ("Ahornfeld", "Bremen", "04011910", 1000, 100),
    "04011912": ("Birkenfeld", "Bremen", "04011910", 2000, 200),
    "04011921": ("Cedernfeld", "Bremen", "04011920", 3000, 300),
    "04011922": ("Dornfeld", "Bremen", "04011920", 4000, 2000),
    "04012911": ("Eschenfeld", "Bremerhaven", "04012910", 1500, 150),
    "04012912": ("Fichtenfeld", "Bremerhaven", "04012910", 200, 20),
}
STADTTEILE = {"04011910": "Teststadtteil Nord", "04011920": "Teststadtteil Süd", "04012910": "Teststadtteil Hafen"}
STADTBEZIRKE = {"04011900": "Testbezirk Bremen", "04012900": "Testbezirk Bremerhaven"}

#: centres of squares, in EPSG:25832 and (rounded) WGS84 lon/lat
CENTRE_25832 = {key: (x + 500, y + 500) for key, (x, y) in {
    "04011911": (487000, 5883000), "04011912": (488000, 5883000), "04011921": (487000, 5882000),
    "04011922": (488000, 5882000), "04012911": (473000, 5933000), "04012912": (474000, 5933000)}.items()}

#: the only indicated area: 50 % foreign nationals against 10 % elsewhere, z = (50 - 18) / 16 = +2.0
WIN = "04011922"
#: below the programme's 300 residents: no index, not classifiable
TOO_SMALL = "04012912"


def to_wgs84(x: float, y: float) -> tuple[float, float]:
    """A point in EPSG:25832 as (lon, lat)."""
    point = gpd.GeoSeries.from_xy([x], [y], crs="EPSG:25832").to_crs("EPSG:4326").iloc[0]
    return float(point.x), float(point.y)


def lay_out(root: Path) -> Path:
    """Write the tiny inputs in the official data layout under ``root`` (created); returns ``root``."""
    shapes = root / BOUNDARIES
    shapes.mkdir(parents=True)
    for level in ("ortsteile", "stadtteile", "stadtbezirke"):
        frame = gpd.read_file(HERE / f"synthetic_{level}.geojson")
        if frame.crs is None or frame.crs.to_epsg() != 25832:
            raise ValueError(f"synthetic_{level}.geojson: expected EPSG:25832, got {frame.crs}")
        # one file for both cities (the reader takes the city from the key); UTF-8 with its .cpg
        frame.to_file(shapes / f"hb_{level}_TINY.shp", encoding="UTF-8")
    raw = root / STATISTICS
    raw.mkdir(parents=True)
    for year in YEARS:
        shutil.copy(HERE / f"synthetic_12411-03-03-{year}.csv", raw / f"12411-03-03-{year}.csv")
    return root


def publish_tiny(work: Path) -> Path:
    """Lay out, assemble and publish the tiny snapshot under ``work``; returns the snapshots folder."""
    from sklearn.exceptions import ConvergenceWarning

    from geo.pipeline.build import assemble
    from geo.pipeline.publish import publish

    data = lay_out(work / "data")
    snapshots = work / "snapshots"
    with warnings.catch_warnings():
        # the district types cluster the one status indicator, which has two distinct values here (10 % and
        # 50 %): k-means warns that it finds fewer clusters than the k it tries
        warnings.simplefilter("ignore", ConvergenceWarning)
        publish(assemble(data), snapshots, programmes=[PROGRAMME])
    return snapshots


def make_app(snapshots: Path, work: Path):  # type: ignore[no-untyped-def]
    """The Flask app on ``snapshots`` (from :func:`publish_tiny`) with the synthetic programme; its instance
    folder and an empty scenarios folder (no drafts) under ``work``."""
    from service.app import create_app

    (work / "scenarios").mkdir(parents=True, exist_ok=True)
    return create_app({"SNAPSHOTS": str(snapshots), "PROGRAMME": str(PROGRAMME), "INSTANCE": str(work / "instance"),
                       "SCENARIOS_DIR": str(work / "scenarios"), "TESTING": True})


PROBLEM = "application/problem+json"


def problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The problem+json body of ``resp``, checked: its status, media type and every member of the shape."""
    assert resp.status_code == status, resp.data[:500]
    assert resp.mimetype == PROBLEM
    body = resp.get_json(force=True)
    assert set(body) >= {"type", "title", "status", "detail", "instance", "problems"}, body
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("https://") and isinstance(body["problems"], list)
    assert b"Traceback" not in resp.data
    return body  # type: ignore[no-any-return]
