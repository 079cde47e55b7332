"""Indicators from the statistics tables (Statistisches Landesamt Bremen) in the long indicator table's form.

:func:`statistics_indicators` derives counts, rates and changes from the population table (12411-03-03) for every
level, aggregates Ortsteile to their parents and checks the sums against the published totals; the context tables
(173-55, 173-22, 173-97) add migration background, age and the projection. :func:`secondary_rows` and
:func:`tidy_rows` bring secondary and users' own tables into the same form.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import Problem, ValidationError
from geo.pipeline import indicators as ind
from geo.pipeline import repairs, validate
from geo.pipeline.repairs import Repair
from geo.pipeline.sources.statistics import StatTable

STAT_LEVEL_BY_LENGTH = {8: "ortsteil", 7: "stadtteil", 6: "stadtbezirk", 5: "stadt", 2: "land"}
NO_DISTRICT_STATISTICS = "no_district_statistics"
#: the population table by Ortsteil and age group (Statistisches Landesamt Bremen): the counts and derived counts
POPULATION_TABLE = "12411-03-03"


def to_8_digit(key: str) -> str:
    """Statistics keys have 2/5/6/7/8 digits; boundaries always 8 (``0401111`` -> ``04011110``)."""
    if len(key) == 2:
        return key + "000000"
    if len(key) == 5:
        return key + "000"
    return key.ljust(8, "0")


def long_rows(values: pd.DataFrame, level: str, source: str) -> pd.DataFrame:
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
    """All years of one published table, concatenated (empty when it is not among the inputs)."""
    frames = [t.data for t in tables if t.table_id == table_id]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def statistics_indicators(tables: list[StatTable], layers: dict[str, gpd.GeoDataFrame], rule: ind.SmallNumberRule,
                log: list[Repair]) -> tuple[pd.DataFrame, list[Problem]]:
    """Long rows of the population table's counts, rates and changes and of the context tables, every level."""
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
        parts.append(long_rows(counts.drop(columns=["area_km2"]), level, "12411-03-03"))
        parts.append(long_rows(rates, level, "12411-03-03"))
        parts.append(long_rows(_changes(counts, rates), level, "12411-03-03"))
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
        out.append(long_rows(counts[["migration_background"]], level, "173-55"))
        out.append(long_rows(rates, level, "173-55"))
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
        out.append(long_rows(vals, level, "173-22"))
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
            out.append(long_rows(mean[mean.index.get_level_values("key").isin(keys)].to_frame(), level, "173-97"))
        counts = counts[counts.index.get_level_values("key").isin(keys)]
        out.append(long_rows(counts, level, "173-97"))
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


def secondary_rows(social: pd.DataFrame) -> pd.DataFrame:
    """Long rows of a secondary social-indicator table, flagged ``secondary_source``."""
    level = social["key"].map(lambda k: "stadt" if k.endswith("000") else ("ortsteil" if k[-1] != "0" else
                                                                            "stadtteil"))
    return pd.DataFrame({"key": social["key"], "level": level, "year": social["year"],
                         "indicator": social["indicator"], "value": social["value"], "numerator": np.nan,
                         "denominator": np.nan, "flag": "secondary_source", "base_year": np.nan,
                         "source": social["file"].astype(str) + " " + social["source"].astype(str)})


def tidy_rows(frame: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Long rows of a user's own tidy table; a key that matches no district is an error."""
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
