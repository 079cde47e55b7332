"""Monitoring answers of the service (framework-free): inequality over time, district trends, early warnings,
hot spots and district types.

Everything here is computed **once per loaded snapshot** (and programme definition) and then only looked up:
:func:`monitoring_for` keeps one :class:`Monitoring` per ``(snapshot folder, version, definition hash)`` in a
small cache; its parts are built on first use under a lock (the app also starts building them in the
background right after start-up, see :mod:`service.routes.monitoring`). No request recomputes a series.

Choices (shared with the programme report, :mod:`service.report`, so the page and the report agree):

* The series run up to the snapshot's latest data year (projections for later years are left out).
* Inequality covers every indicator of the level except the source columns ``si_*`` (the library's default),
  with the Theil index split into between and within Stadtbezirke (:func:`geo.monitoring.inequality_series`).
* Segregation of foreign nationals: dissimilarity, isolation and global Moran's I (999 permutations, fixed
  seed) per year (:func:`geo.monitoring.segregation_series`).
* Trend and change of trend: :func:`geo.monitoring.district_trends` (split year 2010).
* Early warning: the report's directions, thresholds and periods (:data:`service.report.EARLY_WARNING_THRESHOLDS`,
  :data:`service.report.EARLY_WARNING_PERIODS`, :func:`service.report.early_warning_directions`).
* Hot spots: Local Moran's I of the programme's status index (:func:`geo.hotspots.local_hotspots`, 999
  permutations, FDR 5 %), on the classifiable Ortsteile; others are "not tested".
* District types: k-means on the status index's indicators (:func:`geo.typology.fit_typology`, k = 3..8 by
  silhouette), on the classifiable Ortsteile.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError, UnknownKeyError

__all__ = [
    "HOTSPOT_FIELD",
    "INEQUALITY_LEVELS",
    "Monitoring",
    "analysis_columns",
    "district_answer",
    "inequality_answer",
    "monitoring_for",
]

#: levels whose districts can be compared by the inequality endpoint (grouped by Stadtbezirk)
INEQUALITY_LEVELS = ("ortsteil", "stadtteil")
#: the index whose hot and cold spots are mapped
HOTSPOT_FIELD = "status_index"
SPLIT_YEAR = 2010
PERMUTATIONS = 999
SEED = 12345
_CACHE_SIZE = 4


def _num(x: Any) -> float | None:
    """A JSON-safe number (NaN/inf -> None)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass
class Monitoring:
    """The monitoring results of one snapshot and definition; parts are built once, on first use."""

    snapshot: Any
    definition: Any
    result: Any
    wide: Any
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _parts: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)
    _part_locks: dict[tuple[str, ...], threading.RLock] = field(default_factory=dict, repr=False)
    ready: bool = False  # True once :meth:`warm` has built every part

    # -- plumbing -----------------------------------------------------------------------------------
    def _once(self, key: tuple[str, ...], build: Callable[[], Any]) -> Any:
        """Build the part ``key`` once; each part has its own lock, so a page never waits for unrelated parts."""
        part = self._parts.get(key)
        if part is None:
            with self._lock:
                lock = self._part_locks.setdefault(key, threading.RLock())
            with lock:
                part = self._parts.get(key)
                if part is None:
                    part = build()
                    self._parts[key] = part
        return part

    @property
    def version(self) -> str:
        return str(self.snapshot.version)

    @property
    def long(self) -> pd.DataFrame:
        """The long indicator table up to the latest data year."""
        def build() -> pd.DataFrame:
            ind = self.snapshot.indicators
            out = ind[ind["year"] <= self.snapshot.latest_year].copy()
            out["key"] = out["key"].astype(str)
            return out
        return self._once(("long",), build)

    def warm(self) -> None:
        """Build every part now (used in a background thread after start-up)."""
        self.analysis()  # first: the overview map and the profiles need it
        self.districts("ortsteil")
        for level in INEQUALITY_LEVELS:
            self.inequality(level)
            self.segregation(level)
        self.ready = True

    # -- inequality -----------------------------------------------------------------------------------
    def inequality(self, level: str) -> dict[str, list[dict[str, Any]]]:
        """Indicator -> one row per year (JSON-ready) of :func:`geo.monitoring.inequality_series`."""
        def build() -> dict[str, list[dict[str, Any]]]:
            from geo import monitoring

            wide = self.wide if level == "ortsteil" else self.snapshot.wide(level)
            groups = monitoring.parent_map(wide)
            frame = monitoring.inequality_series(self.long, groups=groups, level=level)
            out: dict[str, list[dict[str, Any]]] = {}
            for name, part in frame.groupby("indicator", sort=True):
                out[str(name)] = [_inequality_row(r) for r in part.sort_values("year").to_dict("records")]
            return out
        return self._once(("inequality", level), build)

    def segregation(self, level: str) -> list[dict[str, Any]]:
        """Segregation of foreign nationals per year (JSON-ready)."""
        def build() -> list[dict[str, Any]]:
            from geo import monitoring

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = monitoring.segregation_series(self.long, districts=self.snapshot.layer(level), level=level,
                                                      permutations=PERMUTATIONS, seed=SEED)
            return [{"year": int(r["year"]), "n_districts": int(r["n_districts"]),
                     "group_share": _num(r["group_share"]), "dissimilarity": _num(r["dissimilarity"]),
                     "isolation": _num(r["isolation"]), "morans_i": _num(r["morans_i"]),
                     "morans_expected_i": _num(r["morans_expected_i"]), "morans_p_sim": _num(r["morans_p_sim"]),
                     "note": str(r["note"] or "")} for r in frame.to_dict("records")]
        return self._once(("segregation", level), build)

    # -- districts -----------------------------------------------------------------------------------
    def level_of(self, key: str) -> str:
        """Level of a district key in the long table (raises :class:`UnknownKeyError`)."""
        def build() -> dict[str, str]:
            long = self.long
            pairs = long[["key", "level"]].drop_duplicates("key")
            return dict(zip(pairs["key"], pairs["level"].astype(str), strict=True))
        levels: dict[str, str] = self._once(("levels",), build)
        if key not in levels:
            raise UnknownKeyError(f"no district with key {key!r} has indicator series in snapshot {self.version}")
        return levels[key]

    def districts(self, level: str) -> dict[str, dict[str, Any]]:
        """Key -> the monitoring answer body of every district of ``level`` (without the common fields)."""
        return self._once(("districts", level), lambda: _district_bodies(self, level))

    def warning_rule(self) -> dict[str, Any]:
        from service.report import EARLY_WARNING_PERIODS, EARLY_WARNING_THRESHOLDS, early_warning_directions

        def build() -> dict[str, Any]:
            dirs = early_warning_directions(self.definition, self.long)
            return {"periods": EARLY_WARNING_PERIODS,
                    "directions": dict(dirs),
                    "thresholds": {k: EARLY_WARNING_THRESHOLDS.get(k, 0.0) for k in dirs},
                    "text": (f"an early warning is raised when each of the last {EARLY_WARNING_PERIODS} "
                             "period changes (between consecutive observed years, annualised; % per year for "
                             "counts) went against the indicator's desired direction by more than its "
                             "threshold")}
        return self._once(("rule",), build)

    # -- hot spots and district types ------------------------------------------------------------------
    def analysis(self) -> pd.DataFrame:
        """Per Ortsteil: ``hotspot`` (HH/LL/HL/LH/ns or None), ``hotspot_class``, ``type_id``,
        ``type_label_de``, ``type_label_en`` (indexed by key)."""
        return self._once(("analysis",), lambda: _analysis(self))


def _inequality_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"year": int(r["year"]), "n_districts": int(r["n_districts"]), "weighted": bool(r["weighted"]),
            "mean": _num(r["mean"]), "gini": _num(r["gini"]), "theil": _num(r["theil"]),
            "theil_between": _num(r["theil_between"]), "theil_within": _num(r["theil_within"]),
            "theil_between_share": _num(r["theil_between_share"]), "cv": _num(r["cv"]),
            "p90_p10_ratio": _num(r["p90_p10_ratio"]), "note": str(r["note"] or "")}


def _district_bodies(mon: Monitoring, level: str) -> dict[str, dict[str, Any]]:
    from geo import monitoring
    from geo.indicators import REGISTRY

    long = mon.long
    data = long[long["level"] == level].dropna(subset=["value"])
    names = sorted(data["indicator"].unique())
    trends = pd.concat([monitoring.district_trends(data, indicator=n, level=level, split_year=SPLIT_YEAR)
                        for n in names], ignore_index=True) if names else pd.DataFrame()
    rule = mon.warning_rule()
    dirs = {k: d for k, d in rule["directions"].items() if k in set(names)}
    ew = (monitoring.early_warning(data, directions=dirs, level=level, periods=rule["periods"],
                                   threshold={k: rule["thresholds"][k] for k in dirs})
          if dirs else pd.DataFrame(columns=["key"]))
    classifiable: dict[str, bool] = {}
    if level == "ortsteil":
        tab = mon.result.table
        classifiable = dict(zip(tab["key"].astype(str), tab["classifiable"].astype(bool), strict=True))
    series_by_key = {k: part for k, part in data.sort_values(["key", "indicator", "year"]).groupby("key")}
    trends_by_key = {k: part for k, part in trends.groupby("key")} if len(trends) else {}
    ew_by_key = {k: part for k, part in ew.groupby("key")} if len(ew) else {}
    out: dict[str, dict[str, Any]] = {}
    for key, part in series_by_key.items():
        indicators: dict[str, dict[str, Any]] = {}
        for name, s in part.groupby("indicator", sort=True):
            ind = REGISTRY.get(str(name))
            indicators[str(name)] = {"unit": ind.unit if ind is not None else "",
                                     "series": [[int(y), _num(v)] for y, v in zip(s["year"], s["value"],
                                                                                  strict=True)]}
        for r in trends_by_key.get(key, pd.DataFrame()).to_dict("records"):
            indicators[str(r["indicator"])]["trend"] = {
                "n_years": int(r["n_years"]), "first_year": int(r["first_year"]), "last_year": int(r["last_year"]),
                "slope_per_year": _num(r["slope_per_year"]), "slope_early": _num(r["slope_early"]),
                "slope_recent": _num(r["slope_recent"]), "trend_change": _num(r["trend_change"]),
                "note": str(r["note"] or "")}
        warns = []
        for r in ew_by_key.get(key, pd.DataFrame()).to_dict("records"):
            warns.append({"indicator": str(r["indicator"]), "direction": int(r["direction"]),
                          "threshold": _num(r["threshold"]), "unit": str(r["unit"]),
                          "last_periods": str(r["last_periods"]), "run_length": int(r["run_length"]),
                          "warning": bool(r["warning"])})
        listed = classifiable.get(key, True)
        out[key] = {"level": level, "indicators": indicators,
                    "early_warning": {"warning": bool(listed and any(w["warning"] for w in warns)),
                                      "indicators": warns,
                                      "note": "" if listed else "not classifiable (too few residents or no "
                                                                 "statistics): not listed in early warnings"}}
    return out


def _analysis(mon: Monitoring) -> pd.DataFrame:
    from geo.hotspots import local_hotspots
    from geo.typology import fit_typology

    wide = mon.wide
    tab = mon.result.table.set_index(mon.result.table["key"].astype(str))
    keys = wide["key"].astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(keys, name="key"))
    ok = tab["classifiable"].reindex(keys).fillna(False).astype(bool).to_numpy()
    # hot spots of the status index on the classifiable districts
    frame = wide[["key", "geometry"]].copy()
    frame["key"] = keys
    values = pd.to_numeric(tab[HOTSPOT_FIELD], errors="coerce").reindex(keys).to_numpy() \
        if HOTSPOT_FIELD in tab.columns else np.full(len(keys), np.nan)
    frame["value"] = np.where(ok, values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hs = local_hotspots(frame, "value", permutations=PERMUTATIONS, seed=SEED)
    code = {"hot_spot": "HH", "cold_spot": "LL", "high_low_outlier": "HL", "low_high_outlier": "LH",
            "not_significant": "ns"}
    out["hotspot"] = [code.get(c) for c in hs["hotspot_class"]]
    out["hotspot_class"] = hs["hotspot_class"].to_numpy()
    # district types from the status index's indicators
    spec = next((s for s in mon.definition.indices if s.field == HOTSPOT_FIELD), None)
    columns = []
    if spec is not None:
        cols = {ind.id: ind.column for ind in mon.definition.indicators}
        columns = [cols.get(c.indicator, c.indicator) for c in spec.components]
    columns = [c for c in columns if c in wide.columns]
    out["type_id"] = pd.array([pd.NA] * len(keys), dtype="Int64")
    out["type_label_de"] = None
    out["type_label_en"] = None
    if columns:
        base = pd.DataFrame(wide[["key", *columns]]).assign(key=keys)[ok]
        typ = fit_typology(base, columns)
        a = typ.assignments.set_index("key")
        out.loc[a.index, "type_id"] = a["type_id"]
        labelled = a.dropna(subset=["type_id"])
        out.loc[labelled.index, "type_label_de"] = [f"Typ {int(i)}: {lab}" for i, lab in
                                                    zip(labelled["type_id"], labelled["label_de"], strict=True)]
        out.loc[labelled.index, "type_label_en"] = [f"Type {int(i)}: {lab}" for i, lab in
                                                    zip(labelled["type_id"], labelled["label_en"], strict=True)]
        out.attrs["typology_columns"] = columns
        out.attrs["typology_k"] = typ.k
    return out


def analysis_columns(mon: Monitoring, frame: Any, lang: str) -> Any:
    """``frame`` (a wide Ortsteil table) with ``hotspot`` and ``district_type`` (in ``lang``) added, for the map."""
    an = mon.analysis()
    keys = frame["key"].astype(str)
    out = frame.copy()
    out["hotspot"] = keys.map(an["hotspot"]).to_numpy()
    out["district_type"] = keys.map(an["type_label_en" if lang == "en" else "type_label_de"]).to_numpy()
    return out


# ----------------------------------------------------------------------------------------------- answers


def inequality_answer(mon: Monitoring, indicator: str | None, *, level: str | None = None) -> dict[str, Any]:
    """The body of ``GET /api/v1/monitoring/inequality``.

    Raises
    ------
    InputError
        No indicator, an unknown indicator or level.
    """
    level = level or "ortsteil"
    if level not in INEQUALITY_LEVELS:
        raise InputError(f"level must be one of {', '.join(INEQUALITY_LEVELS)}, got {level!r}")
    table = mon.inequality(level)
    if not indicator:
        raise InputError("give the indicator, e.g. indicator=share_foreign_pct; one of: " + ", ".join(table))
    if indicator not in table:
        raise InputError(f"no inequality series for indicator {indicator!r} at level {level}; one of: "
                         + ", ".join(table))
    from geo.indicators import REGISTRY

    ind = REGISTRY.get(indicator)
    return {
        "indicator": indicator,
        "unit": ind.unit if ind is not None else "",
        "level": level,
        "groups": "stadtbezirk",
        "snapshot_version": mon.version,
        "methods": {
            "gini": "Gini coefficient between districts (population-weighted for rates and means)",
            "theil": "Theil T index; theil_between + theil_within = theil (groups: Stadtbezirke)",
            "cv": "coefficient of variation (weighted SD / weighted mean)",
            "p90_p10_ratio": "90th over 10th percentile of the district values (unweighted)",
            "segregation": "foreign nationals among residents: index of dissimilarity, isolation index, "
                           f"global Moran's I of the share (queen contiguity, {PERMUTATIONS} permutations)",
        },
        "series": table[indicator],
        "segregation": mon.segregation(level),
    }


def district_answer(mon: Monitoring, key: str) -> dict[str, Any]:
    """The body of ``GET /api/v1/monitoring/districts/<key>`` (raises :class:`UnknownKeyError`)."""
    key = str(key)
    level = mon.level_of(key)
    body = mon.districts(level).get(key)
    if body is None:
        raise UnknownKeyError(f"no indicator series for district {key!r} in snapshot {mon.version}")
    try:
        row = mon.snapshot.district(key)
        name, city = str(row.get("name", key)), row.get("city")
    except UnknownKeyError:
        name, city = key, None
    out: dict[str, Any] = {"key": key, "name": name, "city": city if isinstance(city, str) else None,
                           "level": level, "snapshot_version": mon.version,
                           "trend_method": f"OLS slope per year over all years; change of trend = slope over "
                                           f"years >= {SPLIT_YEAR} minus slope over years <= {SPLIT_YEAR}",
                           "early_warning_rule": mon.warning_rule()}
    out.update(body)
    if level == "ortsteil":
        an = mon.analysis()
        if key in an.index:
            r = an.loc[key]
            out["hotspot_class"] = str(r["hotspot_class"])
            out["district_type"] = (None if pd.isna(r["type_id"]) else
                                    {"id": int(r["type_id"]), "label_de": r["type_label_de"],
                                     "label_en": r["type_label_en"]})
    return out


# ------------------------------------------------------------------------------------------------- cache

_CACHE: OrderedDict[tuple[str, str, str], Monitoring] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def monitoring_for(snapshot: Any, definition: Any, result: Any, wide: Any) -> Monitoring:
    """The :class:`Monitoring` of this snapshot version and definition (one per process, kept for reuse)."""
    key = (str(snapshot.path), str(snapshot.version), str(definition.hash))
    with _CACHE_LOCK:
        mon = _CACHE.get(key)
        if mon is None:
            mon = Monitoring(snapshot=snapshot, definition=definition, result=result, wide=wide)
            _CACHE[key] = mon
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(key)
        return mon


def profile_analysis(mon: Monitoring, key: str, lang: str) -> dict[str, str | None]:
    """Hot-spot class and district type of one Ortsteil as text in ``lang`` (None where not available)."""
    from maps.i18n import t

    an = mon.analysis()
    if key not in an.index:
        return {"hotspot": None, "district_type": None}
    r = an.loc[key]
    hot = r["hotspot"]
    if isinstance(hot, str):
        hotspot = t(f"hotspot.{hot}", lang)
    else:
        hotspot = "nicht getestet (nicht klassifizierbar)" if lang != "en" else "not tested (not classifiable)"
    label = r["type_label_en" if lang == "en" else "type_label_de"]
    return {"hotspot": hotspot, "district_type": label if isinstance(label, str) else None}


def page_monitoring(data: Any) -> Monitoring:
    """The :class:`Monitoring` of the pages' data (anything with snapshot, definition, result and wide)."""
    return monitoring_for(data.snapshot, data.definition, data.result, data.wide)


def monitoring_ready(snapshot: Any, definition: Any) -> bool:
    """Whether this process has finished building the monitoring of ``snapshot`` (start-up work done)."""
    key = (str(snapshot.path), str(snapshot.version), str(definition.hash))
    with _CACHE_LOCK:
        mon = _CACHE.get(key)
    return bool(mon is not None and mon.ready)
