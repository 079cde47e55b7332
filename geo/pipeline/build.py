"""The pipeline: official files in, repaired and validated districts and indicators out.

``assemble`` reads, repairs, validates and computes; it returns an :class:`Assembly` and raises
:class:`~geo.errors.ValidationError` with every problem at once when an input is unusable. ``geo.pipeline.snapshot``
publishes an assembly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import Problem, QuartiereError, ValidationError
from geo.pipeline import checks_need, repairs, validate
from geo.pipeline import indicators as ind
from geo.pipeline.catalogue import Catalogue, NeedCatalogue, discover, load_need_catalogue
from geo.pipeline.repairs import Repair
from geo.pipeline.sources import ortsteilatlas, wahlatlas
from geo.pipeline.sources.boundaries import STORAGE_CRS, read_boundary_layer
from geo.pipeline.sources.statistics import StatTable, read_statistics_csv
from geo.pipeline.sources.tables import read_designations, read_social_indicators, read_tidy_indicators
from geo.places.gazetteer import build_gazetteer, postcode_shares, read_postcode_areas

LEVEL_LAYERS = {"ortsteil": "ortsteile", "stadtteil": "stadtteile", "stadtbezirk": "stadtbezirke"}
STAT_LEVEL_BY_LENGTH = {8: "ortsteil", 7: "stadtteil", 6: "stadtbezirk", 5: "stadt", 2: "land"}
NO_DISTRICT_STATISTICS = "no_district_statistics"
#: the population table by Ortsteil and age group (Statistisches Landesamt Bremen): the counts and derived counts
POPULATION_TABLE = "12411-03-03"

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
        pop = self.indicators[(self.indicators["indicator"] == "population") & self.indicators["value"].notna()]
        return sorted(pop["year"].unique().tolist())


def to_8_digit(key: str) -> str:
    """Statistics keys have 2/5/6/7/8 digits; boundaries always 8 (``0401111`` -> ``04011110``)."""
    if len(key) == 2:
        return key + "000000"
    if len(key) == 5:
        return key + "000"
    return key.ljust(8, "0")


def _strip_level_suffix(label: str) -> str:
    return label.split(" (")[0].strip()


def _read_all(cat: Catalogue) -> tuple[dict[str, list[gpd.GeoDataFrame]], list[StatTable], list[Problem]]:
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
    need_sources, more = _read_need_sources(cat)
    problems += more
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
    validate.raise_on_errors(problems, str(data_dir), stage="the input files")
    timings["read"] = time.perf_counter() - t0

    say("repairing and validating boundaries")
    t1 = time.perf_counter()
    log: list[Repair] = []
    stat_names = _statistics_names(tables)
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
    for level, frame in layers.items():
        repairs.record_name_differences(frame, stat_names, level, log)
        problems += validate.check_keys(frame, level)
        problems += validate.check_names(frame, level)
        problems += validate.check_geometries(frame, level)
        problems += validate.check_overlaps(frame, level)
        frame["area_km2"] = frame.geometry.area / 1e6
        layers[level] = frame.sort_values("key").reset_index(drop=True)
    problems += _check_coverage(cat, layers["ortsteil"])
    timings["boundaries"] = time.perf_counter() - t1
    validate.raise_on_errors(problems, str(data_dir), stage="the boundaries")

    say("computing indicators")
    t2 = time.perf_counter()
    long, more = _indicators(tables, layers, rule, log)
    problems += more
    problems += _match_keys(long, layers)
    if not social.empty:
        long = pd.concat([long, _secondary(social)], ignore_index=True)
    if need_sources is not None:
        need, more = _need_indicators(need_sources, layers)
        problems += more
        long = pd.concat([long, need], ignore_index=True)
    if cat.zensus2011 or cat.zensus2022:  # census grids interpolated to the Ortsteile (geo/pipeline/sources/zensus.py)
        from geo.pipeline.sources import zensus

        census, more = zensus.census_indicators(cat.zensus2011, cat.zensus2022, layers["ortsteil"])
        problems += more + checks_need.check_census_shares(census, checks_need.catalogue_units())
        long = pd.concat([long, census], ignore_index=True)
    for frame in extras:
        long = pd.concat([long, _tidy(frame, layers)], ignore_index=True)
    long = long.astype({"year": int, "value": float, "numerator": float, "denominator": float,
                        "base_year": float})  # an empty part (one year only: no changes) must not make them object
    long = long.sort_values(["level", "key", "indicator", "year"]).reset_index(drop=True)
    timings["indicators"] = time.perf_counter() - t2

    problems = validate.escalate(problems, log, strict=strict)
    validate.raise_on_errors(problems, str(data_dir))
    designations = reach_ortsteile(designations, layers["ortsteil"])
    out_layers = {LEVEL_LAYERS[lvl]: _wide_layer(frame, lvl, long, designations) for lvl, frame in layers.items()}
    postcodes, shares = None, None
    if cat.postcodes:
        say("cutting postcode areas with the Ortsteile")
        try:
            postcodes = pd.concat([read_postcode_areas(str(p)) for p in cat.postcodes], ignore_index=True)
            shares = postcode_shares(postcodes, out_layers["ortsteile"],
                                     out_layers["ortsteile"].set_index("key")["population"])
        except QuartiereError as exc:
            raise ValidationError(exc.message, problems=[Problem("read", exc.message)]) from exc
    gazetteer = build_gazetteer(out_layers, postcodes, shares)
    timings["total"] = time.perf_counter() - t0
    return Assembly(
        layers=out_layers, indicators=long, designations=designations, catalogue=cat, repairs=log,
        problems=problems, timings=timings, postcodes=postcodes, postcode_shares=shares, gazetteer=gazetteer,
        statistics_tables=[{"file": t.file.name, "table_id": t.table_id, "title": t.title,
                            "years": sorted(t.data["year"].unique().tolist())} for t in tables],
    )


@dataclass
class NeedSources:
    """The need catalogue and the Ortsteilatlas and Wahlatlas files read with it."""

    catalogue: NeedCatalogue
    atlas: list[ortsteilatlas.AtlasTable] = field(default_factory=list)
    wahl: list[wahlatlas.WahlatlasTable] = field(default_factory=list)


def _read_need_sources(cat: Catalogue) -> tuple[NeedSources | None, list[Problem]]:
    if not cat.ortsteilatlas and not cat.wahlatlas:
        return None, []
    problems: list[Problem] = []
    try:
        sources = NeedSources(load_need_catalogue())
    except QuartiereError as exc:
        return None, [Problem("read", exc.message)]
    need = sources.catalogue
    for path in cat.ortsteilatlas:
        try:
            table = ortsteilatlas.read_ortsteilatlas(path, key_prefix=need.atlas_key_prefix,
                                                     topics={i.topic for i in need.atlas_indicators})
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
            continue
        sources.atlas.append(table)
        problems += table.problems
    for path in cat.wahlatlas:
        try:
            wtable = wahlatlas.read_wahlatlas(path, city_prefixes=need.wahl_city_prefixes,
                                              geographies=need.wahl_geographies,
                                              comparison_keys=need.wahl_comparison_keys)
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
            continue
        sources.wahl.append(wtable)
        problems += wtable.problems
    return sources, problems


def _sole_ortsteil_stadtteile(rows: pd.DataFrame, ortsteile: gpd.GeoDataFrame) -> pd.DataFrame:
    """Stadtteile that are a single Ortsteil are published only as that Ortsteil: give them its values."""
    sole = ortsteile.groupby("stadtteil_key")["key"].agg(list)
    sole = sole[sole.map(len) == 1].map(lambda ks: ks[0])
    have = rows[(rows["level"] == "stadtteil") & rows["value"].notna()]
    have_pairs = set(zip(have["key"], have["indicator"], have["year"], strict=True))
    ot = rows[(rows["level"] == "ortsteil") & rows["key"].isin(set(sole))]
    st_of = {ot_key: st_key for st_key, ot_key in sole.items()}
    add = ot.assign(key=ot["key"].map(st_of), level="stadtteil",
                    source=ot["source"] + " (published for its only Ortsteil " + ot["key"] + ")")
    add = add[[(k, i, y) not in have_pairs for k, i, y in zip(add["key"], add["indicator"], add["year"],
                                                                strict=True)]]
    added = set(zip(add["key"], add["indicator"], add["year"], strict=True))
    drop = pd.Series([lvl == "stadtteil" and (k, i, y) in added for lvl, k, i, y in
                      zip(rows["level"], rows["key"], rows["indicator"], rows["year"], strict=True)],
                     index=rows.index, dtype=bool)
    return pd.concat([rows[~drop], add], ignore_index=True)


def _need_indicators(sources: NeedSources, layers: dict[str, gpd.GeoDataFrame]) -> tuple[pd.DataFrame, list[Problem]]:
    """The need series of the catalogue in the long table's form, one source per indicator and year."""
    need = sources.catalogue
    problems: list[Problem] = []
    by_source: dict[str, list[pd.DataFrame]] = {"ortsteilatlas": [], "wahlatlas": []}
    units = checks_need.units_of(need)
    for table in sources.atlas:
        rows, more = ortsteilatlas.to_indicators(table, need)
        by_source["ortsteilatlas"].append(rows)
        problems += more + checks_need.check_need(checks_need.atlas_cells(rows, table.data), units, str(table.file))
    for wtable in sources.wahl:
        rows, more = wahlatlas.to_indicators(wtable, need)
        by_source["wahlatlas"].append(rows)
        problems += more + checks_need.check_need(rows, units, str(wtable.file))
    known = {k for frame in layers.values() for k in frame["key"]} | set(layers["ortsteil"]["city_key"])
    frames: dict[str, pd.DataFrame] = {}
    for name, parts in by_source.items():
        if not parts:
            continue
        rows = pd.concat(parts, ignore_index=True)
        # a newer file of the same source wins (files are read in sorted order)
        rows = rows.drop_duplicates(["key", "indicator", "year"], keep="last")
        unknown = sorted(set(rows["key"]) - known)
        for key in unknown:
            problems.append(Problem("need_key_without_geometry", f"{name}: key {key} matches no district of the "
                                    "boundary layers; its values are left out", "warning", key=key))
        rows = rows[rows["key"].isin(known)]
        frames[name] = _sole_ortsteil_stadtteile(rows, layers["ortsteil"])
    for check in need.agreement_checks:
        ident = str(check["indicator"])
        a, b = (frames.get(s) for s in ("ortsteilatlas", "wahlatlas"))
        if a is None or b is None:
            continue
        problems += validate.check_agreement(a[a["indicator"] == ident], b[b["indicator"] == ident], ident,
                                             tolerance=float(check.get("tolerance", 0.0)),
                                             max_share_differing=float(check.get("max_share_differing", 0.25)),
                                             names=("ortsteilatlas", "wahlatlas"))
    out = []
    for name, rows in frames.items():
        for ident, part in rows.groupby("indicator", sort=False):
            order = need.sources_by_year.get(str(ident), (name,))
            if name not in order:
                order = (*order, name)
            # the first source in the catalogue's order that has the year gives every value of that year
            years_of = {s: set(f.loc[f["indicator"] == ident, "year"]) for s, f in frames.items()}
            winner = {y: next(s for s in order if y in years_of.get(s, set())) for y in years_of[name]}
            out.append(part[part["year"].map(winner) == name])
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=ind.LONG_COLUMNS)
    result = pd.concat([result, ind.fixed_changes(result, need.changes)], ignore_index=True)
    result["year"] = result["year"].astype(int)
    return result[ind.LONG_COLUMNS], problems


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


def _long_rows(values: pd.DataFrame, level: str, source: str) -> pd.DataFrame:
    """Melt a (key, year)-indexed frame of ``<name>``, ``<name>__flag`` [+ ``__numerator``, ``__denominator``]."""
    names = [c for c in values.columns if "__" not in c]
    parts = []
    for name in names:
        part = pd.DataFrame(
            {
                "key": values.index.get_level_values("key"),
                "year": values.index.get_level_values("year"),
                "indicator": name,
                "value": values[name].to_numpy(dtype=float),
                "numerator": values.get(f"{name}__numerator", pd.Series(np.nan, index=values.index)).to_numpy(float),
                "denominator": values.get(f"{name}__denominator",
                                          pd.Series(np.nan, index=values.index)).to_numpy(float),
                "flag": values.get(f"{name}__flag", pd.Series("", index=values.index)).fillna("").to_numpy(object),
                "base_year": values.get(f"{name}__base_year",
                                        pd.Series(np.nan, index=values.index)).to_numpy(float),
            }
        )
        parts.append(part)
    if not parts:  # e.g. no change indicators when only one year is published
        return pd.DataFrame(columns=ind.LONG_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["level"] = level
    out["source"] = source
    return out


def _published(tables: list[StatTable], table_id: str) -> pd.DataFrame:
    frames = [t.data for t in tables if t.table_id == table_id]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _indicators(tables: list[StatTable], layers: dict[str, gpd.GeoDataFrame], rule: ind.SmallNumberRule,
                log: list[Repair]) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    pop = _published(tables, POPULATION_TABLE)
    pop["key8"] = pop["key"].map(to_8_digit)
    pop["stat_level"] = pop["key"].str.len().map(STAT_LEVEL_BY_LENGTH)
    counts_all = ind.counts_from_population_table(pop.assign(key=pop["key8"]))
    problems += validate.check_derived_counts(counts_all, pop.assign(key=pop["key8"]))
    stat_level = pop.drop_duplicates("key8").set_index("key8")["stat_level"]
    ot_keys = set(layers["ortsteil"]["key"])
    is_ot = counts_all.index.get_level_values("key").map(stat_level) == "ortsteil"
    ot_counts = counts_all[is_ot]
    # statistics-only areas: Ortsteile in the tables without geometry
    # Ortsteile in the tables without geometry. A historic one (no residents in the latest year, e.g.
    # Handelshäfen) is kept: its past residents count towards its Stadtteil, Stadtbezirk and city, as in the
    # published totals. A current one (residents in the latest year) would be lost from the maps: an error.
    stat_only = sorted(set(ot_counts.index.get_level_values("key")) - ot_keys)
    latest = int(ot_counts.index.get_level_values("year").max())
    historic = []
    for key in stat_only:
        rows = ot_counts.xs(key, level="key")["population"]
        now = rows.get(latest, np.nan)
        if pd.notna(now) and now > 0:
            problems.append(Problem("key_without_geometry", f"statistics key {key} has {int(now)} residents in "
                                    f"{latest} but no geometry in any boundary layer", key=key,
                                    file=", ".join(sorted(pop.loc[pop["key8"] == key, "file"].unique()))))
        else:
            historic.append(key)
            past = rows[rows > 0]
            log.append(Repair("statistics_only_area", f"Ortsteil {key} exists only in the statistics (no geometry, "
                              f"no residents in {latest}); its residents in "
                              f"{', '.join(str(y) for y in past.index) or 'no year'} count towards its Stadtteil, "
                              "Stadtbezirk and city; it is left out of the maps", keys=[key],
                              detail={"residents": {int(y): int(v) for y, v in past.items()}}))
    ot_frame = layers["ortsteil"].set_index("key")
    parents_of = pd.concat([ot_frame[["stadtteil_key", "stadtbezirk_key", "city_key"]],
                            repairs.parent_keys(pd.Series(historic, index=historic, dtype="string"))])
    all_ot_counts = ot_counts[ot_counts.index.get_level_values("key").isin(parents_of.index)]
    ot_counts = ot_counts[ot_counts.index.get_level_values("key").isin(ot_keys)]
    level_counts: dict[str, pd.DataFrame] = {"ortsteil": ot_counts}
    for level, col in (("stadtteil", "stadtteil_key"), ("stadtbezirk", "stadtbezirk_key"), ("stadt", "city_key")):
        level_counts[level] = ind.aggregate_counts(all_ot_counts, parents_of[col])
    # published totals of the levels above, for validation and for cities without district statistics
    published = counts_all[~is_ot]
    pub_level = published.index.get_level_values("key").map(stat_level)
    main_counts = ["population", "foreign_nationals", "under_18", "aged_65_plus"]
    for level in ("stadtteil", "stadtbezirk", "stadt"):
        problems += validate.check_sums(level_counts[level], published[pub_level == level], level, main_counts)
    city_pub = published[pub_level == "stadt"]
    missing_cities = sorted(set(city_pub.index.get_level_values("key")) - set(level_counts["stadt"].index
                                                                                .get_level_values("key")))
    if missing_cities:
        level_counts["stadt"] = pd.concat([level_counts["stadt"], city_pub.loc[missing_cities]])
    parts = []
    areas = {lvl: layers[lvl].set_index("key")["area_km2"] for lvl in ("ortsteil", "stadtteil", "stadtbezirk")}
    areas["stadt"] = layers["ortsteil"].groupby("city_key")["area_km2"].sum()
    for level, counts in level_counts.items():
        counts = counts.copy()
        counts["area_km2"] = counts.index.get_level_values("key").map(areas[level]).to_numpy(float)
        rates = ind.rates_from_counts(counts, rule=rule)
        parts.append(_long_rows(counts.drop(columns=["area_km2"]), level, "12411-03-03"))
        parts.append(_long_rows(rates, level, "12411-03-03"))
        parts.append(_long_rows(_changes(counts, rates), level, "12411-03-03"))
        parts += _context_tables(tables, counts.index, level, ot_frame, rule)
    long = pd.concat(parts, ignore_index=True)
    long = pd.concat([long, _no_statistics_rows(layers, long)], ignore_index=True)
    return long[ind.LONG_COLUMNS], problems


def _changes(counts: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """Population change in percent and share changes in percentage points, with their base years."""
    years = sorted(counts.index.get_level_values("year").unique())
    pop = counts["population"].unstack("year")
    out_frames = []
    share_changes = {"share_foreign_change_2y_pp": ("share_foreign_pct", "2y"),
                     "share_foreign_change_5y_pp": ("share_foreign_pct", "5y"),
                     "share_under_18_change_2y_pp": ("share_under_18_pct", "2y"),
                     "share_aged_65_plus_change_2y_pp": ("share_aged_65_plus_pct", "2y")}
    shares = {name: rates[name].unstack("year") for name, _ in share_changes.values()}
    for year in years:
        frame = pd.DataFrame(index=pop.index)
        for window in ("2y", "5y"):
            name = f"population_change_{window}_pct"
            base = ind.nearest_base_year(year, years, window)
            if base is None:
                continue
            diff = pop[year] - pop[base]
            frame[name] = 100 * diff / pop[base]
            frame[f"{name}__numerator"] = diff
            frame[f"{name}__denominator"] = pop[base]
            frame[f"{name}__base_year"] = base
            small = pop[base] < 300
            frame[f"{name}__flag"] = np.where(frame[name].isna(), "missing_count",
                                              np.where(small, "withheld_small_numbers", ""))
            frame.loc[small, name] = np.nan
        for name, (share, window) in share_changes.items():
            base = ind.nearest_base_year(year, years, window)
            if base is None:
                continue
            frame[name] = shares[share][year] - shares[share][base]
            frame[f"{name}__base_year"] = base
            frame[f"{name}__flag"] = np.where(frame[name].isna(), "missing_or_withheld_share", "")
        frame["year"] = year
        out_frames.append(frame.reset_index().set_index(["key", "year"]))
    return pd.concat(out_frames) if out_frames else pd.DataFrame()


def _context_tables(tables: list[StatTable], index: pd.MultiIndex, level: str, ot_frame: pd.DataFrame,
                    rule: ind.SmallNumberRule) -> list[pd.DataFrame]:
    """Migration background (173-55), mean and median age (173-22), projection (173-97) for one level."""
    keys = set(index.get_level_values("key"))
    out: list[pd.DataFrame] = []
    parent_col = {"stadtteil": "stadtteil_key", "stadtbezirk": "stadtbezirk_key", "stadt": "city_key"}.get(level)
    mig = _published(tables, "173-55")
    if not mig.empty:
        tot = mig[(mig["age_group"] == "Insgesamt") & (mig["key"].str.len() == 8)]
        wide = tot.pivot_table(index=["key", "year"], columns="measure", values="value", aggfunc="first")
        counts = pd.DataFrame({"migration_background": wide["migration_background"],
                               "population_2013": wide["migration_background"] + wide["no_migration_background"]})
        if parent_col:
            counts = counts[counts.index.get_level_values("key").isin(ot_frame.index)]
            counts = ind.aggregate_counts(counts.assign(**{"migration_background__flag": ""}).drop(
                columns=["migration_background__flag"]), ot_frame[parent_col])
            counts = counts[[c for c in counts.columns if "__" not in c]]
        counts = counts[counts.index.get_level_values("key").isin(keys)]
        rates = ind.rates_from_counts(counts, rule=rule, names=["share_migration_background_pct"])
        out.append(_long_rows(counts[["migration_background"]], level, "173-55"))
        out.append(_long_rows(rates, level, "173-55"))
    age = _published(tables, "173-22")
    if not age.empty:
        age = age.assign(key=age["key"].map(to_8_digit))
        wide = age.pivot_table(index=["key", "year"], columns="measure", values="value", aggfunc="first")
        vals = pd.DataFrame({"mean_age_years": wide["mean_age"], "median_age_years": wide["median_age"]})
        if level == "stadtteil":  # Stadtteile without subdivision are published only as their Ortsteil
            sole = ot_frame.reset_index().groupby("stadtteil_key")["key"].agg(list)
            sole = sole[sole.map(len) == 1].map(lambda ks: ks[0])
            for st_key, ot_key in sole.items():
                if st_key not in vals.index.get_level_values("key"):
                    rows = vals.xs(ot_key, level="key", drop_level=False) if ot_key in vals.index.get_level_values(
                        "key") else None
                    if rows is not None:
                        vals = pd.concat([vals, rows.rename(index={ot_key: st_key}, level="key")])
        vals = vals[vals.index.get_level_values("key").isin(keys)]
        out.append(_long_rows(vals, level, "173-22"))
    proj = _published(tables, "173-97")
    if not proj.empty:
        tot = proj[(proj["sex"] == "Insgesamt") & (proj["key"].str.len() == 8)]
        wide = tot.pivot_table(index=["key", "year"], columns="measure", values="value", aggfunc="first")
        counts = pd.DataFrame({"population_projected": wide["population_projected"]})
        if parent_col:
            counts = counts[counts.index.get_level_values("key").isin(ot_frame.index)]
            counts = ind.aggregate_counts(counts, ot_frame[parent_col])[["population_projected"]]
        else:
            mean = wide["mean_age_projected"].rename("mean_age_projected_years")
            out.append(_long_rows(mean[mean.index.get_level_values("key").isin(keys)].to_frame(), level, "173-97"))
        counts = counts[counts.index.get_level_values("key").isin(keys)]
        out.append(_long_rows(counts, level, "173-97"))
    return out


def _no_statistics_rows(layers: dict[str, gpd.GeoDataFrame], long: pd.DataFrame) -> pd.DataFrame:
    """Explicit missing rows for districts of a city without district statistics (Bremerhaven)."""
    years = sorted(long.loc[(long["indicator"] == "population") & (long["level"] == "ortsteil"), "year"].unique())
    have = set(long["key"])
    rows = []
    for level, frame in layers.items():
        for key in frame.loc[~frame["key"].isin(have), "key"]:
            for year in years:
                for name in ind.MAIN_INDICATORS:
                    rows.append((key, level, year, name))
    out = pd.DataFrame(rows, columns=["key", "level", "year", "indicator"])
    out["value"] = np.nan
    out["numerator"] = np.nan
    out["denominator"] = np.nan
    out["flag"] = NO_DISTRICT_STATISTICS
    out["base_year"] = np.nan
    out["source"] = ""
    return out


def _secondary(social: pd.DataFrame) -> pd.DataFrame:
    level = social["key"].map(lambda k: "stadt" if k.endswith("000") else ("ortsteil" if k[-1] != "0" else
                                                                            "stadtteil"))
    return pd.DataFrame({"key": social["key"], "level": level, "year": social["year"],
                         "indicator": social["indicator"], "value": social["value"], "numerator": np.nan,
                         "denominator": np.nan, "flag": "secondary_source", "base_year": np.nan,
                         "source": social["file"].astype(str) + " " + social["source"].astype(str)})


def _tidy(frame: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    level_of = {k: lvl for lvl, f in layers.items() for k in f["key"]}
    unknown = sorted(set(frame["key"]) - set(level_of) - {"04011000", "04012000"})
    if unknown:
        raise ValidationError(f"{frame['file'].iloc[0]}: {len(unknown)} key(s) match no district",
                              problems=[Problem("unknown_key", f"key {k} matches no district", file=str(
                                  frame["file"].iloc[0]), key=k) for k in unknown])
    return pd.DataFrame({"key": frame["key"], "level": frame["key"].map(level_of).fillna("stadt"),
                         "year": frame["year"], "indicator": frame["indicator"], "value": frame["value"],
                         "numerator": frame["numerator"], "denominator": frame["denominator"],
                         "flag": np.where(frame["value"].isna(), "missing", "user_table"), "base_year": np.nan,
                         "source": frame["source"].astype(str)})


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


def _wide_layer(frame: gpd.GeoDataFrame, level: str, long: pd.DataFrame,
                designations: pd.DataFrame) -> gpd.GeoDataFrame:
    """The published layer: boundary attributes, the latest year's main indicators, the need series (each with
    ``<id>_year``, the year its value is from) and designations."""
    sub = long[(long["level"] == level) & long["indicator"].isin(ind.MAIN_INDICATORS)]
    latest = int(sub.loc[sub["indicator"] == "population"].dropna(subset=["value"])["year"].max())
    wide = sub[sub["year"] == latest].pivot_table(index="key", columns="indicator", values="value", aggfunc="first",
                                                  dropna=False)
    out = frame.drop(columns=["source_file"]).merge(wide.reindex(columns=ind.MAIN_INDICATORS), left_on="key",
                                                    right_index=True, how="left")
    out["year"] = latest
    out["has_statistics"] = out["population"].notna()
    # the need series with a direction, each with the year its value is from (latest published, <= latest)
    need = [i for i, meta in ind.NEED_INDICATORS.items() if meta.direction in ("higher_is_worse", "higher_is_better")]
    series = long[(long["level"] == level) & long["indicator"].isin(need) & long["value"].notna()
                  & (long["year"] <= latest)]
    last = series.sort_values("year").groupby(["key", "indicator"]).tail(1)
    for ident in need:
        part = last[last["indicator"] == ident].set_index("key")
        out[ident] = out["key"].map(part["value"]).astype(float)
        out[f"{ident}_year"] = out["key"].map(part["year"]).astype("Int64")
    out = out.merge(designation_summary(designations), left_on="key", right_index=True, how="left")
    out["designated"] = out["designation_specific"].fillna(False).astype(bool)
    out = out.drop(columns=["designation_specific"])
    cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs=STORAGE_CRS)


def reach_ortsteile(designations: pd.DataFrame, ortsteile: gpd.GeoDataFrame) -> pd.DataFrame:
    """Designations of a whole Stadtbezirk or Stadtteil (Bremerhaven's two WiN districts) reach its Ortsteile.

    Each Ortsteil of such a district gets a row of its own with confidence ``district-wide`` (the source names
    the district, not the Ortsteil); the district's own row stays.
    """
    from geo.pipeline.sources.tables import DISTRICT_WIDE

    if designations.empty:
        return designations
    rows = []
    for col in ("stadtbezirk_key", "stadtteil_key"):
        members = ortsteile.groupby(col)["key"].agg(list)
        hits = designations[designations["key"].isin(set(members.index)) & ~designations["key"].isin(
            set(ortsteile["key"]))]
        for rec in hits.to_dict("records"):
            names = ortsteile.set_index("key")["name"]
            for key in members[rec["key"]]:
                rows.append({**rec, "key": key, "key_name": str(names.get(key, "")), "confidence": DISTRICT_WIDE})
    if not rows:
        return designations
    out = pd.concat([designations, pd.DataFrame(rows)], ignore_index=True)
    out["key"] = out["key"].astype("string")
    return out


def designation_summary(designations: pd.DataFrame) -> pd.DataFrame:
    """One row per designated key: area names, programme tags, the best confidence flag, and whether a
    designation names this district itself (``designation_specific``; not only a whole district around it)."""
    from geo.pipeline.sources.tables import CONFIDENCE_ORDER, DISTRICT_WIDE

    if designations.empty:
        return pd.DataFrame(columns=["designation_areas", "designation_programmes", "designation_confidence",
                                     "designation_specific"])
    d = designations.dropna(subset=["key"])
    rank = {c: i for i, c in enumerate(CONFIDENCE_ORDER)}
    grouped = d.groupby("key")
    return pd.DataFrame(
        {
            "designation_areas": grouped["area"].agg(lambda s: ";".join(dict.fromkeys(s))),
            "designation_programmes": grouped["programmes"].agg(
                lambda s: ";".join(sorted({t for v in s for t in v.split(";") if t}))),
            "designation_confidence": grouped["confidence"].agg(lambda s: min(s, key=lambda c: rank[c])),
            "designation_specific": grouped["confidence"].agg(lambda s: bool((s != DISTRICT_WIDE).any())),
        }
    )
