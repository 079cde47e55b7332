"""Plausibility of the national tables (geo.national.checks) on mutated copies of the real files.

The copies live in a temporary folder: unchanged files are symbolic links to ``../shared/data``, a mutated file is
a real copy (for the gzip tables: the published bytes with one more gzip member appended, which every gzip reader
reads as a continuation of the file).
"""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pytest

from geo.national import checks, sources
from geo.national.build import FILES
from service.cli import main

pytestmark = pytest.mark.realdata

FOLDERS = ("de-verwaltungsgebiete", "de-inkar-2024-auszug", "de-gisd-rki", "de-bbsr-raumgliederung-2015")


def _linked_copy(data: Path, root: Path) -> Path:
    for folder in FOLDERS:
        for path in (data / folder).rglob("*"):
            if path.is_file():
                target = root / path.relative_to(data)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(path)
    return root


def _own(root: Path, name: str) -> Path:
    """Replace the link of ``FILES[name]`` by a writable copy of the official file."""
    path = root / FILES[name]
    original = path.resolve()
    path.unlink()
    shutil.copy(original, path)
    path.chmod(0o644)
    return path


def _edit_csv(path: Path, key_column: str, key: str, column: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    row = next((r for r in rows if r[key_column] == key), None)
    assert row is not None, f"{key} not found in {path}"
    row[column] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _append_gzip(path: Path, rows: list[str]) -> None:
    with path.open("ab") as f:
        f.write(gzip.compress(("\n".join(rows) + "\n").encode()))


@pytest.fixture()
def national_copy(national_dir: Path, tmp_path: Path) -> Path:
    return _linked_copy(national_dir, tmp_path / "data")


def test_implausible_national_values_are_all_reported_and_nothing_is_published(
        national_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    krs = _own(national_copy, "vg250ew_krs")
    _edit_csv(krs, "AGS", "04011", "EWZ", "99999999999")  # a Kreis with 10^11 residents
    gem = _own(national_copy, "vg250ew_gem")
    _edit_csv(gem, "AGS", "04012000", "EWZ", "113643.5")  # half a resident (Bremerhaven)
    inkar = _own(national_copy, "inkar")
    _append_gzip(inkar, ["Kreis,04011,04011,Bremen,2023,sozialleistungen,q_SGBII,150",
                         "Kreis,04011,04011,Bremen,2024,sozialleistungen,a_GSa,1e400",
                         "Kreis,04012,04012,Bremerhaven,1899,sozialleistungen,q_SGBII,20"])
    gisd = _own(national_copy, "gisd_inputs")
    _append_gzip(gisd, ["A_Arbeitslosigkeit.xls,Arbeitslose,Kreise,04011,Bremen,2023,-5.0"])
    out = tmp_path / "snapshots"
    assert main(["build", "--dataset", "germany", "--data", str(national_copy), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert not (out / "CURRENT").exists() and not [p for p in out.glob("*") if p.name != ".build.lock"]
    assert "vg250ew_krs_attribute.csv" in err and "outside the plausible" in err
    assert "kreis 04011 (Bremen): 99,999,999,999 residents" not in err  # the Kreis itself is the bound, not above
    assert "gemeinde 04012000: EWZ 113643.5 is not a whole number of residents" in err
    assert "inkar2024_auszug_long.csv.gz" in err
    assert "kreis 04011 2023 q_SGBII: value 150 lies outside 0-100" in err
    assert "kreis 04011 2024 a_GSa: value inf is not a finite number" in err
    assert "year 1899 (1 row(s)) lies outside 1990-" in err
    assert "gisd_input_indicators_long.csv.gz" in err and "kreis 04011 2023 Arbeitslosigkeit: value -5 is a " \
        "negative count" in err


def test_a_gemeinde_above_its_kreis_and_a_gisd_score_above_1(national_copy: Path) -> None:
    gem = _own(national_copy, "vg250ew_gem")
    _edit_csv(gem, "AGS", "04012000", "EWZ", "900000")
    attrs = {level: sources.read_vg250ew(national_copy / FILES[name], level)
             for level, name in (("gemeinde", "vg250ew_gem"), ("gemeindeverband", "vg250ew_vwg"),
                                 ("kreis", "vg250ew_krs"))}
    (problem,) = checks.check_population(attrs, {"gemeinde": str(gem)})
    assert problem.check == "national_population" and problem.file == str(gem)
    assert "gemeinde 04012000 (Bremerhaven): 900,000 residents, more than its Kreis 04012" in problem.message

    release = _own(national_copy, "gisd_kreis")
    _edit_csv(release, "kreis_id", "04011", "gisd_score", "1.7")
    found = checks.check_gisd_release(sources.read_gisd_release(release), str(release))
    assert [p.severity for p in found] == ["error"]
    assert "04011" in found[0].message and "value 1.7 lies outside 0-1" in found[0].message


def test_duplicated_gisd_input_rows_are_an_error(national_copy: Path) -> None:
    gisd = _own(national_copy, "gisd_inputs")
    with gzip.open(gisd, "rt") as f:
        first = f.readlines()[1].rstrip("\n")
    _append_gzip(gisd, [first])
    found = checks.check_gisd_inputs(sources.read_gisd_inputs(gisd), str(gisd))
    dup = [p for p in found if p.check == "national_duplicate_row"]
    assert len(dup) == 1 and "1 duplicate (variable, level, key, year) row(s)" in dup[0].message


def test_todays_national_data_has_no_errors_and_warnings_only_on_series_outside_the_need_index(
        national_assembly) -> None:  # type: ignore[no-untyped-def]
    national = [p for p in national_assembly.problems if p.check.startswith("national_")]
    assert all(p.severity == "warning" for p in national), [str(p) for p in national if p.severity == "error"]
    values = [p for p in national if p.check == "national_value"]
    assert values, "the published extract has shares above 100 (Kita places per child): expected as warnings"
    assert not {p.detail["series"] for p in values} & set(checks.INKAR_NEED_BOUNDS)
    jumps = [p for p in national if p.check == "national_rate_jump"]
    assert all(p.detail["series"] in checks.INKAR_NEED_BOUNDS for p in jumps)
    assert all(abs(p.detail["to"] - p.detail["from"]) > checks.MAX_JUMP_PP for p in jumps)
