"""OGC API Features Part 2 (CRS by reference) and Part 3 (Filtering, CQL2, queryables) on the Bremen collections,
through the Flask client and through real clients (OWSLib, GDAL 3.6's ogr2ogr, GDAL 3.12 in pyogrio) against
gunicorn. Expected results are computed from the snapshot with geopandas/pyproj/pandas, never by the service."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from service.api.ogc_crs import BREMEN_CRS, CRS84, EPSG
from tests.servers import free_port, gunicorn_command, serve_app

ITEMS = "/ogcapi/collections/ortsteile/items"
UTM = EPSG + "25832"


def _q(value: str) -> str:
    return quote(value, safe="")


def _frame(state) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Ortsteile (EPSG:25832) with the classification, straight from the snapshot and the result table."""
    layer = state.snapshot.layers["ortsteile"]
    table = state.result.table
    table = table[~table["is_extra"]][["key", "status_class", "status_index"]]
    return layer.merge(table, on="key", how="left").sort_values("key").reset_index(drop=True)


def _ids(client, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get(f"{ITEMS}?limit=1000&{query}")
    assert r.status_code == 200, (query, r.get_json())
    doc = r.get_json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(doc["features"])
    return [f["id"] for f in doc["features"]]


def _expected_in(geoms: object, uri: str) -> object:
    """Snapshot geometries reprojected by geopandas, then put in the CRS's own axis order."""
    out = geoms.to_crs(CRS84 if uri == CRS84 else uri.replace(EPSG, "EPSG:"))  # type: ignore[attr-defined]
    if CRS.from_user_input(out.crs).axis_info[0].direction == "north":
        return shapely.transform(out.to_numpy(), lambda xy: xy[:, ::-1])
    return out.to_numpy()


# ---------------------------------------------------------------------------------------------- Part 2: CRS


def test_collections_list_crs_and_storage_crs(client) -> None:  # type: ignore[no-untyped-def]
    for c in client.get("/ogcapi/collections").get_json()["collections"]:
        assert c["crs"] == list(BREMEN_CRS) and c["storageCrs"] == UTM
        assert {EPSG + "4258", EPSG + "3035", CRS84} <= set(c["crs"]) and EPSG + "31467" not in c["crs"]


@pytest.mark.parametrize("uri", BREMEN_CRS)
def test_features_in_each_crs_and_its_axis_order(client, state, uri: str) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(state)
    r = client.get(f"{ITEMS}?limit=1000&crs={_q(uri)}")
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{uri}>"
    feats = r.get_json()["features"]
    assert [f["id"] for f in feats] == frame["key"].tolist()
    got = np.array([shapely.geometry.shape(f["geometry"]) for f in feats])
    expected = _expected_in(frame.geometry, uri)
    tol = 1e-6 if CRS.from_user_input("OGC:CRS84" if uri == CRS84 else uri).is_geographic else 0.01
    assert float(shapely.hausdorff_distance(got, expected).max()) < tol
    first = shapely.get_coordinates(got[0])[0]
    north_first = {CRS84: False, UTM: False, EPSG + "4258": True, EPSG + "4326": True, EPSG + "3035": True}[uri]
    lat_or_n, lon_or_e = (first[0], first[1]) if north_first else (first[1], first[0])
    assert (53 < lat_or_n < 54 and 8 < lon_or_e < 9) or (lat_or_n > 1e6)  # degrees, or metres (northing)
    one = client.get(f"{ITEMS}/04011373?crs={_q(uri)}")
    assert one.headers["Content-Crs"] == f"<{uri}>"
    pos = frame.index[frame["key"] == "04011373"][0]
    assert shapely.hausdorff_distance(shapely.geometry.shape(one.get_json()["geometry"]), expected[pos]) < tol


def test_utm_output_is_the_snapshot_geometry(client, state) -> None:  # type: ignore[no-untyped-def]
    geom = state.snapshot.layers["ortsteile"].set_index("key").geometry["04011373"]
    got = shapely.geometry.shape(client.get(f"{ITEMS}/04011373?crs={_q(UTM)}").get_json()["geometry"])
    assert got.normalize().equals_exact(geom.normalize(), tolerance=0.001)


def test_bbox_crs(client, state) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(state)
    x, y = 495_500.0, 5_880_500.0  # around Tenever (EPSG:25832)
    box = shapely.box(x - 800, y - 800, x + 800, y + 800)
    expected = frame.loc[frame.intersects(box), "key"].tolist()
    assert 1 < len(expected) < 15
    bbox = f"{x - 800},{y - 800},{x + 800},{y + 800}"
    assert _ids(client, f"bbox={bbox}&bbox-crs={_q(UTM)}") == expected
    lonlat = (8.94, 53.06, 8.97, 53.08)
    as_crs84 = _ids(client, "bbox=" + ",".join(map(str, lonlat)))
    latlon = f"{lonlat[1]},{lonlat[0]},{lonlat[3]},{lonlat[2]}"  # EPSG:4258 is latitude first
    assert _ids(client, f"bbox={latlon}&bbox-crs={_q(EPSG + '4258')}") == as_crs84


@pytest.mark.parametrize("query, name", [
    (f"crs={_q(EPSG + '9999')}", "crs"), ("crs=EPSG:25832", "crs"), (f"crs={_q(EPSG + '31467')}", "crs"),
    (f"bbox-crs={_q(EPSG + '2154')}&bbox=1,2,3,4", "bbox-crs"), (f"bbox-crs={_q(UTM)}&bbox=5,4,3,2", "bbox"),
    (f"filter-crs={_q(EPSG + '2154')}&filter=population>1", "filter-crs"),
    (f"bbox-crs={_q(UTM)}&bbox=-7.2e229,0,-3.1e143,4.9e16", "bbox"),
    (f"bbox-crs={_q(UTM)}&bbox=0,0,1e300,1e300", "bbox"),
    (f"filter={_q('S_INTERSECTS(geometry, POLYGON((0 0, 1e300 0, 1e300 1e300, 0 0)))')}", "filter"),
])
def test_crs_errors_name_the_parameter(client, query: str, name: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"{ITEMS}?{query}")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert name in r.get_json()["detail"]
    if name == "crs":
        assert client.get(f"{ITEMS}/04011373?{query}").status_code == 400


# ---------------------------------------------------------------------------------------- Part 3: filters


def test_queryables_list_every_property_with_its_type(client, state) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogcapi/collections/ortsteile/queryables")
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    doc = r.get_json()
    assert doc["type"] == "object" and doc["$id"].endswith("/collections/ortsteile/queryables")
    props = doc["properties"]
    feature = client.get(f"{ITEMS}/04011373").get_json()["properties"]
    assert set(feature) | {"geometry"} == set(props)
    assert props["population"]["type"] in ("integer", "number") and props["name"]["type"] == "string"
    assert props["designated"]["type"] == "boolean" and props["geometry"]["format"].startswith("geometry-")
    classes = set(_frame(state)["status_class"].dropna()) - {""}
    assert set(props["status_class"]["enum"]) == classes and "very_low" in classes
    assert "very_low = sehr niedrig" in props["status_class"]["description"]  # the user's words for the value
    assert props["population"]["title"] == "Einwohner" and props["population"]["description"] == "Residents"
    link = next(lk for lk in client.get("/ogcapi/collections/ortsteile").get_json()["links"]
                if lk["rel"].endswith("/queryables"))
    assert link["type"] == "application/schema+json"


def test_the_users_question_in_cql2_text_and_json(client, state) -> None:  # type: ignore[no-untyped-def]
    """Ortsteile with status class 'sehr niedrig' (very_low) and more than 2,000 residents."""
    f = _frame(state)
    expected = f.loc[(f["status_class"] == "very_low") & (f["population"] > 2000), "key"].tolist()
    assert expected
    text = "status_class = 'very_low' AND population > 2000"
    assert _ids(client, f"filter={_q(text)}") == expected
    as_json = {"op": "and", "args": [{"op": "=", "args": [{"property": "status_class"}, "very_low"]},
                                     {"op": ">", "args": [{"property": "population"}, 2000]}]}
    assert _ids(client, f"filter-lang=cql2-json&filter={_q(json.dumps(as_json))}") == expected
    r = client.get(f"{ITEMS}?limit=2&filter={_q(text)}")
    nxt = [lk["href"] for lk in r.get_json()["links"] if lk["rel"] == "next"]
    assert bool(nxt) == (len(expected) > 2) and (not nxt or "filter=status_class" in nxt[0])


def test_comparison_logical_like_in_between_null(client, state) -> None:  # type: ignore[no-untyped-def]
    f = _frame(state)
    keys = f["key"]
    pop = f["population"]
    cases = {
        "population >= 10000 OR name = 'Tenever'": (pop >= 10000) | (f["name"] == "Tenever"),
        "NOT (status_index > 0)": f["status_index"] <= 0,  # unknown stays unknown: no null rows
        "population <> 0 AND city = 'Bremen'": pop.notna() & (pop != 0) & (f["city"] == "Bremen"),
        "city = 'Bremerhaven' AND population IS NULL": pop.isna() & (f["city"] == "Bremerhaven"),
        "NOT (population <> 0)": pop == 0,  # no statistics (Bremerhaven): unknown, so on neither side
        "name LIKE 'Oster%'": f["name"].str.startswith("Oster"),
        "name LIKE 'Tene_er'": f["name"] == "Tenever",
        "name NOT LIKE '%e%'": ~f["name"].str.contains("e"),
        "key IN ('04011373', '04011111', '99999999')": keys.isin(["04011373", "04011111"]),
        "status_class NOT IN ('high', 'medium')": f["status_class"].isin(["low", "very_low"]),
        "population BETWEEN 2000 AND 5000": pop.between(2000, 5000),
        "status_class IS NULL": f["status_class"].isna() | (f["status_class"] == ""),
        "status_class IS NOT NULL AND designated = true": (f["status_class"].fillna("") != "") & f["designated"],
        # case-insensitive-comparison, property-property, arithmetic
        "CASEI(name) = casei('TENEVER') OR CASEI(name) LIKE casei('oster%')":
            (f["name"].str.lower() == "tenever") | f["name"].str.lower().str.startswith("oster"),
        "foreign_nationals > under_18": f["foreign_nationals"] > f["under_18"],
        "population / area_km2 > 8000 AND population - foreign_nationals * 4 > 0":
            (pop / f["area_km2"] > 8000) & (pop - f["foreign_nationals"] * 4 > 0),
    }
    for text, mask in cases.items():
        expected = keys[mask.fillna(False).astype(bool)].tolist()
        assert expected or text.startswith("NOT (population"), text
        assert _ids(client, f"filter={_q(text)}") == expected, text
    assert len(_ids(client, "filter-lang=cql2-text")) == len(f)  # a filter-lang alone selects everything
    assert len(_ids(client, f"filter={_q('1 = 1')}")) == len(f) and _ids(client, f"filter={_q('NOT (1 = 1)')}") == []
    assert 0 < len(_ids(client, f"filter={_q('status_class IS NULL')}")) < len(f)


def test_spatial_filters(client, state) -> None:  # type: ignore[no-untyped-def]
    f = _frame(state)
    lonlat = f.to_crs("OGC:CRS84")
    box = shapely.box(8.95, 53.06, 8.96, 53.08)
    expected = lonlat.loc[lonlat.intersects(box), "key"].tolist()
    assert expected
    assert _ids(client, f"filter={_q('S_INTERSECTS(geometry, BBOX(8.95, 53.06, 8.96, 53.08))')}") == expected
    assert _ids(client, f"filter={_q(f'S_INTERSECTS(geometry, {box.wkt})')}") == expected
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [8.95, 53.06, 8.96, 53.08]}]}
    assert _ids(client, f"filter-lang=cql2-json&filter={_q(json.dumps(as_json))}") == expected
    point = shapely.Point(495_500, 5_880_500)
    inside = f.loc[f.contains(point), "key"].tolist()
    assert len(inside) == 1
    assert _ids(client, f"filter-crs={_q(UTM)}&filter={_q(f'S_INTERSECTS(geometry, {point.wkt})')}") == inside
    big = point.buffer(3000)
    within = f.loc[f.within(big), "key"].tolist()
    query = f"S_WITHIN(geometry, {big.wkt}) AND population > 0"
    assert _ids(client, f"filter-crs={_q(UTM)}&filter={_q(query)}") == f.loc[
        f.within(big) & (f["population"] > 0), "key"].tolist()
    assert within


def test_every_spatial_function(client, state) -> None:  # type: ignore[no-untyped-def]
    """CQL2 spatial-functions: each predicate against geopandas on the snapshot (EPSG:25832, filter-crs)."""
    f = _frame(state)
    tenever = f.geometry[f["key"] == "04011373"].iloc[0]
    area = shapely.Point(495_500, 5_880_500).buffer(2500)
    line = shapely.LineString([(493_000, 5_879_000), (498_000, 5_882_000)])
    cases = {
        f"S_INTERSECTS(geometry, {area.wkt})": f.intersects(area),
        f"S_DISJOINT(geometry, {area.wkt})": f.disjoint(area),
        f"S_WITHIN(geometry, {area.wkt})": f.within(area),
        f"S_CONTAINS(geometry, {shapely.Point(495_500, 5_880_500).wkt})": f.contains(shapely.Point(495_500, 5_880_500)),
        f"S_OVERLAPS(geometry, {area.wkt})": f.overlaps(area),
        f"S_CROSSES(geometry, {line.wkt})": f.crosses(line),
        f"S_TOUCHES(geometry, {tenever.wkt})": f.touches(tenever),
        f"S_EQUALS(geometry, {tenever.wkt})": f.geom_equals(tenever),
    }
    for text, mask in cases.items():
        expected = f.loc[mask, "key"].tolist()
        assert expected, text[:40]
        assert _ids(client, f"filter-crs={_q(UTM)}&filter={_q(text)}") == expected, text[:40]


@pytest.mark.parametrize("text, lang, needle", [
    ("statusklasse = 'very_low'", None, "statusklasse"),
    ("population > 2000 AND einwohner < 5", None, "einwohner"),
    ("population > ", None, "position"),
    ("status_class = = 'x'", None, "position 16"),
    ("population = 'many'", None, "population"),
    ("name LIKE 5", None, "filter"),
    ("FOO(population) = 1", None, "foo()"),
    ('{"op": "=", "args": [{"property": "bogus"}, 1]}', "cql2-json", "bogus"),
    ('{"op": "=", "args": [', "cql2-json", "JSON"),
    ("population > 1", "cql-xml", "filter-lang"),
])
def test_filter_errors_name_the_problem(client, text: str, lang: str | None, needle: str) -> None:  # type: ignore[no-untyped-def]
    query = f"filter={_q(text)}" + (f"&filter-lang={lang}" if lang else "")
    r = client.get(f"{ITEMS}?{query}")
    assert r.status_code == 400 and r.mimetype == "application/problem+json", r.get_json()
    assert needle in r.get_json()["detail"], r.get_json()["detail"]


def test_filter_on_every_collection(client, state) -> None:  # type: ignore[no-untyped-def]
    for cid in ("stadtteile", "stadtbezirke"):
        layer = state.snapshot.layers[cid]
        expected = sorted(layer.loc[layer["population"] > 20000, "key"].astype(str))
        doc = client.get(f"/ogcapi/collections/{cid}/items?limit=1000&filter={_q('population > 20000')}").get_json()
        assert [x["id"] for x in doc["features"]] == expected and expected
    des = client.get(f"/ogcapi/collections/designations/items?limit=1000&filter={_q('programmes LIKE %win%')}")
    assert des.status_code == 400  # an unquoted pattern is a syntax error
    win = client.get("/ogcapi/collections/designations/items?limit=1000&filter="
                     + _q("programmes LIKE '%win%'")).get_json()["features"]
    assert win and all("win" in x["properties"]["programmes"] for x in win)


# ------------------------------------------------------------------------------------------ real clients


@pytest.fixture(scope="module")
def server(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    config = {"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path_factory.mktemp("ogc-inst"))}
    with serve_app(gunicorn_command(config, port, threads=4), port,
                   tmp_path_factory.mktemp("ogc-log") / "gunicorn.log", ready_path="/ogcapi/collections") as base:
        yield base


@pytest.mark.slow
def test_owslib_reads_features_with_crs_and_filter(server: str, state) -> None:  # type: ignore[no-untyped-def]
    from owslib.ogcapi.features import Features

    f = _frame(state)
    api = Features(f"{server}/ogcapi")
    assert "ortsteile" in [c["id"] for c in api.collections()["collections"]]
    assert "population" in api.collection_queryables("ortsteile")["properties"]
    text = "status_class = 'very_low' AND population > 2000"
    doc = api.collection_items("ortsteile", crs=UTM, filter=text, limit=100)
    expected = f.loc[(f["status_class"] == "very_low") & (f["population"] > 2000)]
    assert [x["id"] for x in doc["features"]] == expected["key"].tolist()
    got = np.array([shapely.geometry.shape(x["geometry"]) for x in doc["features"]])
    assert float(shapely.hausdorff_distance(got, expected.geometry.to_numpy()).max()) < 0.01
    lonlat = api.collection_items("ortsteile", bbox=[8.95, 53.06, 8.96, 53.08], limit=100)
    assert {x["id"] for x in lonlat["features"]} >= {"04011373"}


@pytest.mark.slow
def test_gdal_reads_features_in_utm(server: str, state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Debian's ogr2ogr (GDAL 3.6: no CRS open option, so the crs goes in the URL it repeats on every request)
    and GDAL 3.12 in pyogrio (``CRS`` open option: it reads ``crs``/``storageCrs`` and asks by itself)."""
    import pyogrio

    frame = _frame(state).set_index("key")
    version = subprocess.run(["ogrinfo", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("GDAL 3.")
    out = tmp_path / "ortsteile.json"
    url = f"OAPIF:{server}/ogcapi/collections/ortsteile?crs={UTM}&filter={_q('population > 2000')}"
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), url, "-a_srs", "EPSG:25832", "-oo", "PAGE_SIZE=25"],
                   check=True, capture_output=True, timeout=120)
    read = pyogrio.read_dataframe(out).set_index("id")
    big = frame[frame["population"] > 2000]
    assert sorted(read.index) == sorted(big.index) and read.crs.to_epsg() == 25832
    dist = shapely.hausdorff_distance(read.geometry.loc[big.index].to_numpy(), big.geometry.to_numpy())
    assert float(dist.max()) < 1.0
    modern = pyogrio.read_dataframe(f"OAPIF:{server}/ogcapi", layer="ortsteile", CRS="EPSG:25832").set_index("key")
    assert modern.crs.to_epsg() == 25832 and len(modern) == len(frame)
    dist = shapely.hausdorff_distance(modern.geometry.loc[frame.index].to_numpy(), frame.geometry.to_numpy())
    assert float(dist.max()) < 1.0
    etrs = pyogrio.read_dataframe(f"OAPIF:{server}/ogcapi", layer="ortsteile", CRS="EPSG:4258")
    x0, y0, x1, y1 = etrs.total_bounds  # GDAL swapped the latitude-first output back: x is the longitude
    assert 8.4 < x0 < x1 < 9.1 and 53 < y0 < y1 < 53.7


QGIS_PROBE = r"""
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(f"url='{sys.argv[1]}/ogcapi' typename='ortsteile'", "ortsteile", "OAPIF")
to_utm = QgsCoordinateTransform(layer.crs(), QgsCoordinateReferenceSystem("EPSG:25832"), QgsProject.instance())
out = {"valid": layer.isValid(), "crs": layer.crs().authid(), "features": {}}
for f in layer.getFeatures():
    g = f.geometry()
    g.transform(to_utm)  # what a project in EPSG:25832 shows
    out["features"][str(f["key"])] = g.asWkt()
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash while tearing down its network threads; the answer is out
"""


@pytest.mark.slow
def test_qgis_3_22_reads_the_collection(server: str, state) -> None:  # type: ignore[no-untyped-def]
    """QGIS 3.22 (Debian 12) predates Part 2 in its OAPIF provider: it reads CRS84 and reprojects into an
    EPSG:25832 project itself; what it shows matches the snapshot within a metre (strict parameter checks break
    nothing it sends)."""
    from tests.conftest import missing_tool

    python = "/usr/bin/python3"
    probe = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, check=False) \
        if Path(python).exists() else None
    if probe is None or probe.returncode != 0:
        missing_tool("QGIS not found (Debian packages python3-qgis, qgis-providers; scripts/install-system-deps.sh)")
    run = subprocess.run([python, "-c", QGIS_PROBE, server], capture_output=True, text=True, timeout=180,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["valid"] and out["crs"] in ("EPSG:4326", "OGC:CRS84")
    frame = _frame(state).set_index("key")
    assert sorted(out["features"]) == sorted(frame.index)
    got = shapely.from_wkt([out["features"][k] for k in frame.index])
    assert float(shapely.hausdorff_distance(got, frame.geometry.to_numpy()).max()) < 1.0
