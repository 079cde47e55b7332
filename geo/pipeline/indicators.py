"""Indicators per district and year, computed from counts.

Counts are summed from Ortsteile to Stadtteile, Stadtbezirke and cities; rates are computed at every level
from those sums, never by averaging rates. Every rate keeps its numerator and denominator. Small numbers
follow :class:`SmallNumberRule`; a withheld value is NaN with the reason in ``flag``.

The long table has the columns of :data:`LONG_COLUMNS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

LONG_COLUMNS = ["key", "level", "year", "indicator", "value", "numerator", "denominator", "flag", "base_year",
                "source"]
LEVELS = ("ortsteil", "stadtteil", "stadtbezirk", "stadt")


@dataclass(frozen=True)
class Indicator:
    """Metadata of one indicator: unit and labels in German and English."""

    name: str
    unit: str
    label_de: str
    label_en: str
    numerator: str | None = None
    denominator: str | None = None
    kind: str = "count"  # count | rate | density | change | mean
    #: higher_is_worse | higher_is_better | none (descriptive, never in an index); None: not stated
    direction: str | None = None
    #: where a published series comes from (need catalogue: ortsteilatlas, wahlatlas)
    source: str | None = None

    @property
    def is_rate(self) -> bool:
        """Whether the indicator's kind is ``rate`` (a share in percent of its denominator)."""
        return self.kind == "rate"


def _i(name: str, unit: str, de: str, en: str, num: str | None = None, den: str | None = None,
       kind: str = "count") -> Indicator:
    return Indicator(name, unit, de, en, num, den, kind)


#: Every indicator the pipeline computes. Column names say their unit.
REGISTRY: dict[str, Indicator] = {
    i.name: i
    for i in [
        _i("population", "persons", "Einwohner", "Residents"),
        _i("male", "persons", "Männer", "Men"),
        _i("female", "persons", "Frauen", "Women"),
        _i("german", "persons", "Deutsche", "German nationals"),
        _i("foreign_nationals", "persons", "Ausländer", "Foreign nationals"),
        _i("under_6", "persons", "Kinder unter 6", "Children under 6"),
        _i("under_18", "persons", "Minderjährige", "Residents under 18"),
        _i("aged_18_64", "persons", "18 bis 64 Jahre", "Aged 18-64"),
        _i("aged_65_plus", "persons", "65 Jahre und älter", "Aged 65 and over"),
        _i("aged_80_plus", "persons", "80 Jahre und älter", "Aged 80 and over"),
        _i("foreign_under_18", "persons", "Ausländische Minderjährige", "Foreign nationals under 18"),
        _i("share_foreign_pct", "%", "Ausländeranteil", "Share of foreign nationals", "foreign_nationals",
           "population", "rate"),
        _i("share_under_18_pct", "%", "Anteil unter 18", "Share under 18", "under_18", "population", "rate"),
        _i("share_under_6_pct", "%", "Anteil unter 6", "Share under 6", "under_6", "population", "rate"),
        _i("share_aged_65_plus_pct", "%", "Anteil 65+", "Share aged 65+", "aged_65_plus", "population", "rate"),
        _i("share_aged_80_plus_pct", "%", "Anteil 80+", "Share aged 80+", "aged_80_plus", "population", "rate"),
        _i("share_male_pct", "%", "Männeranteil", "Share of men", "male", "population", "rate"),
        _i("share_foreign_under_18_pct", "%", "Ausländeranteil unter Minderjährigen",
           "Foreign share among under-18s", "foreign_under_18", "under_18", "rate"),
        _i("density_per_km2", "persons/km²", "Einwohner je km²", "Residents per km²", "population", "area_km2",
           "density"),
        _i("population_change_2y_pct", "%", "Bevölkerungsentwicklung (2 Jahre)", "Population change (2 years)",
           kind="change"),
        _i("population_change_5y_pct", "%", "Bevölkerungsentwicklung (5 Jahre)", "Population change (5 years)",
           kind="change"),
        _i("share_foreign_change_2y_pp", "pp", "Veränderung Ausländeranteil (2 Jahre)",
           "Change of foreign share (2 years)", kind="change"),
        _i("share_foreign_change_5y_pp", "pp", "Veränderung Ausländeranteil (5 Jahre)",
           "Change of foreign share (5 years)", kind="change"),
        _i("share_under_18_change_2y_pp", "pp", "Veränderung Anteil unter 18 (2 Jahre)",
           "Change of share under 18 (2 years)", kind="change"),
        _i("share_aged_65_plus_change_2y_pp", "pp", "Veränderung Anteil 65+ (2 Jahre)",
           "Change of share 65+ (2 years)", kind="change"),
        _i("migration_background", "persons", "Mit Migrationshintergrund", "With migration background"),
        _i("share_migration_background_pct", "%", "Anteil mit Migrationshintergrund",
           "Share with migration background", "migration_background", "population_2013", "rate"),
        _i("mean_age_years", "years", "Durchschnittsalter", "Mean age", kind="mean"),
        _i("median_age_years", "years", "Medianalter", "Median age", kind="mean"),
        _i("population_projected", "persons", "Bevölkerung (Vorausschätzung)", "Population (projection)"),
        _i("mean_age_projected_years", "years", "Durchschnittsalter (Vorausschätzung)", "Mean age (projection)",
           kind="mean"),
    ]
}



def _need_registry() -> dict[str, Indicator]:
    """The published need series of ``geo/pipeline/need_catalogue.yml`` (ids must not clash with computed ones)."""
    from geo.pipeline.catalogue import load_need_catalogue

    out: dict[str, Indicator] = {}
    for entry in load_need_catalogue().indicators:
        if not entry.in_snapshot:
            continue
        if entry.id in REGISTRY:
            raise ValueError(f"need catalogue id {entry.id!r} clashes with a computed indicator")
        if entry.id in out:
            out[entry.id] = Indicator(**{**out[entry.id].__dict__, "source": f"{out[entry.id].source},{entry.source}"})
            continue
        out[entry.id] = Indicator(entry.id, entry.unit, entry.label_de, entry.label_en, kind=entry.kind,
                                  direction=entry.direction, source=entry.source)
    for change in load_need_catalogue().changes:
        if change.id in REGISTRY or change.id in out:
            raise ValueError(f"need catalogue change id {change.id!r} clashes with another indicator")
        out[change.id] = Indicator(change.id, change.unit, change.label_de, change.label_en, kind="change",
                                   direction=change.direction, source=out[change.of].source if change.of in out
                                   else None)
    return out


NEED_INDICATORS: dict[str, Indicator] = _need_registry()
REGISTRY.update(NEED_INDICATORS)

#: indicators shown in the wide layers of the GeoPackage and in tooltips
MAIN_INDICATORS = [
    "population", "foreign_nationals", "under_18", "aged_65_plus", "share_foreign_pct", "share_under_18_pct",
    "share_aged_65_plus_pct", "density_per_km2", "population_change_2y_pct", "population_change_5y_pct",
]

CHANGE_WINDOWS = {"2y": (2, 1, 3), "5y": (5, 3, 10)}  # nominal years, smallest and largest accepted gap


@dataclass(frozen=True)
class SmallNumberRule:
    """When a rate is too unreliable to publish, and when an area is too small for an index.

    Defaults follow the federal statistics office (denominator at least 100, numerator at least 3) and the
    Berlin/Hamburg monitoring (300 residents for an index).
    """

    min_denominator: float = 100
    min_numerator: float = 3
    min_population_for_index: float = 300


def parse_age_group(label: str) -> tuple[float, float]:
    """``"unter 3"`` -> (0, 3); ``"3 - 6"`` -> (3, 6); ``"90 und mehr"`` -> (90, inf)."""
    label = label.strip()
    if m := re.fullmatch(r"unter (\d+)", label):
        return 0.0, float(m.group(1))
    if m := re.fullmatch(r"(\d+) - (\d+)", label):
        return float(m.group(1)), float(m.group(2))
    if m := re.fullmatch(r"(\d+) und mehr", label):
        return float(m.group(1)), float("inf")
    raise ValueError(f"unknown age group {label!r}")


def counts_from_population_table(data: pd.DataFrame) -> pd.DataFrame:
    """Turn table 12411-03-03 (long, as read) into counts per key and year.

    Returns a frame indexed by (key, year) with one column per count indicator and, for each, a
    ``<name>__flag`` column holding the reason when it is missing.
    """
    total = data[data["age_group"] == "Insgesamt"]
    groups = data[data["age_group"] != "Insgesamt"].copy()
    bounds = {g: parse_age_group(g) for g in groups["age_group"].unique()}
    groups["lo"] = groups["age_group"].map(lambda g: bounds[g][0])
    groups["hi"] = groups["age_group"].map(lambda g: bounds[g][1])

    def pick(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
        sub = frame[frame["measure"] == measure]
        sub = sub.assign(missing=sub["value"].isna(), flag=sub["flag"].fillna("").replace("", np.nan))
        grouped = sub.groupby(["key", "year"])
        # the first non-empty flag of each group (GroupBy.first skips missing values)
        return pd.DataFrame({"value": grouped["value"].sum(), "n_missing": grouped["missing"].sum(),
                             "flag": grouped["flag"].first().fillna("")})

    def band(measure: str, lo: float, hi: float) -> pd.DataFrame:
        return pick(groups[(groups["lo"] >= lo) & (groups["hi"] <= hi)], measure)

    parts = {
        "population": pick(total, "total"),
        "male": pick(total, "male"),
        "female": pick(total, "female"),
        "german": pick(total, "german"),
        "foreign_nationals": pick(total, "foreign"),
        "under_6": band("total", 0, 6),
        "under_18": band("total", 0, 18),
        "aged_65_plus": band("total", 65, float("inf")),
        "aged_80_plus": band("total", 80, float("inf")),
        "foreign_under_18": band("foreign", 0, 18),
    }
    out = pd.DataFrame(index=parts["population"].index)
    for name, part in parts.items():
        value = part["value"].where(part["n_missing"] == 0)
        out[name] = value
        out[f"{name}__flag"] = part["flag"].where(value.isna(), "")
    out["aged_18_64"] = out["population"] - out["under_18"] - out["aged_65_plus"]
    out["aged_18_64__flag"] = np.where(out["aged_18_64"].isna(), out["population__flag"], "")
    return out


def aggregate_counts(counts: pd.DataFrame, parent: pd.Series) -> pd.DataFrame:
    """Sum Ortsteil counts (index key, year) to the parent keys given by ``parent`` (Ortsteil key -> parent key).

    A parent's count is missing when any of its children with residents is missing; children whose every count
    is missing (areas that exist only in the statistics, without residents) are left out.
    """
    value_cols = [c for c in counts.columns if not c.endswith("__flag")]
    frame = counts[value_cols].reset_index()
    frame["parent"] = frame["key"].map(parent)
    frame = frame.dropna(subset=["parent"])
    empty_child = frame[value_cols].isna().all(axis=1)
    frame = frame[~empty_child]
    grouped = frame.groupby(["parent", "year"])[value_cols]
    sums = grouped.sum(min_count=1).where(grouped.count() == grouped.size().to_numpy()[:, None])
    sums.index = sums.index.set_names(["key", "year"])
    for col in value_cols:
        sums[f"{col}__flag"] = np.where(sums[col].isna(), "missing_in_children", "")
    return sums


def rates_from_counts(counts: pd.DataFrame, *, rule: SmallNumberRule | None = None,
                      names: Iterable[str] | None = None) -> pd.DataFrame:
    """Compute rates from count columns; returns value, numerator, denominator and flag per rate.

    Parameters
    ----------
    counts
        One row per area (any index), count columns named as in :data:`REGISTRY`.
    rule
        Small-number rule; default :class:`SmallNumberRule`.
    names
        Rates to compute; default all rates whose numerator and denominator are present.

    Returns
    -------
    pandas.DataFrame
        Columns ``<rate>``, ``<rate>__numerator``, ``<rate>__denominator``, ``<rate>__flag``.
    """
    rule = rule or SmallNumberRule()
    out = pd.DataFrame(index=counts.index)
    for ind in REGISTRY.values():
        if ind.kind not in ("rate", "density") or (names is not None and ind.name not in names):
            continue
        if ind.numerator not in counts.columns or ind.denominator not in counts.columns:
            continue
        num = counts[ind.numerator].astype(float)
        den = counts[ind.denominator].astype(float)
        factor = 100.0 if ind.kind == "rate" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = factor * num / den
        flag = pd.Series("", index=counts.index, dtype=object)
        flag[num.isna() | den.isna()] = "missing_count"
        if ind.kind == "rate":
            small = (den < rule.min_denominator) | (num < rule.min_numerator)
            flag[small & (flag == "")] = "withheld_small_numbers"
        value = value.where(flag == "")
        out[ind.name] = value
        out[f"{ind.name}__numerator"] = num
        out[f"{ind.name}__denominator"] = den
        out[f"{ind.name}__flag"] = flag
    return out


def fixed_changes(long: pd.DataFrame, changes: Iterable[Any]) -> pd.DataFrame:
    """Change indicators ``value(of, Y) - value(of, Y - years)`` for every key and level that has both years.

    ``changes`` are :class:`geo.pipeline.catalogue.NeedChange` entries; the rows are in the long table's form, with the
    base year and the source of the later value.
    """
    parts = []
    for change in changes:
        rows = long[(long["indicator"] == change.of) & long["value"].notna()]
        if rows.empty:
            continue
        base = rows[["key", "level", "year", "value"]].assign(year=rows["year"] + change.years)
        pair = rows.merge(base, on=["key", "level", "year"], suffixes=("", "_base"))
        parts.append(pd.DataFrame({
            "key": pair["key"], "level": pair["level"], "year": pair["year"].astype(int),
            "indicator": change.id, "value": pair["value"] - pair["value_base"], "numerator": np.nan,
            "denominator": np.nan, "flag": "", "base_year": (pair["year"] - change.years).astype(float),
            "source": pair["source"].astype(str) + f" (change over {change.years} years)"}))
    return pd.concat(parts, ignore_index=True)[LONG_COLUMNS] if parts else pd.DataFrame(columns=LONG_COLUMNS)


def nearest_base_year(year: int, years: Iterable[int], window: str) -> int | None:
    """The available year closest to ``year - nominal`` whose gap lies in the window (ties: the later year)."""
    nominal, lo, hi = CHANGE_WINDOWS[window]
    cands = [y for y in years if lo <= year - y <= hi]
    if not cands:
        return None
    return min(cands, key=lambda y: (abs(year - nominal - y), -y))
