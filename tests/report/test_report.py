"""The programme-year report: built from the real snapshot, self-contained, offline in headless Chromium.

Real-data tests skip on a developer machine without ``../shared/data`` and fail when ``CI`` is set (see
``tests/conftest.py``); so does the browser test without Chromium or Playwright. The screenshot goes to
``test-artifacts/report.png``.
"""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest

from service.cli import main

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SECTIONS = ("summary", "poverty", "map", "districts", "designations", "inequality", "segregation", "early-warning",
            "evaluation", "sources")

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def report_file(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report written by the CLI (German, interactive map) from the real snapshot."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--snapshots", str(snapshots_dir), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report_html(report_file: Path) -> str:
    return report_file.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_en_static(real_snapshot) -> str:  # type: ignore[no-untyped-def]
    from geo.config import DEFAULT_PROGRAMME
    from service.report import build_report

    return build_report(real_snapshot, DEFAULT_PROGRAMME, lang="en", map_mode="static", draws=100)


def _documents(text: str) -> list[str]:
    """The report and every document embedded in an ``<iframe srcdoc>``."""
    docs = [text]
    docs += [html.unescape(m.group(1)) for m in re.finditer(r'srcdoc="([^"]*)"', text)]
    return docs


def _external_loads(doc: str) -> list[str]:
    """src/href/url()/@import references to http(s) or protocol-relative URLs, except plain ``<a href>`` links."""
    found = []
    attr = r"\b(?:src|href|srcset|poster|data)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]*)"
    for m in re.finditer(r"<([a-zA-Z][\w-]*)\b[^<>]*?" + attr, doc, flags=re.IGNORECASE):
        if m.group(1).lower() != "a":
            found.append(m.group(0)[:120])
    found += re.findall(r"url\(\s*['\"]?\s*(?:https?:)?//[^)]*\)", doc, flags=re.IGNORECASE)
    found += re.findall(r"@import[^;]*", doc, flags=re.IGNORECASE)
    return found


def test_report_has_every_section(report_html: str) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}"' in report_html, section
    assert '<html lang="de">' in report_html
    assert "Lebendige Quartiere – Bericht zum Programmjahr 2023" in report_html
    for text in ("Zusammenfassung", "Frühwarnliste", "Ausgewiesen und indiziert", "Daten zu dünn für einen Schluss",
                 "© Statistisches Landesamt Bremen", "© GeoInformation Bremen"):
        assert text in report_html, text


def test_report_shows_the_districts_and_the_facts(report_html: str) -> None:
    assert 'id="d-04011373"' in report_html  # Tenever, one row per Ortsteil
    assert report_html.count('<tr id="d-') == 113
    assert "keine Ortsteilstatistik veröffentlicht" in report_html  # Bremerhaven says so instead of inventing
    # charts are inline SVG with their values for screen readers
    assert report_html.count('class="q-chart"') == 7  # 3 poverty charts first, then 4 descriptive ones
    assert "Gini-Koeffizient" in report_html and "Moran" in report_html


def test_report_shows_poverty_first_with_years(report_html: str) -> None:
    pov = report_html.index('<section id="poverty"')
    assert pov < report_html.index('<section id="inequality"') < report_html.index('<section id="segregation"')
    section = report_html[pov:report_html.index('<section id="map"')]
    assert "Gini-Koeffizient zwischen den Ortsteilen, 1999–2018" in section
    assert "Theil zwischen Stadtbezirken" in section and "Dezilverhältnis P90/P10" in section
    assert "Segregation der SGB-II-Leistungsberechtigten, 2006–2018" in section
    assert "nicht schließen" in section and "95-%-Intervall" in section
    assert "ausländisch" not in section.lower()


def test_report_loads_nothing_from_outside(report_html: str) -> None:
    for doc in _documents(report_html):
        assert _external_loads(doc) == []
    assert "<iframe" in report_html and "sandbox=\"allow-scripts\"" in report_html
    assert "L.map(" in _documents(report_html)[1]  # Leaflet and the map are inlined in the srcdoc


def test_no_synthetic_data_with_the_real_snapshot(report_html: str) -> None:
    assert 'id="synthetic-warning"' not in report_html
    assert "synthetische Daten kommen in diesem Bericht nicht vor" in report_html


def test_synthetic_inputs_are_labelled(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    from service.report import find_synthetic

    manifest = dict(real_snapshot.manifest)
    manifest["inputs"] = [*manifest["inputs"], {"path": "extra/synthetic-sgb2.csv", "sha256": "0", "bytes": 1}]
    fake = dataclasses.replace(real_snapshot, manifest=manifest)
    assert find_synthetic(real_snapshot) == []
    assert find_synthetic(fake) == ["extra/synthetic-sgb2.csv"]


def test_english_static_report(report_en_static: str) -> None:
    assert '<html lang="en">' in report_en_static
    assert "Lebendige Quartiere – report for the programme year 2023" in report_en_static
    assert "Early-warning list" in report_en_static and "data too thin to conclude" in report_en_static
    assert "<iframe" not in report_en_static and 'class="q-map"' in report_en_static
    assert _external_loads(report_en_static) == []
    assert "Zusammenfassung" not in report_en_static


def test_missing_snapshot_or_definition_exits_2(tmp_path: Path, snapshots_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "--snapshots", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "no snapshot published" in capsys.readouterr().err
    assert main(["report", "--snapshots", str(snapshots_dir), "--programme", str(tmp_path / "no.yml"),
                 "--out", str(out)]) == 2
    assert "programme definition" in capsys.readouterr().err
    assert main(["report", "--snapshots", str(snapshots_dir), "--year", "2015", "--out", str(out)]) == 2
    assert "--year must be one of" in capsys.readouterr().err
    assert not out.exists()


def test_report_opens_offline_in_chromium(report_file: Path, browser) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:

        def route(r):  # type: ignore[no-untyped-def]
            url = r.request.url
            if url.startswith(("data:", "about:")) or url == report_file.as_uri():
                r.continue_()
            else:
                requests.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.goto(report_file.as_uri(), wait_until="load")
        frame = page.frame_locator("iframe.r-map")
        frame.locator("path.leaflet-interactive").first.wait_for(timeout=10_000)
        n_paths = frame.locator("path.leaflet-interactive").count()
        zoom = page.frames[1].evaluate(
            "() => window[Object.keys(window).find(k => k.startsWith('map_'))].getZoom()")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        page.locator("#map").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "report-map.png"))
        page.locator("#inequality").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "report-inequality.png"))
    finally:
        context.close()
    assert requests == [], requests
    assert problems == [], problems
    assert n_paths == 113
    assert zoom >= 9  # fitted to the city, not the whole world

