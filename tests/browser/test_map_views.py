"""Map views that fit (issue 15, part 1): the start view, the city buttons, labels, the legend on a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.servers import watched_page

pytestmark = pytest.mark.realdata

PHONE = {"width": 390, "height": 844}
#: the city of Bremen without its port exclave in Bremerhaven (04011123), with a little room: Bremerhaven begins
#: north of 53.47 N
BREMEN_LAT = (52.98, 53.26)


def _view(pg) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return pg.evaluate("""() => { const m = Object.values(window.quartiereMaps)[0].map, b = m.getBounds();
        return {s: b.getSouth(), n: b.getNorth(), w: b.getWest(), e: b.getEast(), z: m.getZoom()}; }""")


def _city(pg, name: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    pg.locator("button.q-city", has_text=name).click()
    pg.wait_for_timeout(400)
    return _view(pg)


def test_city_buttons_fit_each_city_and_the_start_shows_both(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_selector("path.leaflet-interactive")
    start = _view(page)
    assert start["s"] < 53.02 and start["n"] > 53.60, start  # both cities in view
    assert start["n"] - start["s"] < 0.9, f"the start view is far wider than the two cities: {start}"
    bremen = _city(page, "Bremen")
    assert BREMEN_LAT[0] <= bremen["s"] and bremen["n"] <= BREMEN_LAT[1], bremen
    assert bremen["w"] < 8.49 and bremen["e"] > 8.98, bremen  # all of the city's main part
    screenshot(page, "overview-bremen-button")
    bhv = _city(page, "Bremerhaven")
    assert bhv["s"] > 53.40 and bhv["n"] < 53.66 and bhv["z"] > bremen["z"], bhv
    page.watch.assert_clean()


def test_labels_never_overlap(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_selector("path.leaflet-interactive")
    _city(page, "Bremerhaven")
    boxes = page.evaluate("""() => [...document.querySelectorAll('.q-label')]
        .filter(e => getComputedStyle(e).visibility !== 'hidden')
        .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    assert len(boxes) >= 10, "too few district names shown at Bremerhaven's zoom"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)
    screenshot(page, "overview-bremerhaven-labels")


def test_on_a_phone_the_controls_fold_and_nothing_scrolls_sideways(browser, server) -> None:  # type: ignore[no-untyped-def]
    with watched_page(browser, server, viewport=PHONE) as pg:
        pg.goto("/")
        pg.wait_for_selector("path.leaflet-interactive")
        assert pg.evaluate("document.querySelector('details.q-legend').open") is False
        assert pg.evaluate("document.querySelector('details.q-control').open") is False
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(pg, "overview-phone")
        pg.locator("details.q-legend summary").click()
        assert "Statusklasse" in pg.locator(".q-legend").inner_text()
        pg.watch.assert_clean()
