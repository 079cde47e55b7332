"""Monitoring API and page through the Flask test client, read from what the build published."""

from __future__ import annotations

import math
import re

import pytest

pytestmark = pytest.mark.realdata

TENEVER = "04011373"


def test_inequality_series_match_the_library(client, state) -> None:  # type: ignore[no-untyped-def]
    from geo.analysis import monitoring

    resp = client.get("/api/v1/monitoring/inequality?indicator=share_foreign_pct")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["indicator"] == "share_foreign_pct" and body["level"] == "ortsteil"
    assert body["snapshot_version"] == state.version == resp.headers["X-Snapshot-Version"]
    long = state.snapshot.indicators
    long = long[long["year"] <= state.snapshot.latest_year]
    expected = monitoring.inequality_series(long, groups=monitoring.parent_map(state.wide),
                                            indicators=["share_foreign_pct"])
    assert [r["year"] for r in body["series"]] == expected["year"].tolist()
    for row, exp in zip(body["series"], expected.to_dict("records"), strict=True):
        for col in ("gini", "theil", "theil_between", "theil_within", "cv", "p90_p10_ratio"):
            assert row[col] == pytest.approx(exp[col], rel=1e-12)
        assert row["theil_between"] + row["theil_within"] == pytest.approx(row["theil"], rel=1e-9)
    years = [r["year"] for r in body["segregation"]]  # SGB II recipients: the years with both counts
    assert years == sorted(years) and years[-1] == 2018
    last = body["segregation"][-1]
    for col in ("dissimilarity", "isolation", "morans_i"):
        assert last[col] is not None and math.isfinite(last[col])
    assert 2023 in [r["year"] for r in body["descriptive_segregation"]]  # foreign nationals: descriptive only


def test_inequality_stadtteil_level(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/monitoring/inequality?indicator=population&level=stadtteil").get_json()
    assert body["level"] == "stadtteil" and body["series"]


@pytest.mark.parametrize("query", ["", "?indicator=nope", "?indicator=share_foreign_pct&level=city",
                                   "?indicator=si_sozialindikatoren_index"])
def test_inequality_bad_questions_are_400_problems(client, query: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/monitoring/inequality" + query)
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["detail"]


def test_district_trends_and_warning(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/monitoring/districts/{TENEVER}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["key"] == TENEVER and body["name"] == "Tenever" and body["level"] == "ortsteil"
    share = body["indicators"]["share_foreign_pct"]
    years = [y for y, _ in share["series"]]
    assert years[0] == 1980 and years[-1] == 2023 and years == sorted(years)
    trend = share["trend"]
    assert trend["trend_change"] == pytest.approx(trend["slope_recent"] - trend["slope_early"])
    rule = body["early_warning_rule"]
    assert rule["periods"] == 2 and rule["thresholds"]["sgb2_u15_pct"] == 1.0
    assert not any(k.startswith("share_") for k in rule["directions"])  # demographic shares are never criteria
    ew = body["early_warning"]
    assert isinstance(ew["warning"], bool)
    assert {w["indicator"] for w in ew["indicators"]} <= set(rule["directions"])
    assert "sgb2_u15_pct" in {w["indicator"] for w in ew["indicators"]}
    assert ew["warning"] == any(w["warning"] for w in ew["indicators"])
    assert body["hotspot_class"] in ("hot_spot", "cold_spot", "high_low_outlier", "low_high_outlier",
                                     "not_significant", "not_tested")
    assert body["district_type"]["label_de"].startswith("Typ ")


def test_district_of_a_higher_level(client, state) -> None:  # type: ignore[no-untyped-def]
    key = str(state.snapshot.layer("stadtteil")["key"].iloc[0])
    body = client.get(f"/api/v1/monitoring/districts/{key}").get_json()
    assert body["level"] == "stadtteil" and body["indicators"]["population"]["series"]


@pytest.mark.parametrize("key", ["99999999", "abc", "0401137"])
def test_unknown_district_is_404_problem(client, key: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/monitoring/districts/{key}")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_build_publishes_the_monitoring_with_checksums(state) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    products = state.snapshot.manifest["products"]
    kinds = {(p["kind"], p["definition_hash"]) for p in products}
    assert ("classification", state.definition.hash) in kinds and ("monitoring", state.definition.hash) in kinds
    for item in products:
        path = state.snapshot.path / item["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
        assert not path.stat().st_mode & 0o222  # published products are read-only


def test_service_computes_nothing(snapshots_dir, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A fresh app answers every monitoring route and page with classification and statistics switched off."""
    import geo.analysis.monitoring.poverty as gpov
    import geo.analysis.monitoring.products as gp
    import geo.classify
    import geo.classify.engine
    from service.app import create_app

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("computed in the service")

    for module, name in ((gp, "inequality_series"), (gp, "segregation_series"), (gp, "district_trends"),
                         (gpov, "early_warning"), (gpov, "compare_changes"), (gpov, "evaluate_funding"),
                         (gpov, "inequality_series"), (gpov, "segregation_series"),
                         (geo.classify, "classify"), (geo.classify.engine, "classify")):
        monkeypatch.setattr(module, name, boom)
    app = create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path / "inst"), "TESTING": True})
    client = app.test_client()
    for url in ("/api/v1/monitoring/inequality?indicator=population", f"/api/v1/monitoring/districts/{TENEVER}",
                "/api/v1/monitoring/poverty",
                "/api/v1/monitoring/districts/04011000", "/monitoring", "/", f"/districts/{TENEVER}",
                f"/api/v1/eligibility?district={TENEVER}"):
        assert client.get(url).status_code == 200, url


def test_version_without_monitoring_answers_503_rebuild(snapshots_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An older build (no monitoring product): the monitoring answers 503 "rebuild", everything else works."""
    from service.app import create_app
    from tests.official import version_without_product

    root = version_without_product(snapshots_dir, tmp_path / "snapshots", "monitoring")
    client = create_app({"SNAPSHOTS": str(root), "INSTANCE": str(tmp_path / "inst"), "TESTING": True}).test_client()
    for url in ("/api/v1/monitoring/inequality?indicator=population", "/monitoring"):
        resp = client.get(url)
        assert resp.status_code == 503 and resp.mimetype == "application/problem+json", url
        assert "rebuild" in resp.get_json()["detail"]
    assert client.get(f"/api/v1/eligibility?district={TENEVER}").status_code == 200
    assert client.get("/api/v1/status").get_json()["products"]["monitoring"] is False


def test_openapi_documents_monitoring(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/monitoring/inequality" in paths
    assert "/api/v1/monitoring/districts/{key}" in paths


@pytest.mark.parametrize("lang", ["de", "en"])
def test_page_renders_with_charts_and_csp(client, lang: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/monitoring" + ("?lang=en" if lang == "en" else ""))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert html.count("<svg") >= 6  # Gini, Theil, SGB II segregation, other indicator + the district's series
    title = "Monitoring: Ungleichheit und Entwicklung" if lang == "de" else "Monitoring: inequality and trends"
    assert f"<h1>{title}</h1>" in html
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    csp = resp.headers["Content-Security-Policy"]
    assert "'nonce-" in csp and "unsafe-inline" not in csp
    assert " style=" not in html and " onclick=" not in html


def test_page_choices_and_fallbacks(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/monitoring?indicator=population&district=04011373").get_data(as_text=True)
    assert 'value="population" selected' in html and 'value="04011373" selected' in html
    assert client.get("/monitoring?indicator=<script>&district=<b>").status_code == 200


@pytest.mark.parametrize("url", ["/", "/table", "/check", "/districts/04011373", "/scenarios"])
def test_every_page_links_to_monitoring(client, url: str) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/monitoring"' in client.get(url).get_data(as_text=True)
    assert 'href="/monitoring?lang=en"' in client.get(url + "?lang=en").get_data(as_text=True)


# ------------------------------------------------------------------------------ hot spots, district types


@pytest.mark.parametrize("lang,title,label", [("de", "Quartierstypen", "Typ 1"), ("en", "District types", "Type 1")])
def test_overview_map_has_hotspot_and_type_layers(client, lang: str, title: str, label: str) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/" + ("?lang=en" if lang == "en" else "")).get_data(as_text=True)
    assert '"id": "hotspots"' in html or '"id":"hotspots"' in html
    assert '"id": "district_type"' in html or '"id":"district_type"' in html
    assert title in html and label in html


def test_analysis_columns(state) -> None:  # type: ignore[no-untyped-def]
    from service.api.monitoring import analysis_columns

    frame = analysis_columns(state.monitoring, state.wide, "de")
    classifiable = state.result.table.set_index("key")["classifiable"]
    ok = frame["key"].map(classifiable).fillna(False).astype(bool)
    assert set(frame.loc[ok, "hotspot"].dropna()) <= {"HH", "LL", "HL", "LH", "ns"}
    assert frame.loc[ok, "hotspot"].notna().mean() > 0.9  # islands among classifiable districts: not tested
    assert frame.loc[~ok, "hotspot"].isna().all() and frame.loc[~ok, "district_type"].isna().all()
    typed = frame.loc[ok, "district_type"].dropna()
    # every classifiable district with a status index gets a type of its basis (missing indicators: the
    # nearest type on those it has), Bremerhaven's on its own components and numbered after Bremen's
    indexed = ok & frame["key"].map(state.result.table.set_index("key")["status_index"]).notna()
    assert frame.loc[indexed, "district_type"].notna().all()
    assert typed.str.startswith("Typ ").all()
    city = frame["key"].map(state.result.table.set_index("key")["city"])
    num = frame["district_type"].str.extract(r"Typ (\d+):")[0].astype(float)
    assert num[indexed & (city == "Bremerhaven")].min() > num[indexed & (city == "Bremen")].max()


def test_profile_shows_type_and_hotspot(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/districts/{TENEVER}").get_data(as_text=True)
    assert "Quartierstyp" in html and "Typ " in html and "Hot Spots" in html
    html = client.get(f"/districts/{TENEVER}?lang=en").get_data(as_text=True)
    assert "District type" in html and "Type " in html


def test_early_warning_units_in_words(client) -> None:  # type: ignore[no-untyped-def]
    de = client.get("/monitoring").get_data(as_text=True)
    assert "% pro Jahr" in de and "%/year" not in de
    assert "% per year" in client.get("/monitoring?lang=en").get_data(as_text=True)
