"""Plausibility checks of the need series (Ortsteilatlas, Wahlatlas) and the census grids (Zensus 2011, 2022).

The same policy as :mod:`geo.pipeline.validate` (kept in a module of its own because that one holds the population
checks): every check returns a list of :class:`~geo.errors.Problem` naming the file, the cell (sheet and cell,
feature, or grid cell) and the value; an ``error`` stops the build, a ``warning`` is recorded. Missing values
(NaN with a reason in ``flag``) are never a problem here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.errors import Problem

if TYPE_CHECKING:
    from geo.pipeline.catalogue import NeedCatalogue

#: a year of a need series outside FIRST_YEAR ... current year + 1 is a typo or an unread header
FIRST_YEAR = 1950
#: a rate (unit "%") that changes by more than this many percentage points between two consecutive years is
#: reported as a warning (small Ortsteile do jump: e.g. child poverty +53 pp in one year)
MAX_JUMP_PP = 30.0
#: indicators with unit "%" that are ratios to a reference population, not shares of it, and do exceed 100 in the
#: published data (school leavers with Abitur per resident age cohort: 100.9-117.6 % in five Ortsteile in 2012);
#: above 100 they are a warning, below 0 still an error
MAY_EXCEED_100 = frozenset({"abitur_rate_pct"})
#: problems listed one by one per check and file; beyond this one summary says how many more there are
MAX_LISTED = 20


def _capped(problems: list[Problem], check: str, file: str | None, what: str) -> list[Problem]:
    if len(problems) <= MAX_LISTED:
        return problems
    rest = len(problems) - MAX_LISTED
    return [*problems[:MAX_LISTED], Problem(check, f"... and {rest:,} more {what} like these", problems[0].severity,
                                            file=file, detail={"not_listed": rest})]


def units_of(catalogue: NeedCatalogue) -> dict[str, tuple[str, str]]:
    """(unit, kind) by indicator id, over every source of the catalogue."""
    entries = [*catalogue.atlas_indicators, *catalogue.wahl_indicators, *catalogue.zensus_indicators]
    return {e.id: (e.unit, e.kind) for e in entries}


def _where(rows: pd.DataFrame) -> pd.Series:
    """How to find a row's value in its file: the ``cell`` column if given, else the ``source`` text."""
    if "cell" in rows.columns:
        return rows["cell"].astype(str)
    return rows["source"].astype(str) if "source" in rows.columns else pd.Series("", index=rows.index)


def check_need_values(rows: pd.DataFrame, units: Mapping[str, tuple[str, str]], file: str) -> list[Problem]:
    """The ``need_value`` errors of need series values, one per implausible value.

    Every present value is finite; a value with unit ``"%"`` lies within 0-100; a count (kind ``count``) or a mean
    (kind ``mean``) is not negative.

    ``rows`` are long indicator rows (``key, year, indicator, value`` and ``source`` or ``cell``).
    """
    value = rows["value"].to_numpy(float)
    indicator = rows["indicator"].astype(str)
    unit = indicator.map(lambda i: units.get(i, ("", "rate"))[0]).to_numpy()
    kind = indicator.map(lambda i: units.get(i, ("", "rate"))[1]).to_numpy()
    present = ~np.isnan(value)
    infinite = present & ~np.isfinite(value)
    finite = present & ~infinite
    outside = finite & (unit == "%") & ((value < 0) | (value > 100))
    may_exceed = outside & (value > 100) & indicator.isin(list(MAY_EXCEED_100)).to_numpy()
    negative = finite & ~outside & np.isin(kind, ["count", "mean"]) & (value < 0)
    bad = infinite | (outside & ~may_exceed) | negative
    where = _where(rows).to_numpy()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for i in np.flatnonzero(bad | may_exceed):
        r, v = rows.iloc[i], float(value[i])
        if may_exceed[i]:
            warnings.append(Problem("need_value_above_100", f"{where[i]}: {r['key']} {r['year']} {r['indicator']}: "
                                    f"value {v:g} above 100 (a ratio to an age cohort, published so)", "warning",
                                    file=file, key=str(r["key"]), detail={"value": v}))
            continue
        reason = ("is not a finite number" if infinite[i] else "is a percentage outside 0-100" if outside[i]
                  else f"is negative (a {kind[i]} cannot be)")
        problems.append(Problem("need_value", f"{where[i]}: {r['key']} {r['year']} {r['indicator']}: value {v:g} "
                                f"{reason}", file=file, key=str(r["key"]),
                                detail={"indicator": str(r["indicator"]), "year": int(r["year"]), "value": v}))
    return [*_capped(problems, "need_value", file, "implausible need values"),
            *_capped(warnings, "need_value_above_100", file, "values above 100")]


def check_need_years(rows: pd.DataFrame, file: str, *, today: dt.date | None = None) -> list[Problem]:
    """``need_year``: the year of a need series lies within :data:`FIRST_YEAR` ... current year + 1 (error)."""
    last = (today or dt.date.today()).year + 1
    bad = rows[(rows["year"].astype(int) < FIRST_YEAR) | (rows["year"].astype(int) > last)]
    problems = []
    for (ident, year), part in bad.groupby(["indicator", "year"]):
        where = _where(part).iloc[0]
        problems.append(Problem("need_year", f"{where}: {ident}: year {year} lies outside {FIRST_YEAR}-{last}",
                                file=file, detail={"indicator": str(ident), "year": int(year)}))
    return problems


def check_atlas_duplicates(data: pd.DataFrame, file: str) -> list[Problem]:
    """The ``atlas_duplicate`` problems: one (topic, indicator, key, year) given by two cells of one workbook.

    Equal values (or both missing): a warning per indicator and year (the first cell is used). Different values: an
    error naming both cells and both values.

    ``data`` is the reader's tidy table with ``sheet``, ``column`` and ``row``, before duplicates are dropped.
    """
    dims = ["topic", "indicator_name", "key", "year"]
    dup = data[data.duplicated(dims, keep=False)]
    if dup.empty:
        return []
    problems: list[Problem] = []
    equal: dict[tuple[str, str, int], int] = {}
    for (topic, name, key, year), part in dup.groupby(dims, sort=True):
        first = part.iloc[0]
        for other in part.iloc[1:].itertuples():
            a, b = float(first["value"]), float(other.value)
            if (np.isnan(a) and np.isnan(b)) or a == b:
                equal[(topic, name, int(year))] = equal.get((topic, name, int(year)), 0) + 1
                continue
            problems.append(Problem(
                "atlas_duplicate_differs",
                f"{topic}: {name}: {key} year {year} is given twice with different values: sheet "
                f"{first['sheet']!r} cell {first['column']}{first['row']} = {a:g} and sheet {other.sheet!r} cell "
                f"{other.column}{other.row} = {b:g}", file=file, key=str(key),
                detail={"year": int(year), "values": [a, b]}))
    problems = _capped(problems, "atlas_duplicate_differs", file, "duplicates with different values")
    for (topic, name, year), n in equal.items():
        problems.append(Problem("atlas_duplicate", f"{topic}: {name}: year {year} occurs more than once with equal "
                                f"values ({n} cells); the first column is used", "warning", file=file))
    return problems


def check_need_duplicates(rows: pd.DataFrame, file: str) -> list[Problem]:
    """The ``need_duplicate`` errors: one source file gives the same (indicator, key, year) twice.

    An error if the values differ (naming both places and values), nothing if they are equal.
    """
    dims = ["indicator", "key", "year"]
    dup = rows[rows.duplicated(dims, keep=False)]
    problems = []
    for (ident, key, year), part in dup.groupby(dims):
        values = part["value"].astype(float).to_numpy()
        if np.all(np.isnan(values)) or (not np.isnan(values).any() and np.all(values == values[0])):
            continue
        places = "; ".join(f"{w} = {v:g}" for w, v in zip(_where(part), values, strict=True))
        problems.append(Problem("need_duplicate", f"{ident} {key} {year} is given twice with different values: "
                                f"{places}", file=file, key=str(key)))
    return _capped(problems, "need_duplicate", file, "duplicates with different values")


def check_rate_jumps(rows: pd.DataFrame, units: Mapping[str, tuple[str, str]], file: str, *,
                     max_pp: float = MAX_JUMP_PP) -> list[Problem]:
    """The ``rate_jump`` warnings: rates of a district that jump between two consecutive years.

    A rate (unit ``"%"``) that changes by more than ``max_pp`` percentage points between two years one year apart
    of the same district is a warning with both figures.
    """
    rates = rows[rows["indicator"].map(lambda i: units.get(str(i), ("", ""))[0] == "%")]
    rates = rates[rates["value"].notna()].drop_duplicates(["indicator", "key", "year"])
    rates = rates.sort_values(["indicator", "key", "year"]).reset_index(drop=True)
    before = rates.shift()
    diff = rates["value"] - before["value"]
    jump = (rates["indicator"].eq(before["indicator"]) & rates["key"].eq(before["key"])
            & (rates["year"] - before["year"]).eq(1) & diff.abs().gt(max_pp))
    problems = []
    for i in np.flatnonzero(jump.to_numpy()):
        r, b = rates.iloc[i], before.iloc[i]
        problems.append(Problem("rate_jump", f"{r['indicator']} {r['key']}: {b['value']:g} % ({int(b['year'])}) -> "
                                f"{r['value']:g} % ({int(r['year'])}), {diff.iloc[i]:+.1f} pp in one year (more than "
                                f"{max_pp:g} pp)", "warning", file=file, key=str(r["key"]),
                                detail={"from_year": int(b["year"]), "from": float(b["value"]),
                                        "year": int(r["year"]), "to": float(r["value"])}))
    return problems


def check_census_grid(grid: pd.DataFrame, units: Mapping[str, str], file: str) -> list[Problem]:
    """The ``census_cell`` errors of the 2011 census grid, one per implausible cell value.

    A cell value (after ``-1`` = missing became NaN) is finite, not negative, and a percentage
    (``units[variable] == "%"``) within 0-100. Each error names the variable's file, the cell centre (EPSG:3035)
    and the value.
    """
    problems: list[Problem] = []
    for variable, unit in units.items():
        if variable not in grid.columns:
            continue
        v = grid[variable].to_numpy(float)
        present = ~np.isnan(v)
        bad = present & (~np.isfinite(v) | (v < 0) | ((unit == "%") & (v > 100)))
        for i in np.flatnonzero(bad):
            reason = ("is not a finite number" if not np.isfinite(v[i]) else
                      "is negative" if v[i] < 0 else "is a percentage above 100")
            problems.append(Problem("census_cell", f"continuous_{variable}.parquet, cell x={grid['x'].iat[i]:.0f} "
                                    f"y={grid['y'].iat[i]:.0f}: {variable} {v[i]:g} {reason}", file=file,
                                    detail={"variable": variable, "value": float(v[i])}))
    return _capped(problems, "census_cell", file, "implausible census cells")


def check_census_counts_2022(cells: pd.DataFrame, file: str) -> list[Problem]:
    """The ``census_count`` errors of the 2022 census cells, one per implausible count.

    A count must be finite, whole and not negative. Each error names the line, the ``datei_z22data`` file, the cell
    centre and the value.
    """
    v = cells["value"].to_numpy(float)
    present = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        bad = present & (~np.isfinite(v) | (v < 0) | (np.mod(v, 1) != 0))
    problems = []
    for i in np.flatnonzero(bad):
        reason = ("is not a finite number" if not np.isfinite(v[i]) else "is negative" if v[i] < 0
                  else "is not a whole number")
        problems.append(Problem("census_count", f"line {i + 2}: {cells['file'].iat[i]}, cell "
                                f"x={cells['x'].iat[i]:.0f} y={cells['y'].iat[i]:.0f}: count {v[i]:g} {reason}",
                                file=file, detail={"line": int(i + 2), "value": float(v[i])}))
    return _capped(problems, "census_count", file, "implausible census counts")


def check_census_shares(rows: pd.DataFrame, units: Mapping[str, tuple[str, str]],
                        file: str = "census") -> list[Problem]:
    """The ``census_share`` errors of interpolated census values.

    A value with unit ``"%"`` lies within 0-100, a count is not negative, and every present value is finite.
    """
    problems = check_need_values(rows, units, file)
    return [Problem("census_share", p.message, p.severity, p.file, p.key, p.detail) for p in problems]


def atlas_cells(rows: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """The Ortsteilatlas ``rows`` with a ``cell`` column naming the sheet and cell of every value.

    ``rows`` come from :func:`geo.pipeline.sources.ortsteilatlas.to_indicators`; each cell (``sheet 'SGB II', cell
    D14``) is looked up in the reader's ``data`` by topic, column and key.
    """
    parsed = rows["source"].astype(str).str.extract(r":\s*(?P<topic>.*), column (?P<column>[A-Z]+)")
    want = pd.DataFrame({"topic": parsed["topic"].to_numpy(), "column": parsed["column"].to_numpy(),
                         "key": rows["key"].astype(str).to_numpy(), "_pos": np.arange(len(rows))})
    where = data[["topic", "sheet", "column", "key", "row"]].astype({"key": str}).drop_duplicates(
        ["topic", "column", "key"], keep="last")
    hit = want.merge(where, on=["topic", "column", "key"], how="left").sort_values("_pos")
    found = hit["sheet"].notna().to_numpy()
    names = np.where(found, "sheet '" + hit["sheet"].astype(str) + "', cell " + hit["column"].astype(str)
                     + hit["row"].astype("Int64").astype(str), rows["source"].astype(str).to_numpy())
    return rows.assign(cell=[f"{c} ({k})" for c, k in zip(names, rows["key"], strict=True)])


def catalogue_units() -> dict[str, tuple[str, str]]:
    """:func:`units_of` the packaged need catalogue; empty if it cannot be loaded (that is reported elsewhere)."""
    from geo.errors import QuartiereError
    from geo.pipeline.catalogue import load_need_catalogue

    try:
        return units_of(load_need_catalogue())
    except QuartiereError:
        return {}


def check_need(rows: pd.DataFrame, units: Mapping[str, tuple[str, str]], file: str) -> list[Problem]:
    """Every check of one need source file's long rows: values, years, duplicates, jumps of rates."""
    return [*check_need_values(rows, units, file), *check_need_years(rows, file), *check_need_duplicates(rows, file),
            *check_rate_jumps(rows, units, file)]
