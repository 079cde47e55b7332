"""The statistics-office CSV reader on a tiny hand-made table and on malformed variants of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo.errors import InputError
from geo.pipeline.indicators import counts_from_population_table, parse_age_group
from geo.pipeline.sources.statistics import read_statistics_csv

TINY = Path(__file__).parent / "data" / "tiny_12411-03-03.csv"


def test_reads_multirow_header_and_values() -> None:
    table = read_statistics_csv(TINY)
    assert table.table_id == "12411-03-03"
    d = table.data
    row = d[(d.key == "04099111") & (d.age_group == "Insgesamt") & (d.measure == "foreign")]
    assert row["value"].item() == 32
    assert row["year"].item() == 2023
    assert set(d["measure"]) == {"total", "male", "female", "german", "german_male", "german_female", "foreign",
                                 "foreign_male", "foreign_female"}
    assert table.footnotes[0].startswith("1) Hand-made fixture")


def test_markers_become_missing_with_reason_never_zero() -> None:
    d = read_statistics_csv(TINY).data
    leer = d[d.key == "04099112"].set_index(["age_group", "measure"])
    assert np.isnan(leer.loc[("unter 18", "total"), "value"])
    assert leer.loc[("unter 18", "total"), "flag"] == "suppressed"
    assert leer.loc[("18 - 65", "total"), "flag"] == "nothing_reported"
    assert leer.loc[("18 - 65", "foreign"), "flag"] == "unknown"
    assert leer.loc[("65 und mehr", "total"), "flag"] == "empty"
    assert (d[d.key == "04099112"]["value"].isna()).all()


def test_counts_from_age_groups() -> None:
    counts = counts_from_population_table(read_statistics_csv(TINY).data)
    row = counts.loc[("04099111", 2023)]
    # by hand: under 18 = 40; 65+ = 60; 18-64 = 200 - 40 - 60 = 100; foreign under 18 = 10
    assert (row["population"], row["under_18"], row["aged_65_plus"], row["aged_18_64"]) == (200, 40, 60, 100)
    assert row["foreign_under_18"] == 10
    missing = counts.loc[("04099112", 2023)]
    assert np.isnan(missing["population"]) and missing["population__flag"] == "suppressed"


@pytest.mark.parametrize(("label", "bounds"), [("unter 3", (0, 3)), ("3 - 6", (3, 6)),
                                               ("90 und mehr", (90, float("inf")))])
def test_age_groups(label: str, bounds: tuple[float, float]) -> None:
    assert parse_age_group(label) == bounds


def _variant(tmp_path: Path, text: str, encoding: str = "iso-8859-1") -> Path:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_utf8_file_is_rejected_with_hint(tmp_path: Path) -> None:
    text = TINY.read_bytes().decode("iso-8859-1")
    path = _variant(tmp_path, text, "utf-8")
    with pytest.raises(InputError, match=r"table\.csv: file is UTF-8, expected ISO-8859-1"):
        read_statistics_csv(path)


def test_unknown_table_id(tmp_path: Path) -> None:
    text = TINY.read_bytes().decode("iso-8859-1").replace("12411-03-03:", "99999-01:")
    with pytest.raises(InputError, match=r"unknown layout: table '99999-01' is not one of the known tables"):
        read_statistics_csv(_variant(tmp_path, text))


def test_unknown_columns(tmp_path: Path) -> None:
    text = TINY.read_bytes().decode("iso-8859-1").replace(";insgesamt;männlich;", ";total;männlich;")
    with pytest.raises(InputError, match=r"columns not as expected; missing \['Bevölkerung\|insgesamt'\]"):
        read_statistics_csv(_variant(tmp_path, text))


def test_no_title_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="first line should be '<table id>: <title>'"):
        read_statistics_csv(_variant(tmp_path, "a;b;c\r\n1;2;3\r\n"))


def test_garbage_value_named(tmp_path: Path) -> None:
    text = TINY.read_bytes().decode("iso-8859-1").replace("Insgesamt;200;", "Insgesamt;zwei;")
    with pytest.raises(InputError, match=r"value 'zwei' for 04099111 / total is neither a number nor a known marker"):
        read_statistics_csv(_variant(tmp_path, text))


def test_ragged_row_named(tmp_path: Path) -> None:
    text = TINY.read_bytes().decode("iso-8859-1").replace("unter 18;40;20;20;", "unter 18;40;20;")
    with pytest.raises(InputError, match=r"line 5: expected 13 fields separated by ';', found 12"):
        read_statistics_csv(_variant(tmp_path, text))
