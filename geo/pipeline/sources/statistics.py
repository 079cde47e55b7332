"""Reader for the CSV exports of the Statistisches Landesamt Bremen's regional database.

The files are read exactly as published: ISO-8859-1, ``;``-separated, CRLF, a title line
``"<table id>: <title>"``, one to three header rows whose cells are merged across columns, data rows, then
footnotes. Markers such as ``x`` (suppressed), ``-`` (nothing reported), ``.`` (unknown) or an empty cell become
missing values with a reason and never 0.

A table layout is recognised by its id and its header paths (see :data:`LAYOUTS`); a new year of a known table
needs no code change. Anything else fails with :class:`~geo.errors.InputError` naming the file and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError

ENCODING = "iso-8859-1"

#: Reasons stored for cells that hold a marker instead of a number.
MARKERS: Mapping[str, str] = {
    "x": "suppressed",  # Tabellenfach gesperrt / Aussage nicht sinnvoll
    "-": "nothing_reported",  # nichts vorhanden / genau null, but not published as a number
    ".": "unknown",  # Zahlenwert unbekannt oder geheimzuhalten
    "...": "not_yet_available",
    "…": "not_yet_available",
    "/": "not_reliable",
    "": "empty",
}

_TITLE = re.compile(r"^\s*(?P<id>\d[\d-]*\d)\s*:\s*(?P<title>.+?)\s*$")
_KEY = re.compile(r"^\d{2,8}$")
#: footer lines of the exports: a blank line, then footnotes ``*) ...``, ``1) ...`` and ``© Statistisches
#: Landesamt Bremen``; the data rows end at the first line of this form, not at the first unexpected key
_FOOTER = re.compile(r"^\s*$|^\s*(\*|\d{1,2})\)\s|^\s*©")
#: a line that looks like a data row (a numeric key, then at least three more fields)
_DATA_ROW = re.compile(r"^\s*\d+\s*;[^;]*;[^;]*;")
#: a year in a file name such as ``12411-03-03-2023.csv`` (four digits not part of a longer number)
_FILE_YEAR = re.compile(r"(?<!\d)((?:18|19|20|21)\d\d)(?!\d)")
_FOOTNOTE_MARK = re.compile(r"\s*\d\)\s*$|\s*\*\)\s*$")
_NUMBER = re.compile(r"^-?\d+(,\d+)?$")


@dataclass(frozen=True)
class Layout:
    """How to read one table: its dimension columns and the measures behind its header paths."""

    table_id: str
    label: str
    dimensions: tuple[str, ...]
    measures: Mapping[str, str]
    #: measures that are head counts (negative values are invalid)
    counts: frozenset[str] = frozenset()


def _paths(prefix: str, mapping: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}|{k}" if k else prefix: v for k, v in mapping.items()}


LAYOUTS: dict[str, Layout] = {
    "12411-03-03": Layout(
        table_id="12411-03-03",
        label="population by sex, nationality and age group",
        dimensions=("key", "area_label", "time", "age_group"),
        measures=_paths(
            "Bevölkerung",
            {
                "insgesamt": "total",
                "männlich": "male",
                "weiblich": "female",
                "Deutsche|zusammen": "german",
                "Deutsche|männlich": "german_male",
                "Deutsche|weiblich": "german_female",
                "Ausländer|zusammen": "foreign",
                "Ausländer|männlich": "foreign_male",
                "Ausländer|weiblich": "foreign_female",
            },
        ),
        counts=frozenset(
            {"total", "male", "female", "german", "german_male", "german_female", "foreign",
             "foreign_male", "foreign_female"}
        ),
    ),
    "173-55": Layout(
        table_id="173-55",
        label="population by migration status, sex and age group",
        dimensions=("key", "area_label", "time", "age_group"),
        measures={
            "Bevölkerung mit Migrationshintergrund|insgesamt|insgesamt": "migration_background",
            "Bevölkerung mit Migrationshintergrund|insgesamt|weiblich": "migration_background_female",
            "Bevölkerung mit Migrationshintergrund|davon|Ausländer|insgesamt": "mb_foreign",
            "Bevölkerung mit Migrationshintergrund|davon|Ausländer|weiblich": "mb_foreign_female",
            "Bevölkerung mit Migrationshintergrund|davon|Eingebürgerte|insgesamt": "mb_naturalised",
            "Bevölkerung mit Migrationshintergrund|davon|Eingebürgerte|weiblich": "mb_naturalised_female",
            "Bevölkerung mit Migrationshintergrund|davon|Aussiedler|insgesamt": "mb_resettlers",
            "Bevölkerung mit Migrationshintergrund|davon|Aussiedler|weiblich": "mb_resettlers_female",
            "Bevölkerung ohne Migrationshintergrund|insgesamt": "no_migration_background",
            "Bevölkerung ohne Migrationshintergrund|weiblich": "no_migration_background_female",
        },
        counts=frozenset(
            {"migration_background", "migration_background_female", "mb_foreign", "mb_foreign_female",
             "mb_naturalised", "mb_naturalised_female", "mb_resettlers", "mb_resettlers_female",
             "no_migration_background", "no_migration_background_female"}
        ),
    ),
    "173-22": Layout(
        table_id="173-22",
        label="mean and median age",
        dimensions=("key", "area_label", "time"),
        measures=_paths(
            "Mittleres Alter der Bevölkerung in Jahren",
            {
                "Durchschnitt|insgesamt": "mean_age",
                "Durchschnitt|männlich": "mean_age_male",
                "Durchschnitt|weiblich": "mean_age_female",
                "Durchschnitt|deutsch": "mean_age_german",
                "Durchschnitt|ausländisch": "mean_age_foreign",
                "Median|insgesamt": "median_age",
                "Median|männlich": "median_age_male",
                "Median|weiblich": "median_age_female",
                "Median|deutsch": "median_age_german",
                "Median|ausländisch": "median_age_foreign",
            },
        ),
    ),
    "173-97": Layout(
        table_id="173-97",
        label="population projection (model calculation)",
        dimensions=("key", "area_label", "time", "sex"),
        measures=_paths(
            "Komponenten der Bevölkerungsprognose",
            {
                "Lebendgeborene": "births",
                "Gestorbene": "deaths",
                "natürlicher Saldo": "natural_balance",
                "Zuzüge": "moves_in",
                "Fortzüge": "moves_out",
                "Wanderungssaldo": "migration_balance",
                "Gesamtsaldo": "total_balance",
                "Bevölkerung am 31.12.": "population_projected",
                "Durchschnittsalter (in Jahren)": "mean_age_projected",
            },
        ),
        counts=frozenset({"births", "deaths", "moves_in", "moves_out", "population_projected"}),
    ),
}

_DIMENSION_HEADERS = {
    "Gebietsschlüssel": "key",
    "Gebietseinheit": "area_label",
    "Zeit": "time",
    "Alter von ... bis unter ... Jahren": "age_group",
    "Geschlecht": "sex",
}


@dataclass
class StatTable:
    """One statistics file, read and tidied.

    ``data`` is long: one row per area, time, dimension values and measure, with ``value`` (float or NaN) and
    ``flag`` (empty, or the reason a value is missing).
    """

    table_id: str
    title: str
    file: Path
    layout: Layout
    data: pd.DataFrame
    footnotes: list[str] = field(default_factory=list)
    #: the year the file name states (``12411-03-03-2023.csv`` -> 2023), or None
    file_year: int | None = None


def file_year(path: Path) -> int | None:
    """The year named in a statistics file's name (the last four-digit group), or None."""
    found = _FILE_YEAR.findall(path.stem)
    return int(found[-1]) if found else None


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InputError(
            f"{path}: file is UTF-8 (with byte-order mark), expected ISO-8859-1 as exported by the "
            "Statistisches Landesamt Bremen; use the original export or convert it with "
            "'iconv -f UTF-8 -t ISO-8859-1'"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(ENCODING)
    if any(ord(c) > 127 for c in text):
        raise InputError(
            f"{path}: file is UTF-8, expected ISO-8859-1 as exported by the Statistisches Landesamt Bremen "
            "(umlauts would be misread); use the original export or convert it with "
            "'iconv -f UTF-8 -t ISO-8859-1'"
        )
    return text


def _clean_header(cell: str) -> str:
    cell = cell.strip()
    while True:
        new = _FOOTNOTE_MARK.sub("", cell).strip()
        if new == cell:
            return cell
        cell = new


def read_table_id(path: Path) -> str | None:
    """Return the table id from the title line, or None if the file has no statistics-office title."""
    with open(path, "rb") as fh:
        first = fh.readline()
    match = _TITLE.match(first.decode(ENCODING, errors="replace"))
    return match.group("id") if match else None


def read_statistics_csv(path: str | Path) -> StatTable:
    """Read one CSV export of the Statistisches Landesamt Bremen exactly as published.

    Parameters
    ----------
    path
        The ``.csv`` file.

    Returns
    -------
    StatTable
        The tidy table.

    Raises
    ------
    DataNotFoundError, InputError
        With the file name and the problem (missing, wrong encoding, unknown layout, malformed row).
    """
    path = Path(path)
    if not path.is_file():
        from geo.errors import DataNotFoundError

        raise DataNotFoundError(f"{path}: file not found")
    text = _decode(path, path.read_bytes())
    lines = text.splitlines()
    if not lines:
        raise InputError(f"{path}: file is empty")
    title_match = _TITLE.match(lines[0])
    if not title_match:
        raise InputError(
            f"{path}: unknown layout: the first line should be '<table id>: <title>' as in the statistics "
            f"office's exports, found {lines[0][:80]!r}"
        )
    table_id = title_match.group("id")
    layout = LAYOUTS.get(table_id)
    if layout is None:
        raise InputError(
            f"{path}: unknown layout: table {table_id!r} is not one of the known tables "
            f"({', '.join(sorted(LAYOUTS))})"
        )
    header_rows, first_data, data_lines, footnotes = _sections(path, lines)
    width = max(len(r) for r in header_rows)
    measure_names = _measure_names(path, table_id, layout, header_rows, width)
    records = []
    for lineno, line in enumerate(data_lines, start=first_data + 1):
        cells = line.split(";")
        if len(cells) != width:
            raise InputError(
                f"{path}, line {lineno}: expected {width} fields separated by ';', found {len(cells)}"
            )
        records.append([*cells, lineno])
    frame = pd.DataFrame(records, columns=[*layout.dimensions, *measure_names, "line"], dtype=object)
    frame["line"] = frame["line"].astype(int)
    for dim in layout.dimensions:
        frame[dim] = frame[dim].astype(str).str.strip()
    long = _values(path, frame.melt(id_vars=[*layout.dimensions, "line"], var_name="measure", value_name="raw"))
    long["file"] = path.name
    long["table_id"] = table_id
    return StatTable(table_id=table_id, title=title_match.group("title"), file=path, layout=layout,
                     data=long, footnotes=footnotes, file_year=file_year(path))


def _sections(path: Path, lines: list[str]) -> tuple[list[list[str]], int, list[str], list[str]]:
    """Header rows, first data line's index, data lines and footnotes; a data row among the footnotes is an error."""
    header_rows: list[list[str]] = []
    i = 1
    while i < len(lines) and not _KEY.match(lines[i].split(";", 1)[0].strip()):
        if lines[i].strip():
            header_rows.append(lines[i].split(";"))
        i += 1
    first_data = i
    while i < len(lines) and not _FOOTER.match(lines[i]):
        i += 1
    data_lines = lines[first_data:i]
    footnotes = [ln.strip() for ln in lines[i:] if ln.strip()]
    stray = [n for n, ln in enumerate(lines[i:], start=i + 1) if _DATA_ROW.match(ln)]
    if stray:
        raise InputError(
            f"{path}, line {stray[0]}: data row after the start of the footnotes (line {i + 1}); "
            f"{len(stray)} such rows: {lines[stray[0] - 1][:60]!r}"
        )
    if not header_rows or not data_lines:
        raise InputError(f"{path}: unknown layout: no header rows or no data rows found under the title")
    return header_rows, first_data, data_lines, footnotes


def _measure_names(path: Path, table_id: str, layout: Layout, header_rows: list[list[str]],
                   width: int) -> list[str]:
    """The measure of each value column, from the header rows; columns other than the layout's are an error."""
    rows = [r + [""] * (width - len(r)) for r in header_rows]
    n_dims = len(layout.dimensions)
    dim_names = [_DIMENSION_HEADERS.get(_clean_header(rows[0][j])) for j in range(n_dims)]
    if dim_names != list(layout.dimensions):
        found = [_clean_header(rows[0][j]) for j in range(min(n_dims, width))]
        raise InputError(
            f"{path}: unknown layout for table {table_id}: expected leading columns "
            f"{list(layout.dimensions)}, found {found}"
        )
    col_paths: list[str] = []
    for j in range(n_dims, width):
        parts = [_clean_header(r[j]) for r in rows]
        col_paths.append("|".join(p for p in parts if p))
    missing = [p for p in layout.measures if p not in col_paths]
    unknown = [p for p in col_paths if p not in layout.measures]
    if missing or unknown:
        raise InputError(
            f"{path}: unknown layout for table {table_id}: columns not as expected"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {unknown}" if unknown else "")
        )
    return [layout.measures[p] for p in col_paths]


def _values(path: Path, long: pd.DataFrame) -> pd.DataFrame:
    """Numbers and marker flags from the raw cells, and the year of each row; an unknown cell is an error."""
    raw = long["raw"].astype(str).str.strip()
    is_number = raw.str.match(_NUMBER.pattern)
    bad = ~is_number & ~raw.isin(list(MARKERS))
    if bad.any():
        first_bad = long.loc[bad].iloc[0]
        raise InputError(
            f"{path}, line {first_bad['line']}: value {first_bad['raw']!r} for {first_bad['key']} / "
            f"{first_bad['measure']} is neither a "
            f"number nor a known marker ({', '.join(repr(m) for m in MARKERS if m)}); "
            f"{int(bad.sum())} such cells"
        )
    long["value"] = pd.to_numeric(raw.where(is_number).str.replace(",", ".", regex=False), errors="coerce")
    long["flag"] = np.where(is_number, "", raw.map(dict(MARKERS)).fillna("empty"))
    long = long.drop(columns="raw")
    # a date (YYYY-MM-DD, or a bare year YYYY in projections) that does not parse gets year -1;
    # geo.pipeline.validate.check_statistics_dates reports it
    bare_year = long["time"].where(long["time"].str.fullmatch(r"\d{4}"))
    dates = pd.to_datetime(long["time"].where(bare_year.isna()), format="%Y-%m-%d", errors="coerce")
    long["year"] = pd.to_numeric(bare_year, errors="coerce").fillna(dates.dt.year).fillna(-1).astype(int)
    return long
