"""The social-need default downstream: eligibility answers, profiles, overview map and table on the REAL snapshot.

Every figure is checked against the snapshot itself (values, years), and the German pages are checked for raw
engine ids (``very_low``, ``quartier_im_werden``, ``category:``, ``persons/km²``) in their visible text.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import json
import re

import pytest

pytestmark = pytest.mark.realdata

TENEVER, GROEPELINGEN, LEHERHEIDE_WEST = "04011373", "04011442", "04012123"
RAW_IDS = ["very_low", "quartier_im_werden", "category:", "stable", "persons/km²", "watch_list",
           "phase_out_candidate", "kleinstquartier", "sonderquartier", "high;medium", "persons"]


def visible(page: str) -> str:
    """The text a reader sees: scripts and styles dropped, tags stripped, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def _answer(client, key: str) -> dict:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/eligibility?district={key}")
    assert resp.status_code == 200
    return json.loads(resp.get_data(as_text=True))


def _snapshot_value(state, key: str, indicator: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    row = state.wide.set_index("key").loc[key]
    return float(row[indicator]), int(row[f"{indicator}__year"])


def test_tenever_answer_gives_need_indicators_with_years_and_z(client, state) -> None:  # type: ignore[no-untyped-def]
    a = _answer(client, TENEVER)
    items = {i["indicator"]: i for i in a["indicators"]}
    status = [i["indicator"] for i in a["indicators"] if i["index"] == "status"]
    assert status == [c.indicator for c in state.definition.index("status").components]
    u15 = items["sgb2_u15_pct"]
    value, year = _snapshot_value(state, TENEVER, "sgb2_u15_pct")
    assert round(u15["value"], 2) == round(value, 2) == 49.59 and u15["year"] == year == 2018
    assert u15["unit"] == "%" and u15["z"] > 1 and u15["contribution"] > 0
    assert items["turnout_state_election_pct"]["year"] == 2023
    assert "pupils_non_german_language_pct" in items and "share_foreign_pct" not in items
    # the contributions add up to the status index (z-score index: centred sum of weight * z / SD)
    total = sum(i["contribution"] for i in a["indicators"] if i["index"] == "status")
    assert total == pytest.approx(a["classification"]["status_index"], abs=0.05)
    basis = a["basis"]
    assert basis["own_basis"] is False and basis["confidence"] == "high" and basis["label"]
    assert "Sicherheit: hoch" in basis["text"]["de"] and "confidence: high" in basis["text"]["en"]


def test_bremerhaven_answer_names_its_basis_and_low_confidence(client, state) -> None:  # type: ignore[no-untyped-def]
    a = _answer(client, LEHERHEIDE_WEST)
    basis = a["basis"]
    assert basis["group"] == "Bremerhaven" and basis["own_basis"] is True and basis["confidence"] == "low"
    assert basis["label"] == state.definition.basis_for("Bremerhaven").basis["label"]
    assert {"sgb2_u15_pct", "sgb2_u65_pct", "unemployment_pct"} <= set(basis["not_published"])
    assert "eigener Grundlage" in basis["text"]["de"] and "Sicherheit: niedrig" in basis["text"]["de"]
    assert "Nicht je Ortsteil veröffentlicht für Bremerhaven" in basis["text"]["de"] and "SGB-II" in basis["text"]["de"]
    en = basis["text"]["en"]
    assert "Not published per Ortsteil for Bremerhaven" in en and "confidence: low" in en
    ids = [i["indicator"] for i in a["indicators"]]
    assert "turnout_state_election_pct" in ids and not any(i.startswith("sgb2") for i in ids)
    turnout = next(i for i in a["indicators"] if i["indicator"] == "turnout_state_election_pct")
    value, year = _snapshot_value(state, LEHERHEIDE_WEST, "turnout_state_election_pct")
    assert turnout["value"] == pytest.approx(value) and turnout["year"] == year == 2023
    page = visible(client.get(f"/check?district={LEHERHEIDE_WEST}").get_data(as_text=True))
    assert "eigener Grundlage" in page and "Sicherheit: niedrig" in page


def test_groepelingen_profile_shows_need_series_first_then_context(client, state) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/districts/{GROEPELINGEN}").get_data(as_text=True)
    need = page.index("Bedarfsindikatoren")
    context = page.index("Demografischer Kontext")
    assert need < context
    assert 'data-indicator="sgb2_u15_pct"' in page[need:context]
    series = page[page.index("Bedarfsindikatoren im Zeitverlauf"):context]
    ind = state.snapshot.indicators
    years = sorted(ind[(ind["key"] == GROEPELINGEN) & (ind["indicator"] == "sgb2_u15_pct")]
                   .dropna(subset=["value"])["year"].astype(int))
    assert years[0] == 2005 and years[-1] == 2018
    chart = visible(series)
    assert "SGB-II-Quote der Kinder unter 15" in chart
    assert all(str(y) in chart for y in years)
    assert "Ausländeranteil" in visible(page[context:]) and "Ausländeranteil" not in visible(page[need:context])
    assert "Beschreibende Angaben" in visible(page[context:])


@pytest.mark.parametrize("url", ["/", f"/districts/{TENEVER}", f"/districts/{LEHERHEIDE_WEST}",
                                 f"/districts/{GROEPELINGEN}", "/table", f"/check?district={TENEVER}"])
def test_german_pages_show_words_not_ids(client, url: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get(url).get_data(as_text=True)
    text = visible(page)
    found = [raw for raw in RAW_IDS if raw in text]
    assert found == [], f"{url}: raw ids {found}"
    # the map's legends and tooltips live in its script data
    assert "persons/km²" not in page and " pp" not in re.sub(r"<(script|style)\b[^>]*src=[^>]*>", "", page)


def test_german_words_and_english_words(client) -> None:  # type: ignore[no-untyped-def]
    de = visible(client.get(f"/districts/{TENEVER}").get_data(as_text=True))
    assert "sehr niedrig" in de and "stabil" in de and "Einw./km²" in de and "Prozentpunkte" in de
    assert "Kategorie WiN-Gebiet (indiziert) / Kleinstquartier / Sonderquartier / Quartier im Werden" in de
    assert "Beobachtungsliste" in de and "Auslaufkandidat" in de
    en = visible(client.get(f"/districts/{TENEVER}?lang=en").get_data(as_text=True))
    assert "very low" in en and "stable" in en and "residents/km²" in en and "percentage points" in en
    assert "Emerging district" in en and "Watch list" in en and "Phase-out candidate" in en
    assert not [raw for raw in ("very_low", "category:", "persons/km²", "quartier_im_werden") if raw in en]
    table_de = visible(client.get("/table").get_data(as_text=True))
    assert "LLQ: Quartiere im Werden" in table_de
    assert "LLQ: emerging districts" in visible(client.get("/table?lang=en").get_data(as_text=True))


def test_overview_defaults_to_the_need_status_with_confidence_and_years(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'"initial":"status"', page)
    status = re.search(r'"id":"status","group":"[^"]*","title":"Statusklasse".*?"note":"([^"]*)"', page)
    assert status and "Bremerhaven: Sicherheit niedrig" in status.group(1)
    foreign = re.search(r'"id":"share_foreign_pct","group":"([^"]*)","title":"([^"]*)"', page)
    assert foreign and foreign.group(1).startswith("Kontext") and foreign.group(2).endswith("– Kontext")
    need_groups = set(re.findall(r'"id":"(?:sgb2_u15_pct|unemployment_pct)","group":"([^"]*)"', page))
    assert need_groups == {"Bedarfsindikatoren"}
    tips = re.search(r'"tipLabels":\[([^\]]*)\]', page)
    assert tips and "SGB-II-Quote der Kinder unter 15" in tips.group(1) and "Ausländeranteil" not in tips.group(1)
    assert re.search(r'"04011373","Tenever","Bremen",[^\]]*"49,6 % \(2018\)"', page)
    en = client.get("/?lang=en").get_data(as_text=True)
    assert "Bremerhaven: confidence low" in en and "Context (descriptive" in en


def test_table_and_csv_have_need_years_basis_and_confidence(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/table.csv").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    tenever = next(r for r in rows if r["Schlüssel"] == TENEVER)
    assert tenever["SGB-II-Quote der Kinder unter 15 (%)"] == "49.6"
    assert tenever["SGB-II-Quote der Kinder unter 15: Jahr"] == "2018"
    assert tenever["Wahlbeteiligung Bürgerschaftswahl: Jahr"] == "2023"
    assert tenever["Grundlage"] == "Programmgrundlage" and tenever["Sicherheit der Grundlage"] == "hoch"
    assert tenever["Statusklasse"] == "sehr niedrig"
    bhv = next(r for r in rows if r["Schlüssel"] == LEHERHEIDE_WEST)
    assert bhv["Sicherheit der Grundlage"] == "niedrig" and bhv["Grundlage"].startswith("eigene Grundlage")
    assert bhv["SGB-II-Quote der Kinder unter 15: Jahr"] == ""
    assert "Ausländeranteil (%)" not in rows[0]
    en = client.get("/table.csv?lang=en").get_data().decode("utf-8-sig").splitlines()[0]
    assert "Confidence of the basis" in en and "SGB II recipients per 100 children under 15: year" in en
