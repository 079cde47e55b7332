"""The programme's question on poverty, on the real snapshot (tests/conftest.py builds it once per session).

Skipped on a developer machine without ../shared/data; failing, never skipping, when CI is set.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def app(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path_factory.mktemp("inst")),
                       "TESTING": True})


@pytest.fixture(scope="module")
def product(app):  # type: ignore[no-untyped-def]
    return app.extensions["quartiere"].holder.state.monitoring.poverty()


def _by_hand_gini(x: np.ndarray, w: np.ndarray) -> float:
    """sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu), written out pairwise."""
    mu = np.sum(w * x) / np.sum(w)
    return float(np.sum(w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])) / (2 * w.sum() ** 2 * mu))


def test_gini_of_child_poverty_2018_recomputed_by_hand(real_snapshot, product) -> None:  # type: ignore[no-untyped-def]
    long = real_snapshot.indicators
    ot = long[long["level"] == "ortsteil"]
    rate = ot[(ot["indicator"] == "sgb2_u15_pct") & (ot["year"] == 2018)].dropna(subset=["value"])
    # weights: residents under 18 of the nearest population year (2020 for 2018)
    base = ot[(ot["indicator"] == "under_18") & (ot["year"] == 2020)].set_index("key")["value"]
    groups = real_snapshot.wide("ortsteil").set_index("key")["stadtbezirk_key"].dropna()
    rate = rate[rate["key"].isin(groups.index) & rate["key"].map(base).gt(0)]
    x = rate["value"].to_numpy(dtype=float)
    w = rate["key"].map(base).to_numpy(dtype=float)
    row = next(r for r in product["inequality"]["sgb2_u15_pct"] if r["year"] == 2018)
    assert row["n_districts"] == len(x) > 80
    assert row["weight_year"] == 2020 and "nearest year" in row["weight_basis"]
    assert row["gini"] == pytest.approx(_by_hand_gini(x, w), rel=1e-9)
    assert row["p90_p10_ratio"] == pytest.approx(np.percentile(x, 90) / np.percentile(x, 10), rel=1e-9)
    assert row["theil_between"] + row["theil_within"] == pytest.approx(row["theil"], rel=1e-9)
    years = [r["year"] for r in product["inequality"]["sgb2_u15_pct"]]
    assert years == list(range(2005, 2019))


def test_sgb2_u65_uses_the_atlas_denominator_in_even_years(product) -> None:  # type: ignore[no-untyped-def]
    rows = {r["year"]: r for r in product["inequality"]["sgb2_u65_pct"]}
    assert rows[2018]["weight_basis"] == "denominator" and rows[2018]["n_weighted_by_denominator"] > 80
    assert rows[2017]["weight_basis"].startswith("residents_under_65") and rows[2017]["weight_year"] == 2020
    assert all(r["gini"] is not None for r in rows.values())
    assert set(product["weights"]) >= {"sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct"}
    assert [r["year"] for r in product["inequality"]["unemployment_pct"]][-1] == 2017


def test_dissimilarity_of_sgb2_recipients_from_counts(real_snapshot, product) -> None:  # type: ignore[no-untyped-def]
    long = real_snapshot.indicators
    sel = long[(long["level"] == "ortsteil") & (long["indicator"] == "sgb2_u65_pct") & (long["year"] == 2018)]
    sel = sel.dropna(subset=["numerator", "denominator"])
    a = sel["numerator"].to_numpy(dtype=float)
    t = sel["denominator"].to_numpy(dtype=float)
    b = t - a
    by_hand = 0.5 * np.sum(np.abs(a / a.sum() - b / b.sum()))
    rows = {r["year"]: r for r in product["segregation"]["rows"]}
    assert sorted(rows) == [2006, 2008, 2010, 2012, 2014, 2016, 2018]  # the years with both counts
    assert rows[2018]["dissimilarity"] == pytest.approx(by_hand, rel=1e-12)
    assert rows[2018]["isolation"] == pytest.approx(np.sum(a / a.sum() * a / t), rel=1e-12)
    assert rows[2018]["isolation"] > rows[2018]["group_share"]


def test_early_warning_is_on_need_series_only(product) -> None:  # type: ignore[no-untyped-def]
    from geo.analysis.monitoring.poverty import EARLY_WARNING_THRESHOLDS

    rule = product["early_warning"]["rule"]
    assert set(rule["directions"]) <= set(EARLY_WARNING_THRESHOLDS)
    assert not any(n.startswith("share_") for n in rule["directions"])
    assert rule["directions"]["sgb2_u15_pct"] == -1  # higher_is_worse in the need catalogue
    assert rule["thresholds"]["sgb2_u15_pct"] == 1.0 and rule["years"]["sgb2_u15_pct"] == [2012, 2015, 2018]
    for r in product["early_warning"]["rows"]:
        assert r["warning"] and r["indicator"] in EARLY_WARNING_THRESHOLDS
        changes = [float(m) for m in re.findall(r": ([+-][\d.]+)", r["last_periods"])]
        assert len(changes) == 2 and all(c > r["threshold"] for c in changes)


def test_evaluation_interval_placebos_and_seed(real_snapshot, product) -> None:  # type: ignore[no-untyped-def]
    from geo.analysis.monitoring import compare_changes, comparison_verdict
    from maps.evaluation import verdict_words

    ev = product["evaluation"]
    assert ev["available"]
    rows = {r["outcome"]: r for r in ev["comparison"]}
    assert set(rows) == {"sgb2_u65_pct", "sgb2_u15_pct", "unemployment_pct"}
    for r in rows.values():
        assert r["ci_low"] <= r["estimate"] <= r["ci_high"]
        assert r["placebo_year"] is not None and r["base_year"] < r["placebo_year"] <= r["end_year"]
        assert r["placebo_groups"] > 100 and r["placebo_groups_low"] <= r["placebo_groups_high"]
        assert r["pre_years"] in ("", None)  # no need series has a year before WiN started (1999)
        assert "no_year_before_programme" in [m["code"] for m in r["reasons"]]
    assert rows["sgb2_u15_pct"]["base_year"] == 2005 and rows["sgb2_u15_pct"]["end_year"] == 2018
    # reproducible with the seed
    long, des = real_snapshot.indicators, real_snapshot.designations
    a = compare_changes(long, des, outcomes=["sgb2_u15_pct"], n_boot=199, n_placebo=50, seed=7).outcomes.iloc[0]
    b = compare_changes(long, des, outcomes=["sgb2_u15_pct"], n_boot=199, n_placebo=50, seed=7).outcomes.iloc[0]
    assert (a["ci_low"], a["ci_high"], a["placebo_groups_low"]) == (b["ci_low"], b["ci_high"],
                                                                    b["placebo_groups_low"])
    # the cohort difference in differences says why nothing can be estimated, with the years
    win = [c for c in ev["cohorts"] if c["start_year"] == 1999]
    assert win and all({"code": "few_pre_years", "params": {"n": 0, "start": 1999, "years": [], "min": 3}}
                       in c["reasons"] for c in win)
    # the verdict: codes and figures from the engine, the words from the catalogue, in either language
    verdict = comparison_verdict(ev["comparison"])
    assert verdict["no_pre_years"] and verdict["pattern"] in ("worse", "better", "none", "mixed")
    de, en = verdict_words(verdict, "de"), verdict_words(verdict, "en")
    assert "nicht schließen" in de["headline"] and "cannot be concluded" in en["headline"]
    assert all("95-%-Intervall" in s for s in de["outcomes"]) and all("95 % interval" in s for s in en["outcomes"])
    assert {c["code"] for c in ev["caveats"]} >= {"selection", "no_year_before_start"}


def test_page_shows_child_poverty_first_in_german_with_years(app) -> None:  # type: ignore[no-untyped-def]
    html = app.test_client().get("/monitoring").get_data(as_text=True)
    assert '<html lang="de">' in html
    pov = html.index('id="h-poverty"')
    assert "Kinderarmut und SGB II: Ungleichheit zwischen den Ortsteilen" in html
    assert pov < html.index('id="h-seg-need"') < html.index('id="h-evaluation"') < html.index('id="h-descriptive"')
    assert "Dissimilaritätsindex der SGB-II-Leistungsberechtigten" in html
    assert "Theil zwischen Stadtbezirken" in html and "Dezilverhältnis P90/P10" in html
    assert "Gini-Koeffizient zwischen den Ortsteilen, 1999–2018" in html
    table = html[html.index('id="ineq-sgb2_u15_pct"'):]
    table = table[:table.index("</table>")]
    assert all(f"<th scope=\"row\">{y}</th>" in table for y in range(2005, 2019))
    first_foreign = html.find("ausländisch")
    assert first_foreign == -1 or first_foreign > html.index('id="h-descriptive"')
    en = app.test_client().get("/monitoring?lang=en").get_data(as_text=True)
    assert "Child poverty and SGB II: inequality between the Ortsteile" in en
    assert "cannot be concluded" in en


def test_poverty_api(app) -> None:  # type: ignore[no-untyped-def]
    resp = app.test_client().get("/api/v1/monitoring/poverty")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["inequality"]["sgb2_u15_pct"][0]["year"] == 2005
    assert body["segregation"]["indicator"] == "sgb2_u65_pct"
    verdict = body["evaluation"]["verdict"]  # codes and figures, and the words in both languages
    assert verdict["no_pre_years"] and {m["code"] for m in verdict["outcomes"]} == {"compared"}
    assert "nicht schließen" in verdict["de"]["headline"] and "cannot be concluded" in verdict["en"]["headline"]
    assert "nächstgelegenen Bevölkerungsjahres" in body["weights"]["sgb2_u15_pct"]["de"]
    assert body["weights"]["sgb2_u15_pct"]["base"] == "under_18"
