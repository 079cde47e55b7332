"""Gazetteer spellings, postcode shares and place search."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.places.gazetteer import name_variants, normalise
from geo.places.search import PlaceIndex


@pytest.mark.parametrize(("raw", "expected"), [("Gröpelingen", "groepelingen"), ("St.Magnus", "st magnus"),
                                               ("Sankt Magnus", "st magnus"), ("Findorff-Bürgerweide",
                                                                                "findorff buergerweide"),
                                               ("Goethestraße", "goethestrasse")])
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_variants_cover_plain_vowels_and_compact_forms() -> None:
    v = name_variants("Neustädter Hafen")
    assert {"neustaedter hafen", "neustadter hafen", "neustaedterhafen"} <= set(v)


def _toy_index() -> PlaceIndex:
    rows = [("ortsteil", "04011442", "Gröpelingen"), ("stadtteil", "04011440", "Gröpelingen"),
            ("ortsteil", "04011383", "Hemelingen"), ("ortsteil", "04011515", "St.Magnus"),
            ("postcode", "28239", "28239 Bremen")]
    gaz = pd.DataFrame([{"type": t, "key": k, "name": n, "city": "Bremen",
                         "variants": k if t == "postcode" else ";".join(name_variants(n)), "lon": 8.8, "lat": 53.1}
                        for t, k, n in rows])
    return PlaceIndex.from_gazetteer(gaz)


@pytest.mark.parametrize("query", ["Gröpelingen", "GROEPELINGEN", "gropelingen", "Gröplingen"])
def test_search_finds_ortsteil_first_despite_case_umlauts_and_typos(query: str) -> None:
    hits = _toy_index().search(query)
    assert hits[0]["key"] == "04011442" and hits[1]["key"] == "04011440"


def test_search_postcode_and_saint() -> None:
    idx = _toy_index()
    assert idx.search("28239")[0]["type"] == "postcode"
    assert idx.search("Sankt Magnus")[0]["key"] == "04011515"
    assert idx.search("xyzzy") == []


def test_postcode_shares_real(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    shares = real_snapshot.postcode_shares
    assert shares["plz"].nunique() == 40
    per_plz = shares.groupby("plz")["share_area"].sum()
    assert (per_plz > 0.8).all() and (per_plz <= 1.0001).all()
    plz = shares[shares["plz"] == "28239"].set_index("key")
    assert {"04011445", "04011443"} <= set(plz.index)  # Oslebshausen and Ohlenhof
    assert plz["share_residents"].sum() == pytest.approx(1.0)


def test_gazetteer_real(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    gaz = real_snapshot.gazetteer
    assert gaz["type"].value_counts().to_dict() == {"ortsteil": 113, "postcode": 40, "stadtteil": 32,
                                                     "stadtbezirk": 7}
    hit = PlaceIndex.from_gazetteer(gaz).search("Tenver")[0]
    assert hit["key"] == "04011373"
