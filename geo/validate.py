"""Validation checks: each returns a list of :class:`~geo.errors.Problem`, so all are reported at once.

Severity policy (one rule for every check): an ``error`` means the snapshot would be wrong or lose data
(wrong CRS, duplicate or malformed key, broken geometry left after repair, residents without geometry, a
negative count); a ``warning`` is recorded in the manifest and the build goes on (a repaired geometry,
a deviation between published totals and the sum of their parts, an overlap within tolerance).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem, ValidationError
from geo.repairs import Repair

KEY_RE = r"^\d{8}$"
#: overlaps between neighbours of one level up to this area are slivers of digitising, not errors
OVERLAP_TOLERANCE_M2 = 10.0


def check_crs(frame: gpd.GeoDataFrame, level: str, expected: str = "EPSG:25832") -> list[Problem]:
    if frame.crs is None:
        return [Problem("crs", f"{level}: layer has no CRS, expected {expected}")]
    if frame.crs.to_string() != expected and f"EPSG:{frame.crs.to_epsg()}" != expected:
        return [Problem("crs", f"{level}: CRS is {frame.crs.to_string()}, expected {expected}")]
    return []


def check_keys(frame: pd.DataFrame, level: str) -> list[Problem]:
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


def check_geometries(frame: gpd.GeoDataFrame, level: str) -> list[Problem]:
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
    bad = data[data["measure"].isin(counts) & (data["value"] < 0)]
    return [
        Problem("negative_count", f"{r.key} {r.time} {r.measure}: negative count {r.value:g}", file=file,
                key=str(r.key))
        for r in bad.itertuples()
    ]


def check_sums(children: pd.DataFrame, published: pd.DataFrame, level: str, indicators: list[str]) -> list[Problem]:
    """Compare sums of Ortsteile with the totals the statistics office publishes for the level above.

    Both frames are indexed by (key, year) with one column per indicator.
    """
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
