"""Classification of districts for a programme definition.

Public API::

    from geo.classify import load_definition, classify, save_result, load_result, compare_results
    from geo.classify import score_rows  # score new areas with result.model, without refitting

See ``programmes/README.md`` for the definition schema and ``geo/classify/engine.py`` for the policy.
"""

from geo.classify.compare import Comparison, compare_definitions, compare_results
from geo.classify.definition import Definition, load_definition, parse_definition
from geo.classify.engine import NO_STATISTICS, Scorer, classify, fit_scoring_model, make_scorer, policy_text, score_rows
from geo.classify.methods import (
    IndexModel,
    exponential_transform,
    fit_empirical_bayes,
    percentile_rank,
    rank_fraction,
    shrink_rates,
    zscores,
)
from geo.classify.result import ClassificationResult, ScoringModel, load_result, save_result

__all__ = [
    "NO_STATISTICS",
    "ClassificationResult",
    "Comparison",
    "Definition",
    "IndexModel",
    "Scorer",
    "ScoringModel",
    "classify",
    "compare_definitions",
    "compare_results",
    "exponential_transform",
    "fit_empirical_bayes",
    "fit_scoring_model",
    "load_definition",
    "load_result",
    "make_scorer",
    "parse_definition",
    "percentile_rank",
    "policy_text",
    "rank_fraction",
    "save_result",
    "score_rows",
    "shrink_rates",
    "zscores",
]
