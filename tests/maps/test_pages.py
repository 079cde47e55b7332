"""The HTML pages through the real app factory: content, languages, escaping, CSP, offline assets, weight."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.maps.evil import EVIL_NAMES, make_drafts, make_evil_snapshots

pytestmark = pytest.mark.realdata

PAGES = ["/", "/districts/04011373", "/check", "/check?lon=8.9477&lat=53.0772", "/check?district=Tenever",
         "/table", "/scenarios", "/scenarios/draft-lower-threshold"]
MAX_WEIGHT = 600_000  # bytes: HTML plus everything it loads


@pytest.fixture(scope="session")
def evil_snapshots(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_evil_snapshots(snapshots_dir, tmp_path_factory.mktemp("evil"))


@pytest.fixture(scope="session")
def drafts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_drafts(tmp_path_factory.mktemp("drafts"))


@pytest.fixture(scope="session")
def app(evil_snapshots: Path, drafts_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(evil_snapshots), "INSTANCE": str(tmp_path_factory.mktemp("instance")),
                       "SCENARIOS_DIR": str(drafts_dir), "TESTING": True})


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(/[^"]+)"', html)


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_pages_render_offline_with_csp(client, url: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    full = url + (("&" if "?" in url else "?") + "lang=en" if lang == "en" else "")
    resp = client.get(full)
    assert resp.status_code == 200, full
    html = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    # no script or stylesheet from anywhere but this app
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    for asset in _assets(html):
        assert client.get(asset).status_code == 200, asset
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    assert re.search(r'\sstyle="', html) is None  # no style attributes (CSP style-src)


def test_nonce_is_fresh_per_response(client) -> None:  # type: ignore[no-untyped-def]
    a = client.get("/table").headers["Content-Security-Policy"]
    b = client.get("/table").headers["Content-Security-Policy"]
    assert a != b


def test_overview_weight_and_layers(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    total = len(html.encode("utf-8")) + sum(len(client.get(a).get_data()) for a in _assets(html))
    assert total <= MAX_WEIGHT, f"overview page weighs {total:,} bytes"
    assert html.count('"FeatureCollection"') == 1
    layer_ids = re.findall(r'"id":"([a-z_0-9]+)","group"', html)
    assert len(layer_ids) >= 5
    assert {"categories", "designations", "status", "dynamics", "share_foreign_pct"} <= set(layer_ids)


def test_hostile_names_are_text_everywhere(client) -> None:  # type: ignore[no-untyped-def]
    for url in ["/", "/table", "/districts/04012111", "/districts/04012121", "/check?district=04012111",
                "/check", "/scenarios/draft-lower-threshold"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html, url
    profile = client.get("/districts/04012111").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
    quoted = client.get("/districts/04012121").get_data(as_text=True)
    assert "Am &#34;Deich&#34; &#39;s Eck &amp; Überseeörtchen" in quoted
    table = client.get("/table").get_data(as_text=True)
    assert "Überseeörtchen" in table
    csv = client.get("/table.csv").get_data(as_text=True)
    assert EVIL_NAMES["04012121"].replace('"', '""') in csv


def test_profile_shows_reasons_series_and_city(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/districts/04011373").get_data(as_text=True)
    assert "Tenever" in html and "WiN-Gebiet (indiziert)" in html
    assert html.count("<svg") >= 3 and "1980" in html and "2023" in html
    assert "Statusindex" in html and "Stabilität" in html and "Bremen" in html
    assert 'media="print"' in html
    en = client.get("/districts/04011373?lang=en").get_data(as_text=True)
    assert "WiN area (indicated)" in en and "Stability" in en
    assert client.get("/districts/99999999").status_code == 404


def test_check_answers_in_plain_german(client) -> None:  # type: ignore[no-untyped-def]
    by_point = client.get("/check?lon=8.9477&lat=53.0772").get_data(as_text=True)
    assert 'data-key="04011373"' in by_point
    assert "Der Punkt liegt im Ortsteil" in by_point and "Tenever" in by_point
    assert "erfüllt nach der Statistik die Bedingungen für" in by_point and "WiN-Gebiet" in by_point
    by_name = client.get("/check?district=tenever").get_data(as_text=True)
    assert 'data-key="04011373"' in by_name
    by_suggestion = client.get("/check?district=Tenever%20(04011373)").get_data(as_text=True)
    assert 'data-key="04011373"' in by_suggestion
    assert '<datalist id="district-names">' in by_name and "Tenever (04011373)" in by_name
    assert "Kein Ortsteil" in client.get("/check?district=Atlantis").get_data(as_text=True)
    assert "außerhalb" in client.get("/check?lon=10&lat=50").get_data(as_text=True)
    assert "keine gültigen Zahlen" in client.get("/check?lon=abc&lat=1").get_data(as_text=True)
    bremerhaven = client.get("/check?district=Fehmoor").get_data(as_text=True)
    assert "Bremerhaven wird auf eigener Grundlage eingestuft" in bremerhaven
    tiny = client.get("/check?district=Luneplate").get_data(as_text=True)
    assert "nicht klassifizierbar: weniger als 300 Einwohner" in tiny


def test_scenario_compares_official_and_draft(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/scenarios/draft-lower-threshold").get_data(as_text=True)
    assert "Gebiete, die sich ändern" in html and "Huckelriede" in html
    assert html.count('class="folium-map"') == 2
    assert html.count("leaflet/leaflet.js") == 1
    assert "js/sync.js" in html
    assert client.get("/scenarios/nope").status_code == 404
    listing = client.get("/scenarios").get_data(as_text=True)
    assert "draft-lower-threshold" in listing


def test_table_is_accessible_and_downloadable(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/table").get_data(as_text=True)
    assert html.count("<tr data-city=") == 113
    assert 'aria-sort="none"' in html and '<th scope="row">' in html and "<caption" in html
    resp = client.get("/table.csv")
    assert resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 114 and lines[0].startswith("Schlüssel,Name")
    assert client.get("/table.csv?lang=en").get_data(as_text=True).lstrip("\ufeff").startswith("Key,Name")


def test_profile_speaks_the_page_language_for_engine_texts(client) -> None:  # type: ignore[no-untyped-def]
    """Verdicts, drivers, programme tags and confidence flags are translated, not shown as engine strings."""
    de = client.get("/districts/04011373").get_data(as_text=True)
    assert "ausgewiesen und durch die Daten angezeigt" in de and "designated and indicated" not in de
    assert "Statusindex vor allem bestimmt durch" in de and "share_under_18_pct" not in de
    assert "WiN (Wohnen in Nachbarschaften)" in de and "gleichnamiger Ortsteil" in de
    en = client.get("/districts/04011373?lang=en").get_data(as_text=True)
    assert "designated and indicated" in en and "Ortsteil of the same name" in en


def test_table_csv_neutralises_formulas(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The page's CSV goes through the service's one CSV writer: formula-like names are quoted, CR stays in
    its cell (SYNTHETIC hostile names put into the page's table)."""
    import csv as csvmod
    import io

    import service.web.table_page as pages

    real = pages._table_frame

    def hostile(data, lang):  # type: ignore[no-untyped-def]
        frame = real(data, lang).copy()
        frame.loc[frame.index[0], "Name"] = "=HYPERLINK(\"http://x\")"
        frame.loc[frame.index[1], "Name"] = "@SUM(A1)\rX"
        return frame

    monkeypatch.setattr(pages, "_table_frame", hostile)
    resp = client.get("/table.csv")
    text = resp.get_data().decode("utf-8-sig")
    rows = list(csvmod.reader(io.StringIO(text, newline="")))
    names = [r[1] for r in rows[1:]]
    assert names[0] == "'=HYPERLINK(\"http://x\")" and names[1] == "'@SUM(A1)\rX"
    assert len({len(r) for r in rows}) == 1  # no row broken by the CR
