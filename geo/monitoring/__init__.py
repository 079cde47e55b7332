"""Monitoring over time: inequality between districts, segregation, trends, early warnings and evaluation.

Pure functions over the long indicator table (see :mod:`geo.indicators`) and the wide tables of a snapshot.
"""

from geo.monitoring.evaluation import EvaluationResult, evaluate_funding, start_years_from_designations
from geo.monitoring.inequality import (
    TheilDecomposition,
    coefficient_of_variation,
    decile_ratio,
    gini,
    inequality_series,
    parent_map,
    theil,
    theil_decomposition,
)
from geo.monitoring.segregation import dissimilarity_index, global_moran, isolation_index, segregation_series
from geo.monitoring.trends import DEFAULT_DIRECTIONS, district_trends, early_warning, period_changes

__all__ = [
    "DEFAULT_DIRECTIONS",
    "EvaluationResult",
    "TheilDecomposition",
    "coefficient_of_variation",
    "decile_ratio",
    "dissimilarity_index",
    "district_trends",
    "early_warning",
    "evaluate_funding",
    "gini",
    "global_moran",
    "inequality_series",
    "isolation_index",
    "parent_map",
    "period_changes",
    "segregation_series",
    "start_years_from_designations",
    "theil",
    "theil_decomposition",
]
