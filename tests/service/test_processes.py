"""OGC API - Processes - Part 1: Core 1.0 (``/ogcapi/processes``): the eligibility process answers exactly what
``/api/v1/eligibility`` answers; descriptions, errors and execution modes as the standard requires; OWSLib lists
and executes the processes on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pyproj import Transformer

from tests.servers import free_port, gunicorn_command, serve_app
from tests.service.conftest import TENEVER
from tests.service.test_api import problem

EXEC = "/ogcapi/processes/{}/execution"
CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
EPSG25832 = "http://www.opengis.net/def/crs/EPSG/0/25832"


def _square(lon: float, lat: float, d: float = 0.002) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    return {"type": "Polygon", "coordinates": [ring]}


def _utm(lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(lon, lat)
    return round(float(x), 2), round(float(y), 2)


def _run(client, inputs: dict[str, Any], process: str = "eligibility", **extra: Any):  # type: ignore[no-untyped-def]
    headers = extra.pop("headers", {})
    return client.post(EXEC.format(process), json={"inputs": inputs, **extra}, headers=headers)


# --------------------------------------------------------------------------------- the same answer as REST


def test_point_in_tenever_answers_as_rest(client) -> None:  # type: ignore[no-untyped-def]
    rest = client.get(f"/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}")
    r = _run(client, {"location": {"type": "Point", "coordinates": list(TENEVER)}})
    assert r.status_code == 200 and r.mimetype == "application/json"  # response=raw (the default): the output
    assert r.get_data() == rest.get_data()
    assert r.get_json()["district"]["key"] == "04011373" and len(r.get_json()["decision_id"]) == 32


def test_point_in_declared_crs_answers_as_rest_with_that_crs(client) -> None:  # type: ignore[no-untyped-def]
    x, y = _utm(*TENEVER)
    rest = client.get(f"/api/v1/eligibility?x={x}&y={y}&crs=EPSG:25832").get_json()
    qualified = {"value": {"type": "Point", "coordinates": [x, y]}, "mediaType": "application/geo+json",
                 "crs": EPSG25832}
    got = _run(client, {"location": qualified}).get_json()
    assert got == rest
    assert got["question"]["crs"] == "EPSG:25832" and got["district"]["key"] == "04011373"


def test_polygon_answers_as_rest_in_crs84_and_in_epsg25832(client) -> None:  # type: ignore[no-untyped-def]
    poly = _square(*TENEVER)
    rest = client.post("/api/v1/eligibility", json=poly)
    assert rest.status_code == 200
    got = _run(client, {"location": {"value": poly, "mediaType": "application/geo+json"}})
    assert got.get_json() == rest.get_json()
    assert got.get_json()["question"]["kind"] == "area"
    assert "04011373" in [d["key"] for d in got.get_json()["districts"]]
    utm = {"type": "Polygon", "coordinates": [[list(_utm(*p)) for p in poly["coordinates"][0]]]}
    rest_utm = client.post("/api/v1/eligibility?crs=EPSG:25832", json=utm).get_json()
    got_utm = _run(client, {"location": {"value": utm, "crs": EPSG25832}}).get_json()
    assert got_utm == rest_utm and got_utm["district"]["level"] == "area"


def test_district_key_answers_as_rest_as_document(client) -> None:  # type: ignore[no-untyped-def]
    rest = client.get("/api/v1/eligibility?district=04011373").get_json()
    r = _run(client, {"location": "04011373"}, response="document", headers={"Prefer": "respond-sync"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers.get("Preference-Applied") == "respond-sync"
    doc = r.get_json()
    assert list(doc) == ["answer"] and doc["answer"]["mediaType"] == "application/json"
    assert doc["answer"]["value"] == rest and doc["answer"]["value"]["decision_id"] == rest["decision_id"]


def test_reference_to_an_own_feature_is_the_districts_key(client) -> None:  # type: ignore[no-untyped-def]
    rest = client.get("/api/v1/eligibility?district=04011373").get_json()
    href = "http://localhost/ogcapi/collections/ortsteile/items/04011373"
    assert client.get("/ogcapi/collections/ortsteile/items/04011373").status_code == 200
    assert _run(client, {"location": {"href": href}}).get_json() == rest


def test_batch_answers_each_location_in_order(client) -> None:  # type: ignore[no-untyped-def]
    rest_key = client.get("/api/v1/eligibility?district=04011373").get_json()
    rest_point = client.get(f"/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}").get_json()
    r = _run(client, {"locations": ["04011373", {"type": "Point", "coordinates": [10.0, 50.0]},
                                    {"type": "Point", "coordinates": list(TENEVER)}, "04099999"]},
             process="eligibility-batch")
    assert r.status_code == 200
    answers = r.get_json()
    assert len(answers) == 4
    assert answers[0] == rest_key and answers[2] == rest_point
    assert answers[1]["status"] == 404 and answers[1]["type"].endswith("/out-of-area")
    assert answers[3]["status"] == 404 and "04099999" in answers[3]["detail"]
    single = _run(client, {"locations": "04011373"}, process="eligibility-batch")  # one value, not a list
    assert single.get_json() == [rest_key]


# ------------------------------------------------------------------------------------ list and descriptions


def test_process_list_and_descriptions(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/ogcapi/processes").get_json()
    assert {"processes", "links"} <= set(doc)  # processList.yaml
    assert [p["id"] for p in doc["processes"]] == ["eligibility", "eligibility-batch"]
    for summary in doc["processes"]:
        assert summary["version"] and summary["jobControlOptions"] == ["sync-execute"]
        assert summary["outputTransmission"] == ["value"]
        self_link = next(link for link in summary["links"] if link["rel"] == "self")
        r = client.get(self_link["href"].removeprefix("http://localhost"))
        assert r.status_code == 200
        desc = r.get_json()
        assert desc["id"] == summary["id"]
        for inp in desc["inputs"].values():  # inputDescription.yaml: schema required, cardinality
            assert inp["schema"]["oneOf"] and inp["minOccurs"] == 1 and inp["maxOccurs"] >= 1
            jsonschema.Draft202012Validator.check_schema(inp["schema"])
        for out in desc["outputs"].values():
            assert out["schema"]
            jsonschema.Draft202012Validator.check_schema(out["schema"])
    one = client.get("/ogcapi/processes/eligibility").get_json()
    assert list(one["inputs"]) == ["location"] and list(one["outputs"]) == ["answer"]
    batch = client.get("/ogcapi/processes/eligibility-batch").get_json()
    assert batch["inputs"]["locations"]["maxOccurs"] > 1


def test_process_list_limit_pages(client) -> None:  # type: ignore[no-untyped-def]
    one = client.get("/ogcapi/processes?limit=1").get_json()
    assert [p["id"] for p in one["processes"]] == ["eligibility"]  # /req/core/pl-limit-response
    nxt = next(link["href"] for link in one["links"] if link["rel"] == "next")
    rest = client.get(nxt.removeprefix("http://localhost")).get_json()
    assert [p["id"] for p in rest["processes"]] == ["eligibility-batch"]
    assert not any(link["rel"] == "next" for link in rest["links"])
    assert len(client.get("/ogcapi/processes?limit=100000").get_json()["processes"]) == 2  # clamped, not refused
    for bad in ("limit=0", "limit=x", "offset=-1", "foo=1", "f=xml"):
        assert bad.split("=")[0] in problem(client.get(f"/ogcapi/processes?{bad}"), 400)["detail"]


def test_location_schema_accepts_what_the_process_accepts(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/ogcapi/processes/eligibility").get_json()["inputs"]["location"]["schema"]
    check = jsonschema.Draft202012Validator(schema)
    good = [{"type": "Point", "coordinates": list(TENEVER)}, _square(*TENEVER), "04011373"]
    for value in good:
        assert check.is_valid(value), value
        assert _run(client, {"location": value}).status_code == 200
    for value in ["0401137", {"type": "LineString", "coordinates": [[8.9, 53.0], [8.95, 53.1]]}, 4011373]:
        assert not check.is_valid(value), value
        assert _run(client, {"location": value}).status_code == 400


def test_conformance_and_landing_page_link_the_processes(client) -> None:  # type: ignore[no-untyped-def]
    classes = client.get("/ogcapi/conformance").get_json()["conformsTo"]
    for name in ("core", "ogc-process-description", "json", "oas30"):
        assert CONF + name in classes
    assert not any(c.startswith(CONF) and c.rsplit("/", 1)[1] in ("job-list", "callback", "dismiss", "html")
                   for c in classes)
    links = client.get("/ogcapi").get_json()["links"]
    link = next(x for x in links if x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/processes")
    assert link["href"].endswith("/ogcapi/processes")
    assert any(x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/conformance" for x in links)
    assert any(x["rel"] in ("service-desc", "service-doc") for x in links)
    assert client.get(link["href"].removeprefix("http://localhost")).status_code == 200


def test_openapi_documents_the_process_operations(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/ogcapi/api").get_json()["paths"]
    assert "get" in paths["/ogcapi/processes"] and "get" in paths["/ogcapi/processes/{processID}"]
    assert "404" in paths["/ogcapi/jobs/{jobID}"]["get"]["responses"]
    post = paths["/ogcapi/processes/{processID}/execution"]["post"]
    assert {"200", "400", "404"} <= set(post["responses"])
    assert "application/json" in post["requestBody"]["content"]


# ------------------------------------------------------------------------------------------------- errors


def test_unknown_process_is_404_no_such_process(client) -> None:  # type: ignore[no-untyped-def]
    for r in (client.get("/ogcapi/processes/buffer"), _run(client, {"location": "04011373"}, process="buffer")):
        body = problem(r, 404)
        assert body["type"] == "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process"
        assert "buffer" in body["detail"]


def test_jobs_are_404_no_such_job(client) -> None:  # type: ignore[no-untyped-def]
    r = _run(client, {"location": "04011373"})
    assert r.status_code == 200 and "Location" not in r.headers  # synchronous execution creates no job
    for path in ("/ogcapi/jobs/abc", "/ogcapi/jobs/abc/results"):
        body = problem(client.get(path), 404)
        assert body["type"] == "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job"


@pytest.mark.parametrize(("body", "named"), [
    ({"inputs": {"place": "04011373"}}, "'place'"),
    ({"inputs": {}}, "'location'"),
    ({"inputs": {"location": "4011373"}}, "'location'"),
    ({"inputs": {"location": {"type": "Point", "coordinates": ["8.9", 53.0]}}}, "'location'"),
    ({"inputs": {"location": {"type": "Point", "coordinates": [8.9, 953.0]}}}, "'location'"),
    ({"inputs": {"location": {"value": {"type": "Point", "coordinates": [1, 2]}, "crs": "EPSG:9999"}}},
     "'location'"),
    ({"inputs": {"location": {"type": "Polygon", "coordinates": "x"}}}, "'location'"),
    ({"inputs": {"location": {"href": "http://169.254.169.254/latest"}}}, "'location'"),
    ({"inputs": {"location": ["04011373", "04011371"]}}, "'location'"),
    ({"inputs": {"location": "04011373"}, "response": "inline"}, "response"),
    ({"inputs": {"location": "04011373"}, "outputs": {"map": {}}}, "'map'"),
    ({"inputs": {"location": "04011373"}, "outputs": {"answer": {"transmissionMode": "reference"}}}, "'answer'"),
])
def test_invalid_inputs_are_400_naming_the_input(client, body: dict[str, Any], named: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post(EXEC.format("eligibility"), json=body)
    assert named in problem(r, 400)["detail"]


def test_batch_errors_name_the_location(client) -> None:  # type: ignore[no-untyped-def]
    r = _run(client, {"locations": ["04011373", {"type": "Point", "coordinates": [1]}]}, process="eligibility-batch")
    assert "'locations[1]'" in problem(r, 400)["detail"]
    assert problem(client.post(EXEC.format("eligibility"), data=b"{", content_type="application/json"), 400)


def test_batch_limits_name_the_input(client) -> None:  # type: ignore[no-untyped-def]
    from service.api.processes import MAX_BATCH, MAX_BATCH_AREAS

    many = _run(client, {"locations": ["04011373"] * (MAX_BATCH + 1)}, process="eligibility-batch")
    assert "'locations'" in problem(many, 413)["detail"]
    areas = _run(client, {"locations": [_square(*TENEVER)] * (MAX_BATCH_AREAS + 1)}, process="eligibility-batch")
    assert "areas" in problem(areas, 413)["detail"]


def test_respond_async_is_answered_synchronously(client) -> None:  # type: ignore[no-untyped-def]
    r = _run(client, {"location": "04011373"}, headers={"Prefer": "respond-async"})
    assert r.status_code == 200 and r.get_json()["district"]["key"] == "04011373"
    assert "Preference-Applied" not in r.headers and "Location" not in r.headers


# ------------------------------------------------------------------------------------------------- OWSLib


@pytest.fixture(scope="module")
def server(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    config = {"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path_factory.mktemp("processes-instance"))}
    with serve_app(gunicorn_command(config, port), port, tmp_path_factory.mktemp("processes-log") / "log") as base:
        yield base


def test_owslib_lists_describes_and_executes(server: str) -> None:
    import requests
    from owslib.ogcapi.processes import Processes

    api = Processes(server + "/ogcapi")
    assert [p["id"] for p in api.processes()] == ["eligibility", "eligibility-batch"]
    assert "location" in api.process("eligibility")["inputs"]
    rest = requests.get(f"{server}/api/v1/eligibility", params={"lon": TENEVER[0], "lat": TENEVER[1]},
                        timeout=30).json()
    doc = api.execute("eligibility", inputs={"location": {"type": "Point", "coordinates": list(TENEVER)}})
    assert doc["answer"]["value"] == rest  # OWSLib asks for response=document
    raw = api.execute("eligibility", inputs={"location": "04011373"}, response="raw")
    assert raw["decision_id"] == requests.get(f"{server}/api/v1/eligibility", params={"district": "04011373"},
                                              timeout=30).json()["decision_id"]
    batch = api.execute("eligibility-batch", inputs={"locations": ["04011373", "04011373"]})
    assert [a["decision_id"] for a in batch["answers"]["value"]] == [raw["decision_id"]] * 2
