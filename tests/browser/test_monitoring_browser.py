"""The monitoring page and the overview's hot-spot and district-type layers in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("lang", ["de", "en"])
def test_monitoring_page(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/monitoring" + ("?lang=en" if lang == "en" else ""))
    page.wait_for_selector("svg.q-chart")
    assert page.locator("svg.q-chart").count() >= 6
    title = "Monitoring: Ungleichheit und Entwicklung" if lang == "de" else "Monitoring: inequality and trends"
    assert page.locator("h1").inner_text() == title
    page.locator("#district").select_option("04011373")
    page.locator("form button[type=submit]").click()
    page.wait_for_selector("svg.q-chart")
    assert "Tenever" in page.locator("#h-district").inner_text()
    screenshot(page, f"monitoring-{lang}")
    page.watch.assert_clean()


def test_overview_hotspot_and_type_layers(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_selector("path.leaflet-interactive")
    select = page.locator(".q-control select")
    select.select_option("hotspots")
    assert "Hot Spot" in page.locator(".q-legend").inner_text()
    select.select_option("district_type")
    assert "Typ 1" in page.locator(".q-legend").inner_text()
    screenshot(page, "overview-district-types")
    page.watch.assert_clean()
