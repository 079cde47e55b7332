"""Classification of districts for a programme definition.

Public API::

    from geo.classify import load_definition, classify, save_result, load_result, compare_results

See ``programmes/README.md`` for the definition schema and ``geo/classify/engine.py`` for the policy.
"""

from geo.classify.compare import Comparison, compare_definitions, compare_results
from geo.classify.definition import Definition, load_definition, parse_definition
from geo.classify.engine import NO_STATISTICS, classify, policy_text
from geo.classify.methods import (
    IndexModel,
    exponential_transform,
    fit_empirical_bayes,
    percentile_rank,
    rank_fraction,
    shrink_rates,
    zscores,
)
from geo.classify.result import ClassificationResult, load_result, save_result

__all__ = [
    "NO_STATISTICS",
    "ClassificationResult",
    "Comparison",
    "Definition",
    "IndexModel",
    "classify",
    "compare_definitions",
    "compare_results",
    "exponential_transform",
    "fit_empirical_bayes",
    "load_definition",
    "load_result",
    "parse_definition",
    "percentile_rank",
    "policy_text",
    "rank_fraction",
    "save_result",
    "shrink_rates",
    "zscores",
]
