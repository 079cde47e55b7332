"""Every route of /api/v1 and /ogcapi through the Flask test client, with its errors."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest

from tests.service.conftest import TENEVER, TOKEN

PROBLEM = "application/problem+json"


def problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.data[:500]
    assert resp.mimetype == PROBLEM
    body = resp.get_json(force=True)
    assert body["status"] == status and body["detail"] and body["title"] and "problems" in body
    assert b"Traceback" not in resp.data
    return body  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------ eligibility


def test_point_in_tenever_returns_ortsteil_with_categories_and_reasons(client, state) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}")
    assert r.status_code == 200
    a = r.get_json()
    assert a["district"] == {"level": "ortsteil", "key": "04011373", "name": "Tenever", "city": "Bremen"}
    assert [d["level"] for d in a["districts"]] == ["ortsteil", "stadtteil", "stadtbezirk", "city"]
    assert a["districts"][1]["key"] == "04011370"
    win = next(c for c in a["categories"] if c["id"] == "win")
    assert win["applies"] is True
    status = next(x for x in win["reasons"] if x["indicator"] == "status_index")
    assert status["passed"] and status["operator"] == ">=" and status["unit"] == "SD"
    assert status["value"] > status["threshold"]
    assert status["margin"] == pytest.approx(status["value"] - status["threshold"])
    assert {"id": "win", "label": "WiN area (indicated)", "basis": "indicated"} in a["funding_strands"]
    assert a["designation"]["designated"] is True and "win" in a["designation"]["programmes"]
    assert a["classification"]["status_class"] == "very_low" and 0 <= a["classification"]["stability"] <= 1
    assert a["programme"]["hash"] == state.definition.hash and a["snapshot_version"] == state.version
    assert a["data_vintage"]["statistics_year"] == state.snapshot.latest_year
    assert r.headers["X-Snapshot-Version"] == state.version


def test_decision_id_is_deterministic(client) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}"
    a, b = client.get(url).get_json(), client.get(url).get_json()
    assert a["decision_id"] == b["decision_id"] and len(a["decision_id"]) == 32
    other = client.get(f"/api/v1/eligibility?lon={TENEVER[0] + 0.0001}&lat={TENEVER[1]}").get_json()
    assert other["decision_id"] != a["decision_id"]
    assert client.get("/api/v1/eligibility?district=04011373").get_json()["decision_id"] != a["decision_id"]


def test_xy_in_utm_and_district_key(client, state) -> None:  # type: ignore[no-untyped-def]
    rp = state.snapshot.layers["ortsteile"].set_index("key").geometry["04011373"].representative_point()
    a = client.get(f"/api/v1/eligibility?x={rp.x}&y={rp.y}&crs=EPSG:25832").get_json()
    assert a["district"]["key"] == "04011373"
    a = client.get(f"/api/v1/eligibility?x={rp.x}&y={rp.y}").get_json()
    assert a["district"]["key"] == "04011373"
    d = client.get("/api/v1/eligibility?district=04011370").get_json()
    assert d["district"]["level"] == "stadtteil" and d["classification"] is None
    assert any(o["key"] == "04011373" and "win" in o["categories"] for o in d["ortsteile"])


def test_bremerhaven_answers_on_its_own_basis(client) -> None:  # type: ignore[no-untyped-def]
    a = client.get("/api/v1/eligibility?district=04012134").get_json()  # Goethestraße
    assert a["classification"]["classifiable"] is True
    assert a["basis"]["confidence"] == "low" and a["basis"]["own_basis"] is True
    assert a["designation"]["designated"] is True
    tiny = client.get("/api/v1/eligibility?district=04012252").get_json()  # Luneplate: 74 census residents
    assert tiny["classification"]["classifiable"] is False
    assert "fewer than 300 residents" in tiny["classification"]["not_classifiable_reason"]


@pytest.mark.parametrize(("query", "status", "needle"), [
    ("lon=10.5&lat=52.0", 404, "outside both cities"),
    ("lon=200&lat=53", 400, "lon=200.0 is outside -180..180"),
    ("lon=8.8&lat=95", 400, "lat=95.0 is outside -90..90"),
    ("lon=abc&lat=53", 400, "not a number"),
    ("lon=nan&lat=53", 400, "must be finite"),
    ("lon=8.8", 400, "'lat' is missing"),
    ("", 400, "give exactly one of"),
    ("lon=8.8&lat=53&district=04011373", 400, "give exactly one of"),
    ("district=4011373", 400, "8-digit key"),
    ("district=04099999", 404, "no district with key '04099999'"),
    ("x=1&y=2&crs=EPSG:99999", 400, "unsupported crs"),
    ("x=1e12&y=2", 400, "outside the valid range"),
])
def test_eligibility_errors(client, query: str, status: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.get(f"/api/v1/eligibility?{query}"), status)
    assert needle in body["detail"]


def _tenever_polygon(state, buffer_m: float = 250.0) -> dict:  # type: ignore[no-untyped-def]
    import geopandas as gpd
    import shapely

    g = state.snapshot.layers["ortsteile"].set_index("key").geometry["04011373"].representative_point()
    poly = gpd.GeoSeries([g.buffer(buffer_m)], crs=25832).to_crs(4326).iloc[0]
    return {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(poly))}


def test_polygon_area(client, state) -> None:  # type: ignore[no-untyped-def]
    feature = _tenever_polygon(state)
    r = client.post("/api/v1/eligibility", json=feature)
    assert r.status_code == 200, r.data
    a = r.get_json()
    assert a["question"]["kind"] == "area" and a["districts"][0]["key"] == "04011373"
    assert a["estimate"]["population"] > 0 and a["estimate"]["method"] == "area_weighted"
    assert a["classification"]["status_index"] is not None
    assert {c["id"] for c in a["categories"]} >= {"win", "kleinstquartier"}
    assert a["decision_id"] == client.post("/api/v1/eligibility", json=feature).get_json()["decision_id"]


def test_polygon_errors(client, app, state) -> None:  # type: ignore[no-untyped-def]
    problem(client.post("/api/v1/eligibility", data=b"", content_type="application/json"), 400)
    problem(client.post("/api/v1/eligibility", data=b"{nope", content_type="application/json"), 400)
    body = problem(client.post("/api/v1/eligibility", json={"type": "Point", "coordinates": [8.9, 53.0]}), 400)
    assert "Polygon" in body["detail"]
    far = {"type": "Polygon", "coordinates": [[[10, 50], [10.01, 50], [10.01, 50.01], [10, 50]]]}
    assert "overlap" in problem(client.post("/api/v1/eligibility", json=far), 404)["detail"]
    bow = {"type": "Polygon", "coordinates": [[[8.9, 53.0], [8.91, 53.01], [8.91, 53.0], [8.9, 53.01], [8.9, 53.0]]]}
    assert "not a valid polygon" in problem(client.post("/api/v1/eligibility", json=bow), 400)["detail"]
    many = _tenever_polygon(state)
    import shapely
    from shapely.geometry import shape

    dense = shapely.segmentize(shape(many["geometry"]), 0.000001)
    limit = app.config["POLYGON_MAX_VERTICES"]
    assert shapely.get_num_coordinates(dense) > limit
    body = problem(client.post("/api/v1/eligibility", json=json.loads(shapely.to_geojson(dense))), 413)
    assert f"at most {limit}" in body["detail"]


# ------------------------------------------------------------------------------------------------ batch


def test_batch_csv_and_json(client, state) -> None:  # type: ignore[no-untyped-def]
    body = f"id,lon,lat\na,{TENEVER[0]},{TENEVER[1]}\nb,10.5,52.0\nc,x,53\n"
    r = client.post("/api/v1/eligibility/batch", data=body, content_type="text/csv", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [x["status"] for x in rows] == ["ok", "outside", "invalid"]
    assert rows[0]["key"] == "04011373" and "win" in rows[0]["categories"].split(";")
    r = client.post("/api/v1/eligibility/batch", data=body, content_type="text/csv")
    j = r.get_json()
    assert j["count"] == 3 and j["counts"] == {"ok": 1, "outside": 1, "invalid": 1}
    assert j["rows"][0][j["columns"].index("key")] == "04011373"
    rp = state.snapshot.layers["ortsteile"].set_index("key").geometry["04011373"].representative_point()
    r = client.post("/api/v1/eligibility/batch?crs=EPSG:25832&f=csv", data=f"id,x,y\n1,{rp.x},{rp.y}\n",
                    content_type="text/csv")
    assert "04011373" in r.get_data(as_text=True)


def test_batch_geojson(client) -> None:  # type: ignore[no-untyped-def]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "p1", "properties": {}, "geometry": {"type": "Point", "coordinates": list(TENEVER)}},
        {"type": "Feature", "properties": {"id": "p2"}, "geometry": None}]}
    r = client.post("/api/v1/eligibility/batch", data=json.dumps(fc), content_type="application/geo+json")
    j = r.get_json()
    assert [row[0] for row in j["rows"]] == ["p1", "p2"] and j["counts"]["invalid"] == 1


def test_batch_errors(client, app) -> None:  # type: ignore[no-untyped-def]
    problem(client.post("/api/v1/eligibility/batch", data="id,a,b\n1,2,3\n", content_type="text/csv"), 400)
    problem(client.post("/api/v1/eligibility/batch", data="", content_type="text/csv"), 400)
    problem(client.post("/api/v1/eligibility/batch", data="x", content_type="application/xml"), 400)
    problem(client.post("/api/v1/eligibility/batch", data="id,lon,lat\n1,x,y\n", content_type="text/csv"), 422)
    n = app.config["BATCH_MAX_ROWS"] + 1
    big = "id,x,y\n" + "1,490000,5880000\n" * n
    body = problem(client.post("/api/v1/eligibility/batch", data=big, content_type="text/csv"), 413)
    assert f"{n:,} rows" in body["detail"]


def test_body_size_limit(app) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app

    small = create_app({**{k: app.config[k] for k in ("SNAPSHOTS", "INSTANCE")}, "MAX_CONTENT_LENGTH": 1000,
                        "PAGES": False})
    r = small.test_client().post("/api/v1/eligibility/batch", data="id,x,y\n" + "1,2,3\n" * 500,
                                 content_type="text/csv")
    assert "larger than the limit of 1,000 bytes" in problem(r, 413)["detail"]


# ------------------------------------------------------------------------------------------- headers


def test_security_and_cors_headers(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/status", headers={"Origin": "https://maps.example.org"})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Access-Control-Allow-Origin"] == "https://maps.example.org"
    r = client.get("/api/v1/status", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = client.options("/api/v1/eligibility", headers={"Origin": "https://maps.example.org",
                                                        "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200 and "POST" in r.headers["Access-Control-Allow-Methods"]


def test_http_errors_are_problems(client) -> None:  # type: ignore[no-untyped-def]
    assert "no route" in problem(client.get("/api/v1/nothing"), 404)["detail"]
    body = problem(client.delete("/api/v1/eligibility"), 405)
    assert "allowed" in body["detail"]


# ------------------------------------------------------------------------------------------ scenarios


def _draft_yaml() -> str:
    from geo.config import DEFAULT_PROGRAMME

    text = DEFAULT_PROGRAMME.read_text(encoding="utf-8")
    text = text.replace("id: lebendige-quartiere", "id: draft-lower-threshold", 1)
    text = text.replace("draws: 1000", "draws: 50", 1)
    return text.replace("{field: status_index, op: \">=\", value: 1.0}        # A7: \"low\"",
                        "{field: status_index, op: \">=\", value: 0.5}        # A7: \"low\"", 1)


def test_scenario_write_read_and_auth(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    draft = _draft_yaml()
    problem(client.post("/api/v1/scenarios", data=draft, content_type="application/yaml"), 401)
    problem(client.post("/api/v1/scenarios", data=draft, content_type="application/yaml",
                        headers={"Authorization": "Bearer wrong"}), 401)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/v1/scenarios", data=draft, content_type="application/yaml", headers=auth)
    assert r.status_code in (200, 201), r.data[:500]
    s = r.get_json()
    assert s["definition"]["id"] == "draft-lower-threshold"
    assert s["definition"]["hash"] != s["official"]["hash"]
    win = next(c for c in s["comparison"]["categories"] if c["category"] == "win")
    assert win["draft_areas"] >= win["base_areas"] - win["areas_lost"]
    assert len(s["results"]) == 113
    again = client.get(f"/api/v1/scenarios/{s['id']}")
    assert again.status_code == 200 and again.get_json() == s
    repeat = client.post("/api/v1/scenarios", data=draft, content_type="application/yaml", headers=auth)
    assert repeat.status_code == 200
    csv_text = client.get(f"/api/v1/downloads/classification.csv?scenario={s['id']}").get_data(as_text=True)
    assert "draft-lower-threshold" in csv_text
    trail = app.extensions["quartiere"].store.audit_trail()
    assert trail[0]["object_id"] == s["id"] and trail[0]["actor"].startswith("token:")


def test_scenario_errors(client) -> None:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    problem(client.get("/api/v1/scenarios/doesnotexist"), 404)
    problem(client.post("/api/v1/scenarios", data="", content_type="application/yaml", headers=auth), 400)
    problem(client.post("/api/v1/scenarios", data="a: [", content_type="application/yaml", headers=auth), 400)
    problem(client.post("/api/v1/scenarios", data="{", content_type="application/json", headers=auth), 400)
    body = problem(client.post("/api/v1/scenarios", json={"id": "x", "indicators": 5}, headers=auth), 422)
    assert body["problems"]


def test_writing_disabled_without_token(app) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app

    ro = create_app({"SNAPSHOTS": app.config["SNAPSHOTS"], "INSTANCE": app.config["INSTANCE"], "PAGES": False})
    r = ro.test_client().post("/api/v1/scenarios", json={}, headers={"Authorization": "Bearer x"})
    assert "writing is disabled" in problem(r, 403)["detail"]


# ------------------------------------------------------------------------------------------- downloads


@pytest.mark.parametrize("layer", ["ortsteile", "stadtteile", "stadtbezirke", "designations", "classification"])
def test_downloads_geojson_csv_gpkg(client, layer: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = client.get(f"/api/v1/downloads/{layer}.geojson")
    assert g.status_code == 200 and g.get_json()["type"] == "FeatureCollection"
    c = client.get(f"/api/v1/downloads/{layer}.csv")
    assert c.status_code == 200 and not c.data.startswith(b"\xef\xbb\xbf")
    assert c.data.split(b"\n", 1)[0].startswith(b"key," if layer != "designations" and layer != "classification"
                                                else c.data[:3])
    de = client.get(f"/api/v1/downloads/{layer}.csv?dialect=excel-de")
    assert de.data.startswith(b"\xef\xbb\xbf") and b";" in de.data.split(b"\n", 1)[0]
    gp = client.get(f"/api/v1/downloads/{layer}.gpkg")
    path = tmp_path / "x.gpkg"
    path.write_bytes(gp.data)
    assert len(pyogrio.read_dataframe(path)) > 0


def test_download_excel_de_uses_decimal_comma(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/api/v1/downloads/ortsteile.csv?dialect=excel-de").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    tenever = next(r for r in rows if r["key"] == "04011373")
    assert "," in tenever["area_km2"] and "." not in tenever["area_km2"]


def test_download_snapshot_and_errors(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/downloads/snapshot.gpkg")
    assert r.status_code == 200 and r.data[:15] == b"SQLite format 3"
    (tmp_path / "s.gpkg").write_bytes(r.data)
    assert {n for n, _ in pyogrio.list_layers(tmp_path / "s.gpkg")} >= {"ortsteile", "indicators"}
    problem(client.get("/api/v1/downloads/nolayer.csv"), 404)
    problem(client.get("/api/v1/downloads/ortsteile.xlsx"), 404)
    problem(client.get("/api/v1/downloads/ortsteile.csv?dialect=latin1"), 400)
    problem(client.get("/api/v1/downloads/indicators.geojson"), 400)
    problem(client.get("/api/v1/downloads/classification.csv?scenario=nope"), 404)


def test_classification_download_has_each_indicator_with_its_year(client, state) -> None:  # type: ignore[no-untyped-def]
    import io

    import pandas as pd

    table = pd.read_csv(io.StringIO(client.get("/api/v1/downloads/classification.csv").get_data(as_text=True)),
                        dtype={"key": str})
    row = table.set_index("key").loc["04011373"]  # Tenever
    wide = state.wide.set_index("key")
    assert row["sgb2_u15_pct"] == pytest.approx(float(wide.loc["04011373", "sgb2_u15_pct"]))
    assert int(row["sgb2_u15_pct__year"]) == int(wide.loc["04011373", "sgb2_u15_pct__year"]) == 2018
    assert int(row["turnout_state_election_pct__year"]) == 2023
    # Bremerhaven rows carry the series of their own basis
    bhv = table.set_index("key").loc["04012123"]  # Leherheide-West
    assert bhv["census2022_municipal_housing_pct"] > 50 and int(bhv["census2022_municipal_housing_pct__year"]) == 2022


# ------------------------------------------------------------------------------------------------ docs


def test_openapi_documents_every_route(app, client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.0")
    documented = set(doc["paths"])
    for rule in app.url_map.iter_rules():
        html_pages = ("pages.", "monitoring.", "national.page", "scenario_designer.")
        if rule.endpoint == "static" or rule.endpoint.startswith(html_pages):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}").rstrip("/") or "/"
        for p in ([path.replace("{fmt}", f) for f in ("geojson", "csv", "gpkg")] if "{fmt}" in path else [path]):
            assert p in documented, f"route {rule.rule} is not in the OpenAPI document"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/eligibility" in page.data and b"<script" not in page.data


def test_status(client, state) -> None:  # type: ignore[no-untyped-def]
    j = client.get("/api/v1/status").get_json()
    assert j["snapshot_version"] == state.version and j["districts"]["ortsteile"] == 113
