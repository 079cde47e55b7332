"""Implausible statistics are never published: each fault below fails the build with exit code 2, a message
naming file, row and value, and leaves the published snapshot current (issue 13, part 1)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from geo.pipeline.snapshot import current_version, load_snapshot
from service.cli import main
from tests.official import RAW
from tests.test_bad_input import _build_fails, _edit_csv

T2023 = "12411-03-03-2023.csv"
TENEVER = "04011373;Tenever (Ortsteil);2023-12-31;Insgesamt;10130;"


def _fails_with(mini: Path, out: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[str], str],
                *expected: str) -> str:
    _edit_csv(mini / RAW / T2023, edit)
    err = _build_fails(mini, out, capsys)
    for text in expected:
        assert text in err, err[:3000]
    return err


def test_same_table_and_year_twice(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(mini_data / RAW / T2023, mini_data / RAW / "12411-03-03-2023-copy.csv")
    err = _build_fails(mini_data, published, capsys)
    assert "table 12411-03-03 for 2023 is given by 2 files" in err
    assert "12411-03-03-2023-copy.csv" in err and "12411-03-03-2023.csv" in err


def test_nine_digit_key_is_an_error_not_a_footnote(mini_data: Path, published: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, "0" + TENEVER, 1),
                T2023, "column Gebietsschlüssel: key '004011373' (Tenever (Ortsteil)) does not match the ortsteil")


def test_seven_digit_key_in_an_ortsteil_row(mini_data: Path, published: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, TENEVER[1:], 1),
                      T2023, "key '4011373' (Tenever (Ortsteil)) does not match the ortsteil pattern")
    assert "line " in err


@pytest.mark.parametrize("value, expected", [
    ("99999999999999999999999", "count 99,999,999,999,999,991,611,392 exceeds the total"),
    ("342,5", "count 342.5 is not a whole number"),
])
def test_implausible_count(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str], value: str,
                           expected: str) -> None:
    _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, TENEVER.replace("10130", value), 1),
                T2023, "column total: 04011373 2023-12-31 Insgesamt", expected)


def test_exponent_is_not_a_count(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, TENEVER.replace("10130", "+1e12"), 1),
                T2023, "value '+1e12' for 04011373 / total is neither a number nor a known marker")


def test_city_total_beyond_twice_its_last_known(mini_data: Path, published: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    city = "04011;Stadt Bremen;2023-12-31;Insgesamt;577026;"
    _fails_with(mini_data, published, capsys, lambda t: t.replace(city, city.replace("577026", "1577026"), 1),
                "04011 2023: total 1,577,026 is more than 2 times its last known total")


def test_one_duplicated_row(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def dup(text: str) -> str:
        row = next(ln for ln in text.splitlines() if ln.startswith(TENEVER))
        return text.replace(row, row + "\r\n" + row, 1)

    _fails_with(mini_data, published, capsys, dup, T2023, "row 04011373 2023-12-31 Insgesamt occurs 2 times")


def test_many_duplicated_rows(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def dup(text: str) -> str:
        rows = [ln for ln in text.splitlines() if ln.split(";")[0].isdigit()]
        block = "\r\n".join(rows)
        copies = 600_000 // len(rows) + 1
        return text.replace(rows[-1], rows[-1] + ("\r\n" + block) * copies, 1)

    err = _fails_with(mini_data, published, capsys, dup, T2023, "duplicate", "more duplicated rows like these")
    assert len(err) < 20_000  # listed up to a limit, not 600,000 lines


@pytest.mark.parametrize("date, expected", [
    ("1899-12-31", "date 1899-12-31 lies outside the file's year 2023"),
    ("abcd-12-31", "date 'abcd-12-31' is not a date"),
])
def test_bad_date(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str], date: str,
                  expected: str) -> None:
    _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, TENEVER.replace("2023-12-31", date), 1),
                T2023, "column Zeit: 04011373", expected)


def test_age_groups_above_the_total(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the total is lowered (still positive, still below the city): aged_18_64 would be negative
    _fails_with(mini_data, published, capsys, lambda t: t.replace(TENEVER, TENEVER.replace("10130", "130"), 1),
                "04011373 2023 aged_18_64: derived count", "is negative", T2023)


def test_secondary_percentage_out_of_range(mini_data: Path, data_dir: Path, published: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = mini_data / "bremen-sozialindikatoren"
    folder.mkdir()
    name = "alle_indikatoren_long.csv"
    lines = (data_dir / "bremen-sozialindikatoren" / name).read_text(encoding="utf-8").split("\n")
    n = next(i for i, ln in enumerate(lines) if "04011373,wahlbeteiligung_btw_pct,50.1," in ln)
    lines[n] = lines[n].replace(",50.1,", ",150.1,")
    (folder / name).write_text("\n".join(lines), encoding="utf-8")
    err = _build_fails(mini_data, published, capsys)
    assert f"{name}: line {n + 1}, column wert: 04011373 2013 si_wahlbeteiligung_btw_pct: value 150.1 is a " \
           "percentage outside 0-100" in err, err[:3000]


def test_population_jump_is_a_warning(mini_data: Path, published: Path) -> None:
    _edit_csv(mini_data / RAW / T2023, lambda t: t.replace(TENEVER, TENEVER.replace("10130", "40130"), 1))
    # the sums no longer match either (a warning): the build goes on and records both
    before = current_version(published)
    assert main(["build", "--data", str(mini_data), "--out", str(published)]) == 0
    assert current_version(published) != before
    problems = load_snapshot(published).manifest["validation"]
    jump = [p for p in problems if p["check"] == "population_jump"]
    assert jump and "10," in jump[0]["message"] and "40,130 (2023)" in jump[0]["message"]


def test_one_more_plausible_year_still_builds(mini_data: Path, data_dir: Path, tmp_path: Path) -> None:
    shutil.copy(data_dir / RAW / "12411-03-03-2021.csv", mini_data / RAW)
    out = tmp_path / "s"
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 0
    assert load_snapshot(out).manifest["validation"] is not None


def test_data_rows_after_the_footnotes(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = TENEVER + "1;2;3;4;5;6;7;8"
    _fails_with(mini_data, published, capsys, lambda t: t + "\r\n" + row.replace("04011373", "04011379") + "\r\n",
                T2023, "data row after the start of the footnotes")


@pytest.mark.parametrize("label, expected", [
    ("-5", "column Altersgruppe: '-5' is not an age group"),  # a value shifted into the label column
    ("3 - 7", "the age groups do not cover the ages 0 to open end once each"),  # overlaps "6 - 10"
])
def test_unreadable_or_overlapping_age_group(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str],
                                             label: str, expected: str) -> None:
    row = "04011373;Tenever (Ortsteil);2023-12-31;3 - 6;"
    _fails_with(mini_data, published, capsys, lambda t: t.replace(row, row.replace("3 - 6", label)), T2023, expected)


def test_an_emptied_known_table_is_an_error_not_an_ignored_stranger(mini_data: Path, published: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = mini_data / RAW / "12411-03-03-2022.csv"
    path.chmod(0o644)
    path.write_bytes(b"")
    err = _build_fails(mini_data, published, capsys)
    assert f"[error] {path}: file is empty" in err


def test_a_reader_error_names_the_file_once(mini_data: Path, published: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = mini_data / RAW / T2023
    half = path.read_bytes()[: path.stat().st_size // 2]
    path.chmod(0o644)
    path.write_bytes(half)
    err = _build_fails(mini_data, published, capsys)
    (line,) = [x for x in err.splitlines() if "[error]" in x]
    assert line.count(str(path)) == 1 and "line " in line, line


def test_a_designations_list_cut_short_is_an_error(mini_data: Path, data_dir: Path, published: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(data_dir / "bremen-foerdergebiete", mini_data / "bremen-foerdergebiete")
    (path,) = (mini_data / "bremen-foerdergebiete").glob("*.csv")
    text = path.read_text(encoding="utf-8")
    path.chmod(0o644)
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut in the middle of a record
    err = _build_fails(mini_data, published, capsys)
    assert f"{path}, line " in err and "where the header has 8" in err and "cut short" in err


def test_an_emptied_table_named_by_its_digits_is_an_error(mini_data: Path, data_dir: Path, published: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Table 173-22 is published as 17322.csv: emptied, it is a damaged input, not a stranger to skip."""
    shutil.copytree(data_dir / "bremen-migration-alter-2013", mini_data / "bremen-migration-alter-2013")
    path = mini_data / "bremen-migration-alter-2013" / "raw" / "17322.csv"
    path.chmod(0o644)
    path.write_bytes(b"")
    err = _build_fails(mini_data, published, capsys)
    assert f"[error] {path}: file is empty" in err


def test_a_social_list_cut_inside_its_last_record_is_an_error(mini_data: Path, data_dir: Path, published: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(data_dir / "bremen-sozialindikatoren", mini_data / "bremen-sozialindikatoren")
    path = mini_data / "bremen-sozialindikatoren" / "alle_indikatoren_long.csv"
    text = path.read_text(encoding="utf-8")
    cut = text.rindex(",", 0, len(text) // 2) + 5  # inside the last field of a record: the field count is right
    path.chmod(0o644)
    path.write_text(text[:cut], encoding="utf-8")
    err = _build_fails(mini_data, published, capsys)
    assert f"{path}, line " in err and "the file ends inside a record" in err


def test_names_decoded_with_the_wrong_character_set_are_an_error() -> None:
    import pandas as pd

    from geo.pipeline.validate import check_names

    frame = pd.DataFrame({"name": ["Findorff-BÃ¼rgerweide", "Ã\x9cberseestadt", "Gröpelingen", "Neustädter Hafen"],
                          "source_file": ["hb_ortsteile_BRE.shp"] * 4})
    (problem,) = check_names(frame, "ortsteil")
    assert problem.severity == "error" and problem.file == "hb_ortsteile_BRE.shp"
    assert "2 name(s) look decoded with the wrong character set" in problem.message
    assert "Findorff-BÃ¼rgerweide" in problem.message and ".cpg" in problem.message
    assert check_names(frame.iloc[2:], "ortsteil") == []
