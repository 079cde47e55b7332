"""Estimate counts for a user-drawn area (a "Kleinstquartier") from the districts it overlaps.

Official statistics exist per Ortsteil; WiN areas and very small districts are often a few streets. This
module takes one polygon supplied by a user, validated at the edge (:mod:`geo.analysis.custom_area`), and
estimates its counts by **areal interpolation** (tobler): every count of a district is shared out in proportion
to the area that the polygon covers, which assumes that residents are spread evenly over each district. Rates
are then recomputed from the estimated counts by the rules of :func:`geo.pipeline.indicators.rates_from_counts`
(:func:`rates_one_row`), so the small-number rules apply to the estimate exactly as to an official district.

Uncertainty policy (written down once, stated in the output):

* The estimate is flagged ``uncertainty=True`` when at least ``rests_on_share`` (default 50 %) of the
  estimated residents come from districts of which the polygon covers less than ``min_share`` (default 25 %)
  of the area: the estimate then rests on a small part of a large district, where the assumption of evenly
  spread residents is weakest.
* It is also flagged when part of the polygon lies in districts without published statistics (their counts
  are not known and are *not* included: the estimate is then a lower bound) or when a count is missing in a
  district that contributes to it (that count is NaN).
* A polygon that overlaps no district with statistics raises :class:`NoStatisticsError`; one that overlaps no
  district at all raises :class:`geo.errors.OutOfAreaError`.

Threads (the web service answers drawn areas from several request threads at once): the districts are held
in an :class:`AreaIndex` built once by :func:`prepare_area_index`, before any request thread uses it. It
keeps its own copies of the district geometries, **never prepared**, and an ``STRtree`` that is queried once
at build time (GEOS builds a tree lazily on its first query). A request only queries the tree with its own
polygon (shapely prepares that per-request geometry for the ``intersects`` predicate) and overlays the hits
with it (``shapely.intersection``, which reads the district geometries and never touches preparation
state). Never evaluate a predicate such as ``districts.intersects(geom)`` on shared geometries from request
threads: when the shared geometries are prepared (the point locator prepares the snapshot's layers), GEOS
builds a prepared geometry's segment index and point locator lazily on first use, and two threads doing that
at once corrupt the heap ("double free or corruption", SIGSEGV). Nor use ``GeoDataFrame.sindex`` of shared
frames there: it is built lazily, too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geo.analysis.custom_area import AREA_CRS, DEFAULT_MAX_VERTICES, read_custom_area
from geo.errors import CRSError, OutOfAreaError, Problem, ValidationError
from geo.pipeline.indicators import REGISTRY, SmallNumberRule

__all__ = [
    "AreaIndex",
    "CustomAreaEstimate",
    "NoStatisticsError",
    "estimate_custom_area",
    "prepare_area_index",
]

ESTIMATE_METHOD = "area_weighted"


class NoStatisticsError(OutOfAreaError):
    """The polygon overlaps districts, but none of them has published statistics."""


@dataclass(frozen=True)
class CustomAreaEstimate:
    """Result of :func:`estimate_custom_area`.

    Attributes
    ----------
    frame
        One-row GeoDataFrame (EPSG:25832) in the wide-table format: ``key``, ``name``, ``city``, ``level``
        (``"custom"``), ``year``, ``area_km2``, parent keys of the dominant district, ``has_statistics``,
        ``too_small_for_index``, the estimated counts, the rates with ``__numerator``/``__denominator``/
        ``__flag``, ``designated`` (False), ``designation_programmes`` (""), and ``estimate_method``,
        ``uncertainty`` (bool), ``uncertainty_reason`` (str, "" when not flagged) and ``source_districts``
        (``"key=share_of_district;..."``).
    sources
        One row per overlapped district: ``key``, ``name``, ``has_statistics``, ``overlap_km2``,
        ``district_share`` (share of the district's area covered by the polygon), ``custom_area_share``
        (share of the polygon lying in the district), ``population_estimate`` and ``weight_in_estimate``
        (share of the estimated residents coming from this district).
    """

    frame: gpd.GeoDataFrame
    sources: pd.DataFrame

    @property
    def uncertain(self) -> bool:
        """Whether the estimate is flagged as uncertain (see ``uncertainty_reason`` in :attr:`frame`)."""
        return bool(self.frame["uncertainty"].iloc[0])


def _check_districts(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(districts, gpd.GeoDataFrame):
        raise ValidationError("districts must be a GeoDataFrame",
                              problems=[Problem("type", f"got {type(districts).__name__}")])
    if districts.crs is None:
        raise CRSError("the districts frame has no CRS; expected EPSG:25832")
    problems = [Problem("missing_column", f"districts frame lacks column {c!r}")
                for c in ("key",) if c not in districts.columns]
    if "key" in districts.columns and districts["key"].duplicated().any():
        dups = sorted(districts.loc[districts["key"].duplicated(), "key"].astype(str).unique())
        problems.append(Problem("duplicate_key", f"duplicate district keys: {', '.join(dups[:10])}"))
    if "year" in districts.columns and districts["year"].nunique() > 1:
        problems.append(Problem("several_years", "the districts frame holds several years; pass one year "
                                f"(found {sorted(districts['year'].unique().tolist())})"))
    if problems:
        raise ValidationError("the districts frame cannot be used for interpolation", problems=problems)
    return districts.to_crs(AREA_CRS) if CRS.from_user_input(districts.crs) != CRS(AREA_CRS) else districts


# --------------------------------------------------------------------------------------------- estimate


def _count_columns(districts: pd.DataFrame) -> list[str]:
    return [name for name, ind in REGISTRY.items()
            if ind.kind == "count" and name in districts.columns
            and pd.api.types.is_numeric_dtype(districts[name])]


@dataclass(frozen=True)
class AreaIndex:
    """Districts prepared once for :func:`estimate_custom_area` (read-only afterwards, safe to share by threads).

    Attributes
    ----------
    frame
        The districts' attributes without geometry, in the order of ``geoms``.
    geoms
        Own copies of the district geometries (EPSG:25832), never prepared.
    tree
        ``STRtree`` over ``geoms``, already built (queried once when the index was made).
    areas
        Area of every district in m².
    counts
        The count columns interpolated by default.
    """

    frame: pd.DataFrame
    geoms: np.ndarray
    tree: shapely.STRtree
    areas: np.ndarray
    counts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.frame)


def prepare_area_index(districts: gpd.GeoDataFrame, *,
                       count_columns: Sequence[str] | None = None) -> AreaIndex:
    """Check ``districts`` and build the :class:`AreaIndex` (call it once, before request threads use it).

    Raises :class:`ValidationError` / :class:`CRSError` like :func:`estimate_custom_area`.
    """
    districts = _check_districts(districts)
    counts = list(count_columns) if count_columns is not None else _count_columns(districts)
    missing = [c for c in counts if c not in districts.columns]
    if missing:
        raise ValidationError("count columns not in the districts frame",
                              problems=[Problem("missing_column", f"districts frame lacks {c!r}") for c in missing])
    shared = np.asarray(districts.geometry.to_numpy(), dtype=object)
    # own objects: whatever prepares the caller's geometries (e.g. the point locator) cannot reach these
    geoms = shapely.from_wkb(shapely.to_wkb(shared, include_srid=False))
    tree = shapely.STRtree(geoms)
    if len(geoms):
        tree.query(shapely.box(*shapely.total_bounds(geoms)))  # build the tree now, not on a request
    frame = pd.DataFrame(districts.drop(columns=districts.geometry.name)).reset_index(drop=True)
    return AreaIndex(frame=frame, geoms=geoms, tree=tree, areas=shapely.area(geoms), counts=tuple(counts))


def estimate_custom_area(area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | Mapping[str, Any] | str,
                         districts: gpd.GeoDataFrame | AreaIndex, *, crs: Any = None, key: str = "custom",
                         name: str = "Eigenes Gebiet", min_share: float = 0.25, rests_on_share: float = 0.5,
                         max_vertices: int = DEFAULT_MAX_VERTICES, rule: SmallNumberRule | None = None,
                         count_columns: Sequence[str] | None = None) -> CustomAreaEstimate:
    """Estimate counts and rates for a user-supplied polygon by area-weighted interpolation.

    Parameters
    ----------
    area
        The polygon, see :func:`read_custom_area`.
    districts
        Wide table of one level and one year (normally Ortsteile), with ``key``, geometry, count columns
        and, optionally, ``has_statistics``, ``name``, ``city`` and parent keys; or the :class:`AreaIndex`
        prepared from such a table by :func:`prepare_area_index` (what a multi-threaded service must pass).
    crs
        CRS of ``area`` when it does not declare one.
    key, name
        Identifier and name given to the estimated area.
    min_share
        A district counts as "a small part of a large district" when the polygon covers less than this share
        of its area.
    rests_on_share
        The estimate is flagged when at least this share of the estimated residents comes from such districts.
    max_vertices
        Largest number of vertices accepted in ``area``.
    rule
        Small-number rule passed to :func:`geo.pipeline.indicators.rates_from_counts` (default
        :class:`~geo.pipeline.indicators.SmallNumberRule`); ``too_small_for_index`` uses its
        ``min_population_for_index``.
    count_columns
        Extensive variables to interpolate; default every column of ``districts`` that is a count in
        :data:`geo.pipeline.indicators.REGISTRY` (for an :class:`AreaIndex`: the columns it was prepared with).

    Returns
    -------
    CustomAreaEstimate
        The one-row frame and the table of source districts.

    Raises
    ------
    CRSError, GeometryError, LimitError
        The polygon is rejected at the edge (see :func:`read_custom_area`).
    OutOfAreaError
        The polygon overlaps no district.
    NoStatisticsError
        The polygon overlaps districts, none of which has statistics.
    ValidationError
        The districts frame lacks ``key``, has duplicate keys or several years.
    """
    if not 0 < min_share <= 1 or not 0 < rests_on_share <= 1:
        raise ValidationError("min_share and rests_on_share must lie in (0, 1]",
                              problems=[Problem("option", f"min_share={min_share}, "
                                                          f"rests_on_share={rests_on_share}")])
    rule = rule or SmallNumberRule()
    geom = read_custom_area(area, crs=crs, max_vertices=max_vertices)
    index, counts = _index_and_counts(districts, count_columns)
    pos, ov = _overlaps(index, geom)
    hits = index.frame.iloc[pos].reset_index(drop=True)
    stats = _with_statistics(hits)
    with_stats = hits[stats]
    # area weighting (tobler's allocate_total=False): each count times the share of its district covered
    share_of_district = ov / index.areas[pos]
    est = pd.DataFrame(index=[0])
    for col in counts:
        vals = with_stats[col].astype(float).fillna(0.0).to_numpy()  # NaN -> 0 here; masked below
        est[col] = float(np.sum(vals * share_of_district[stats]))
    sources = _sources(hits, stats, ov, share_of_district, geom.area)
    reasons = _uncertainty_reasons(est, with_stats, counts, sources, min_share=min_share,
                                   rests_on_share=rests_on_share)
    frame = _estimate_row(est, hits, counts, sources, key=key, name=name, area_km2=geom.area / 1e6,
                          dominant=hits.iloc[int(np.argmax(ov))], reasons=reasons, rule=rule)
    out = gpd.GeoDataFrame(frame, geometry=[geom], crs=AREA_CRS)
    return CustomAreaEstimate(frame=out, sources=sources)


def _index_and_counts(districts: gpd.GeoDataFrame | AreaIndex,
                      count_columns: Sequence[str] | None) -> tuple[AreaIndex, list[str]]:
    """The districts' index (prepared here unless given) and the count columns to estimate, each checked."""
    index = districts if isinstance(districts, AreaIndex) else prepare_area_index(districts,
                                                                                   count_columns=count_columns)
    counts = list(count_columns) if count_columns is not None else list(index.counts)
    missing = [c for c in counts if c not in index.frame.columns]
    if missing:
        raise ValidationError("count columns not in the districts frame",
                              problems=[Problem("missing_column", f"districts frame lacks {c!r}") for c in missing])
    return index, counts


def _with_statistics(hits: pd.DataFrame) -> np.ndarray:
    """Which overlapped districts have statistics; none is a :class:`NoStatisticsError`."""
    has_stats = (hits["has_statistics"].fillna(False).astype(bool) if "has_statistics" in hits.columns
                 else pd.Series(True, index=hits.index))
    stats = has_stats.to_numpy(dtype=bool)
    if not stats.any():
        names = ", ".join(hits.get("name", hits["key"]).astype(str).tolist())
        raise NoStatisticsError(f"the area overlaps only districts without published statistics ({names}); "
                                "no estimate is possible")
    return stats


def _overlaps(index: AreaIndex, geom: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the districts the polygon overlaps and the overlap areas (m²); none is an error."""
    # the only geometry work on shared data: a query of the built tree with the request's own polygon and
    # an overlay that reads the districts (see the module docstring on threads)
    pos = np.sort(index.tree.query(geom, predicate="intersects"))
    ov = shapely.area(shapely.intersection(index.geoms[pos], geom)) if len(pos) else np.empty(0)
    pos, ov = pos[ov > 0], ov[ov > 0]
    if len(pos) == 0:
        raise OutOfAreaError("the area does not overlap any district of Bremen or Bremerhaven "
                             "(check the declared CRS and the coordinates)")
    return pos, ov


def _sources(hits: pd.DataFrame, stats: np.ndarray, ov: np.ndarray, share_of_district: np.ndarray,
             area: float) -> pd.DataFrame:
    """The table of source districts: overlap, shares and each one's weight in the estimated residents."""
    sources = pd.DataFrame({
        "key": hits["key"].astype(str).to_numpy(),
        "name": hits["name"].astype(str).to_numpy() if "name" in hits.columns else hits["key"].astype(str).to_numpy(),
        "has_statistics": stats,
        "overlap_km2": ov / 1e6,
        "district_share": share_of_district,
        "custom_area_share": ov / area,
    })
    if "population" in hits.columns:
        pop_part = hits["population"].astype(float).to_numpy() * sources["district_share"].to_numpy()
        sources["population_estimate"] = np.where(sources["has_statistics"], pop_part, np.nan)
    else:
        sources["population_estimate"] = np.nan
    total_pop = np.nansum(sources["population_estimate"].to_numpy())
    sources["weight_in_estimate"] = (sources["population_estimate"] / total_pop if total_pop > 0 else np.nan)
    return sources.sort_values(["custom_area_share", "key"], ascending=[False, True], ignore_index=True)


def _uncertainty_reasons(est: pd.DataFrame, with_stats: pd.DataFrame, counts: list[str], sources: pd.DataFrame, *,
                         min_share: float, rests_on_share: float) -> list[str]:
    """Why the estimate is uncertain (empty: it is not); counts missing in a source become NaN in ``est``."""
    reasons: list[str] = []
    nan_counts = []
    for col in counts:
        if with_stats[col].isna().any():
            est[col] = np.nan
            nan_counts.append(col)
    if nan_counts:
        reasons.append("counts missing in an overlapped district, estimate withheld: " + ", ".join(nan_counts))
    no_stats_share = float(sources.loc[~sources["has_statistics"], "custom_area_share"].sum())
    if no_stats_share > 0:
        reasons.append(f"{no_stats_share:.0%} of the area lies in districts without published statistics; "
                       "their residents are not included (the counts are a lower bound)")
    total_pop = np.nansum(sources["population_estimate"].to_numpy())
    small = sources["has_statistics"] & (sources["district_share"] < min_share)
    rests = float(sources.loc[small, "weight_in_estimate"].sum()) if total_pop > 0 else 0.0
    if small.any() and rests >= rests_on_share:
        parts = ", ".join(f"{r.name} ({r.key}): {r.district_share:.0%} of its area"
                          for r in sources[small].itertuples())
        reasons.append(f"{rests:.0%} of the estimated residents come from small parts (< {min_share:.0%}) of "
                       f"large districts ({parts}); area weighting assumes residents are spread evenly")
    return reasons


def _estimate_row(est: pd.DataFrame, hits: pd.DataFrame, counts: list[str], sources: pd.DataFrame, *, key: str,
                  name: str, area_km2: float, dominant: pd.Series, reasons: list[str],
                  rule: SmallNumberRule) -> pd.DataFrame:
    """The one-row wide frame (built in one go: one column at a time costs more than the whole estimate)."""
    row: dict[str, Any] = {"key": key, "name": name,
                           "city": dominant.get("city", pd.NA), "level": "custom",
                           "year": dominant.get("year", pd.NA), "area_km2": area_km2}
    for parent in ("stadtteil_key", "stadtbezirk_key", "city_key"):
        if parent in hits.columns:
            row[parent] = dominant[parent]
    row["has_statistics"] = True
    values = {col: float(est[col].iloc[0]) for col in counts}
    pop = values.get("population", np.nan)
    row["too_small_for_index"] = not (pop >= rule.min_population_for_index)
    row.update(values)
    columns: dict[str, Any] = {k: [v] for k, v in row.items()}
    columns.update(rates_one_row(values | {"area_km2": row["area_km2"]}, rule=rule))
    columns |= {"designated": [False], "designation_programmes": [""], "estimate_method": [ESTIMATE_METHOD],
                "uncertainty": [bool(reasons)], "uncertainty_reason": ["; ".join(reasons)],
                "source_districts": [";".join(f"{k}={s:.4f}" for k, s in zip(sources["key"],
                                                                              sources["district_share"],
                                                                              strict=True))]}
    return pd.DataFrame(columns)


def rates_one_row(counts: Mapping[str, float], *, rule: SmallNumberRule) -> dict[str, pd.Series]:
    """:func:`geo.pipeline.indicators.rates_from_counts` for a single area, without a DataFrame per operation.

    The same rates in the same order, with the same small-number rule and flags (tested against
    ``rates_from_counts``); columns as one-element Series (flags ``object``, like ``rates_from_counts``).
    """
    out: dict[str, pd.Series] = {}
    for ind in REGISTRY.values():
        if ind.kind not in ("rate", "density"):
            continue
        if ind.numerator is None or ind.denominator is None or ind.numerator not in counts \
                or ind.denominator not in counts:
            continue
        num, den = float(counts[ind.numerator]), float(counts[ind.denominator])
        factor = 100.0 if ind.kind == "rate" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(np.float64(factor) * np.float64(num) / np.float64(den))
        flag = "missing_count" if np.isnan(num) or np.isnan(den) else ""
        if ind.kind == "rate" and flag == "" and (den < rule.min_denominator or num < rule.min_numerator):
            flag = "withheld_small_numbers"
        out[ind.name] = pd.Series([value if flag == "" else np.nan], dtype=float)
        out[f"{ind.name}__numerator"] = pd.Series([num], dtype=float)
        out[f"{ind.name}__denominator"] = pd.Series([den], dtype=float)
        out[f"{ind.name}__flag"] = pd.Series([flag], dtype=object)
    return out


def area_interpolate_counts(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame,
                            columns: Sequence[str]) -> pd.DataFrame:
    """Area-weighted interpolation of extensive columns with tobler (thin wrapper, EPSG:25832 only).

    Each source count is multiplied by the share of the source's area that lies in the target and summed
    (tobler's ``allocate_total=False``: the denominator is the whole source area, so a source only partly
    covered by the targets gives away only that part).
    NaN counts must be replaced before the call and the results masked afterwards (as
    :func:`estimate_custom_area` does): tobler would count them as 0.
    """
    from tobler.area_weighted import area_interpolate

    for frame, what in ((source, "source"), (target, "target")):
        if frame.crs is None:
            raise CRSError(f"the {what} frame has no CRS; expected EPSG:25832")
        if CRS.from_user_input(frame.crs) != CRS(AREA_CRS):
            raise CRSError(f"the {what} frame is in {frame.crs.to_string()}; areas are measured only in "
                           "EPSG:25832")
    result = area_interpolate(source_df=source, target_df=target, extensive_variables=list(columns),
                              allocate_total=False)
    return pd.DataFrame(result.drop(columns="geometry"))
