"""Monitoring API and page through the Flask test client, and the once-per-snapshot computation."""

from __future__ import annotations

import math
import re

import pytest

pytestmark = pytest.mark.realdata

TENEVER = "04011373"


def test_inequality_series_match_the_library(client, state) -> None:  # type: ignore[no-untyped-def]
    from geo import monitoring

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
    years = [r["year"] for r in body["segregation"]]
    assert years == sorted(years) and 2023 in years
    last = body["segregation"][-1]
    for col in ("dissimilarity", "isolation", "morans_i"):
        assert last[col] is not None and math.isfinite(last[col])


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
    assert rule["periods"] == 2 and rule["thresholds"]["share_foreign_pct"] == 1.5
    ew = body["early_warning"]
    assert isinstance(ew["warning"], bool)
    assert {w["indicator"] for w in ew["indicators"]} == set(rule["directions"])
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


def test_computed_once_per_snapshot(state, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import geo.monitoring as gm
    from service.monitoring import Monitoring, district_answer, inequality_answer

    calls = {"inequality": 0, "trends": 0}
    real_ineq, real_trends = gm.inequality_series, gm.district_trends

    def ineq(*a, **k):  # type: ignore[no-untyped-def]
        calls["inequality"] += 1
        return real_ineq(*a, **k)

    def trends(*a, **k):  # type: ignore[no-untyped-def]
        calls["trends"] += 1
        return real_trends(*a, **k)

    monkeypatch.setattr(gm, "inequality_series", ineq)
    monkeypatch.setattr(gm, "district_trends", trends)
    mon = Monitoring(snapshot=state.snapshot, definition=state.definition, result=state.result, wide=state.wide)
    for _ in range(3):
        inequality_answer(mon, "share_foreign_pct")
        inequality_answer(mon, "population")
        district_answer(mon, TENEVER)
    assert calls["inequality"] == 1
    n_trend_calls = calls["trends"]
    district_answer(mon, "04011372" if "04011372" in mon.districts("ortsteil") else TENEVER)
    assert calls["trends"] == n_trend_calls  # every district of the level came from the first build


def test_monitoring_for_reuses_one_object(state) -> None:  # type: ignore[no-untyped-def]
    from service.monitoring import monitoring_for

    a = monitoring_for(state.snapshot, state.definition, state.result, state.wide)
    b = monitoring_for(state.snapshot, state.definition, state.result, state.wide)
    assert a is b


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
    assert html.count("<svg") >= 6  # Gini, Theil, segregation + the district's series
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
    from service.monitoring import analysis_columns, monitoring_for

    mon = monitoring_for(state.snapshot, state.definition, state.result, state.wide)
    frame = analysis_columns(mon, state.wide, "de")
    classifiable = state.result.table.set_index("key")["classifiable"]
    ok = frame["key"].map(classifiable).fillna(False).astype(bool)
    assert set(frame.loc[ok, "hotspot"].dropna()) <= {"HH", "LL", "HL", "LH", "ns"}
    assert frame.loc[ok, "hotspot"].notna().mean() > 0.9  # islands among classifiable districts: not tested
    assert frame.loc[~ok, "hotspot"].isna().all() and frame.loc[~ok, "district_type"].isna().all()
    typed = frame.loc[ok, "district_type"].dropna()
    assert len(typed) > 0.9 * ok.sum() and typed.str.startswith("Typ ").all()


def test_profile_shows_type_and_hotspot(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/districts/{TENEVER}").get_data(as_text=True)
    assert "Quartierstyp" in html and "Typ " in html and "Hot Spots" in html
    html = client.get(f"/districts/{TENEVER}?lang=en").get_data(as_text=True)
    assert "District type" in html and "Type " in html
