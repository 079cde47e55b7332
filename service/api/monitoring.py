"""Monitoring answers of the service (framework-free).

Inequality over time, district trends, early warnings, hot spots and district types.

Everything here is read from the monitoring product that ``quartiere build`` published in the snapshot version
(:mod:`geo.analysis.monitoring.products`, :mod:`geo.pipeline.products`): :func:`load_monitoring` reads it once
when a snapshot version is loaded, and the answers only look things up. Nothing is computed at start-up or on a
request; a version without the product raises :class:`geo.errors.ProductMissingError` (503, "rebuild").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geo.analysis.monitoring.comparison import comparison_verdict
from geo.analysis.monitoring.messages import as_records
from geo.analysis.monitoring.products import (
    HOTSPOT_FIELD,
    INEQUALITY_LEVELS,
    PERMUTATIONS,
    SPLIT_YEAR,
    analysis_frame,
)
from geo.errors import InputError, UnknownKeyError
from maps.evaluation import verdict_words
from maps.i18n import LANGS, t

__all__ = [
    "HOTSPOT_FIELD",
    "INEQUALITY_LEVELS",
    "Monitoring",
    "analysis_columns",
    "district_answer",
    "inequality_answer",
    "load_monitoring",
    "poverty_answer",
]


@dataclass(frozen=True)
class Monitoring:
    """The published monitoring of one snapshot version and programme definition (read-only)."""

    snapshot: Any
    data: dict[str, Any] = field(repr=False)
    analysis_table: pd.DataFrame = field(repr=False)

    @property
    def version(self) -> str:
        """The snapshot version the monitoring was published in."""
        return str(self.snapshot.version)

    @property
    def definition_hash(self) -> str:
        """Hash of the programme definition the monitoring was built for."""
        return str(self.data["definition_hash"])

    def inequality(self, level: str) -> dict[str, list[dict[str, Any]]]:
        """Indicator -> one row per year (JSON-ready) of :func:`geo.analysis.monitoring.inequality_series`."""
        return self.data["inequality"].get(level, {})

    def segregation(self, level: str) -> list[dict[str, Any]]:
        """Segregation of SGB II recipients among residents under 65 per year with counts (JSON-ready)."""
        return self.data["segregation"].get(level, [])

    def descriptive_segregation(self, level: str) -> list[dict[str, Any]]:
        """Segregation of foreign nationals per year: descriptive demography, never a need signal."""
        return self.data.get("descriptive_segregation", {}).get(level, [])

    def poverty(self) -> dict[str, Any]:
        """The poverty section of the published monitoring (see :mod:`geo.analysis.monitoring.products`).

        Inequality of the need series, SGB II segregation, early warnings on need and the evaluation with its
        verdict.
        """
        return self.data["poverty"]

    def level_of(self, key: str) -> str:
        """Level of a district key in the long table (raises :class:`UnknownKeyError`)."""
        level = self.data["levels"].get(key)
        if level is None:
            raise UnknownKeyError(f"no district with key {key[:20]!r} has indicator series in snapshot "
                                  f"{self.version}")
        return str(level)

    def districts(self, level: str) -> dict[str, dict[str, Any]]:
        """Key -> the monitoring answer body of every district of ``level`` (without the common fields)."""
        return self.data["districts"].get(level, {})

    def warning_rule(self) -> dict[str, Any]:
        """The early-warning rule as published (:func:`geo.analysis.monitoring.poverty.warning_rule`)."""
        return self.data["rule"]

    def analysis(self) -> pd.DataFrame:
        """Hot spots and district types per Ortsteil, indexed by key.

        Columns ``hotspot`` (HH/LL/HL/LH/ns or None), ``hotspot_class``, ``type_id``, ``type_label_de`` and
        ``type_label_en``.
        """
        return self.analysis_table


def load_monitoring(snapshot: Any, definition: Any) -> Monitoring:
    """Read the monitoring product of ``definition`` published in ``snapshot`` (raises ProductMissingError)."""
    from geo.pipeline.products import read_monitoring

    doc = read_monitoring(snapshot.path, snapshot.manifest, definition)
    return Monitoring(snapshot=snapshot, data=doc,
                      analysis_table=analysis_frame(doc["analysis"]))


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
    from geo.pipeline.indicators import REGISTRY

    ind = REGISTRY.get(indicator)
    return {
        "indicator": indicator,
        "unit": ind.unit if ind is not None else "",
        "level": level,
        "groups": "stadtbezirk",
        "snapshot_version": mon.version,
        "methods": {
            "gini": "Gini coefficient between districts (weighted for rates and means; weight_basis per year)",
            "theil": "Theil T index; theil_between + theil_within = theil (groups: Stadtbezirke)",
            "cv": "coefficient of variation (weighted SD / weighted mean)",
            "p90_p10_ratio": "90th over 10th percentile of the district values (unweighted)",
            "segregation": "SGB II recipients among residents under 65 (counts of sgb2_u65_pct, years with both "
                           "counts): index of dissimilarity, isolation index, global Moran's I of the share (queen "
                           f"contiguity, {PERMUTATIONS} permutations)",
            "descriptive_segregation": "foreign nationals among residents: descriptive demography only, never a "
                                       "need indicator",
        },
        "weights": mon.poverty().get("weights", {}).get(indicator),
        "series": table[indicator],
        "segregation": mon.segregation(level),
        "descriptive_segregation": mon.descriptive_segregation(level),
    }


def poverty_answer(mon: Monitoring) -> dict[str, Any]:
    """The body of ``GET /api/v1/monitoring/poverty``: the published poverty section in words.

    The evaluation's verdict comes with its codes and figures and in German and English words, and each weight
    with its description in both languages, the words from the catalogue.
    """
    pv = dict(mon.poverty())
    ev = pv.get("evaluation") or {}
    if ev.get("available"):
        codes = comparison_verdict(ev["comparison"])
        pv["evaluation"] = {**ev, "verdict": {"pattern": codes["pattern"], "no_pre_years": codes["no_pre_years"],
                                              "outcomes": as_records(codes["outcomes"]),
                                              **{lang: verdict_words(codes, lang) for lang in LANGS}}}
    pv["weights"] = {n: {"base": w.get("base"), **{lang: t(f"weight_basis.{n}", lang) for lang in LANGS}}
                     for n, w in (pv.get("weights") or {}).items()}
    return {"snapshot_version": mon.version, "level": "ortsteil", "groups": "stadtbezirk", **pv}


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
