"""Monitoring over time: inequality between districts, segregation, trends, early warnings and evaluation.

Pure functions over the long indicator table (see :mod:`geo.pipeline.indicators`) and the wide tables of a snapshot.
"""

from geo.analysis.monitoring.comparison import ChangeComparison, compare_changes, comparison_verdict
from geo.analysis.monitoring.evaluation import EvaluationResult, evaluate_funding, start_years_from_designations
from geo.analysis.monitoring.inequality import (
    TheilDecomposition,
    coefficient_of_variation,
    decile_ratio,
    gini,
    inequality_series,
    nearest_year,
    parent_map,
    theil,
    theil_decomposition,
)
from geo.analysis.monitoring.poverty import (
    need_early_warning,
    need_evaluation,
    poverty_inequality,
    sgb2_segregation,
    with_base_counts,
)
from geo.analysis.monitoring.segregation import dissimilarity_index, global_moran, isolation_index, segregation_series
from geo.analysis.monitoring.trends import DEFAULT_DIRECTIONS, district_trends, early_warning, period_changes

__all__ = [
    "DEFAULT_DIRECTIONS",
    "ChangeComparison",
    "EvaluationResult",
    "TheilDecomposition",
    "coefficient_of_variation",
    "compare_changes",
    "comparison_verdict",
    "decile_ratio",
    "dissimilarity_index",
    "district_trends",
    "early_warning",
    "evaluate_funding",
    "gini",
    "global_moran",
    "inequality_series",
    "isolation_index",
    "nearest_year",
    "need_early_warning",
    "need_evaluation",
    "parent_map",
    "period_changes",
    "poverty_inequality",
    "segregation_series",
    "sgb2_segregation",
    "start_years_from_designations",
    "theil",
    "theil_decomposition",
    "with_base_counts",
]
