"""Validation checks: each returns a list of :class:`~geo.errors.Problem`, so all are reported at once.

Severity policy (one rule for every check): an ``error`` means the snapshot would be wrong or lose data
(wrong CRS, duplicate or malformed key, broken geometry left after repair, residents without geometry, a
negative count); a ``warning`` is recorded in the manifest and the build goes on (a repaired geometry,
a deviation between published totals and the sum of their parts, an overlap within tolerance).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem, ValidationError
from geo.pipeline.indicators import parse_age_group
from geo.pipeline.repairs import Repair

if TYPE_CHECKING:
    from geo.pipeline.sources.statistics import StatTable

KEY_RE = r"^\d{8}$"
#: overlaps between neighbours of one level up to this area are slivers of digitising, not errors
OVERLAP_TOLERANCE_M2 = 10.0

#: the key of a statistics row must have the pattern of its level; the level is read from the label the office
#: prints beside the key ("Tenever (Ortsteil)", "Stadt Bremen", "Land Bremen")
STAT_KEY_PATTERNS: dict[str, str] = {"ortsteil": r"^\d{8}$", "stadtteil": r"^\d{7}$", "stadtbezirk": r"^\d{6}$",
                                     "stadt": r"^\d{5}$", "land": r"^\d{2}$"}
#: a label without a recognisable level still needs a key of one of the published lengths
ANY_STAT_KEY = r"^(\d{2}|\d{5,8})$"
#: a city's (or the Land's) total population may at most double from its last known total: real growth between
#: two published years (at most a decade apart) has stayed far below that; twice the total means a doubled file,
#: a duplicated block of rows or a value with extra digits
MAX_TOTAL_GROWTH = 2.0
#: an Ortsteil's population multiplied or divided by more than this between two consecutive published years is
#: reported as a warning (new estates and demolitions happen; a digit typo or swapped rows look the same)
JUMP_FACTOR = 3.0
#: ... unless both figures are below this many residents (tiny Ortsteile jump by chance)
JUMP_MIN_POPULATION = 100
#: rows listed one by one per check and file; beyond this a single summary names how many more there are
MAX_LISTED = 20


def check_crs(frame: gpd.GeoDataFrame, level: str, expected: str = "EPSG:25832") -> list[Problem]:
    """A ``crs`` error if the layer of ``level`` has no CRS or another one than ``expected``."""
    if frame.crs is None:
        return [Problem("crs", f"{level}: layer has no CRS, expected {expected}")]
    if frame.crs.to_string() != expected and f"EPSG:{frame.crs.to_epsg()}" != expected:
        return [Problem("crs", f"{level}: CRS is {frame.crs.to_string()}, expected {expected}")]
    return []


def check_keys(frame: pd.DataFrame, level: str) -> list[Problem]:
    """The ``key_format`` and ``duplicate_key`` errors: district keys that are not 8 digits or occur twice."""
    problems = []
    bad = frame.loc[~frame["key"].astype("string").str.match(KEY_RE).fillna(False), "key"]
    for key in bad:
        problems.append(Problem("key_format", f"{level}: key {key!r} is not an 8-digit string", key=str(key)))
    dup = frame.loc[frame["key"].duplicated(keep=False)]
    for key, part in dup.groupby("key"):
        files = ", ".join(sorted(part["source_file"].astype(str).unique()))
        problems.append(
            Problem("duplicate_key", f"{level}: key {key} occurs {len(part)} times ({files})", file=files, key=str(key))
        )
    return problems


#: UTF-8 text read as Latin-1 / cp1252 ("BÃ¼rgerweide", "Ã\x9cberseestadt"), or bytes that decoded to U+FFFD
MISDECODED = re.compile("[ÃÂ][\u0080-\u00bf\u0152-\u0178\u2013-\u203a]|\ufffd")


def check_names(frame: pd.DataFrame, level: str, column: str = "name") -> list[Problem]:
    """The ``name_encoding`` errors: district names decoded with the wrong character set, one per file.

    The cause is a wrong or empty ``.cpg`` beside a shapefile; the map, the search and every report would show them.
    """
    if column not in frame.columns:
        return []
    names = frame[column].astype("string")
    bad = frame[names.str.contains(MISDECODED, na=False).to_numpy()]
    problems = []
    for files, part in bad.groupby(bad["source_file"].astype(str) if "source_file" in bad.columns
                                   else pd.Series("", index=bad.index)):
        examples = ", ".join(repr(n) for n in part[column].astype(str).head(3))
        problems.append(Problem("name_encoding", f"{level}: {len(part)} name(s) look decoded with the wrong "
                                f"character set, e.g. {examples} (is the .cpg beside the shapefile wrong or "
                                "empty? these files are UTF-8)", file=files or None,
                                detail={"names": part[column].astype(str).head(20).tolist()}))
    return problems


def check_geometries(frame: gpd.GeoDataFrame, level: str) -> list[Problem]:
    """The errors of districts whose geometry is empty, invalid or not a polygon, one per district and fault."""
    problems = []
    geoms = frame.geometry.values
    for idx in np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms)):
        row = frame.iloc[idx]
        problems.append(Problem("empty_geometry", f"{level} {row['key']}: geometry is empty", file=row["source_file"],
                                key=row["key"]))
    for idx in np.flatnonzero(~shapely.is_valid(geoms)):
        row = frame.iloc[idx]
        problems.append(Problem("invalid_geometry", f"{level} {row['key']}: {shapely.is_valid_reason(row.geometry)}",
                                file=row["source_file"], key=row["key"]))
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    for idx in np.flatnonzero(~polygonal & ~shapely.is_empty(geoms)):
        row = frame.iloc[idx]
        problems.append(Problem("geometry_type", f"{level} {row['key']}: geometry is a {row.geometry.geom_type}, "
                                "expected a polygon", file=row["source_file"], key=row["key"]))
    return problems


def check_overlaps(frame: gpd.GeoDataFrame, level: str, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> list[Problem]:
    """Overlaps between districts of one level: above the tolerance an error, below it recorded as a warning."""
    geoms = frame.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    problems = []
    total_small = 0.0
    n_small = 0
    for i, j in zip(left[keep], right[keep], strict=True):
        area = float(shapely.intersection(geoms[i], geoms[j]).area)
        if area > tolerance_m2:
            a, b = frame.iloc[i]["key"], frame.iloc[j]["key"]
            problems.append(Problem("overlap", f"{level}: {a} and {b} overlap by {area:,.0f} m² "
                                    f"(tolerance {tolerance_m2:g} m²)", key=a, detail={"other": b, "area_m2": area}))
        elif area > 0:
            total_small += area
            n_small += 1
    if n_small:
        problems.append(Problem("overlap_within_tolerance", f"{level}: {n_small} pairs of neighbours overlap by "
                                f"{total_small:.2f} m² in total (each below {tolerance_m2:g} m²)", severity="warning"))
    return problems


def check_coverage(frame: gpd.GeoDataFrame, outline: gpd.GeoDataFrame, level: str, city: str) -> list[Problem]:
    """Gap and overhang between a level's districts and the city outline, reported in km²."""
    districts = shapely.union_all(frame.geometry.values)
    shape = shapely.union_all(outline.geometry.values)
    gap = shapely.difference(shape, districts).area / 1e6
    over = shapely.difference(districts, shape).area / 1e6
    return [Problem("coverage", f"{level} of {city}: {gap:.3f} km² of the city outline are not covered, districts "
                    f"extend {over:.3f} km² beyond it", severity="warning",
                    detail={"gap_km2": round(gap, 4), "overhang_km2": round(over, 4)})]


def check_negative_counts(data: pd.DataFrame, counts: frozenset[str], file: str) -> list[Problem]:
    """A ``negative_count`` error for every value below zero of a count measure (one of ``counts``)."""
    bad = data[data["measure"].isin(counts) & (data["value"] < 0)]
    return [
        Problem("negative_count", f"{r.key} {r.time} {r.measure}: negative count {r.value:g}", file=file,
                key=str(r.key))
        for r in bad.itertuples()
    ]


def check_sums(children: pd.DataFrame, published: pd.DataFrame, level: str, indicators: list[str]) -> list[Problem]:
    """Compare sums of Ortsteile with the published totals of the level above (both indexed by key and year)."""
    joined = children[indicators].merge(published[indicators], left_index=True, right_index=True, how="inner",
                                        suffixes=("_sum", "_published"))
    problems = []
    n_checked = 0
    for ind in indicators:
        diff = joined[f"{ind}_sum"] - joined[f"{ind}_published"]
        valid = diff.notna()
        n_checked += int(valid.sum())
        for (key, year), d in diff[valid & (diff != 0)].items():
            problems.append(Problem("sum_mismatch", f"{level} {key} {year} {ind}: sum of Ortsteile "
                                    f"{joined.at[(key, year), f'{ind}_sum']:,.0f} differs from the published "
                                    f"{joined.at[(key, year), f'{ind}_published']:,.0f} by {d:+,.0f}",
                                    severity="warning", key=str(key), detail={"year": int(year), "indicator": ind}))
    if not problems:
        problems.append(Problem("sums_match", f"{level}: sums of Ortsteile equal the published totals in all "
                                f"{n_checked} comparisons ({', '.join(indicators)})", severity="info"))
    return problems


def escalate(problems: list[Problem], repairs: list[Repair], *, strict: bool) -> list[Problem]:
    """With ``strict``, warnings become errors and every repaired geometry is an error too."""
    if not strict:
        return problems
    out = [Problem(p.check, p.message, "error", p.file, p.key, p.detail) if p.severity == "warning" else p
           for p in problems]
    out += [Problem("repair", r.description, "error", key=r.keys[0] if r.keys else None) for r in repairs
            if r.step == "repair_invalid_geometry"]
    return out


def raise_on_errors(problems: list[Problem], where: str, *, stage: str = "the inputs") -> None:
    """Raise :class:`ValidationError` with every problem when any of them is an error."""
    n = sum(p.severity == "error" for p in problems)
    if n:
        raise ValidationError(f"{where}: {n} problem(s) in {stage}", problems=problems)


def check_agreement(first: pd.DataFrame, second: pd.DataFrame, indicator: str, *, tolerance: float,
                    max_share_differing: float, names: tuple[str, str]) -> list[Problem]:
    """Values two sources both publish for the same district and year (columns key, year, value).

    A warning names every district whose values differ by more than ``tolerance``; an error when more than
    ``max_share_differing`` of the comparisons differ (keys or columns mixed up); an info with the count when
    they agree.
    """
    joined = first[["key", "year", "value"]].merge(second[["key", "year", "value"]], on=["key", "year"],
                                                   suffixes=("_a", "_b")).dropna(subset=["value_a", "value_b"])
    if joined.empty:
        return [Problem("sources_disagree", f"{indicator}: {names[0]} and {names[1]} have no district and year in "
                        "common to compare", "warning")]
    diff = (joined["value_a"] - joined["value_b"]).abs()
    bad = joined[diff > tolerance + 1e-9]
    share = len(bad) / len(joined)
    severity = "error" if share > max_share_differing else "warning"
    problems = [Problem("sources_disagree", f"{indicator} {r.year}: {r.key} is {r.value_a:g} in {names[0]} but "
                        f"{r.value_b:g} in {names[1]} (tolerance {tolerance:g})", severity, key=str(r.key),
                        detail={"indicator": indicator, "year": int(r.year), names[0]: float(r.value_a),
                                names[1]: float(r.value_b)})
                for r in bad.itertuples()]
    if not problems:
        years = ", ".join(str(y) for y in sorted(joined["year"].unique()))
        problems.append(Problem("sources_agree", f"{indicator}: {names[0]} and {names[1]} agree within {tolerance:g} "
                                f"for all {len(joined)} districts compared ({years})", "info"))
    return problems


def _capped(problems: list[Problem], check: str, file: str, what: str) -> list[Problem]:
    """At most :data:`MAX_LISTED` problems, then one summary with the number left out (same severity)."""
    if len(problems) <= MAX_LISTED:
        return problems
    rest = len(problems) - MAX_LISTED
    return [*problems[:MAX_LISTED], Problem(check, f"... and {rest:,} more {what} like these", problems[0].severity,
                                            file=file, detail={"not_listed": rest})]


def _row_level(label: str) -> str | None:
    label = label.strip()
    for level in ("ortsteil", "stadtteil", "stadtbezirk"):
        if label.endswith(f"({level.capitalize()})"):
            return level
    if label.startswith("Stadt "):
        return "stadt"
    if label.startswith("Land "):
        return "land"
    return None


def _rows(data: pd.DataFrame) -> pd.DataFrame:
    """One entry per data row of a statistics file (the long table has one per row and measure)."""
    return data.drop_duplicates("line") if "line" in data.columns else data.drop_duplicates(["key", "time"])


def check_statistics_keys(data: pd.DataFrame, file: str) -> list[Problem]:
    """``stat_key_format``: every data row's key has the pattern of its level (error).

    The level is the one the label states (``(Ortsteil)`` 8 digits, ``(Stadtteil)`` 7, ``(Stadtbezirk)`` 6,
    ``Stadt ...`` 5, ``Land ...`` 2; see :data:`STAT_KEY_PATTERNS`); a label without a level needs 2 or 5-8 digits.
    A 9-digit key, or a 7-digit key labelled as an Ortsteil, is reported with its line and value.
    """
    rows = _rows(data)
    labels = rows["area_label"].astype(str)
    levels = labels.map({lab: _row_level(lab) for lab in labels.unique()})
    keys = rows["key"].astype(str)
    ok = pd.Series(False, index=rows.index)
    for level, pattern in [*STAT_KEY_PATTERNS.items(), (None, ANY_STAT_KEY)]:
        sel = levels.isna() if level is None else levels == level
        ok[sel] = keys[sel].str.match(pattern)
    problems = []
    for r, level in zip(rows[~ok].itertuples(), levels[~ok], strict=True):
        pattern = STAT_KEY_PATTERNS[level] if level else ANY_STAT_KEY
        expected = f"the {level} pattern ({pattern})" if level else f"a statistics key ({pattern})"
        problems.append(Problem("stat_key_format", f"line {r.line}, column Gebietsschlüssel: key {r.key!r} "
                                f"({r.area_label}) does not match {expected}", file=file, key=str(r.key),
                                detail={"line": int(r.line), "value": str(r.key)}))
    return _capped(problems, "stat_key_format", file, "malformed keys")


def check_whole_counts(data: pd.DataFrame, counts: frozenset[str], file: str) -> list[Problem]:
    """``count_not_whole``: head counts are non-negative whole numbers; ``342,5`` persons is an error."""
    values = data[data["measure"].isin(counts) & data["value"].notna()]
    bad = values[(values["value"] % 1 != 0) | ~np.isfinite(values["value"])]
    problems = [Problem("count_not_whole", f"line {r.line}, column {r.measure}: {r.key} {r.time} {r.age_group}: "
                        f"count {r.value:g} is not a whole number", file=file, key=str(r.key),
                        detail={"line": int(r.line), "column": r.measure, "value": float(r.value)})
                for r in bad.itertuples()]
    return _capped(problems, "count_not_whole", file, "counts that are not whole numbers")


def check_duplicate_rows(data: pd.DataFrame, dimensions: Sequence[str], file: str) -> list[Problem]:
    """``duplicate_row``: each area, date and breakdown (age group, sex) occurs once per file (error).

    A repeated row would be counted twice by every sum; each repetition is named with the line of its first
    occurrence.
    """
    dims = [d for d in dimensions if d != "area_label"]
    rows = _rows(data)
    dup = rows[rows.duplicated(dims, keep=False)]
    problems = []
    for values, part in dup.groupby(dims, sort=False):
        lines = part["line"].astype(int).tolist()
        what = " ".join(str(v) for v in (values if isinstance(values, tuple) else (values,)))
        problems.append(Problem("duplicate_row", f"lines {', '.join(map(str, lines[:5]))}"
                                f"{' ...' if len(lines) > 5 else ''}: row {what} occurs {len(lines)} times",
                                file=file, key=str(part["key"].iloc[0]), detail={"lines": lines[:100],
                                                                                  "n": len(lines)}))
    return _capped(problems, "duplicate_row", file, "duplicated rows")


def check_age_groups(data: pd.DataFrame, file: str) -> list[Problem]:
    """The ``age_group`` errors: labels that are not age groups, or groups that do not tile the ages.

    Labels read ``unter N``, ``N - M``, ``N und mehr`` or ``Insgesamt`` (a bad one is named with its first line); the
    groups cover 0 to open end without gap or overlap, else derived counts such as ``aged_18_64`` are wrong.
    """
    if "age_group" not in data.columns:
        return []
    rows = _rows(data) if "line" in data.columns else data
    labels = rows.loc[rows["age_group"].notna() & (rows["age_group"] != "Insgesamt"), ["age_group", "line"]]
    first_line = labels.groupby("age_group", sort=False)["line"].min()
    problems, bounds = [], []
    for label, line in first_line.items():
        try:
            bounds.append(parse_age_group(str(label)))
        except ValueError:
            problems.append(Problem("age_group", f"line {int(line)}, column Altersgruppe: {str(label)!r} is not an "
                                    "age group ('unter N', 'N - M', 'N und mehr' or 'Insgesamt')", file=file,
                                    detail={"line": int(line), "value": str(label)}))
    if problems or not bounds:
        return problems
    edges = sorted(bounds)
    gaps = [f"{a[1]:g}-{b[0]:g}" for a, b in itertools.pairwise(edges) if a[1] != b[0]]
    if edges[0][0] != 0 or edges[-1][1] != float("inf") or gaps:
        problems.append(Problem("age_group", f"the age groups do not cover the ages 0 to open end once each "
                                f"(from {edges[0][0]:g} to {edges[-1][1]:g}; gaps or overlaps at "
                                f"{', '.join(gaps) or 'none'})", file=file,
                                detail={"groups": [list(b) for b in edges]}))
    return problems


def check_statistics_dates(data: pd.DataFrame, file: str, file_year: int | None) -> list[Problem]:
    """The ``stat_date`` errors: dates that do not parse or lie outside the year of the file's name.

    Dates read ``YYYY-MM-DD`` (``YYYY`` in projections, whose file names have no year: they only need to parse).
    """
    rows = _rows(data)
    year = file_year
    problems = []
    for r in rows[rows["year"] <= 0].itertuples():
        problems.append(Problem("stat_date", f"line {r.line}, column Zeit: {r.key}: date {r.time!r} is not a "
                                "date (YYYY-MM-DD or YYYY)", file=file, key=str(r.key),
                                detail={"line": int(r.line), "value": str(r.time)}))
    if year is not None:
        for r in rows[(rows["year"] > 0) & (rows["year"] != year)].itertuples():
            problems.append(Problem("stat_date", f"line {r.line}, column Zeit: {r.key}: date {r.time} lies outside "
                                    f"the file's year {year}", file=file, key=str(r.key),
                                    detail={"line": int(r.line), "value": str(r.time), "file_year": year}))
    return _capped(problems, "stat_date", file, "bad dates")


def _table_years(table: StatTable) -> set[int]:
    if table.file_year is not None:
        return {table.file_year}
    return {int(y) for y in table.data["year"].unique() if y > 0}


def check_one_file_per_year(tables: Sequence[StatTable]) -> list[Problem]:
    """The ``same_table_twice`` errors: two files of one table id and year (a copy would double every count)."""
    files: dict[tuple[str, int], list[str]] = {}
    for table in tables:
        for year in _table_years(table):
            files.setdefault((table.table_id, year), []).append(str(table.file))
    return [Problem("same_table_twice", f"table {tid} for {year} is given by {len(names)} files: "
                    f"{', '.join(sorted(names))}; keep one", file=", ".join(sorted(names)),
                    detail={"table_id": tid, "year": year})
            for (tid, year), names in sorted(files.items()) if len(names) > 1]


def _population_totals(tables: Sequence[StatTable]) -> pd.DataFrame:
    """Total population (age ``Insgesamt``, measure ``total``) per key and year from table 12411-03-03."""
    frames = [t.data.assign(file=str(t.file)) for t in tables if t.table_id == "12411-03-03"]
    if not frames:
        return pd.DataFrame(columns=["key", "year", "value", "file", "line"])
    data = pd.concat(frames, ignore_index=True)
    tot = data[(data["age_group"] == "Insgesamt") & (data["measure"] == "total") & data["value"].notna()
               & (data["year"] > 0)]
    return tot[["key", "year", "value", "file", "line"]]


def check_count_bounds(tables: Sequence[StatTable]) -> list[Problem]:
    """``count_bound``: no count above the population that contains it (error).

    Any count of an area inside a city (Ortsteil, Stadtteil, Stadtbezirk) is at most the city's total of that
    year; any count of a city at most the Land's total; and the total of a city or the Land at most
    :data:`MAX_TOTAL_GROWTH` times its last known (previous published) total.
    """
    totals = _population_totals(tables)
    if totals.empty:
        return []
    bound = totals.groupby(["key", "year"])["value"].max()
    problems: list[Problem] = []
    for table in tables:
        data = table.data
        values = data[data["measure"].isin(table.layout.counts) & data["value"].notna() & (data["year"] > 0)]
        klen = values["key"].str.len()
        parent = values["key"].where(klen != 5, values["key"].str.slice(0, 2)).where(
            ~klen.isin([6, 7, 8]), values["key"].str.slice(0, 5))
        limit = pd.Series(bound.reindex(pd.MultiIndex.from_arrays([parent, values["year"]])).to_numpy(),
                          index=values.index)
        over = values[(klen != 2) & limit.notna() & (values["value"] > limit)]
        listed = [Problem("count_bound", f"line {r.line}, column {r.measure}: {r.key} {r.time} {r.age_group}: "
                          f"count {r.value:,.0f} exceeds the total {limit[r.Index]:,.0f} of {parent[r.Index]}",
                          file=str(table.file), key=str(r.key),
                          detail={"line": int(r.line), "column": r.measure, "value": float(r.value),
                                  "bound": float(limit[r.Index])})
                  for r in over.itertuples()]
        problems += _capped(listed, "count_bound", str(table.file), "counts above their city's total")
    top = totals[totals["key"].str.len().isin([2, 5])].sort_values("year")
    for key, part in top.groupby("key"):
        part = part.drop_duplicates("year")
        prev = part["value"].shift()
        prev_year = part["year"].shift()
        for r, p, py in zip(part.itertuples(), prev, prev_year, strict=True):
            if pd.notna(p) and p > 0 and r.value > MAX_TOTAL_GROWTH * p:
                problems.append(Problem("count_bound", f"line {r.line}, column total: {key} {r.year}: total "
                                        f"{r.value:,.0f} is more than {MAX_TOTAL_GROWTH:g} times its last known "
                                        f"total {p:,.0f} ({int(py)})", file=r.file, key=str(key),
                                        detail={"line": int(r.line), "value": float(r.value), "previous": float(p)}))
    return problems


def check_derived_counts(counts: pd.DataFrame, sources: pd.DataFrame | None = None) -> list[Problem]:
    """``derived_count_negative``: counts derived by subtraction are non-negative (error).

    ``counts`` is indexed by (key, year) as :func:`geo.pipeline.indicators.counts_from_population_table` returns
    it, e.g. ``aged_18_64 = population - under_18 - aged_65_plus``; a negative result means the age groups add
    up to more than the total. ``sources`` (columns key, year, file: the table as read) names the file of each row.
    """
    files: dict[tuple[str, int], str] = {}
    if sources is not None:
        pairs = sources[["key", "year", "file"]].drop_duplicates(["key", "year"])
        files = {(str(k), int(y)): str(f) for k, y, f in zip(pairs["key"], pairs["year"], pairs["file"], strict=True)}
    problems = []
    for col in [c for c in counts.columns if "__" not in c]:
        values = pd.to_numeric(counts[col], errors="coerce")
        for (key, year), v in values[values < 0].items():
            file = files.get((str(key), int(year)))
            problems.append(Problem("derived_count_negative", f"{key} {year} {col}: derived count {v:,.0f} is "
                                    "negative (its parts add up to more than the total)", file=file,
                                    key=str(key), detail={"year": int(year), "column": col, "value": float(v)}))
    return problems


def check_secondary_values(social: pd.DataFrame, file: str) -> list[Problem]:
    """``secondary_value``: secondary ``si_*`` values are finite, and percentages (``*_pct``) within 0-100."""
    problems = []
    lines = social["line"] if "line" in social.columns else pd.Series(np.nan, index=social.index)
    for r, line in zip(social.itertuples(), lines, strict=True):
        v = float(r.value)
        where = f"line {int(line)}, column wert: " if pd.notna(line) else ""
        if not np.isfinite(v):
            reason = "is not a finite number"
        elif str(r.indicator).endswith("_pct") and not 0 <= v <= 100:
            reason = "is a percentage outside 0-100"
        else:
            continue
        problems.append(Problem("secondary_value", f"{where}{r.key} {r.year} {r.indicator}: value {v:g} {reason}",
                                file=file, key=str(r.key), detail={"indicator": str(r.indicator), "value": v}))
    return _capped(problems, "secondary_value", file, "implausible secondary values")


def check_population_jumps(tables: Sequence[StatTable]) -> list[Problem]:
    """The ``population_jump`` warnings: Ortsteile whose population jumps between two published years.

    A factor above :data:`JUMP_FACTOR` (either way), with both figures; ignored below :data:`JUMP_MIN_POPULATION`.
    """
    totals = _population_totals(tables)
    ot = totals[totals["key"].str.len() == 8].drop_duplicates(["key", "year"]).sort_values(["key", "year"])
    problems = []
    for key, part in ot.groupby("key"):
        prev = part["value"].shift()
        prev_year = part["year"].shift()
        for r, p, py in zip(part.itertuples(), prev, prev_year, strict=True):
            if pd.isna(p) or max(p, r.value) < JUMP_MIN_POPULATION:
                continue
            lo, hi = sorted((float(p), float(r.value)))
            if lo == 0 or hi / lo > JUMP_FACTOR:
                problems.append(Problem("population_jump", f"line {r.line}: Ortsteil {key}: population {p:,.0f} "
                                        f"({int(py)}) -> {r.value:,.0f} ({r.year}), more than a factor "
                                        f"{JUMP_FACTOR:g}", "warning", file=r.file, key=str(key),
                                        detail={"from_year": int(py), "from": float(p), "year": int(r.year),
                                                "to": float(r.value)}))
    return problems
