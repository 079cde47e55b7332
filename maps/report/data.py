"""What the programme report shows, computed once by the service (:mod:`service.report`) and drawn here.

The choices the report makes on top of the library (which indicators are charted) are the constants below,
named and printed in the report itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["CHART_INDICATORS", "MAP_INDICATORS", "SYNTHETIC_MARKERS", "THEIL_INDICATOR", "Leaflet", "ReportData"]

#: indicators whose inequality between Ortsteile is charted (status proxies of the shipped definition + age)
CHART_INDICATORS: tuple[str, ...] = ("share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
#: indicator whose Theil index is split into between and within Stadtbezirke
THEIL_INDICATOR = "share_foreign_pct"
#: indicator layers offered on the interactive map besides the programme layers
MAP_INDICATORS: tuple[str, ...] = ("population", "share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
#: words in an input's path or source that mark it synthetic
SYNTHETIC_MARKERS = ("synthetic", "synthetisch", "fake", "dummy")


@dataclass(frozen=True)
class Leaflet:
    """The vendored Leaflet script and stylesheet (its images as ``data:`` URIs), read by the service."""

    js: str
    css: str


@dataclass
class ReportData:
    """Everything the report shows, computed once (inspect it in tests and notebooks without HTML).

    Attributes
    ----------
    year
        The programme year (data year of the classification; the series run up to it).
    wide
        The snapshot's wide Ortsteil table of ``year`` (GeoDataFrame, EPSG:25832).
    result
        The :class:`geo.classify.ClassificationResult`.
    inequality, segregation
        :func:`geo.analysis.monitoring.inequality_series` of :data:`CHART_INDICATORS` and the segregation of foreign
        nationals (descriptive demography) up to ``year``.
    warnings
        Early-warning rows on need series (``warning`` true only) of districts classifiable in ``year``, with
        ``name`` (:func:`geo.analysis.monitoring.need_early_warning`).
    evaluation
        :class:`geo.analysis.monitoring.EvaluationResult` of the need series (cohorts by start year).
    poverty_inequality, poverty_segregation, comparison
        :func:`geo.analysis.monitoring.poverty_inequality`, :func:`geo.analysis.monitoring.sgb2_segregation` and the
        :class:`geo.analysis.monitoring.ChangeComparison` of the WiN Ortsteiles (the same functions as the build's
        monitoring product, so page and report agree).
    synthetic
        What in the inputs is marked synthetic (empty with the real data).
    """

    snapshot: Any
    definition: Any
    year: int
    wide: Any
    result: Any
    inequality: pd.DataFrame
    segregation: pd.DataFrame
    warnings: pd.DataFrame
    directions: dict[str, int]
    evaluation: Any
    synthetic: list[str] = field(default_factory=list)
    poverty_inequality: pd.DataFrame = field(default_factory=pd.DataFrame)
    poverty_segregation: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: Any = None

