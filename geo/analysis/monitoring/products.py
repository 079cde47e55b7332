"""The monitoring products of one snapshot and programme definition, computed by the build and only read after.

:func:`monitoring_product` computes everything the monitoring API, the monitoring page, the overview map's hot
spot and type layers and the profiles show, as one JSON-ready document; ``quartiere build`` publishes it in the
version folder (see :mod:`geo.pipeline.products`) and the service loads it as it is. Nothing here runs on a request.

Choices (shared with the programme report, so page and report agree):

* The series run up to the snapshot's latest data year (projections for later years are left out).
* ``poverty`` comes first: the programme's question on the need series of the Ortsteilatlas
  (:mod:`geo.analysis.monitoring.poverty`): inequality of child poverty, SGB II and unemployment between Ortsteile per
  year (weights named per year), segregation of SGB II recipients from counts, the early-warning rule on need
  series, and the evaluation of the WiN Ortsteile (reasons and caveats as message codes; the words and the verdict
  are put together on display, :mod:`maps.evaluation`).
* Inequality covers every indicator of the level except the source columns ``si_*``, with the Theil index split
  into between and within Stadtbezirke (:func:`geo.analysis.monitoring.inequality_series`); the poverty series carry the
  poverty weights, the others weigh with the population of the same (or the nearest) population year.
* ``segregation`` is that of SGB II recipients; the segregation of foreign nationals is descriptive demography
  only (``descriptive_segregation``, labelled so), never a need signal.
* Trend and change of trend: :func:`geo.analysis.monitoring.district_trends` (split year 2010).
* Early warning: need series only (:func:`geo.analysis.monitoring.poverty.warning_rule`); demographic shares are never
  criteria.
* Hot spots: Local Moran's I of the programme's status index (:func:`geo.analysis.hotspots.local_hotspots`, 999
  permutations, FDR 5 %), on the classifiable Ortsteile; others are "not tested".
* District types: k-means on the status index's indicators (:func:`geo.analysis.typology.fit_typology`, k = 3..8 by
  silhouette), on the classifiable Ortsteile.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from geo.analysis.monitoring import poverty
from geo.analysis.monitoring.inequality import inequality_series, parent_map
from geo.analysis.monitoring.messages import as_records
from geo.analysis.monitoring.poverty import EARLY_WARNING_PERIODS, EARLY_WARNING_THRESHOLDS
from geo.analysis.monitoring.segregation import segregation_series
from geo.analysis.monitoring.trends import district_trends

__all__ = [
    "EARLY_WARNING_PERIODS",
    "EARLY_WARNING_THRESHOLDS",
    "FORMAT",
    "HOTSPOT_FIELD",
    "INEQUALITY_LEVELS",
    "PERMUTATIONS",
    "SEED",
    "SPLIT_YEAR",
    "analysis_frame",
    "monitoring_long",
    "monitoring_product",
]

#: format of the published document (a service refuses other formats with "rebuild the snapshot")
FORMAT = "quartiere-monitoring/2"
#: levels whose districts can be compared by the inequality endpoint (grouped by Stadtbezirk)
INEQUALITY_LEVELS = ("ortsteil", "stadtteil")
#: the index whose hot and cold spots are mapped
HOTSPOT_FIELD = "status_index"
SPLIT_YEAR = 2010
PERMUTATIONS = 999
SEED = 12345
def _num(x: Any) -> float | None:
    """A JSON-safe number (NaN/inf -> None)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def monitoring_long(snapshot: Any) -> pd.DataFrame:
    """The long indicator table up to the snapshot's latest data year, keys as plain strings."""
    ind = snapshot.indicators
    out = ind[ind["year"] <= snapshot.latest_year].copy()
    out["key"] = out["key"].astype(str)
    return out


_INEQUALITY_COLUMNS = ("indicator", "year", "n_districts", "weighted", "mean", "gini", "theil", "theil_between",
                       "theil_within", "theil_between_share", "cv", "p90_p10_ratio", "weight_basis", "weight_year",
                       "n_weighted_by_denominator", "note")


def _inequality_rows(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Rows of :func:`geo.analysis.monitoring.inequality_series` per indicator (sorted), each in year order."""
    out: dict[str, list[dict[str, Any]]] = {}
    if frame.empty:
        return out
    c = {name: frame[name].tolist() for name in _INEQUALITY_COLUMNS}
    # one row per indicator and year: sorting by both is the order of a group-by on the indicator, then year
    for i in sorted(range(len(frame)), key=lambda i: (str(c["indicator"][i]), c["year"][i])):
        wy = c["weight_year"][i]
        out.setdefault(str(c["indicator"][i]), []).append(
            {"year": int(c["year"][i]), "n_districts": int(c["n_districts"][i]), "weighted": bool(c["weighted"][i]),
             "mean": _num(c["mean"][i]), "gini": _num(c["gini"][i]), "theil": _num(c["theil"][i]),
             "theil_between": _num(c["theil_between"][i]), "theil_within": _num(c["theil_within"][i]),
             "theil_between_share": _num(c["theil_between_share"][i]), "cv": _num(c["cv"][i]),
             "p90_p10_ratio": _num(c["p90_p10_ratio"][i]), "weight_basis": str(c["weight_basis"][i]),
             "weight_year": None if pd.isna(wy) else int(wy),
             "n_weighted_by_denominator": int(c["n_weighted_by_denominator"][i]),
             "note": str(c["note"][i] or "")})
    return out


def _groups(snapshot: Any, wide: Any, level: str) -> pd.Series:
    # the wide table of a level is its layer with indicators merged on the left: same keys and parents
    return parent_map(wide if level == "ortsteil" else snapshot.layer(level))


def _inequality(snapshot: Any, long: pd.DataFrame, wide: Any, level: str) -> dict[str, list[dict[str, Any]]]:
    groups = _groups(snapshot, wide, level)
    out = _inequality_rows(inequality_series(long, groups=groups, level=level))
    out.update(_inequality_rows(poverty.poverty_inequality(long, groups=groups, level=level)))
    return out


def _segregation_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"year": int(r["year"]), "n_districts": int(r["n_districts"]), "group_total": _num(r["group_total"]),
             "population_total": _num(r["population_total"]), "group_share": _num(r["group_share"]),
             "dissimilarity": _num(r["dissimilarity"]), "isolation": _num(r["isolation"]),
             "morans_i": _num(r["morans_i"]), "morans_expected_i": _num(r["morans_expected_i"]),
             "morans_p_sim": _num(r["morans_p_sim"]), "note": str(r["note"] or "")}
            for r in frame.to_dict("records")]


def _segregation(snapshot: Any, long: pd.DataFrame, level: str,
                 cache: dict[tuple[str, ...], Any] | None = None) -> list[dict[str, Any]]:
    """Compute the segregation of SGB II recipients among residents under 65 (counts of ``sgb2_u65_pct``).

    ``cache`` keeps the contiguity weights of each set of districts of ``level`` for the next series.
    """
    return _segregation_rows(poverty.sgb2_segregation(long, districts=snapshot.layer(level), level=level,
                                                      permutations=PERMUTATIONS, seed=SEED, cache=cache))


def _descriptive_segregation(snapshot: Any, long: pd.DataFrame, level: str,
                             cache: dict[tuple[str, ...], Any] | None = None) -> list[dict[str, Any]]:
    """Segregation of foreign nationals: descriptive demography, never a need signal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = segregation_series(long, districts=snapshot.layer(level), level=level, permutations=PERMUTATIONS,
                                   seed=SEED, cache=cache)
    return _segregation_rows(frame)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-safe records (numbers through :func:`_num`, everything else as text or int)."""
    out = []
    for r in frame.to_dict("records"):
        rec: dict[str, Any] = {}
        for k, v in r.items():
            if isinstance(v, bool | np.bool_):
                rec[str(k)] = bool(v)
            elif isinstance(v, int | np.integer):
                rec[str(k)] = int(v)
            elif isinstance(v, float | np.floating):
                rec[str(k)] = _num(v)
            elif isinstance(v, tuple | list):  # reasons: Message codes
                rec[str(k)] = as_records(v)
            elif v is None or (not isinstance(v, str) and pd.isna(v)):
                rec[str(k)] = None
            else:
                rec[str(k)] = str(v)
        out.append(rec)
    return out


def _poverty(snapshot: Any, long: pd.DataFrame, result: Any, inequality: dict[str, list[dict[str, Any]]],
             segregation: list[dict[str, Any]], ew: pd.DataFrame) -> dict[str, Any]:
    """Build the poverty section of the product (see the module docstring).

    It reuses the Ortsteil inequality and SGB II segregation already computed for the whole document (one
    computation, one set of figures).
    """
    from geo.pipeline.indicators import REGISTRY

    labels = {n: (REGISTRY[n].label_de, REGISTRY[n].label_en) if n in REGISTRY else (n, n)
              for n in (*poverty.INEQUALITY_SERIES, *poverty.TREND_SERIES, *poverty.EVALUATION_OUTCOMES)}
    ineq = {n: inequality[n] for n in poverty.INEQUALITY_SERIES if n in inequality}
    ok = set(result.table.loc[result.table["classifiable"].astype(bool), "key"].astype(str))
    warned = ew[ew["warning"] & ew["key"].isin(ok)]
    evaluation: dict[str, Any] = {"available": False}
    if len(snapshot.designations):
        comp, cohorts = poverty.need_evaluation(long, snapshot.designations)
        evaluation = {
            "available": True, "seed": poverty.EVALUATION_SEED, "n_boot": poverty.EVALUATION_BOOT,
            "n_placebo_groups": poverty.EVALUATION_PLACEBO_GROUPS, "programmes": ["win"],
            "comparison": _records(comp.outcomes), "matches": _records(comp.matches),
            "caveats": as_records(comp.caveats),
            "cohorts": _records(pd.concat([c.outcomes for c in cohorts], ignore_index=True)) if cohorts else [],
        }
    return {
        "series": list(poverty.INEQUALITY_SERIES),
        "labels": {n: {"de": de, "en": en} for n, (de, en) in labels.items()},
        "weights": {n: {"base": b} for n, b in poverty.WEIGHT_BASES.items()},
        "inequality": ineq,
        "segregation": {"indicator": poverty.SEGREGATION_RATE, "rows": segregation},
        "early_warning": {"rule": poverty.warning_rule(long), "rows": _records(warned)},
        "evaluation": evaluation,
    }


def _district_bodies(long: pd.DataFrame, result: Any, level: str, ew: pd.DataFrame) -> dict[str, Any]:
    """Collect series, trend and early warnings of every district of ``level``.

    The trend comes from :func:`geo.analysis.monitoring.district_trends`, all indicators of the level at once.
    """
    from geo.pipeline.indicators import REGISTRY

    classifiable: dict[str, bool] = {}
    if level == "ortsteil":
        tab = result.table
        classifiable = dict(zip(tab["key"].astype(str), tab["classifiable"].astype(bool), strict=True))
    data = long[long["level"] == level].dropna(subset=["value"])
    names_all = sorted(data["indicator"].astype(str).unique())
    trends = district_trends(data, indicator=names_all, level=level, split_year=SPLIT_YEAR)
    cols = {c: trends[c].tolist() for c in trends.columns}
    trend_row = {(k, n): i for i, (k, n) in enumerate(zip(cols["key"], cols["indicator"], strict=True))}
    # one stable sort: districts, then indicators, then years; each (district, indicator) series is one run
    data = data.sort_values(["key", "indicator", "year"])
    keys = data["key"].astype(str).to_numpy()
    names = data["indicator"].astype(str).to_numpy()
    years = data["year"].to_numpy()
    values = data["value"].to_numpy(dtype=float)
    if not len(keys):
        return {}
    new_run = np.concatenate([[True], (keys[1:] != keys[:-1]) | (names[1:] != names[:-1])])
    runs = np.flatnonzero(new_run)
    year_list = [int(y) for y in years.tolist()]
    value_list = [_num(v) for v in values.tolist()]
    run_bounds = [*runs.tolist(), len(keys)]
    key_of_run = keys[runs].tolist()
    name_of_run = names[runs].tolist()
    units = {n: (REGISTRY[n].unit if n in REGISTRY else "") for n in set(name_of_run)}
    warns_by_key: dict[str, list[dict[str, Any]]] = {}
    if len(ew):
        for k, ind, d, thr, unit, lp, yrs, run, warn in zip(
                ew["key"].tolist(), ew["indicator"].tolist(), ew["direction"].tolist(), ew["threshold"].tolist(),
                ew["unit"].tolist(), ew["last_periods"].tolist(), ew["years"].tolist(), ew["run_length"].tolist(),
                ew["warning"].tolist(), strict=True):
            warns_by_key.setdefault(k, []).append(
                {"indicator": str(ind), "direction": int(d), "threshold": _num(thr), "unit": str(unit),
                 "last_periods": str(lp), "years": str(yrs), "run_length": int(run), "warning": bool(warn)})
    note = "not classifiable (too few residents or no statistics): not listed in early warnings"
    out: dict[str, dict[str, Any]] = {}
    indicators: dict[str, dict[str, Any]] = {}
    for i, (key, name) in enumerate(zip(key_of_run, name_of_run, strict=True)):
        if key not in out:
            indicators = {}
            warns = [dict(w) for w in warns_by_key.get(key, [])]
            listed = classifiable.get(key, True)
            out[key] = {"level": level, "indicators": indicators,
                        "early_warning": {"warning": bool(listed and any(w["warning"] for w in warns)),
                                          "indicators": warns, "note": "" if listed else note}}
        lo, hi = run_bounds[i], run_bounds[i + 1]
        t = trend_row[(key, name)]
        indicators[name] = {"unit": units[name],
                            "series": [[y, v] for y, v in zip(year_list[lo:hi], value_list[lo:hi], strict=True)],
                            "trend": {"n_years": int(cols["n_years"][t]), "first_year": int(cols["first_year"][t]),
                                      "last_year": int(cols["last_year"][t]),
                                      "slope_per_year": _num(cols["slope_per_year"][t]),
                                      "slope_early": _num(cols["slope_early"][t]),
                                      "slope_recent": _num(cols["slope_recent"][t]),
                                      "trend_change": _num(cols["trend_change"][t]), "note": str(cols["note"][t])}}
    return out


def _analysis(definition: Any, result: Any, wide: Any) -> dict[str, Any]:
    """Hot spots and district types per Ortsteil as records (see :func:`analysis_frame`)."""
    from geo.analysis.hotspots import local_hotspots
    from geo.analysis.typology import fit_typology

    tab = result.table.set_index(result.table["key"].astype(str))
    keys = wide["key"].astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(keys, name="key"))
    ok = tab["classifiable"].reindex(keys).fillna(False).astype(bool).to_numpy()
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
    out["type_id"] = None
    out["type_label_de"] = None
    out["type_label_en"] = None
    # one typology per basis (a city with its own index components is typed on them), numbered on
    cities = tab["city"].astype(str).reindex(keys).to_numpy() if "city" in tab.columns else np.full(len(keys), "")
    own = set(getattr(definition, "bases", {}) or {})
    bases: dict[str, dict[str, Any]] = {}
    offset = 0
    for group in [None, *sorted(own)]:
        sub = definition if group is None else definition.basis_for(group)
        in_group = ~np.isin(cities, list(own)) if group is None else cities == group
        spec = next((s for s in sub.indices if s.field == HOTSPOT_FIELD), None)
        cols = {ind.id: ind.column for ind in sub.indicators}
        columns = [cols.get(c.indicator, c.indicator) for c in spec.components] if spec is not None else []
        columns = [c for c in columns if c in wide.columns]
        rows = ok & in_group
        if not columns or rows.sum() < 4:
            continue
        typ = fit_typology(pd.DataFrame(wide[["key", *columns]]).assign(key=keys)[rows], columns)
        bases[str(group or "default")] = {"columns": columns, "k": typ.k, "first_type": offset + 1}
        labelled = typ.assignments.set_index("key").dropna(subset=["type_id"])
        ids = [offset + int(i) for i in labelled["type_id"]]
        out.loc[labelled.index, "type_id"] = ids
        out.loc[labelled.index, "type_label_de"] = [f"Typ {i}: {lab}" for i, lab in
                                                    zip(ids, labelled["label_de"], strict=True)]
        out.loc[labelled.index, "type_label_en"] = [f"Type {i}: {lab}" for i, lab in
                                                    zip(ids, labelled["label_en"], strict=True)]
        offset += typ.k
    first = bases.get("default", {})
    columns, k = list(first.get("columns", [])), first.get("k")

    def text(v: Any) -> str | None:
        return v if isinstance(v, str) else None

    records = [{"key": str(key), "hotspot": text(r["hotspot"]), "hotspot_class": str(r["hotspot_class"]),
                "type_id": None if pd.isna(r["type_id"]) else int(r["type_id"]),
                "type_label_de": text(r["type_label_de"]), "type_label_en": text(r["type_label_en"])}
               for key, r in out.iterrows()]
    return {"rows": records, "typology_columns": columns, "typology_k": k, "typology_bases": bases}


def analysis_frame(analysis: dict[str, Any]) -> pd.DataFrame:
    """The published hot-spot and type records as a frame indexed by key (``type_id`` nullable integer)."""
    frame = pd.DataFrame(analysis["rows"], columns=["key", "hotspot", "hotspot_class", "type_id", "type_label_de",
                                                    "type_label_en"]).set_index("key")
    frame["type_id"] = frame["type_id"].astype("Int64")
    frame.attrs["typology_columns"] = list(analysis.get("typology_columns") or [])
    frame.attrs["typology_k"] = analysis.get("typology_k")
    return frame


def monitoring_product(snapshot: Any, definition: Any, result: Any, wide: Any | None = None) -> dict[str, Any]:
    """Every monitoring answer of ``snapshot`` under ``definition`` (with its classification ``result``)."""
    wide = snapshot.wide("ortsteil") if wide is None else wide
    long = monitoring_long(snapshot)
    rule = poverty.warning_rule(long)
    pairs = long[["key", "level"]].drop_duplicates("key")
    levels = sorted(long["level"].astype(str).unique())
    inequality = {lv: _inequality(snapshot, long, wide, lv) for lv in INEQUALITY_LEVELS}
    # contiguity weights per level and set of districts, shared by both segregation series (same geometries)
    weights: dict[str, dict[tuple[str, ...], Any]] = {lv: {} for lv in INEQUALITY_LEVELS}
    segregation = {lv: _segregation(snapshot, long, lv, weights[lv]) for lv in INEQUALITY_LEVELS}
    warnings_by_level = {lv: poverty.need_early_warning(long, level=lv) for lv in levels}
    return {
        "format": FORMAT,
        "snapshot_version": str(snapshot.version),
        "definition_hash": str(definition.hash),
        "levels": dict(zip(pairs["key"].astype(str), pairs["level"].astype(str), strict=True)),
        "rule": rule,
        "poverty": _poverty(snapshot, long, result, inequality["ortsteil"], segregation["ortsteil"],
                            warnings_by_level.get("ortsteil", pd.DataFrame(columns=["key", "warning"]))),
        "inequality": inequality,
        "segregation": segregation,
        "descriptive_segregation": {lv: _descriptive_segregation(snapshot, long, lv, weights[lv])
                                    for lv in INEQUALITY_LEVELS},
        "districts": {lv: _district_bodies(long, result, lv, warnings_by_level[lv]) for lv in levels},
        "analysis": _analysis(definition, result, wide),
    }
