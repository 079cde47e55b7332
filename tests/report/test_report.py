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

from geo.classify.rows import reason_code
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



# -- basis of the classification and designated versus indicated (published in the classification's meta) ----


def _published_meta(snapshot) -> dict:  # type: ignore[no-untyped-def]
    """The meta of the classification the build published (what the report must show, read independently)."""
    from geo.classify import load_definition
    from geo.config import DEFAULT_PROGRAMME
    from geo.pipeline.products import read_classification

    res = read_classification(Path(snapshot.path), snapshot.manifest, load_definition(DEFAULT_PROGRAMME))
    return res.meta


def _section(text: str, name: str) -> str:
    start = text.index(f'<section id="{name}"')
    return text[start:text.index("</section>", start)]


def _row(text: str, attr: str) -> str:
    m = re.search(r"<tr " + attr + r"[^>]*>(.*?)</tr>", text, flags=re.S)
    assert m is not None, attr
    return m.group(1)


def _decimal(value: float, lang: str, signed: bool = True) -> str:
    """``value`` to two decimals as the report prints it: typographic minus, plus sign, German comma."""
    text = f"{abs(value):.2f}"
    text = text.replace(".", ",") if lang == "de" else text
    return (("−" if value < 0 else "+") + text) if signed else text


def _evidence_row(html_text: str, label: str) -> str:
    table = html_text[html_text.index('id="evidence-table"'):]
    table = table[:table.index("</table>")]
    for m in re.finditer(r"<tr class=\"r-proxy-(\w+)\">(.*?)</tr>", table, flags=re.S):
        if f"<td>{label}</td>" in m.group(2):
            return m.group(0)
    raise AssertionError(f"no evidence row for {label!r}")


def test_basis_section_shows_each_city_and_the_evidence(report_html: str, real_snapshot) -> None:  # type: ignore[no-untyped-def]
    from geo.classify import load_definition
    from geo.config import DEFAULT_PROGRAMME
    from maps.i18n import indicator_label

    assert report_html.index('<section id="basis"') < report_html.index('<section id="districts"')
    assert '<a href="#basis">Grundlage der Einstufung</a>' in report_html
    section = _section(report_html, "basis")
    assert "<h2>Grundlage der Einstufung</h2>" in section
    meta = _published_meta(real_snapshot)
    evidence = meta["basis_evidence"]
    rows = {r["indicator"]: r for r in evidence["rows"]}
    # turnout: rho printed as in the published document, with its interval and its verdict in words
    turnout = rows["turnout_state_election_pct"]
    assert turnout["verdict"] == "use" and turnout["rho"] < -0.7
    row = _evidence_row(section, turnout["label_de"])
    low, high = _decimal(turnout["ci_low"], "de"), _decimal(turnout["ci_high"], "de")
    rho = f"{_decimal(turnout['rho'], 'de')} [{low}; {high}]"
    assert rho == "−0,88 [−0,94; −0,79]"  # the figure the programme definition's description quotes
    assert rho in row and "verwendet (volles Gewicht)" in row
    assert f"{turnout['year']} / {turnout['target_year']}" in row
    assert f"{turnout['coverage_other_city']} von {turnout['n_other_city']} Ortsteilen" in row
    words = {"use": "verwendet (volles Gewicht)", "weak": "schwach (halbes Gewicht)", "reject": "verworfen"}
    assert {r["verdict"] for r in evidence["rows"]} == set(words)
    for r in evidence["rows"]:
        row = _evidence_row(section, r["label_de"])
        assert f"<td>{words[r['verdict']]}</td>" in row, r["indicator"]
        assert _decimal(r["rho"], "de") in row and f">{r['n']}<" in row
    # the rule, with the document's numbers
    assert (f"|rho| ≥ {evidence['strong']:.1f}".replace(".", ",") + " und das Intervall bleibt jenseits von "
            + f"{evidence['weak']:.1f}".replace(".", ",") + " → verwendet (volles Gewicht)") in section
    assert "→ schwach (halbes Gewicht)" in section and "→ verworfen" in section
    assert f"{evidence['bootstrap']:,}".replace(",", ".") + " Bootstrap-Ziehungen" in section
    assert "Belege für die Grundlage von Bremerhaven" in section
    # per city: basis, confidence, status components with weights from the definition
    defn = load_definition(DEFAULT_PROGRAMME)
    bhv = _row(section, 'data-city="Bremerhaven"')
    hb = _row(section, 'data-city="Bremen"')
    assert "eigene Grundlage" in bhv and "<td>niedrig</td>" in bhv
    assert "Programmgrundlage" in hb and "<td>hoch</td>" in hb
    assert meta["bases"]["Bremerhaven"]["label"] in bhv
    comps = defn.basis_for("Bremerhaven").index("status").components
    # the weights follow the evidence: a "use" series full weight, a "weak" one half
    verdicts = {r["indicator"]: r["verdict"] for r in evidence["rows"]}
    assert {c.indicator: c.weight for c in comps} == {i: {"use": 1.0, "weak": 0.5}[verdicts[i]]
                                                      for i in (c.indicator for c in comps)}
    assert "turnout_state_election_pct" in {c.indicator for c in comps}
    for c in comps:
        assert f"<li>{indicator_label(c.indicator, 'de')} – Gewicht {c.weight:.1f}".replace(".", ",") in bhv
    assert "SGB-II-Quote der Kinder unter 15 (%) – Gewicht" not in bhv
    assert "SGB-II-Quote der Kinder unter 15 (%) – Gewicht 1,0" in hb
    assert "Nicht je Ortsteil veröffentlicht für Bremerhaven:" in bhv


def test_designations_section_explains_each_row(report_html: str, real_snapshot) -> None:  # type: ignore[no-untyped-def]
    from collections import Counter

    section = _section(report_html, "designations")
    dvd = _published_meta(real_snapshot)["designations_versus_data"]
    rows = {r["key"]: r for r in dvd["rows"]}
    assert "<th>Erklärung</th>" in section and "<th>Demografischer Vergleich</th>" in section
    assert "<th>Abgleich</th>" not in section  # the explanations replace the old verdict column
    assert section.count('<tr id="des-') == len(dvd["rows"])
    osterholz = _row(section, 'id="des-04011374"')
    assert rows["04011374"]["explanation"] == "sub_ortsteil_estate"
    status = _decimal(rows["04011374"]["status_index"], "de")
    assert status.startswith("−")
    assert ("Wohnquartier innerhalb des Ortsteils (Schweizer Viertel): der Ortsteilwert " + status
            + " mittelt es mit seiner Umgebung") in osterholz
    mittel = _row(section, 'id="des-04011241"')
    assert rows["04011241"]["explanation"] == "near_miss"
    gap = _decimal(rows["04011241"]["shortfall_sd"], "de", signed=False)
    assert f"knapp verfehlt: {gap} SD unter der Schwelle" in mittel
    assert 'data-explanation="near_miss"' in mittel and "nur von der Alternative indiziert" in mittel
    outdated = [r for r in dvd["rows"] if r["explanation"] == "outdated_designation"]
    for r in outdated:
        text = _row(section, f'id="des-{r["key"]}"')
        assert (f"Ausweisung passt nicht mehr zu den Bedarfsdaten (Status {_decimal(r['status_index'], 'de')}; "
                f"{_decimal(r['shortfall_sd'], 'de', signed=False)} SD unter der Schwelle)") in text
    # one summary line counting every explanation of the document
    counts = Counter(r["explanation"] for r in dvd["rows"])
    summary = re.search(r'<p id="designations-summary">(.*?)</p>', section).group(1)  # type: ignore[union-attr]
    for code, word in (("agree", "passen"), ("near_miss", "knapp verfehlt"), ("new_candidate", "neue Kandidaten"),
                       ("sub_ortsteil_estate", "Wohnquartier innerhalb des Ortsteils"),
                       ("outdated_designation", "Ausweisung veraltet")):
        assert counts[code] > 0 and f"{counts[code]} {word}" in summary, code
    # German words only: neither the engine's English detail nor raw codes
    for english in ("misses the nearest", "averages it", "qualifies as", "scout-guess", "llq_kleinst_sonder",
                    "indicated by the alternative"):
        assert english not in section, english


def test_english_report_explains_in_english(report_en_static: str) -> None:
    basis = _section(report_en_static, "basis")
    assert "<h2>Basis of the classification</h2>" in basis and "Evidence for the basis of Bremerhaven" in basis
    assert "used (full weight)" in basis and "weak (half weight)" in basis and "rejected" in basis
    assert "−0.88 [−0.94; −0.79]" in _evidence_row(basis, "Turnout, state election (Bürgerschaft)")
    assert "own basis" in basis and "– weight 0.5" in basis
    des = _section(report_en_static, "designations")
    assert "estate inside the Ortsteil (Schweizer Viertel)" in _row(des, 'id="des-04011374"')
    assert "near miss: 0.01 SD below the threshold" in _row(des, 'id="des-04011241"')
    assert "<th>Demographic comparison</th>" in des and "Explanations: " in des
    for german in ("verwendet", "knapp verfehlt", "Wohnquartier", "Grundlage der Einstufung", "Gewicht"):
        assert german not in report_en_static, german


def test_report_reads_the_published_classification(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    from geo.config import DEFAULT_PROGRAMME
    from service.report import collect_report_data

    meta = _published_meta(real_snapshot)
    data = collect_report_data(real_snapshot, DEFAULT_PROGRAMME)
    assert data.result.meta["seconds"] == meta["seconds"]  # the build's result, not classified again
    assert data.result.meta["designations_versus_data"] == meta["designations_versus_data"]
    assert data.result.meta["year"] == real_snapshot.latest_year
    # another year is classified here; the proxy evidence still holds, designated versus data does not
    other = collect_report_data(real_snapshot, DEFAULT_PROGRAMME, year=2022, draws=0)
    assert other.result.meta["basis_evidence"] == meta["basis_evidence"]
    assert "designations_versus_data" not in other.result.meta


def test_older_products_fall_back_to_the_designation_check(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    from geo.config import DEFAULT_PROGRAMME
    from maps.report import render_report
    from service.report import collect_report_data

    data = collect_report_data(real_snapshot, DEFAULT_PROGRAMME, draws=0)
    old = {k: v for k, v in data.result.meta.items() if k not in ("basis_evidence", "designations_versus_data")}
    res = dataclasses.replace(data.result, meta=old)
    text = render_report(dataclasses.replace(data, result=res), lang="de")
    des = _section(text, "designations")
    assert "<th>Abgleich</th>" in des and "<th>Erklärung</th>" not in des
    assert "ausgewiesen und indiziert" in des and 'id="designations-summary"' not in des
    basis = _section(text, "basis")
    assert 'id="evidence-table"' not in basis and "keine Belege für die eigene Grundlage" in basis
    assert "Gewicht 0,5" in basis  # the weights come from the definition, not from the evidence


def test_explanation_sentences() -> None:
    from maps.report import designation_explanation

    row = {"explanation": "outdated_designation", "status_index": 0.176, "shortfall_sd": 0.797,
           "detail": "IGNORED english detail"}
    assert designation_explanation(row, "de") == ("Ausweisung passt nicht mehr zu den Bedarfsdaten (Status +0,18; "
                                                  "0,80 SD unter der Schwelle)")
    assert designation_explanation(row, "en") == ("designation no longer matches the need data (status +0.18; "
                                                  "0.80 SD below the threshold)")
    estate = {"explanation": "sub_ortsteil_estate", "status_index": -0.8346, "designation_areas": "Schweizer Viertel"}
    assert designation_explanation(estate, "de") == ("Wohnquartier innerhalb des Ortsteils (Schweizer Viertel): der "
                                                     "Ortsteilwert −0,83 mittelt es mit seiner Umgebung")
    assert designation_explanation({"explanation": "near_miss", "shortfall_sd": 0.0859}, "de") == \
        "knapp verfehlt: 0,09 SD unter der Schwelle"
    assert designation_explanation({"explanation": "new_candidate", "indicated_categories": "win;sonderquartier"},
                                   "de") == "neuer Kandidat: indiziert als WiN-Gebiet (indiziert), Sonderquartier"
    assert designation_explanation({"explanation": "no_data"}, "de",
                                   reason=reason_code("too_few_residents", min=300)) == \
        "keine Daten: weniger als 300 Einwohner oder Einwohnerzahl unbekannt"
    assert designation_explanation({"explanation": "", "indicated_alternative": True}, "en") == \
        "indicated by the demographic alternative only"
    assert designation_explanation({"explanation": ""}, "de") == ""


def _visible(doc: str) -> str:
    """The text a reader sees (the map's srcdoc, scripts and styles left out)."""
    doc = re.sub(r'srcdoc="[^"]*"', "", doc)
    doc = re.sub(r"<(script|style)\b.*?</\1>", " ", doc, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", doc)))


def _foreign_words(text: str, lang: str) -> list[tuple[str, str]]:
    """Pieces (12 characters or more, between the placeholders) of the other language's ``report.*`` and
    ``evaluation.*`` words that ``text`` holds and that no word of ``lang`` holds."""
    from maps.i18n import catalogue

    own = " ".join(catalogue(lang).values())
    found = set()
    for key, words in catalogue("en" if lang == "de" else "de").items():
        if key.startswith(("report.", "evaluation.")):
            for piece in (p.strip(" .,;:()[]–-") for p in re.split(r"\{[^}]*\}", words)):
                if len(piece) >= 12 and piece not in own and piece in text:
                    found.add((key, piece))
    return sorted(found)


#: what the evaluation engine used to return as sentences (now message codes, in words from the catalogue)
ENGINE_PHRASES = ("supports a conclusion", "data too thin", "funded districts", "years before the start",
                  "years from the start", "interval includes", "pre-trend", "comparison districts",
                  "no matched comparison", "Start years are assumptions", "designation list", "Matched controls",
                  "changed method", "too few comparable", "no difference detectable", "not an effect estimate",
                  "undesignated", "placebo year", "Random groups", "cannot be concluded")


def test_german_report_holds_no_english_engine_phrase(report_html: str) -> None:
    text = _visible(report_html)
    assert [p for p in ENGINE_PHRASES if p.lower() in text.lower()] == []
    assert _foreign_words(text, "de") == []
    assert "Jahre vor dem Start 1999: nur 0 (keine; nötig: 3)" in text  # the reasons, in German
    assert "Die Startjahre sind Annahmen aus der Programmgeschichte (WiN (Wohnen in Nachbarschaften) 1999" in text


def test_english_report_holds_no_german_words(report_en_static: str) -> None:
    text = _visible(report_en_static)
    assert _foreign_words(text, "en") == []
    assert "0 years before the start 1999 (none; need 3)" in text


def test_the_language_check_finds_a_foreign_phrase() -> None:
    assert _foreign_words("… 0 years before the start 1999 (none; need 3) …", "de") == \
        [("evaluation.reason.few_pre_years", "years before the start")]
    assert _foreign_words("Die Startjahre sind Annahmen aus der Programmgeschichte", "en") != []
