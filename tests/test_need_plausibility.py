"""Implausible need series and census cells are never published: each fault below fails the build with exit code
2, a message naming the file, the cell and the value, and leaves the published snapshot current; today's official
files pass with warnings only (geo/pipeline/checks_need.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import openpyxl
import pytest

from geo.pipeline.catalogue import load_need_catalogue, normalise_name
from geo.pipeline.checks_need import check_rate_jumps, units_of
from tests.official import copy_official
from tests.test_bad_input import _build_fails

ATLAS = "bremen-ortsteilatlas/raw"
WORKBOOK = "Bremen_Datentabelle_Ortsteilatlas.xlsx"
CENSUS22 = "bremen-zensus2022-100m-auszug"
CENSUS11 = "de-zensus2011-1km-gitter/raw"
WAHL = "bremen-wahlatlas-2023/raw"


@pytest.fixture
def mini_data(data_dir: Path, tmp_path: Path) -> Path:
    """Boundaries, the newest population table, the Ortsteilatlas and both census grids (copies)."""
    return copy_official(data_dir, tmp_path / "data", years=(2023,), folders=(ATLAS, CENSUS22, CENSUS11, WAHL),
                         writable=True)


def _sgb2_column(ws: openpyxl.worksheet.worksheet.Worksheet) -> int:
    """The first year column of sgb2_u65_pct in its sheet (1-based)."""
    entry = next(i for i in load_need_catalogue().atlas_indicators if i.id == "sgb2_u65_pct")
    return next(c.column for c in ws[2] if c.value is not None and normalise_name(str(c.value)) == entry.name)


def _edit_workbook(mini: Path, edit: object) -> None:
    path = mini / ATLAS / WORKBOOK
    wb = openpyxl.load_workbook(path)
    ws = next(w for w in wb.worksheets if w.title == "Sozialleistungen")
    edit(ws, _sgb2_column(ws))  # type: ignore[operator]
    wb.save(path)


def _row_of(ws: openpyxl.worksheet.worksheet.Worksheet, code: int) -> int:
    return next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value in (code, str(code)))


def test_sgb2_share_above_100_and_negative(mini_data: Path, published: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet, col: int) -> None:
        ws.cell(_row_of(ws, 112), col + 1).value = 150
        ws.cell(_row_of(ws, 373), col + 1).value = -3

    _edit_workbook(mini_data, edit)
    err = _build_fails(mini_data, published, capsys)
    letter = openpyxl.utils.get_column_letter
    ws = openpyxl.load_workbook(mini_data / ATLAS / WORKBOOK)["Sozialleistungen"]
    col = _sgb2_column(ws) + 1
    assert WORKBOOK in err
    assert f"sheet 'Sozialleistungen', cell {letter(col)}{_row_of(ws, 112)} (04011112)" in err
    assert "sgb2_u65_pct: value 150 is a percentage outside 0-100" in err
    assert f"cell {letter(col)}{_row_of(ws, 373)} (04011373)" in err and "value -3 is a percentage" in err


def test_year_column_twice_with_different_values(mini_data: Path, published: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet, col: int) -> None:
        ws.cell(3, col + 1).value = ws.cell(3, col).value  # the second year column claims the first one's year

    _edit_workbook(mini_data, edit)
    err = _build_fails(mini_data, published, capsys)
    assert "is given twice with different values: sheet 'Sozialleistungen' cell" in err, err[:3000]
    assert WORKBOOK in err


def _edit_census(mini: Path, line: int, value: str) -> None:
    path = next((mini / CENSUS22).glob("*.csv.gz"))
    lines = gzip.decompress(path.read_bytes()).decode().split("\n")
    parts = lines[line - 1].split(",")
    parts[3] = value
    lines[line - 1] = ",".join(parts)
    path.write_bytes(gzip.compress("\n".join(lines).encode()))


@pytest.mark.parametrize(("value", "reason"), [("-4", "count -4 is negative"),
                                                ("2.5", "count 2.5 is not a whole number")])
def test_census_2022_count_negative_or_decimal(mini_data: Path, published: Path,
                                               capsys: pytest.CaptureFixture[str], value: str, reason: str) -> None:
    _edit_census(mini_data, 3, value)
    err = _build_fails(mini_data, published, capsys)
    assert "line 3: demography_STAATSANGE_KURZ_2, cell x=4237350 y=3332150: " + reason in err, err[:3000]
    assert "zensus2022_100m_" in err


def test_known_child_poverty_jump_is_a_warning() -> None:
    import pandas as pd

    rows = pd.DataFrame({"key": ["04011122"] * 2, "year": [2016, 2017], "indicator": ["sgb2_u15_pct"] * 2,
                         "value": [34.0, 87.5], "source": ["x"] * 2})
    (p,) = check_rate_jumps(rows, units_of(load_need_catalogue()), "atlas.xlsx")
    assert p.severity == "warning" and "+53.5 pp" in p.message


def test_todays_data_has_warnings_only(published: Path) -> None:
    import json

    from geo.pipeline.snapshot import current_version

    manifest = json.loads((published / str(current_version(published)) / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert "rate_jump" in text
