"""The OGC API collections on the tiny SYNTHETIC snapshot: one feature per hand-made square or union."""

from __future__ import annotations

import pytest

from tests.tiny import ORTSTEILE, STADTBEZIRKE, STADTTEILE, WIN, problem, to_wgs84


@pytest.mark.parametrize(("collection", "keys"), [
    ("ortsteile", sorted(ORTSTEILE)), ("stadtteile", sorted(STADTTEILE)), ("stadtbezirke", sorted(STADTBEZIRKE)),
])
def test_items_are_the_tiny_districts(tiny_client, collection: str, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = tiny_client.get(f"/ogcapi/collections/{collection}/items?limit=100")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.get_json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(keys)
    assert sorted(f["properties"]["key"] for f in doc["features"]) == keys


def test_one_item_carries_its_counts_and_classification(tiny_client) -> None:  # type: ignore[no-untyped-def]
    r = tiny_client.get(f"/ogcapi/collections/ortsteile/items/{WIN}")
    assert r.status_code == 200
    props = r.get_json()["properties"]
    assert props["name"] == "Dornfeld" and props["city"] == "Bremen" and props["stadtteil_key"] == "04011920"
    assert props["population"] == 4000 and props["foreign_nationals"] == 2000
    assert props["share_foreign_pct"] == pytest.approx(50.0)
    assert props["area_km2"] == pytest.approx(1.0) and props["density_per_km2"] == pytest.approx(4000)
    assert props["status_class"] == "very_low" and props["budget_eur"] == pytest.approx(100_000)


def test_bbox_around_bremerhaven_returns_its_two_squares(tiny_client) -> None:  # type: ignore[no-untyped-def]
    west, south = to_wgs84(473100, 5933100)
    east, north = to_wgs84(474900, 5933900)
    doc = tiny_client.get(f"/ogcapi/collections/ortsteile/items?bbox={west},{south},{east},{north}").get_json()
    assert sorted(f["properties"]["key"] for f in doc["features"]) == ["04012911", "04012912"]
    assert doc["numberMatched"] == 2


def test_unknown_item_and_collection_are_problems(tiny_client) -> None:  # type: ignore[no-untyped-def]
    assert "99999999" in problem(tiny_client.get("/ogcapi/collections/ortsteile/items/99999999"), 404)["detail"]
    problem(tiny_client.get("/ogcapi/collections/nope/items"), 404)
