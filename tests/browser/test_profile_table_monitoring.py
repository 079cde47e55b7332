"""The profile, the table and the monitoring page as their readers use them, in headless Chromium at the desktop
(1366x768) and on a phone (390x844): nothing scrolls sideways, the footer never covers content, chart texts lie
inside their charts, counts are whole numbers, changes name their base year, German pages show no raw ids, and
the profile prints on one page. Expected values come from the real snapshot the server serves."""

from __future__ import annotations

import re

import pytest

from maps.i18n import t
from tests.browser.conftest import screenshot
from tests.servers import watched_page

pytestmark = pytest.mark.realdata

TENEVER = "04011373"
LEHERHEIDE_WEST = "04012123"  # Bremerhaven: no Ortsteil statistics, WiN for the whole Stadtbezirk Nord
PAGES = {"profile-tenever": f"/districts/{TENEVER}", "profile-leherheide-west": f"/districts/{LEHERHEIDE_WEST}",
         "table": "/table", "monitoring": "/monitoring"}
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
#: engine ids and unit codes that must never reach a German reader
RAW_IDS = [r"very_low", r"\bstable\b", r"\bwin\b", r"llq_", r"not classifiable", r"%/year", r"persons/km²",
           r"\(years\)"]

#: every element of <main> that ends below the footer's top, except content of inner scroll boxes
_BELOW_FOOTER = """() => {
  const foot = document.querySelector('footer, .foot').getBoundingClientRect();
  const bad = [];
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('.table-scroll') !== el && el.closest('.table-scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.bottom > foot.top + 1) bad.push(el.tagName + '.' + el.className + ' ' + Math.round(r.bottom));
  }
  return {foot: foot.top, bad: bad.slice(0, 5)};
}"""

#: chart texts (titles, axis labels, legends) whose measured box leaves their SVG's viewBox
_CUT_TEXTS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.q-chart')) {
    const vb = svg.viewBox.baseVal;
    for (const tx of svg.querySelectorAll('text')) {
      const b = tx.getBBox();
      if (b.x < -0.5 || b.x + b.width > vb.width + 0.5 || b.y < -0.5 || b.y + b.height > vb.height + 0.5)
        out.push(tx.textContent + ' ' + Math.round(b.x) + '+' + Math.round(b.width) + ' of ' + vb.width);
    }
  }
  return out;
}"""


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def sized_page(request, browser, server: str):  # type: ignore[no-untyped-def]
    with watched_page(browser, server, viewport=VIEWPORTS[request.param]) as pg:
        pg.size_name = request.param
        yield pg


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_width_footer_and_charts(sized_page, name: str) -> None:  # type: ignore[no-untyped-def]
    pg = sized_page
    pg.goto(PAGES[name])
    pg.wait_for_load_state("load")
    width = pg.evaluate("document.documentElement.clientWidth")
    assert pg.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
    assert pg.evaluate("document.body.scrollWidth") <= width
    below = pg.evaluate(_BELOW_FOOTER)
    assert below["bad"] == [], f"content under the footer (top {below['foot']}): {below['bad']}"
    assert pg.evaluate(_CUT_TEXTS) == [], "chart texts cut off"
    vp = VIEWPORTS[pg.size_name]
    screenshot(pg, f"ptm-{name}-{vp['width']}x{vp['height']}")
    pg.watch.assert_clean()


@pytest.mark.parametrize("url", list(PAGES.values()))
def test_german_pages_show_no_raw_ids(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    text = page.locator("body").inner_text()
    found = [p for p in RAW_IDS if re.search(p, text)]
    assert found == [], f"{url}: raw ids {found}"
    page.watch.assert_clean()


def test_profile_counts_are_whole_and_changes_name_their_base_year(page, real_snapshot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/districts/{TENEVER}")
    rows = page.locator("table.data tbody tr").all()
    counts = [r for r in rows if r.locator("th").inner_text().strip().startswith("Einwohner")]
    assert len(counts) >= 3
    for r in counts:
        for cell in r.locator("td.num").all():
            shown = re.sub(r"\(.*?\)", "", cell.inner_text())  # the margin's "(3,08 SD)" is no count
            for number in re.findall(r"\d[\d.,]*", shown):
                assert re.fullmatch(r"\d{1,3}(\.\d{3})*|\d{4}", number), f"count with decimals: {r.inner_text()!r}"
    ind = real_snapshot.indicators
    change = ind[(ind["key"] == TENEVER) & (ind["indicator"] == "population_change_5y_pct")
                 & ind["value"].notna() & (ind["year"] <= real_snapshot.latest_year)].sort_values("year").iloc[-1]
    expected = f"{int(change['base_year'])}→{int(change['year'])}"
    context = page.locator("section.context table.context-table tbody tr", has_text="Bevölkerungsentwicklung")
    texts = [r.inner_text() for r in context.all()]
    assert any(expected in x for x in texts), (expected, texts)
    assert all(re.search(r"\d{4}→\d{4}", x) for x in texts)  # every change names both years
    assert "5 Jahre" not in page.locator("section.context").inner_text()
    rule = page.locator("table.reasons tr", has_text="Bevölkerungsentwicklung").first.inner_text()
    assert expected in rule  # the Quartier-im-Werden rule shows the years it really compares
    page.watch.assert_clean()


def test_profile_without_statistics_says_so_and_shows_what_exists(page, real_snapshot) -> None:  # type: ignore[no-untyped-def]
    wide = real_snapshot.wide("ortsteil").set_index("key")
    row = wide.loc[LEHERHEIDE_WEST]
    assert not bool(row["has_statistics"])
    page.goto(f"/districts/{LEHERHEIDE_WEST}")
    note = page.locator(".no-statistics")
    assert note.count() == 1 and str(row["name"]) in note.inner_text()
    context = page.locator("section.context")
    cells = [c.inner_text().strip() for c in context.locator("td").all()]
    assert cells and "–" not in cells and t("map.no_data", "de") not in cells  # no empty tables
    own = page.locator("table.own-context tbody tr")
    ind = real_snapshot.indicators
    published = ind[(ind["key"] == LEHERHEIDE_WEST) & ind["value"].notna()]["indicator"].nunique()
    assert 0 < own.count() <= published
    designation = page.locator("dd.designation").inner_text()
    assert not designation.startswith(t("profile.not_designated", "de"))
    for area in str(row["designation_areas"]).split(";"):
        assert area in designation
    page.watch.assert_clean()


@pytest.mark.parametrize("name", ["Leherheide-West", "Grünhöfe", "Goethestrasse", "Twischkamp"])
def test_bremerhaven_win_areas_are_shown(page, real_snapshot, name: str) -> None:  # type: ignore[no-untyped-def]
    wide = real_snapshot.wide("ortsteil")
    row = wide[wide["name"] == name].iloc[0]
    page.goto(f"/districts/{row['key']}")
    designation = page.locator("dd.designation").inner_text()
    assert "WiN" in designation and t("profile.not_designated", "de") != designation.split("\n")[0].strip()
    for area in str(row["designation_areas"]).split(";"):
        assert area in designation
    page.watch.assert_clean()


def test_profile_prints_on_one_page(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/districts/{TENEVER}")
    page.emulate_media(media="print")
    assert page.locator("section.charts").first.is_hidden()
    assert page.locator("#print").is_hidden()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the printed profile has {pages} pages"
    screenshot(page, "ptm-profile-tenever-print")
    page.watch.assert_clean()


def test_table_decimals_are_consistent_per_column(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/table")
    heads = page.locator("#districts thead th").all_inner_texts()
    columns: dict[int, set[int]] = {}
    for row in page.locator("#districts tbody tr").all()[:60]:
        for i, cell in enumerate(row.locator("td, th").all()):
            if "num" not in (cell.get_attribute("class") or ""):
                continue
            text = cell.inner_text().strip()
            if text and text != "–":
                columns.setdefault(i, set()).add(len(text.split(",")[1]) if "," in text else 0)
    assert columns
    mixed = {heads[i]: d for i, d in columns.items() if len(d) > 1}
    assert mixed == {}, f"columns mixing decimals: {mixed}"
    population = heads.index(next(h for h in heads if h.strip().startswith("Einwohner")))
    assert columns[population] == {0}
    box = page.locator(".table-scroll").bounding_box()
    assert box is not None and box["width"] <= page.viewport_size["width"]
    page.watch.assert_clean()


def test_monitoring_names_changes_and_explains_the_trend(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/monitoring")
    header = page.locator("#h-district").locator("xpath=..").locator("thead").first.inner_text()
    assert "minus" not in header and "2010" in header
    warnings = page.locator("#need-warnings tbody tr").all()
    for r in warnings:
        cells = r.locator("td").all_inner_texts()
        assert cells[0].strip(), "a change without its indicator"
        assert not re.search(r"\d\.\d", cells[-1])  # German decimals
    facts = page.locator("#h-district").locator("xpath=..").locator("dl.facts")
    terms = facts.locator("dt").all_inner_texts()
    details = facts.locator("dd").all_inner_texts()
    changes = [(term, d) for term, d in zip(terms, details, strict=True) if ":" in d and "–" in d]
    assert changes, "no changes listed"
    assert all(term.strip() and term != t("monitoring.warning", "de") for term, _ in changes)
    page.watch.assert_clean()

