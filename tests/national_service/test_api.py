"""The national collections through Flask: OGC API documents, paging, bbox, items, OpenAPI, the page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realdata

NATIONAL = ["gemeinden", "gemeindeverbaende", "kreise", "laender"]


def test_collections_listed_beside_bremen(nclient) -> None:  # type: ignore[no-untyped-def]
    ids = [c["id"] for c in nclient.get("/ogcapi/collections").get_json()["collections"]]
    assert ids[:4] == ["ortsteile", "stadtteile", "stadtbezirke", "designations"] and ids[4:] == NATIONAL
    doc = nclient.get("/ogcapi/collections/kreise").get_json()
    lon0, lat0, lon1, lat1 = doc["extent"]["spatial"]["bbox"][0]
    assert 5.5 < lon0 < 6.5 and 14.5 < lon1 < 15.5 and 47 < lat0 < 48 and 54.5 < lat1 < 55.5
    assert nclient.get("/ogcapi/collections/ortsteile/items?limit=1").get_json()["numberMatched"] == 113


def test_paging_all_gemeinden(nclient) -> None:  # type: ignore[no-untyped-def]
    url, keys, pages = "/ogcapi/collections/gemeinden/items?limit=1000", [], 0
    while url:
        r = nclient.get(url)
        assert r.status_code == 200 and r.mimetype == "application/geo+json"
        doc = r.get_json()
        assert doc["numberMatched"] == 10990
        keys += [f["id"] for f in doc["features"]]
        pages += 1
        url = next((lk["href"].replace("http://localhost", "") for lk in doc["links"] if lk["rel"] == "next"), "")
    assert pages == 11 and len(keys) == 10990 and keys == sorted(set(keys))


def test_bbox_limit_offset(nclient) -> None:  # type: ignore[no-untyped-def]
    q = "/ogcapi/collections/gemeinden/items?bbox=8.48,53.01,8.99,53.23&limit=5"
    doc = nclient.get(q).get_json()
    assert doc["numberReturned"] == 5 and doc["numberMatched"] > 5
    nxt = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
    assert "bbox=8.48%2C53.01%2C8.99%2C53.23" in nxt and "offset=5" in nxt
    everything = nclient.get(q.replace("limit=5", "limit=1000")).get_json()
    assert "04011000" in [f["id"] for f in everything["features"]]
    assert len(everything["features"]) == doc["numberMatched"]


def test_item_and_problems(nclient) -> None:  # type: ignore[no-untyped-def]
    r = nclient.get("/ogcapi/collections/laender/items/04")
    assert r.status_code == 200 and r.get_json()["properties"]["name"] == "Bremen"
    r = nclient.get("/ogcapi/collections/kreise/items/04012")
    props = r.get_json()["properties"]
    assert props["name"] == "Bremerhaven" and props["status_class"] and "sgb2_rate_pct" in props
    for url, status in (("/ogcapi/collections/kreise/items/99999", 404),
                        ("/ogcapi/collections/gemeinden/items?limit=0", 400),
                        ("/ogcapi/collections/gemeinden/items?bbox=1,2", 400)):
        r = nclient.get(url)
        assert r.status_code == status and r.mimetype == "application/problem+json"


def test_openapi_documents_national_collections(nclient) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/v1/openapi.json", "/ogcapi/api"):
        doc = nclient.get(url).get_json()
        param = doc["paths"]["/ogcapi/collections/{collectionId}/items"]["get"]["parameters"][0]
        assert param["schema"]["enum"][-4:] == NATIONAL


def test_bremen_only_app_unchanged(snapshots_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app

    app = create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path), "TESTING": True})
    c = app.test_client()
    assert [x["id"] for x in c.get("/ogcapi/collections").get_json()["collections"]] == [
        "ortsteile", "stadtteile", "stadtbezirke", "designations"]
    assert c.get("/ogcapi/collections/gemeinden/items").status_code == 404
    assert c.get("/national").status_code == 404
    enum = c.get("/api/v1/openapi.json").get_json()["paths"]["/ogcapi/collections/{collectionId}"]["get"][
        "parameters"][0]["schema"]["enum"]
    assert "gemeinden" not in enum
    assert 'href="/national' not in c.get("/").get_data(as_text=True)


def test_national_page(nclient) -> None:  # type: ignore[no-untyped-def]
    r = nclient.get("/national")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Deutschland: Kreise im Vergleich" in html
    assert 'data-key="04011"' in html and 'data-key="04012"' in html  # Bremen, Bremerhaven shown first
    nonce = r.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert html.count("<script") == html.count(f'<script nonce="{nonce}"') + html.count("<script src=")
    assert "https://" not in html.split("<footer")[0].replace("https://www.w3.org", "")
    en = nclient.get("/national?lang=en&kreis=Bremerhaven").get_data(as_text=True)
    assert "Germany: Kreise compared" in en and 'data-key="04012"' in en and 'data-key="04011"' not in en
    miss = nclient.get("/national?kreis=Neu").get_data(as_text=True)
    assert "Neu-Ulm (09775)" in miss
    assert 'href="/national"' in nclient.get("/table").get_data(as_text=True)  # navigation link when configured


@pytest.mark.slow
def test_ogc_operations_conform_with_national(national_app) -> None:  # type: ignore[no-untyped-def]
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from tests.service.test_schemathesis import CHECKS

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", national_app)
    failures, count = [], 0
    for entry in schema.get_all_operations():
        op = entry.ok()
        if not op.path.startswith("/ogcapi/collections"):
            continue
        count += 1

        @given(case=op.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{op.label}: {exc}"[:2000])
    assert count == 5 and not failures, "\n\n".join(failures)


def test_national_page_names_categories_in_the_page_language(nclient) -> None:  # type: ignore[no-untyped-def]
    de = nclient.get("/national?kreis=04011").get_data(as_text=True)
    assert "Sehr hohe soziale Herausforderungen" in de and "Very high social challenges" not in de
    en = nclient.get("/national?kreis=04011&lang=en").get_data(as_text=True)
    assert "Very high social challenges" in en
