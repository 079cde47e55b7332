"""Reader for the data table of the Bremer Ortsteilatlas (Statistisches Landesamt Bremen, InstantAtlas workbook).

The workbook is read as published, every sheet, indicator, level and year, without knowing any indicator: row 1
holds the topic, row 2 an indicator name above the first year column of its block, row 3 the years (a year, or a
period such as ``2012-2013``), then one row per area. Column A holds the code (3-digit Ortsteil, 2-digit
Stadtteil, 1-digit Stadtbezirk, empty for the city), column B the name. Keys are ``<prefix>`` + code, + code +
``0``, + code + ``00`` and ``<prefix>000``.

Empty cells and markers (``x``, ``-``, ``.``, ...) become missing values with their reason in ``flag``, as in
:mod:`geo.pipeline.sources.statistics`, never 0. Anything unexpected (a code that is no district, a text that is
no marker,
a year that cannot be read, an indicator whose block has no year) is reported as a warning and left out; only a
file that is not a workbook of this layout is an error.

Which indicators enter the snapshot, under which id, is decided by :func:`to_indicators` from the need catalogue
(``geo/pipeline/need_catalogue.yml``); an indicator the catalogue does not know is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataNotFoundError, InputError, Problem
from geo.pipeline.catalogue import NeedCatalogue, NeedIndicator, normalise_name
from geo.pipeline.checks_need import check_atlas_duplicates
from geo.pipeline.sources.statistics import MARKERS

DATA_COLUMNS = ["topic", "sheet", "indicator_name", "column", "code", "area_name", "key", "level", "year",
                "period", "value", "flag", "row"]
LEVEL_BY_CODE_LENGTH = {3: "ortsteil", 2: "stadtteil", 1: "stadtbezirk", 0: "stadt"}
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_PERIOD = re.compile(r"^\s*(\d{4})\s*[-–/]\s*(\d{4})\s*$")
_NUMBER_TEXT = re.compile(r"^-?\d+([.,]\d+)?$")


@dataclass
class AtlasTable:
    """One workbook, read and tidied: one row per indicator, area and year column (``DATA_COLUMNS``)."""

    file: Path
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    #: every indicator block of every sheet (also of sheets whose cells were not read): topic, sheet,
    #: indicator_name, column (its first), years
    inventory: pd.DataFrame = field(default_factory=pd.DataFrame)


def column_letter(index: int) -> str:
    """0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_year(cell: object) -> tuple[int, str] | None:
    """Parse a year header into (year, label), or None.

    ``2018`` -> (2018, "2018"); ``"2012-2013"`` -> (2013, "2012-2013") (a period counts as its last year);
    anything else -> None.
    """
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if float(cell).is_integer() and 1800 <= int(cell) <= 2200:
            return int(cell), str(int(cell))
        return None
    text = str(cell)
    if m := _YEAR.match(text):
        return int(m.group(1)), m.group(1)
    if m := _PERIOD.match(text):
        return int(m.group(2)), f"{m.group(1)}-{m.group(2)}"
    return None


def parse_code(cell: object) -> str | None:
    """Column A: an Ortsteil, Stadtteil or Stadtbezirk number as digits, ``""`` for the city, None if no code."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, float):
        if not cell.is_integer():
            return None
        cell = int(cell)
    text = str(cell).strip()
    if text == "":
        return ""
    return text if text.isdigit() and len(text) in (1, 2, 3) else None


def area_key(code: str, prefix: str) -> str:
    """``373`` -> ``04011373``; ``37`` -> ``04011370``; ``3`` -> ``04011300``; ``""`` -> ``04011000``."""
    return prefix + (code + "0" * (3 - len(code)) if code else "000")


def _cell_value(cell: object) -> tuple[float, str]:
    """(value, flag): a number with an empty flag, or NaN with the reason (``unreadable`` for unknown text)."""
    if cell is None:
        return np.nan, MARKERS[""]
    if isinstance(cell, bool):
        return np.nan, "unreadable"
    if isinstance(cell, int | float):
        value = float(cell)
        return (value, "") if np.isfinite(value) else (np.nan, "unknown")
    text = str(cell).strip()
    if text in MARKERS:
        return np.nan, MARKERS[text]
    if _NUMBER_TEXT.match(text):
        return float(text.replace(",", ".")), ""
    return np.nan, "unreadable"


def read_ortsteilatlas(path: str | Path, *, key_prefix: str = "04011",
                       topics: Collection[str] | None = None) -> AtlasTable:
    """Read every sheet, indicator, area and year of an Ortsteilatlas workbook as published.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    key_prefix
        The city part of the 8-digit keys (``04011``: city of Bremen).
    topics
        Read the cells only of the sheets with these topics (row 1); default every sheet. The headers of every
        sheet are read in any case (``inventory``).

    Raises
    ------
    DataNotFoundError, InputError
        When the file is missing, is no workbook, or no sheet has the layout described above.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    problems: list[Problem] = []
    frames: list[pd.DataFrame] = []
    inventory: list[tuple[str, str, str, str, list[int]]] = []
    wanted = {normalise_name(t) for t in topics or []}
    for title, rows in _sheets(path):
        inventory += _inventory(title, rows[:3])
        if topics is not None and (not inventory or inventory[-1][0] not in wanted):
            continue
        frame = _read_sheet(path, title, rows, key_prefix, problems)
        if frame is not None:
            frames.append(frame)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DATA_COLUMNS)
    inv = pd.DataFrame(inventory, columns=["topic", "sheet", "indicator_name", "column", "years"])
    if inv.empty:
        raise InputError(f"{path}: unknown layout: no sheet has a topic in row 1, indicator names in row 2, years "
                         "in row 3 and coded area rows below (as the Ortsteilatlas data table)")
    data["value"] = data["value"].astype(float)
    data["year"] = data["year"].astype(int)
    dup = data.duplicated(["topic", "indicator_name", "key", "year"], keep="first")
    if dup.any():  # equal values: a warning, the first column is used; different values: an error
        problems += check_atlas_duplicates(data, str(path))
        data = data[~dup]
    return AtlasTable(file=path, data=data.reset_index(drop=True), problems=problems, inventory=inv)


def _calamine_cell(cell: object) -> object:
    """A calamine cell as openpyxl gives it: empty -> None, a whole-number float -> int."""
    if cell == "":
        return None
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _sheets(path: Path) -> list[tuple[str, list[tuple[object, ...]]]]:
    """Every sheet's title and rows of cell values, as openpyxl would give them (read with python-calamine)."""
    from python_calamine import CalamineWorkbook  # imported here: only the build needs it

    try:
        book = CalamineWorkbook.from_path(str(path))
        return [(name, [tuple(_calamine_cell(c) for c in row)
                        for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)])
                for name in book.sheet_names]
    except Exception as exc:  # CalamineError, zip errors: not a workbook
        raise InputError(f"{path}: cannot be read as an Excel workbook (.xlsx): {exc}") from exc


def _inventory(title: str, head: list[tuple[object, ...]]) -> list[tuple[str, str, str, str, list[int]]]:
    """The indicator blocks named in a sheet's first three rows."""
    if len(head) < 3:
        return []
    width = max(len(r) for r in head)
    names, years = (tuple(r) + (None,) * (width - len(r)) for r in head[1:3])
    topic = normalise_name(next((c for c in head[0] if c not in (None, "")), title))
    starts = [j for j in range(2, width) if names[j] not in (None, "") and normalise_name(names[j])]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else width
        ys = sorted({p[0] for j in range(start, end) if (p := parse_year(years[j])) is not None})
        out.append((topic, title, normalise_name(names[start]), column_letter(start), ys))
    return out


def _read_sheet(path: Path, title: str, rows: list[tuple[object, ...]], prefix: str,
                problems: list[Problem]) -> pd.DataFrame | None:
    """One sheet's cells in long form (None when nothing can be read); its problems appended to ``problems``."""
    where = f"sheet {title!r}"
    if len(rows) < 4:
        problems.append(Problem("atlas_layout", f"{where}: fewer than 4 rows (topic, names, years, areas); "
                                "left out", "warning", file=str(path)))
        return None
    width = max(len(r) for r in rows)
    rows = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    topic = normalise_name(next((c for c in rows[0] if c not in (None, "")), title))
    names, years = rows[1], rows[2]
    starts = [j for j in range(2, width) if names[j] not in (None, "") and normalise_name(names[j])]
    if not starts:
        problems.append(Problem("atlas_layout", f"{where}: no indicator name in row 2; left out", "warning",
                                file=str(path)))
        return None
    areas = _area_rows(rows, prefix, where, path, problems)
    if not areas:
        problems.append(Problem("atlas_layout", f"{where}: no area rows with a code in column A; left out",
                                "warning", file=str(path)))
        return None
    grid = np.array([rows[i] for i, *_ in areas], dtype=object)
    picked, meta = _year_columns(names, years, starts, width, grid, where, path, problems)
    if not picked:
        return None
    n_areas = len(areas)
    cells = pd.Series(grid[:, picked].ravel(order="F"), dtype=object)  # column by column
    value, flag = _cell_values(cells)
    bad = flag == "unreadable"
    if bad.any():
        examples = [f"{meta[int(k) // n_areas][3]}{areas[int(k) % n_areas][0] + 1}={cells[k]!r}"
                    for k in cells.index[bad][:5]]
        problems.append(Problem("atlas_unreadable", f"{where}: {int(bad.sum())} cell(s) hold text that is neither a "
                                f"number nor a known marker, kept as missing ('unreadable'): "
                                f"{', '.join(examples)}{' ...' if bad.sum() > 5 else ''}", "warning",
                                file=str(path)))
    n_cols = len(picked)
    return pd.DataFrame({
        "topic": topic, "sheet": title,
        "indicator_name": np.repeat([m[0] for m in meta], n_areas),
        "column": np.repeat([m[3] for m in meta], n_areas),
        "code": np.tile([a[1] for a in areas], n_cols),
        "area_name": np.tile([a[2] for a in areas], n_cols),
        "key": np.tile([a[3] for a in areas], n_cols),
        "level": np.tile([a[4] for a in areas], n_cols),
        "year": np.repeat([m[1] for m in meta], n_areas),
        "period": np.repeat([m[2] for m in meta], n_areas),
        "value": value.to_numpy(float), "flag": flag.to_numpy(object),
        "row": np.tile([a[0] + 1 for a in areas], n_cols),
    })


def _area_rows(rows: list[tuple[object, ...]], prefix: str, where: str, path: Path,
               problems: list[Problem]) -> list[tuple[int, str, str, str, str]]:
    """The area rows below the header (row index, code, name, key, level); unknown codes and repeats left out."""
    areas: list[tuple[int, str, str, str, str]] = []
    seen: set[str] = set()
    for i in range(3, len(rows)):
        code_cell, name_cell = rows[i][0], rows[i][1]
        if all(c in (None, "") for c in rows[i]):
            continue
        code = parse_code(code_cell)
        area_name = normalise_name(name_cell) if name_cell not in (None, "") else ""
        if code is None or (code == "" and not area_name):
            problems.append(Problem("atlas_unknown_area", f"{where}, row {i + 1}: code {code_cell!r} ({area_name}) "
                                    "is no Ortsteil, Stadtteil or Stadtbezirk number; row left out", "warning",
                                    file=str(path)))
            continue
        key = area_key(code, prefix)
        if key in seen:
            problems.append(Problem("atlas_duplicate", f"{where}, row {i + 1}: area {key} occurs twice; the first "
                                    "row is used", "warning", file=str(path), key=key))
            continue
        seen.add(key)
        areas.append((i, code, area_name, key, LEVEL_BY_CODE_LENGTH[len(code)]))
    return areas


def _year_columns(names: tuple[object, ...], years: tuple[object, ...], starts: list[int], width: int,
                  grid: np.ndarray, where: str, path: Path,
                  problems: list[Problem]) -> tuple[list[int], list[tuple[str, int, str, str]]]:
    """The columns with a readable year, and for each its indicator name, year, period and column letter."""
    picked: list[int] = []
    meta: list[tuple[str, int, str, str]] = []  # indicator name, year, period, column letter
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else width
        name = normalise_name(names[start])
        n_years = 0
        for j in range(start, end):
            parsed = parse_year(years[j])
            if parsed is None:
                if years[j] not in (None, "") or any(c not in (None, "") for c in grid[:, j]):
                    problems.append(Problem("atlas_year", f"{where}, column {column_letter(j)} ({name}): year "
                                            f"{years[j]!r} cannot be read; column left out", "warning",
                                            file=str(path)))
                continue
            n_years += 1
            picked.append(j)
            meta.append((name, parsed[0], parsed[1], column_letter(j)))
        if n_years == 0:
            problems.append(Problem("atlas_year", f"{where}: indicator {name!r} (column {column_letter(start)}) has "
                                    "no year in row 3; left out", "warning", file=str(path)))
    return picked, meta


def _cell_values(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Value and flag of each cell: numbers as they are, empty cells and known markers as missing with a flag."""
    is_bool = cells.map(lambda c: isinstance(c, bool))
    is_number = cells.map(lambda c: isinstance(c, int | float)) & ~is_bool
    value = pd.to_numeric(cells.where(is_number), errors="coerce").astype(float)
    flag = pd.Series("", index=cells.index, dtype=object)
    flag[cells.isna()] = MARKERS[""]
    flag[is_number & value.isna()] = "unknown"  # NaN or infinite in the file
    text = ~is_number & cells.notna()
    if text.any():
        parsed_text = cells[text].map(_cell_value)
        value[text] = parsed_text.map(lambda t: t[0]).astype(float)
        flag[text] = parsed_text.map(lambda t: t[1])
    return value, flag


def _denominator(data: pd.DataFrame, ind: NeedIndicator, by_id: dict[str, NeedIndicator]) -> pd.Series:
    """The base population of ``ind`` per (key, year) from the signed terms of other entries (NaN if any missing)."""
    total: pd.Series | None = None
    for base_id, sign in ind.denominator:
        base = by_id[base_id]
        part = data[(data["topic"] == base.topic) & (data["indicator_name"] == base.name)]
        series = part.set_index(["key", "year"])["value"] * base.scale * sign
        total = series if total is None else total + series  # a term missing -> no base (NaN)
    return total if total is not None else pd.Series(dtype=float)


def to_indicators(table: AtlasTable, catalogue: NeedCatalogue) -> tuple[pd.DataFrame, list[Problem]]:
    """The catalogue's Ortsteilatlas series as rows of the long indicator table (without ``level`` checks).

    Every (topic, name) of the workbook that the catalogue neither maps nor lists under ``not_in_snapshot`` is
    a warning (a newer export loads and says what is new); a catalogue entry missing from the workbook too.
    """
    problems: list[Problem] = []
    data = table.data
    found = table.inventory[["topic", "indicator_name"]].drop_duplicates()
    mapped = {(i.topic, i.name): i for i in catalogue.atlas_indicators}
    known = set(mapped) | set(catalogue.atlas_not_in_snapshot)
    for topic, name in found.itertuples(index=False):
        if (topic, name) not in known:
            problems.append(Problem("atlas_unknown_indicator", f"{table.file.name}: indicator {name!r} ({topic}) is "
                                    f"not in the need catalogue ({catalogue.path.name}); left out", "warning",
                                    file=str(table.file)))
    have = set(found.itertuples(index=False, name=None))
    by_id = {i.id: i for i in catalogue.atlas_indicators}
    parts = []
    for (topic, name), ind in mapped.items():
        if (topic, name) not in have:
            problems.append(Problem("atlas_missing_indicator", f"{table.file.name}: the catalogue's {ind.id} "
                                    f"({topic}: {name}) is not in the workbook", "warning", file=str(table.file)))
            continue
        if not ind.in_snapshot:
            continue
        part = data[(data["topic"] == topic) & (data["indicator_name"] == name)]
        value = part["value"].to_numpy(float) * ind.scale
        numerator = np.full(len(part), np.nan)
        denominator = np.full(len(part), np.nan)
        if ind.denominator:
            den = _denominator(data, ind, by_id)
            idx = pd.MultiIndex.from_arrays([part["key"], part["year"]])
            denominator = den.reindex(idx).to_numpy(float)
            factor = 100.0 if ind.unit == "%" else 1.0
            numerator = np.where(np.isfinite(value) & np.isfinite(denominator), value * denominator / factor,
                                 np.nan)
            denominator = np.where(np.isfinite(value), denominator, np.nan)
        period = np.where(part["period"] != part["year"].astype(str), " (period " + part["period"] + ")", "")
        parts.append(pd.DataFrame({
            "key": part["key"].to_numpy(), "level": part["level"].to_numpy(), "year": part["year"].to_numpy(),
            "indicator": ind.id, "value": value, "numerator": numerator, "denominator": denominator,
            "flag": part["flag"].to_numpy(object), "base_year": np.nan,
            "source": (f"Ortsteilatlas {table.file.name}: {topic}, column " + part["column"] + period).to_numpy(),
        }))
    columns = ["key", "level", "year", "indicator", "value", "numerator", "denominator", "flag", "base_year",
               "source"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return out[columns], problems
