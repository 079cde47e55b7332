"""Address file importers (official house coordinates, OSM address points) on the invented files of tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import InputError
from geo.places.addresses import ADDRESS_COLUMNS, housenumber_key, read_address_file, read_hauskoordinaten, street_key

DATA = Path(__file__).resolve().parents[1] / "data" / "addresses"


@pytest.mark.parametrize(("raw", "expected"), [
    ("Lindenhofstraße", "lindenhofstrasse"), ("Lindenhofstr.", "lindenhofstrasse"),
    ("Lindenhofstrasse", "lindenhofstrasse"), ("Lindenhof-Straße", "lindenhofstrasse"),
    ("Lange Str.", "langestrasse"), ("Otto-Brenner-Allee", "ottobrennerallee"), ("Am Markt Pl.", "ammarktplatz")])
def test_street_key(raw: str, expected: str) -> None:
    assert street_key(raw) == expected


def test_housenumber_key() -> None:
    assert housenumber_key("3 a") == housenumber_key("3A") == "3a"


def test_hauskoordinaten_with_header() -> None:
    t = read_address_file(DATA / "hauskoordinaten_sample.csv")
    assert list(t.columns) == ADDRESS_COLUMNS
    assert len(t) == 9 and t.attrs["dropped"] == 1 and "line 11" in t.attrs["problems"][0]
    assert t["postcode"].map(type).eq(str).all() and set(t["postcode"]) == {"28237", "28325", "28239", "27576"}
    row = t[t["id"] == "DEHBTEST00000003"].iloc[0]
    assert (row["street"], row["housenumber"]) == ("Lindenhofstraße", "3a")
    assert row["lon"] == pytest.approx(8.7567, abs=1e-3) and row["lat"] == pytest.approx(53.1133, abs=1e-3)
    zone = t[t["id"] == "DEHBTEST00000004"].iloc[0]  # easting with zone prefix 32
    assert zone["lon"] == pytest.approx(8.759, abs=1e-3)
    comma = t[t["id"] == "DEHBTEST00000005"].iloc[0]  # decimal commas
    assert comma["lon"] == pytest.approx(8.9574, abs=1e-3) and comma["lat"] == pytest.approx(53.0714, abs=1e-3)


def test_hauskoordinaten_without_header_in_cp1252() -> None:
    t = read_hauskoordinaten(DATA / "hauskoordinaten_noheader_cp1252.txt")
    assert list(t["street"]) == ["Fischerstraße", "Mühlenweg"] and list(t["housenumber"]) == ["2", "5b"]


def test_osm_addresses() -> None:
    t = read_address_file(DATA / "osm_addresses.geojson")
    assert list(t["id"]) == ["node/9000000001", "way/9000000002", "node/9000000004"]
    assert t.attrs["dropped"] == 1  # no house number
    poly = t[t["id"] == "way/9000000002"].iloc[0]  # building polygon -> representative point
    assert 8.9577 <= poly["lon"] <= 8.9580 and 53.0699 <= poly["lat"] <= 53.0701


def test_missing_columns_are_all_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("NBA;OI;QUA;LAN;PLZ;ONM\nN;X;A;04;28237;Bremen\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_hauskoordinaten(bad)
    assert {p.message.split()[1] for p in exc.value.problems} == {"EAST", "NORTH", "STN", "HNR"}


def test_file_without_usable_rows(tmp_path: Path) -> None:
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                     '"geometry": null}]}', encoding="utf-8")
    with pytest.raises(InputError, match="no usable address"):
        read_address_file(empty)
    with pytest.raises(InputError, match="not found"):
        read_address_file(tmp_path / "missing.csv")
