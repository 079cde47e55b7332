"""The check page as a planner's tool, in headless Chromium: drawing and uploading areas, the answer's point and
outline on the map, shareable URLs, plain words, and a layout that fits a phone (issue 15, part 2)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import ARTIFACTS, screenshot
from tests.servers import watched_page

pytestmark = pytest.mark.realdata

TENEVER = (8.9477, 53.0772)
#: a rectangle across Tenever and its neighbours (WGS84 lon, lat)
CORNERS = [(8.940, 53.072), (8.955, 53.072), (8.955, 53.082), (8.940, 53.082)]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
#: engine ids that must never reach a German reader
RAW_IDS = re.compile(r"very_low|very_high|\bwin\b|llq_|not classifiable|status_index|_pct\b|\bnan\b|\bNone\b|"
                     r"custom-area|Drawn area|\bmedium\b|\bstable\b")


def _map(pg) -> None:  # type: ignore[no-untyped-def]
    pg.wait_for_selector("path.leaflet-interactive", state="attached")


def _view(pg, lon: float, lat: float, zoom: int = 14) -> None:  # type: ignore[no-untyped-def]
    pg.evaluate("([lon, lat, z]) => Object.values(window.quartiereMaps)[0].map.setView([lat, lon], z, "
                "{animate: false})", [lon, lat, zoom])
    pg.wait_for_timeout(150)


def _xy(pg, lon: float, lat: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    xy = pg.evaluate(
        """([lon, lat]) => { const m = Object.values(window.quartiereMaps)[0].map;
             const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", [lon, lat])
    return float(xy[0]), float(xy[1])


def _draw_polygon(pg) -> None:  # type: ignore[no-untyped-def]
    """Draw CORNERS with the "Vieleck zeichnen" tool: a click per corner, then the first corner again."""
    pg.locator("#draw-polygon").click()
    _view(pg, 8.9475, 53.077)
    for lon, lat in [*CORNERS, CORNERS[0]]:
        pg.mouse.click(*_xy(pg, lon, lat))
        pg.wait_for_timeout(120)
    pg.wait_for_selector("#answer [data-residents]", timeout=30_000)


def _residents(pg) -> float:  # type: ignore[no-untyped-def]
    text = pg.locator("#answer [data-residents]").inner_text()
    return float(text.replace(".", "").replace(",", "."))


def _scroll_width(pg) -> int:  # type: ignore[no-untyped-def]
    return int(pg.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"))


def _open_details(pg) -> None:  # type: ignore[no-untyped-def]
    """Open the answer's folded parts (the categories not met), so that their text counts."""
    summaries = pg.locator("#answer details summary")
    for i in range(summaries.count()):
        summaries.nth(i).click()


def _full_screenshot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    """The whole page (answer, map and footer), to look at the layout."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _api_area(pg, geometry: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The API's own answer for ``geometry`` (what the page must show)."""
    resp = pg.request.post("/api/v1/eligibility", data=json.dumps(geometry),
                           headers={"Content-Type": "application/geo+json"})
    assert resp.status == 200, resp.text()
    return resp.json()  # type: ignore[no-any-return]


def _hash_geometry(url: str) -> dict[str, Any]:
    from urllib.parse import unquote

    match = re.search(r"#area=(.+)$", url)
    assert match, url
    return json.loads(unquote(match.group(1)))  # type: ignore[no-any-return]


def test_drawing_a_polygon_answers_with_estimated_residents(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    _map(page)
    _draw_polygon(page)
    geometry = _hash_geometry(page.url)
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == len(CORNERS) + 1
    api = _api_area(page, geometry)
    assert _residents(page) == pytest.approx(api["estimate"]["population"], abs=0.5)
    text = page.locator("#answer").inner_text()
    assert "Geschätzte Einwohnerzahl" in text and "Fläche" in text
    assert ("Unsicher:" in text) == bool(api["estimate"]["uncertainty"])
    # the same reasons as a district: every category of the answer, with conditions and margins in words
    _open_details(page)
    shown = page.eval_on_selector_all("#answer [data-category]", "els => els.map(e => e.dataset.category)")
    assert sorted(shown) == sorted(c["id"] for c in api["categories"])
    assert re.search(r"(knapp )?(erfüllt|verfehlt|nicht erfüllt): [\d,.]+ Standardabweichungen (über|unter) der "
                     r"Schwelle", page.locator("#answer").inner_text())
    rows = page.locator("#answer table.area-sources tbody tr")
    assert rows.count() == len(api["estimate"]["sources"])
    assert page.locator("path.check-area").count() == 1
    screenshot(page, "check-area-drawn-1280")
    page.watch.assert_clean()


def test_rectangle_tool_and_the_area_link_restore(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    with watched_page(browser, server, viewport=DESKTOP) as pg:
        pg.goto("/check?district=04011373")
        _map(pg)
        pg.locator("#draw-rectangle").click()
        _view(pg, 8.9475, 53.077)
        pg.mouse.click(*_xy(pg, *CORNERS[0]))
        pg.wait_for_timeout(150)
        pg.mouse.click(*_xy(pg, *CORNERS[2]))
        pg.wait_for_selector("#answer [data-residents]", timeout=30_000)
        assert "district=" not in pg.url  # the answer's link is the area's, not the district's
        first = _residents(pg)
        link = pg.locator("#answer a.share-link").get_attribute("href")
        assert link and "#area=" in link
        pg.reload()
        pg.wait_for_selector("#answer [data-residents]", timeout=30_000)
        assert _residents(pg) == first
        assert pg.locator("path.check-area").count() == 1
        screenshot(pg, "check-area-rectangle-1366")
        pg.watch.assert_clean()


def test_clicked_point_and_its_district_are_marked(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    _map(page)
    _view(page, *TENEVER, zoom=13)
    with page.expect_navigation():
        page.mouse.click(*_xy(page, *TENEVER))
    _map(page)
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    assert page.locator("path.check-point").count() == 1
    outline = page.locator("path.check-outline")
    assert outline.count() == 1
    # the outline is Tenever's: its bounds hold the clicked point, and the map shows it
    inside = page.evaluate(
        """([lon, lat]) => { const m = Object.values(window.quartiereMaps)[0].map; let b = null;
             m.eachLayer(l => { if (l.options && l.options.pane === 'checkMarks' && l.getBounds) {
               b = l.getBounds(); } });
             return b !== null && b.contains([lat, lon]) && m.getBounds().intersects(b); }""", list(TENEVER))
    assert inside
    assert page.locator("#answer .show-on-map").is_visible()
    screenshot(page, "check-point-outline-1280")
    page.watch.assert_clean()


def test_search_shows_the_name_and_shared_urls_restore(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check?district=04011373")
    _map(page)
    assert page.locator("#district").input_value() == "Tenever"
    assert page.locator("path.check-outline").count() == 1
    link = page.locator("#answer a.share-link").get_attribute("href")
    assert link and "district=04011373" in link
    page.goto(link)
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    point = "/check?lon=8.9477&lat=53.0772"
    page.goto(point)
    shared = page.locator("#answer a.share-link").get_attribute("href")
    assert shared and "lon=8.9477" in shared and "lat=53.0772" in shared
    page.goto(shared)
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    assert page.locator("path.check-point").count() == 1
    page.watch.assert_clean()


def test_margins_stability_and_status_in_plain_words(page) -> None:  # type: ignore[no-untyped-def]
    resp = page.request.get("/api/v1/eligibility?district=04011373")
    api = resp.json()
    page.goto("/check?district=04011373")
    text = page.locator("#answer").inner_text()
    stability = api["classification"]["stability"]
    assert f"{round(stability * 100)} von 100 Varianten der Gewichte und Schwellen kommen zum selben Ergebnis" in text
    assert api["classification"]["status_class"] == "very_low"
    assert "Sozialstatus sehr niedrig, also sehr hoher sozialer Unterstützungsbedarf" in text
    assert f"Stabilität {round(stability * 100)} %" not in text
    assert re.search(r"erfüllt: [\d,]+ Standardabweichungen über der Schwelle", text)


def test_uploading_geojson_answers(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ring = [[lon, lat] for lon, lat in [*CORNERS, CORNERS[0]]]
    feature = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Planungsgebiet"}, "geometry": {"type": "Polygon",
                                                                               "coordinates": [ring]}}]}
    path = tmp_path / "gebiet.geojson"
    path.write_text(json.dumps(feature))
    page.goto("/check")
    _map(page)
    page.locator("#area-file").set_input_files(str(path))
    page.wait_for_selector("#answer [data-residents]", timeout=30_000)
    api = _api_area(page, feature["features"][0]["geometry"])  # type: ignore[index]
    assert _residents(page) == pytest.approx(api["estimate"]["population"], abs=0.5)
    assert page.locator("path.check-area").count() == 1
    bad = tmp_path / "punkt.geojson"
    bad.write_text(json.dumps({"type": "Point", "coordinates": list(TENEVER)}))
    page.locator("#area-file").set_input_files(str(bad))
    page.locator("#answer .error").wait_for()
    assert "kein GeoJSON mit einer Fläche" in page.locator("#answer").inner_text()
    page.watch.assert_clean()


def test_a_bad_area_link_says_why(page) -> None:  # type: ignore[no-untyped-def]
    far = {"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.01, 50.0], [10.01, 50.01], [10.0, 50.0]]]}
    page.goto("/check#area=" + quote(json.dumps(far)))
    page.locator("#answer .error").wait_for(timeout=30_000)
    assert "Das Gebiet kann so nicht geprüft werden" in page.locator("#answer").inner_text()


def test_address_without_address_search_says_so(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    note = page.locator("#address-note")
    assert note.is_visible() and "Adresssuche ist auf diesem Server nicht eingerichtet" in note.inner_text()
    page.locator("#district").fill("Otto-Brenner-Allee 42")
    page.wait_for_timeout(600)  # the suggestions' debounce and request
    assert page.locator("#place-suggestions li").count() == 0
    page.locator("#district").press("Enter")
    page.wait_for_url(re.compile(r"district="))
    text = page.locator("#answer").inner_text()
    assert "sieht wie eine Adresse aus" in text
    assert "Ost" not in text and "Walle" not in text and "Meinten Sie" not in text
    page.watch.assert_clean()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
@pytest.mark.parametrize("url", ["/check?district=04011373", "/check?postcode=28325", "/check?lon=8.9477&lat=53.0772",
                                 "/check?district=Otto-Brenner-Allee%2042"],
                         ids=["district", "postcode", "point", "address"])
def test_fits_the_screen_and_the_footer_follows(browser, server: str, viewport: dict[str, int],
                                                url: str) -> None:
    with watched_page(browser, server, viewport=viewport) as pg:
        pg.goto(url)
        _map(pg)
        _open_details(pg)
        assert _scroll_width(pg) <= viewport["width"]
        for cell in pg.locator("#answer table td, #answer table th").all():  # no cut-off cells
            assert cell.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), cell.inner_text()
        answer, foot = pg.locator("#answer").bounding_box(), pg.locator("footer.foot").bounding_box()
        assert answer and foot and not _boxes_overlap(answer, foot)
        assert not _boxes_overlap(pg.locator(".check-map").bounding_box(), foot)
        name = re.sub(r"\W+", "-", url.split("?", 1)[1]).strip("-")
        _full_screenshot(pg, f"check-{name}-{viewport['width']}")
        pg.watch.assert_clean()


@contextlib.contextmanager
def _drawn(browser, server: str, viewport: dict[str, int], url: str = "/check") -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A watched page at ``url`` with CORNERS drawn and the answer's folded parts open."""
    with watched_page(browser, server, viewport=viewport) as pg:
        pg.goto(url)
        _map(pg)
        _draw_polygon(pg)
        _open_details(pg)
        yield pg
        pg.watch.assert_clean()


def test_phone_drawn_area_fits(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    with _drawn(browser, server, PHONE) as pg:
        assert _scroll_width(pg) <= PHONE["width"]
        answer, foot = pg.locator("#answer").bounding_box(), pg.locator("footer.foot").bounding_box()
        assert answer and foot and not _boxes_overlap(answer, foot)
        _full_screenshot(pg, "check-area-390")


@pytest.mark.parametrize("url", ["/check?district=04011373", "/check?lon=8.9477&lat=53.0772", "/check?postcode=28325",
                                 "/check?district=Luneplate", "/check"])
def test_german_page_has_no_raw_ids(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    _map(page)
    if url == "/check":
        _draw_polygon(page)
    _open_details(page)
    text = page.locator("main").inner_text()
    assert not RAW_IDS.findall(text), RAW_IDS.findall(text)
    page.watch.assert_clean()


def test_english_area_answer(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    with _drawn(browser, server, DESKTOP, "/check?lang=en") as pg:
        assert "?lang=en#area=" in pg.url
        text = pg.locator("#answer").inner_text()
        assert "Estimated residents" in text and "standard deviations" in text
        assert "social status" in text
