"""OGC API Features Part 1 (Core, GeoJSON, OAS 3.0) conformance, modelled on the assertions of the OGC test suite
(ets-ogcapi-features10): landing page, conformance, API definition, collections, items with limit, bbox and
datetime, single features, parameter errors, links. Every expectation comes from the snapshot, not from the
service under test."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from service.api.ogc import CONFORMANCE
from service.api.ogc_query import MAX_LIMIT

ITEMS = "/ogcapi/collections/ortsteile/items"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
PUBLIC = "https://quartiere.example.org/geo"


def _local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _all_pages(client, url: str) -> tuple[list[str], list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    ids, docs = [], []
    while url:
        r = client.get(url)
        assert r.status_code == 200, (url, r.get_json())
        doc = r.get_json()
        docs.append(doc)
        ids += [f["id"] for f in doc["features"]]
        url = next((_local(lk["href"]) for lk in doc["links"] if lk["rel"] == "next"), "")
    return ids, docs


# ------------------------------------------------------------------------------- landing, conformance, API


def test_landing_page_conformance_and_api_definition(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogcapi")
    assert r.status_code == 200 and r.mimetype == "application/json"
    rels = {lk["rel"]: lk for lk in r.get_json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)  # /req/core/root-success
    assert all(lk["href"].startswith("http://localhost/ogcapi") for lk in rels.values())
    conf = client.get(_local(rels["conformance"]["href"])).get_json()["conformsTo"]
    for cls in ("core", "geojson", "oas30"):  # /req/core/conformance-success
        assert CORE + cls in conf
    assert set(CONFORMANCE) <= set(conf)
    api = client.get(_local(rels["service-desc"]["href"]))
    assert api.status_code == 200 and api.mimetype == "application/vnd.oai.openapi+json"
    assert "/ogcapi/collections/{collectionId}/items" in api.get_json()["paths"]


def test_collections_describe_extent_crs_and_links(client, state) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/ogcapi/collections").get_json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == ["ortsteile", "stadtteile", "stadtbezirke", "designations"]
    for c in doc["collections"]:  # /req/core/rc-md-success: id, links (items), extent
        assert c["itemType"] == "feature" and any(lk["rel"] == "items" for lk in c["links"])
        assert c == client.get(f"/ogcapi/collections/{c['id']}").get_json()
        lon0, lat0, lon1, lat1 = c["extent"]["spatial"]["bbox"][0]
        assert 8.4 < lon0 < lon1 < 9.1 and 53.0 < lat0 < lat1 < 53.7
        assert c["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    layer = state.snapshot.layers["ortsteile"].to_crs("OGC:CRS84")
    assert doc["collections"][0]["extent"]["spatial"]["bbox"][0] == pytest.approx(list(layer.total_bounds))


# ---------------------------------------------------------------------------------------- parameter errors


@pytest.mark.parametrize("query, name", [
    ("foo=1", "foo"), ("f=xml", "f"), ("limit=abc", "limit"), ("limit=0", "limit"), ("limit=-5", "limit"),
    ("offset=-1", "offset"), ("offset=x", "offset"), ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"),
    ("bbox=8,54,9,53", "bbox"), ("bbox=8,53,200,54", "bbox"), ("datetime=yesterday", "datetime"),
    ("datetime=2023-13-01", "datetime"), ("datetime=2023-12-31T10:00:00", "datetime"),
    ("datetime=2023-12-31/2020-01-01", "datetime"), ("datetime=2020/2023/2024", "datetime"),
    ("limit=1&limit=2", "limit"), ("crs=a&crs=b", "crs"),
])
def test_bad_parameters_are_400_naming_them(client, query: str, name: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"{ITEMS}?{query}")
    assert r.status_code == 400 and r.mimetype == "application/problem+json", (query, r.get_json())
    body = r.get_json()
    assert name in body["detail"]
    assert any(p["message"].split("=")[0] == name for p in body["problems"]), body


@pytest.mark.parametrize("path", ["/ogcapi", "/ogcapi/conformance", "/ogcapi/api", "/ogcapi/collections",
                                  "/ogcapi/collections/ortsteile", "/ogcapi/collections/ortsteile/queryables",
                                  "/ogcapi/collections/ortsteile/items/04011373"])
def test_unknown_parameters_are_400_on_every_operation(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(path).status_code == 200
    r = client.get(f"{path}?foo=1")
    assert r.status_code == 400 and "foo" in r.get_json()["detail"]
    assert client.get(f"{path}?f=xml").status_code == 400
    assert client.get(f"{path}?f=json").status_code == 200


def test_unknown_collection_and_feature_are_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/ogcapi/collections/nope/items").status_code == 404
    r = client.get("/ogcapi/collections/ortsteile/items/99999999")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


# ------------------------------------------------------------------------------------------ limit, paging


def test_limit_above_maximum_is_clamped(client, state) -> None:  # type: ignore[no-untyped-def]
    total = len(state.snapshot.layers["ortsteile"])
    r = client.get(f"{ITEMS}?limit=100000")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["numberMatched"] == total and doc["numberReturned"] == len(doc["features"]) == min(total, MAX_LIMIT)
    self_link = next(lk["href"] for lk in doc["links"] if lk["rel"] == "self")
    assert parse_qs(urlsplit(self_link).query)["limit"] == [str(MAX_LIMIT)]
    assert not [lk for lk in doc["links"] if lk["rel"] == "next"]


def test_next_links_page_through_every_feature_once(client, state) -> None:  # type: ignore[no-untyped-def]
    keys = sorted(state.snapshot.layers["ortsteile"]["key"].astype(str))
    ids, docs = _all_pages(client, f"{ITEMS}?limit=25")
    assert ids == keys and len(docs) == -(-len(keys) // 25)
    for i, doc in enumerate(docs):  # /req/core/fc-response: counts tell the truth on every page
        assert doc["numberMatched"] == len(keys) and doc["numberReturned"] == len(doc["features"])
        assert doc["timeStamp"].endswith("Z")
        prev = [lk for lk in doc["links"] if lk["rel"] == "prev"]
        assert bool(prev) == (i > 0)
    assert client.get(f"{ITEMS}?offset={len(keys) + 5}").get_json()["numberReturned"] == 0


def test_bbox_selects_what_intersects(client, state) -> None:  # type: ignore[no-untyped-def]
    import shapely

    layer = state.snapshot.layers["ortsteile"].to_crs("OGC:CRS84")
    box = (8.94, 53.06, 8.97, 53.08)
    expected = sorted(layer.loc[layer.intersects(shapely.box(*box)), "key"].astype(str))
    ids, docs = _all_pages(client, f"{ITEMS}?bbox={','.join(map(str, box))}&limit=2")
    assert ids == expected and 1 < len(expected) < 20 and docs[0]["numberMatched"] == len(expected)
    nxt = next(lk["href"] for lk in docs[0]["links"] if lk["rel"] == "next")
    assert parse_qs(urlsplit(nxt).query)["bbox"] == [",".join(map(str, box))]


# ----------------------------------------------------------------------------------------------- datetime


def _reference_day(state) -> str:  # type: ignore[no-untyped-def]
    """The statistics' reference date: the tables are 'Stand 31.12.' of the snapshot's latest year."""
    manifest = state.snapshot.manifest
    assert all("31.12." in t["title"] for t in manifest["statistics_tables"] if t["table_id"] == "12411-03-03")
    return f"{max(manifest['years'])}-12-31"


def test_temporal_extent_is_the_reference_date(client, state) -> None:  # type: ignore[no-untyped-def]
    day = _reference_day(state)
    for cid in ("ortsteile", "stadtteile", "stadtbezirke"):
        temporal = client.get(f"/ogcapi/collections/{cid}").get_json()["extent"]["temporal"]
        assert temporal["interval"] == [[f"{day}T00:00:00Z", f"{day}T23:59:59Z"]]
        assert temporal["trs"] == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
    assert "temporal" not in client.get("/ogcapi/collections/designations").get_json()["extent"]


def test_datetime_instants_and_intervals(client, state) -> None:  # type: ignore[no-untyped-def]
    day = _reference_day(state)
    year = int(day[:4])
    total = len(state.snapshot.layers["ortsteile"])
    cases = {day: total, f"{day}T12:30:00Z": total, f"{day}T23:30:00-01:00": 0, f"{year}-06-30": 0,
             f"../{day}": total, f"{year - 3}-01-01/..": total, f"{year + 1}-01-01/..": 0, f"../{year}-12-30": 0,
             f"{year}-01-01/{day}": total, f"/{day}": total, f"{day}/": total, "../..": total}
    for value, expected in cases.items():
        r = client.get(f"{ITEMS}?limit=1&datetime={quote(value)}")
        assert r.status_code == 200, (value, r.get_json())
        assert r.get_json()["numberMatched"] == expected, value
        if expected:
            nxt = next(lk["href"] for lk in r.get_json()["links"] if lk["rel"] == "next")
            assert parse_qs(urlsplit(nxt).query)["datetime"] == [value]
    assert client.get(f"/ogcapi/collections/designations/items?datetime={day}").get_json()["numberMatched"] == 0


# --------------------------------------------------------------------------------- features and their values


def test_missing_values_are_null_never_empty_strings(client, state) -> None:  # type: ignore[no-untyped-def]
    unclassified = set(state.result.table.loc[state.result.table["status_class"].fillna("") == "", "key"])
    assert unclassified, "the snapshot should have Ortsteile without a status class"
    for cid in ("ortsteile", "stadtteile", "stadtbezirke", "designations"):
        feats = client.get(f"/ogcapi/collections/{cid}/items?limit=1000").get_json()["features"]
        empty = [(f["id"], k) for f in feats for k, v in f["properties"].items() if v == ""]
        assert empty == [], (cid, empty[:5])
        if cid == "ortsteile":
            by_id = {f["id"]: f["properties"] for f in feats}
            assert all(by_id[k]["status_class"] is None for k in unclassified if k in by_id)


def test_content_crs_header_and_single_feature(client) -> None:  # type: ignore[no-untyped-def]
    crs84 = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    r = client.get(ITEMS)
    assert r.mimetype == "application/geo+json" and r.headers["Content-Crs"] == crs84
    one = client.get(f"{ITEMS}/04011373")
    assert one.headers["Content-Crs"] == crs84 and one.mimetype == "application/geo+json"
    f = one.get_json()
    assert f["type"] == "Feature" and f["id"] == "04011373" and f["properties"]["name"] == "Tenever"
    rels = {lk["rel"]: lk["href"] for lk in f["links"]}
    assert rels["self"] == "http://localhost/ogcapi/collections/ortsteile/items/04011373"
    assert rels["collection"] == "http://localhost/ogcapi/collections/ortsteile"


def test_links_are_absolute_from_public_url(app) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app

    public = create_app({"SNAPSHOTS": app.config["SNAPSHOTS"], "INSTANCE": app.config["INSTANCE"], "PAGES": False,
                         "PUBLIC_URL": PUBLIC + "/", "TESTING": True}).test_client()
    query = (f"{ITEMS}?limit=3&crs={quote('http://www.opengis.net/def/crs/EPSG/0/25832')}"
             f"&filter={quote('population > 1000')}&datetime=../2100-01-01")
    doc = public.get(query, headers={"Host": "evil.example"}).get_json()
    hrefs = [lk["href"] for lk in doc["links"]]
    assert hrefs and all(h.startswith(PUBLIC + "/ogcapi/") for h in hrefs), hrefs
    nxt = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
    second = public.get(_local(nxt).removeprefix("/geo"))
    assert second.status_code == 200 and second.headers["Content-Crs"].endswith("/EPSG/0/25832>")
    assert second.get_json()["numberMatched"] == doc["numberMatched"]
    for path in ("/ogcapi", "/ogcapi/collections", "/ogcapi/collections/ortsteile"):
        body = public.get(path).get_json()
        links = [lk["href"] for c in [body, *body.get("collections", [])] for lk in c["links"]]
        assert all(h.startswith(PUBLIC + "/ogcapi") for h in links), links
