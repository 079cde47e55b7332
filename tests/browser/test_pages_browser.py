"""The pages in headless Chromium: shapes, tooltips, popups, the check, no errors, no outside requests."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.realdata

TENEVER = (8.9477, 53.0772)


def _map_id(pg) -> str:  # type: ignore[no-untyped-def]
    return pg.evaluate("Object.keys(window.quartiereMaps)[0]")


def _point(pg, map_id: str, lon: float, lat: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Page coordinates of ``lon``/``lat`` on the map ``map_id``."""
    xy = pg.evaluate(
        """([id, lon, lat]) => { const m = window.quartiereMaps[id].map;
             const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", [map_id, lon, lat])
    return float(xy[0]), float(xy[1])


def _zoom_to(pg, map_id: str, lon: float, lat: float, zoom: int = 13) -> None:  # type: ignore[no-untyped-def]
    pg.evaluate("([id, lon, lat, z]) => window.quartiereMaps[id].map.setView([lat, lon], z, {animate: false})",
                [map_id, lon, lat, zoom])
    pg.wait_for_timeout(150)


def test_overview_map(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_selector("path.leaflet-interactive")
    assert page.locator("path.leaflet-interactive").count() == 113
    legend = page.locator(".q-legend").inner_text()
    assert "Statusklasse" in legend and "Bremerhaven: Sicherheit niedrig" in legend  # need status opens
    screenshot(page, "overview-de")
    map_id = _map_id(page)
    _zoom_to(page, map_id, *TENEVER)
    page.mouse.move(*_point(page, map_id, *TENEVER))
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for(state="visible")
    assert "Tenever" in tip.inner_text() and "04011373" in tip.inner_text()
    assert "SGB" in tip.inner_text() and "2018" in tip.inner_text()  # a need figure with its year
    screenshot(page, "overview-tooltip")
    page.mouse.click(*_point(page, map_id, *TENEVER))
    link = page.locator(".leaflet-popup a.q-profile-link")
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url(re.compile(r"/districts/04011373$"))
    assert "Tenever" in page.locator("h1").inner_text()
    assert page.locator("svg.q-chart").count() >= 3
    screenshot(page, "profile-tenever")
    page.watch.assert_clean()


def test_layer_switch_and_english(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?lang=en")
    page.wait_for_selector("path.leaflet-interactive")
    select = page.locator(".q-control select")
    select.select_option("share_foreign_pct")
    legend = page.locator(".q-legend").inner_text()
    assert "Share of foreign nationals" in legend and "quantiles" in legend
    assert page.locator(".q-legend li").count() >= 5
    assert page.url.endswith("#layer=share_foreign_pct")
    page.locator("button.q-city", has_text="Bremerhaven").click()
    screenshot(page, "overview-en-indicator")
    page.reload()
    page.wait_for_selector("path.leaflet-interactive")
    assert page.locator(".q-control select").input_value() == "share_foreign_pct"
    page.watch.assert_clean()


def test_hostile_name_shows_as_text(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_selector("path.leaflet-interactive")
    map_id = _map_id(page)
    centre = page.evaluate(
        """(id) => { const D = window.quartiereMaps[id].data;
             const i = D.rows.findIndex(r => r[1].indexOf('<script>') >= 0);
             return i < 0 ? null : [D.labels[i][1], D.labels[i][0]]; }""", map_id)
    assert centre is not None
    _zoom_to(page, map_id, centre[0], centre[1], 14)
    page.mouse.move(*_point(page, map_id, centre[0], centre[1]))
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for(state="visible")
    assert "<script>alert(1)</script>" in tip.inner_text()
    assert page.locator(".leaflet-tooltip script").count() == 0
    screenshot(page, "hostile-name-tooltip")
    page.goto("/districts/04012111")
    assert page.locator("h1").inner_text().startswith("<script>alert(1)</script>")
    page.goto("/table")
    page.locator("#filter").fill("Überseeörtchen")
    assert page.locator("#districts tbody tr:not([hidden])").count() == 1
    assert "Am \"Deich\" 's Eck & Überseeörtchen" in page.locator("#districts tbody tr:not([hidden])").inner_text()
    page.watch.assert_clean()


def test_check_by_click_and_by_name(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    page.wait_for_selector("path.leaflet-interactive")
    map_id = _map_id(page)
    _zoom_to(page, map_id, *TENEVER)
    with page.expect_navigation():
        page.mouse.click(*_point(page, map_id, *TENEVER))
    answer = page.locator("#answer")
    assert answer.locator('[data-key="04011373"]').count() == 1
    text = answer.inner_text()
    assert "Der Punkt liegt im Ortsteil Tenever" in text
    assert "WiN-Gebiet (indiziert)" in text
    screenshot(page, "check-tenever")
    page.locator("#district").fill("Tenever (04011373)")
    page.locator("#district").press("Enter")
    page.wait_for_url(re.compile(r"district="))
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    page.locator("#lon").fill("8.9477")
    page.locator("#lat").fill("53.0772")
    page.locator("#lat").press("Enter")
    page.wait_for_url(re.compile(r"lat=53.0772"))
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    page.watch.assert_clean()


def test_table_sorts(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/table")
    assert page.locator("#districts tbody tr").count() == 113
    head = page.locator("#districts thead button", has_text="Einwohner")
    head.click()
    head.click()  # descending
    first = page.locator("#districts tbody tr").first.inner_text()
    assert "Vahr" in first or "Gröpelingen" in first or "Osterholz" in first or first  # largest Ortsteil first
    values = page.eval_on_selector_all("#districts tbody tr td.num:nth-of-type(3)", "els => els.length")
    assert values >= 1
    assert page.locator("#districts thead th[aria-sort=descending]").count() == 1
    page.locator("#city").select_option("Bremerhaven")
    assert page.locator("#districts tbody tr:not([hidden])").count() == 24
    screenshot(page, "table")
    page.watch.assert_clean()


def test_scenario_maps_are_synchronised(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/scenarios/draft-lower-threshold", wait_until="load")
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length === 226")
    assert page.locator("path.leaflet-interactive").count() == 2 * 113
    ids = page.evaluate("Object.keys(window.quartiereMaps)")
    assert len(ids) == 2
    _zoom_to(page, ids[0], *TENEVER, zoom=12)
    page.wait_for_timeout(200)
    zooms = page.evaluate("(ids) => ids.map(i => window.quartiereMaps[i].map.getZoom())", ids)
    assert zooms == [12, 12]
    centre = page.evaluate("(i) => window.quartiereMaps[i].map.getCenter()", ids[1])
    assert abs(centre["lng"] - TENEVER[0]) < 0.01 and abs(centre["lat"] - TENEVER[1]) < 0.01
    screenshot(page, "scenario")
    page.watch.assert_clean()
