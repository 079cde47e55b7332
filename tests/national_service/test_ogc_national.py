"""OGC API Features Core, CRS (Part 2) and Filtering (Part 3) on the national collections: expectations from the
published national snapshot (layers in EPSG:3035, the classification result), never from the service."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pytest
import shapely

from service.api.ogc_crs import CRS84, EPSG, NATIONAL_CRS
from service.api.ogc_query import MAX_LIMIT

pytestmark = pytest.mark.realdata

GK3 = EPSG + "31467"


def _q(value: str) -> str:
    return quote(value, safe="")


def _ids(nclient, cid: str, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = nclient.get(f"/ogcapi/collections/{cid}/items?limit=1000&{query}")
    assert r.status_code == 200, r.get_json()
    return [f["id"] for f in r.get_json()["features"]]


def test_collections_declare_crs_storage_and_reference_date(nclient, national_state) -> None:  # type: ignore[no-untyped-def]
    year = max(national_state.snapshot.manifest["years"])
    for cid in ("gemeinden", "gemeindeverbaende", "kreise", "laender"):
        doc = nclient.get(f"/ogcapi/collections/{cid}").get_json()
        assert doc["crs"] == list(NATIONAL_CRS) and GK3 in doc["crs"]
        assert doc["storageCrs"] == EPSG + "3035"
        assert doc["extent"]["temporal"]["interval"] == [[f"{year}-12-31T00:00:00Z", f"{year}-12-31T23:59:59Z"]]
    total = len(national_state.snapshot.layers["kreise"])
    assert nclient.get(f"/ogcapi/collections/kreise/items?datetime=../{year}-12-31").get_json()[
        "numberMatched"] == total
    assert nclient.get(f"/ogcapi/collections/kreise/items?datetime={year + 1}-01-01/..").get_json()[
        "numberMatched"] == 0


def test_limit_clamped_on_gemeinden(nclient, national_state) -> None:  # type: ignore[no-untyped-def]
    total = len(national_state.snapshot.layers["gemeinden"])
    doc = nclient.get("/ogcapi/collections/gemeinden/items?limit=5000").get_json()
    assert doc["numberReturned"] == len(doc["features"]) == MAX_LIMIT and doc["numberMatched"] == total
    nxt = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
    assert parse_qs(urlsplit(nxt).query) == {"limit": [str(MAX_LIMIT)], "offset": [str(MAX_LIMIT)]}
    assert nclient.get("/ogcapi/collections/gemeinden/items?foo=1").status_code == 400


@pytest.mark.parametrize("uri, north_first", [(GK3, True), (EPSG + "3035", True), (EPSG + "25832", False),
                                              (EPSG + "4258", True)])
def test_gemeinde_bremen_in_each_crs(nclient, national_state, uri: str, north_first: bool) -> None:  # type: ignore[no-untyped-def]
    layer = national_state.snapshot.layers["gemeinden"].set_index("key")
    r = nclient.get(f"/ogcapi/collections/gemeinden/items/04011000?crs={_q(uri)}")
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{uri}>"
    got = shapely.geometry.shape(r.get_json()["geometry"])
    expected = layer.geometry.loc[["04011000"]].to_crs(uri.replace(EPSG, "EPSG:")).iloc[0]
    if north_first:
        expected = shapely.transform(expected, lambda xy: xy[:, ::-1])
    tol = 1e-6 if uri.endswith("/4258") else 0.01
    assert shapely.hausdorff_distance(got, expected) < tol


def test_filters_on_kreise_and_gemeinden(nclient, national_state) -> None:  # type: ignore[no-untyped-def]
    kreise = national_state.frame("kreise")
    mask = (kreise["status_class"] == "very_low") & (kreise["population"] > 500_000)
    expected = sorted(kreise.loc[mask, "key"].astype(str))
    assert expected
    text = "status_class = 'very_low' AND population > 500000"
    assert _ids(nclient, "kreise", f"filter={_q(text)}") == expected
    gem = national_state.snapshot.layers["gemeinden"].to_crs("OGC:CRS84")
    box = shapely.box(8.48, 53.01, 8.99, 53.23)
    brem = gem[gem.intersects(box) & gem["name"].str.startswith("B")]
    text = "S_INTERSECTS(geometry, BBOX(8.48, 53.01, 8.99, 53.23)) AND name LIKE 'B%'"
    assert _ids(nclient, "gemeinden", f"filter={_q(text)}") == sorted(brem["key"].astype(str))
    r = nclient.get(f"/ogcapi/collections/kreise/items?filter={_q('gisd_scor > 0.5')}")
    assert r.status_code == 400 and "gisd_scor" in r.get_json()["detail"]
    q = nclient.get("/ogcapi/collections/kreise/queryables").get_json()["properties"]
    assert q["gisd_score"]["type"] == "number" and q["land_name"]["type"] == "string"
    values = np.asarray(kreise["gisd_score"], dtype=float)
    assert len(_ids(nclient, "kreise", f"filter={_q('gisd_score > 0.5')}")) == int(np.sum(values > 0.5))


def test_bremen_collections_do_not_offer_gauss_krueger(nclient) -> None:  # type: ignore[no-untyped-def]
    r = nclient.get(f"/ogcapi/collections/ortsteile/items?crs={_q(GK3)}")
    assert r.status_code == 400 and "31467" in r.get_json()["detail"]
    assert nclient.get(f"/ogcapi/collections/kreise/items?limit=1&crs={_q(CRS84)}").status_code == 200


@pytest.mark.slow
def test_gdal_reads_kreise_in_gauss_krueger_and_filters(national_server: str, national_state) -> None:  # type: ignore[no-untyped-def]
    """GDAL 3.12 (pyogrio) asks for EPSG:31467 from the collection's crs list; ogr2ogr's URL carries a filter."""
    import pyogrio

    layer = national_state.snapshot.layers["kreise"].set_index("key").sort_index()
    read = pyogrio.read_dataframe(f"OAPIF:{national_server}/ogcapi", layer="kreise", CRS="EPSG:31467")
    read = read.set_index("key").sort_index()
    assert read.crs.to_epsg() == 31467 and list(read.index) == list(layer.index)
    expected = layer.geometry.to_crs("EPSG:31467").to_numpy()
    assert float(shapely.hausdorff_distance(read.geometry.to_numpy(), expected).max()) < 0.01
    query = _q("land_key = '04'")
    land = pyogrio.read_dataframe(f"OAPIF:{national_server}/ogcapi/collections/kreise?filter={query}")
    assert sorted(land["key"].astype(str)) == sorted(k for k in layer.index if k.startswith("04"))
