"""Every page a user opens, at desktop and phone width, in German: no raw ids or English engine phrases, no
sideways scrolling, the footer below the content (issues 14 and 15)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot
from tests.servers import watched_page

pytestmark = pytest.mark.realdata

PAGES = {
    "map": "/", "table": "/table", "check": "/check", "monitoring": "/monitoring", "scenarios": "/scenarios",
    "scenario-new": "/scenarios/new", "profile-tenever": "/districts/04011373",
    "profile-leherheide-west": "/districts/04012123",
    "check-district": "/check?q=04011373", "error-404": "/districts/99999999",
    "scenario-draft": "/scenarios/draft-lower-threshold",
}
#: ids and English phrases of the engine that must never reach a German page (issue 14's list and the class,
#: category and programme ids); matched as whole words in the visible text
RAW = ["very_low", "very_high", "not_classifiable", "not classifiable", "quartier_im_werden", "kleinstquartier",
       "sonderquartier", "phase_out_candidate", "watch_list", "efre_stadtumbau", "llq_kleinst_sonder",
       "== negative", "is false", "is true", "in high;medium", "category:win", "persons/km²", "%/year",
       "(years)", "stable", "negative", "positive", "medium", "high", "low", "borderline", "near miss",
       "status_index", "dynamics_index", "sgb2_u65_pct", "sgb2_u15_pct", "unemployment_pct", "population >=",
       "no district statistics"]
WIDTHS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def _visible_text(pg) -> str:  # type: ignore[no-untyped-def]
    return str(pg.evaluate("document.body.innerText"))


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_and_speaks_german(browser, server, name: str, width: str) -> None:  # type: ignore[no-untyped-def]
    viewport = WIDTHS[width]
    with watched_page(browser, server, viewport=viewport) as pg:
        response = pg.goto(PAGES[name])
        assert response is not None and response.status == (404 if name.startswith("error") else 200)
        pg.wait_for_load_state("networkidle")
        screenshot(pg, f"every-{name}-{width}")
        assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"], "page scrolls sideways"
        text = _visible_text(pg)
        found = [raw for raw in RAW if re.search(rf"(?<![\w-]){re.escape(raw)}(?![\w-])", text)]
        assert not found, f"raw ids or English on the German page {PAGES[name]}: {found}"
        overlap = pg.evaluate("""() => {
            const f = document.querySelector('footer.foot'); if (!f) { return null; }
            const fb = f.getBoundingClientRect(), main = document.querySelector('main');
            // content clipped inside a scrolling box (a long table) counts with the box's own bottom
            const clipped = e => { for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
                const o = getComputedStyle(a); if (/(auto|scroll|hidden)/.test(o.overflowY)) { return true; } }
                return false; };
            const last = [...main.querySelectorAll('*')]
                .filter(e => e.offsetParent !== null && !e.closest('.leaflet-container') && !clipped(e))
                .map(e => e.getBoundingClientRect()).filter(r => r.height > 0)
                .reduce((m, r) => Math.max(m, r.bottom), 0);
            return {footerTop: fb.top + window.scrollY, contentBottom: last + window.scrollY};
        }""")
        if overlap is not None and name != "map":
            assert overlap["contentBottom"] <= overlap["footerTop"] + 1, f"footer overlaps the content: {overlap}"
