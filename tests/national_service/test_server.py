"""Through real processes: gunicorn (``quartiere serve --national-snapshots``) read by GDAL, and the national
page in headless Chromium (400 Kreis shapes, no outside requests)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_gdal_reads_kreise_and_a_bbox_of_gemeinden(national_server: str) -> None:
    import pyogrio

    url = f"OAPIF:{national_server}/ogcapi"
    layers = {name for name, _ in pyogrio.list_layers(url)}
    assert {"gemeinden", "gemeindeverbaende", "kreise", "laender", "ortsteile"} <= layers
    kreise = pyogrio.read_dataframe(url, layer="kreise")
    assert len(kreise) == 400 and kreise["key"].is_unique
    assert {"04011", "04012"} <= set(kreise["key"].astype(str))
    assert "status_class" in kreise.columns and kreise.crs.to_epsg() == 3035  # GDAL >= 3.7: the storageCrs
    x0, y0, x1, y1 = kreise.to_crs("OGC:CRS84").total_bounds
    assert 5.5 < x0 < 6.5 and 14.5 < x1 < 15.5 and 47 < y0 < 48 and 54.5 < y1 < 55.5
    gem = pyogrio.read_dataframe(url, layer="gemeinden", bbox=(8.48, 53.01, 8.99, 53.23), CRS="OGC:CRS84")
    keys = set(gem["key"].astype(str))
    assert "04011000" in keys and "04012000" not in keys and 5 < len(gem) < 200


def test_national_page_in_browser(browser, national_server: str) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import screenshot
    from tests.servers import watched_page

    with watched_page(browser, national_server) as page:
        page.goto("/")
        page.locator("nav a", has_text="Deutschland").click()
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("path.leaflet-interactive").count() == 400
        assert "Statusklasse" in page.locator(".q-legend").inner_text()
        assert "Bremerhaven" in page.locator("#answer").inner_text()
        page.locator("button.q-city", has_text="Bremerhaven").click()
        page.wait_for_timeout(300)
        zoom = page.evaluate("Object.values(window.quartiereMaps)[0].map.getZoom()")
        assert zoom >= 9
        screenshot(page, "national-de")
        page.goto("/national?lang=en")
        page.wait_for_selector("path.leaflet-interactive")
        assert "Status class" in page.locator(".q-legend").inner_text()
        page.locator(".q-control select").select_option("child_poverty_pct")
        assert "Child poverty" in page.locator(".q-legend").inner_text()
        screenshot(page, "national-en")
        page.watch.assert_clean()
