"""The map page and a district profile on the tiny SYNTHETIC snapshot, in German and in English.

The expected figures follow from the hand-made inputs (tests/tiny.py): Dornfeld has 4,000 residents, 50 %
foreign nationals (the city of Bremen 2,600 of 10,000: 26 %), status index +2.0 and the city's whole budget.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.tiny import ORTSTEILE, TOO_SMALL, WIN


def visible(page: str) -> str:
    """The page's text as a reader sees it: no scripts or styles, tags removed, white space collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize(("lang", "title", "win", "not_classifiable"), [
    ("de", "Karte – Lebendige Quartiere", "WiN-Gebiet (indiziert)", "Nicht klassifizierbar"),
    ("en", "Map – Lebendige Quartiere", "WiN area (indicated)", "Not classifiable"),
])
def test_map_page_lists_every_square_with_its_category(tiny_client, lang: str, title: str, win: str,  # type: ignore[no-untyped-def]
                                                       not_classifiable: str) -> None:
    r = tiny_client.get(f"/?lang={lang}")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and f"<title>{title}</title>" in page
    for key, (name, city, *_rest) in ORTSTEILE.items():
        assert f'"{key}","{name}","{city}"' in page, key
    assert f'"{WIN}","Dornfeld","Bremen","{win}"' in page
    assert f'"{TOO_SMALL}","Fichtenfeld","Bremerhaven","{not_classifiable}"' in page
    # the category layer's legend counts one indicated WiN area
    legend = re.search(r'"label":"' + re.escape(win) + r'","color":"[^"]+","count":(\d+)', page)
    assert legend is not None and legend.group(1) == "1"


def test_district_profile_in_german(tiny_client) -> None:  # type: ignore[no-untyped-def]
    r = tiny_client.get(f"/districts/{WIN}")
    assert r.status_code == 200
    text = visible(r.get_data(as_text=True))
    assert "Quartiersprofil Dornfeld 04011922" in text
    assert "Bremen · Teststadtteil Süd · Testbezirk Bremen" in text
    assert "Statusklasse: sehr niedrig (Statusindex 2,00)" in text
    assert "Dynamikklasse: negativ (Dynamikindex 2,00)" in text
    assert "Budgetanteil (datenbasiert) 100.000 EUR" in text
    assert "Ausländeranteil (%) Status 50,0 26,0 2023" in text  # Dornfeld, the city of Bremen, the year
    assert "Einwohner 4.000 10.000 2023" in text
    assert "WiN-Gebiet (indiziert): trifft zu" in text and "Kleinstquartier: trifft nicht zu" in text


def test_district_profile_in_english(tiny_client) -> None:  # type: ignore[no-untyped-def]
    r = tiny_client.get(f"/districts/{WIN}?lang=en")
    assert r.status_code == 200
    text = visible(r.get_data(as_text=True))
    assert "District profile Dornfeld 04011922" in text
    assert "Status class: very low (Status index 2.00)" in text
    assert "Budget share (data-driven) 100,000 EUR" in text
    assert "Share of foreign nationals (%) status 50.0 26.0 2023" in text
    assert "Residents 4,000 10,000 2023" in text
    assert "WiN area (indicated): applies" in text
    assert "Ausländeranteil" not in text and "trifft zu" not in text


def test_profile_of_a_square_that_is_too_small(tiny_client) -> None:  # type: ignore[no-untyped-def]
    text = visible(tiny_client.get(f"/districts/{TOO_SMALL}").get_data(as_text=True))
    assert "Quartiersprofil Fichtenfeld 04012912 Bremerhaven · Teststadtteil Hafen" in text
    assert "nicht klassifizierbar: weniger als 300 Einwohner" in text
    assert "Einwohner 200 1.700 2023" in text  # Fichtenfeld and the city of Bremerhaven (1,500 + 200)
    assert "Einwohner je km² (Einw./km²) 200 850 2023" in text  # 1,700 residents on 2 km²
