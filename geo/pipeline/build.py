"""The pipeline: official files in, repaired and validated districts and indicators out.

``assemble`` reads, repairs, validates and computes; it returns an :class:`Assembly` and raises
:class:`~geo.errors.ValidationError` with every problem at once when an input is unusable. ``geo.pipeline.snapshot``
publishes an assembly. Its steps live beside it: the statistics' indicators in
:mod:`geo.pipeline.statistics_indicators`, the need series in :mod:`geo.pipeline.need_series`, the published
layers in :mod:`geo.pipeline.published_layers`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import Problem, QuartiereError, ValidationError
from geo.pipeline import checks_need, repairs, validate
from geo.pipeline import indicators as ind
from geo.pipeline.catalogue import Catalogue, discover
from geo.pipeline.need_series import NeedSources, need_indicators, read_need_sources
from geo.pipeline.published_layers import reach_ortsteile, wide_layer
from geo.pipeline.repairs import Repair
from geo.pipeline.sources.boundaries import STORAGE_CRS, read_boundary_layer
from geo.pipeline.sources.statistics import StatTable, read_statistics_csv
from geo.pipeline.sources.tables import read_designations, read_social_indicators, read_tidy_indicators
from geo.pipeline.statistics_indicators import (
    NO_DISTRICT_STATISTICS,
    POPULATION_TABLE,
    secondary_rows,
    statistics_indicators,
    tidy_rows,
    to_8_digit,
)
from geo.places.gazetteer import build_gazetteer, postcode_shares, read_postcode_areas

LEVEL_LAYERS = {"ortsteil": "ortsteile", "stadtteil": "stadtteile", "stadtbezirk": "stadtbezirke"}

Progress = Callable[[str], None]


@dataclass
class Assembly:
    """Everything a snapshot holds, before it is written."""

    layers: dict[str, gpd.GeoDataFrame]
    indicators: pd.DataFrame
    designations: pd.DataFrame
    catalogue: Catalogue
    repairs: list[Repair] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    statistics_tables: list[dict[str, object]] = field(default_factory=list)
    dataset: str = "bremen"
    postcodes: gpd.GeoDataFrame | None = None
    postcode_shares: pd.DataFrame | None = None
    gazetteer: pd.DataFrame | None = None

    @property
    def years(self) -> list[int]:
        """The years with population figures, sorted."""
        pop = self.indicators[(self.indicators["indicator"] == "population") & self.indicators["value"].notna()]
        return sorted(pop["year"].unique().tolist())


def _strip_level_suffix(label: str) -> str:
    """``"Mitte (Ortsteil)"`` -> ``"Mitte"``."""
    return label.split(" (")[0].strip()


def _read_all(cat: Catalogue) -> tuple[dict[str, list[gpd.GeoDataFrame]], list[StatTable], list[Problem]]:
    """The boundary layers and statistics tables, and a problem for each file that cannot be read."""
    problems: list[Problem] = []
    layers: dict[str, list[gpd.GeoDataFrame]] = {level: [] for level in LEVEL_LAYERS}
    for level, paths in cat.layers.items():
        for path in paths:
            try:
                layers[level].append(read_boundary_layer(path, level))
            except QuartiereError as exc:
                problems.append(Problem("read", exc.message, file=str(path)))
    tables: list[StatTable] = []
    for path in cat.statistics:
        try:
            tables.append(read_statistics_csv(path))
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
    return layers, tables, problems


def assemble(data_dir: Path, *, extra: list[Path] | None = None, rule: ind.SmallNumberRule | None = None,
             strict: bool = False, progress: Progress | None = None) -> Assembly:
    """Read, repair, validate and compute everything for a snapshot.

    Parameters
    ----------
    data_dir
        The official data folder.
    extra
        Users' own indicator tables in tidy long form (``key, year, indicator, value[, numerator, denominator,
        source]``).
    rule
        Small-number rule for rates and indices.
    strict
        Treat warnings (e.g. repaired geometries) as errors.
    progress
        Called with a short message before each step.

    Raises
    ------
    ValidationError
        With every problem found, when any is an error.
    """
    say = progress or (lambda _msg: None)
    rule = rule or ind.SmallNumberRule()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cat = discover(data_dir, extra=extra)
    say(f"reading {len(cat.all_files())} input files")
    inputs = _read_inputs(cat)
    problems = inputs.problems + _check_tables(inputs.tables)
    validate.raise_on_errors(problems, str(data_dir), stage="the input files")
    timings["read"] = time.perf_counter() - t0

    say("repairing and validating boundaries")
    t1 = time.perf_counter()
    log: list[Repair] = []
    layers, more = _repaired_layers(inputs.raw_layers, inputs.tables, log)
    problems += more + _checked_layers(layers, _statistics_names(inputs.tables), log)
    problems += _check_coverage(cat, layers["ortsteil"])
    timings["boundaries"] = time.perf_counter() - t1
    validate.raise_on_errors(problems, str(data_dir), stage="the boundaries")

    say("computing indicators")
    t2 = time.perf_counter()
    long, more = _long_table(cat, inputs, layers, rule, log)
    problems += more
    timings["indicators"] = time.perf_counter() - t2

    problems = validate.escalate(problems, log, strict=strict)
    validate.raise_on_errors(problems, str(data_dir))
    designations = reach_ortsteile(inputs.designations, layers["ortsteil"])
    out_layers = {LEVEL_LAYERS[lvl]: wide_layer(frame, lvl, long, designations) for lvl, frame in layers.items()}
    postcodes, shares = _postcode_areas(cat, out_layers, say)
    gazetteer = build_gazetteer(out_layers, postcodes, shares)
    timings["total"] = time.perf_counter() - t0
    return Assembly(
        layers=out_layers, indicators=long, designations=designations, catalogue=cat, repairs=log,
        problems=problems, timings=timings, postcodes=postcodes, postcode_shares=shares, gazetteer=gazetteer,
        statistics_tables=[{"file": t.file.name, "table_id": t.table_id, "title": t.title,
                            "years": sorted(t.data["year"].unique().tolist())} for t in inputs.tables],
    )


@dataclass
class Inputs:
    """The input files as read, before any repair: boundaries by level, statistics and the other tables."""

    raw_layers: dict[str, list[gpd.GeoDataFrame]]
    tables: list[StatTable]
    designations: pd.DataFrame
    social: pd.DataFrame
    extras: list[pd.DataFrame]
    need_sources: NeedSources | None
    problems: list[Problem]


def _read_inputs(cat: Catalogue) -> Inputs:
    """Read every file of the catalogue; a file that cannot be read is a problem, not an exception."""
    raw_layers, tables, problems = _read_all(cat)
    problems += [Problem("ignored_file", f"ignored: {why}", "warning", file=str(path)) for path, why in cat.ignored]
    designations = pd.DataFrame()
    social = pd.DataFrame()
    extras: list[pd.DataFrame] = []
    for path in cat.designations:
        try:
            designations = pd.concat([designations, read_designations(path)], ignore_index=True)
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
    for path in cat.social:
        try:
            social = read_social_indicators(path)
            problems += validate.check_secondary_values(social, str(path))
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
    for path in cat.extra:
        try:
            extras.append(read_tidy_indicators(path))
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
    need_sources, more = read_need_sources(cat)
    return Inputs(raw_layers, tables, designations, social, extras, need_sources, problems + more)


def _check_tables(tables: list[StatTable]) -> list[Problem]:
    """The checks of the statistics tables, each on its own and across files and years."""
    problems: list[Problem] = []
    for table in tables:
        problems += validate.check_negative_counts(table.data, table.layout.counts, str(table.file))
        problems += validate.check_statistics_keys(table.data, str(table.file))
        problems += validate.check_whole_counts(table.data, table.layout.counts, str(table.file))
        problems += validate.check_duplicate_rows(table.data, table.layout.dimensions, str(table.file))
        problems += validate.check_statistics_dates(table.data, str(table.file), table.file_year)
        if table.table_id == POPULATION_TABLE:  # the table whose age groups make the derived counts
            problems += validate.check_age_groups(table.data, str(table.file))
    problems += validate.check_one_file_per_year(tables)
    problems += validate.check_count_bounds(tables)
    problems += validate.check_population_jumps(tables)
    return problems


def _repaired_layers(raw_layers: dict[str, list[gpd.GeoDataFrame]], tables: list[StatTable],
                     log: list[Repair]) -> tuple[dict[str, gpd.GeoDataFrame], list[Problem]]:
    """One repaired frame per level (cities, split districts, geometries, missing districts), with parent keys."""
    problems: list[Problem] = []
    layers: dict[str, gpd.GeoDataFrame] = {}
    for level, frames in raw_layers.items():
        frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=STORAGE_CRS)
        problems += validate.check_crs(frame, level)
        frame = repairs.assign_city_by_key(frame, level, log)
        frame = repairs.merge_split_districts(frame, level, log)
        frame = repairs.repair_invalid_geometries(frame, level, log)
        layers[level] = frame
    layers["ortsteil"] = repairs.fill_missing_ortsteile(
        layers["ortsteil"], layers["stadtteil"], _statistics_names(tables, ortsteile_only=True), log)
    return _with_parent_keys(layers, log), problems


def _with_parent_keys(layers: dict[str, gpd.GeoDataFrame], log: list[Repair]) -> dict[str, gpd.GeoDataFrame]:
    """Parent keys on every level; Stadtteile and Stadtbezirke missing from their layers derived from the Ortsteile."""
    ot = layers["ortsteil"]
    ot = ot.drop(columns=[c for c in ("stadtteil_key", "stadtbezirk_key") if c in ot.columns])
    ot = ot.join(repairs.parent_keys(ot["key"]))
    layers["ortsteil"] = ot
    layers["stadtteil"] = repairs.derive_missing_parents(ot, layers["stadtteil"], parent_col="stadtteil_key",
                                                         level="stadtteil", log=log)
    layers["stadtbezirk"] = repairs.derive_missing_parents(ot, layers["stadtbezirk"], parent_col="stadtbezirk_key",
                                                           level="stadtbezirk", log=log)
    for level in ("stadtteil", "stadtbezirk"):
        frame = layers[level]
        keys = frame["key"]
        frame = frame.drop(columns=[c for c in ("stadtteil_key", "stadtbezirk_key") if c in frame.columns])
        parents = repairs.parent_keys(keys)
        if level == "stadtteil":
            frame = frame.join(parents[["stadtbezirk_key", "city_key"]])
        else:
            frame = frame.join(parents[["city_key"]])
        layers[level] = frame
    return layers


def _checked_layers(layers: dict[str, gpd.GeoDataFrame], stat_names: dict[str, str],
                    log: list[Repair]) -> list[Problem]:
    """Check keys, names, geometries and overlaps per level; add areas and sort by key (in place)."""
    problems: list[Problem] = []
    for level, frame in layers.items():
        repairs.record_name_differences(frame, stat_names, level, log)
        problems += validate.check_keys(frame, level)
        problems += validate.check_names(frame, level)
        problems += validate.check_geometries(frame, level)
        problems += validate.check_overlaps(frame, level)
        frame["area_km2"] = frame.geometry.area / 1e6
        layers[level] = frame.sort_values("key").reset_index(drop=True)
    return problems


def _long_table(cat: Catalogue, inputs: Inputs, layers: dict[str, gpd.GeoDataFrame], rule: ind.SmallNumberRule,
                log: list[Repair]) -> tuple[pd.DataFrame, list[Problem]]:
    """Every indicator in long form: statistics, secondary tables, need series, census grids and users' tables."""
    long, problems = statistics_indicators(inputs.tables, layers, rule, log)
    problems += _match_keys(long, layers)
    if not inputs.social.empty:
        long = pd.concat([long, secondary_rows(inputs.social)], ignore_index=True)
    if inputs.need_sources is not None:
        need, more = need_indicators(inputs.need_sources, layers)
        problems += more
        long = pd.concat([long, need], ignore_index=True)
    if cat.zensus2011 or cat.zensus2022:  # census grids interpolated to the Ortsteile (geo/pipeline/census.py)
        from geo.pipeline.census import census_indicators

        census, more = census_indicators(cat.zensus2011, cat.zensus2022, layers["ortsteil"])
        problems += more + checks_need.check_census_shares(census, checks_need.catalogue_units())
        long = pd.concat([long, census], ignore_index=True)
    for frame in inputs.extras:
        long = pd.concat([long, tidy_rows(frame, layers)], ignore_index=True)
    long = long.astype({"year": int, "value": float, "numerator": float, "denominator": float,
                        "base_year": float})  # an empty part (one year only: no changes) must not make them object
    return long.sort_values(["level", "key", "indicator", "year"]).reset_index(drop=True), problems


def _postcode_areas(cat: Catalogue, out_layers: dict[str, gpd.GeoDataFrame],
                    say: Progress) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """The postcode areas and their shares of the Ortsteile (both None without postcode files)."""
    if not cat.postcodes:
        return None, None
    say("cutting postcode areas with the Ortsteile")
    try:
        postcodes = pd.concat([read_postcode_areas(str(p)) for p in cat.postcodes], ignore_index=True)
        shares = postcode_shares(postcodes, out_layers["ortsteile"],
                                 out_layers["ortsteile"].set_index("key")["population"])
    except QuartiereError as exc:
        raise ValidationError(exc.message, problems=[Problem("read", exc.message)]) from exc
    return postcodes, shares


def _statistics_names(tables: list[StatTable], *, ortsteile_only: bool = False) -> dict[str, str]:
    """Names by 8-digit key as the statistics spell them (without the ``" (Ortsteil)"`` suffix)."""
    names: dict[str, str] = {}
    for table in tables:
        keys = table.data[["key", "area_label"]].drop_duplicates("key")
        for key, label in zip(keys["key"], keys["area_label"], strict=True):
            if len(key) == 8 or (len(key) >= 6 and not ortsteile_only):
                names.setdefault(to_8_digit(key), _strip_level_suffix(label))
    return names


def _check_coverage(cat: Catalogue, ortsteile: gpd.GeoDataFrame) -> list[Problem]:
    """The Ortsteile of each city against its outline (where one is given): gaps and land outside."""
    problems: list[Problem] = []
    for path in cat.outlines:
        try:
            outline = gpd.read_file(path)
        except Exception as exc:  # an unreadable optional outline is a warning, not a failed build
            problems.append(Problem("read", f"cannot read city outline: {exc}", "warning", file=str(path)))
            continue
        if outline.crs is None:
            problems.append(Problem("read", "city outline has no coordinate reference system (its .prj is missing "
                                    "or empty): coverage not checked", "warning", file=str(path)))
            continue
        city = "Bremen" if path.stem.endswith("BRE") else "Bremerhaven"
        geo_city = ortsteile[ortsteile.intersects(outline.union_all().buffer(-1))]
        geo_city = geo_city[geo_city["city"] == city] if city == "Bremen" else geo_city
        problems += validate.check_coverage(geo_city, outline.to_crs(STORAGE_CRS), "ortsteil", city)
    return problems


def _match_keys(long: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame]) -> list[Problem]:
    """Boundary keys without statistics: expected for cities without district statistics, else an error."""
    problems = []
    with_stats = set(long.loc[long["indicator"] == "population", "key"])
    for level, frame in layers.items():
        missing = frame.loc[~frame["key"].isin(with_stats)]
        for city, part in missing.groupby("city"):
            city_has = frame.loc[frame["city"] == city, "key"].isin(with_stats).any()
            if city_has:
                for key in part["key"]:
                    problems.append(Problem("geometry_without_statistics", f"{level} {key} has a geometry but no "
                                            "row in the statistics", key=key))
            else:
                problems.append(Problem(NO_DISTRICT_STATISTICS, f"{level}: no district statistics published for "
                                        f"{city} ({len(part)} districts); their indicators are missing with this "
                                        "reason", severity="warning"))
    return problems
