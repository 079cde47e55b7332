"""What drawn-area answers need from one snapshot, prepared once when the snapshot is loaded.

:func:`service.api.state.load_state` calls :func:`prepare_area`; :mod:`service.api.area` answers with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geo.analysis.interpolate import AreaIndex, prepare_area_index
from geo.classify import ClassificationResult, Definition
from geo.classify.engine import Scorer, fit_scoring_model, make_scorer


@dataclass(frozen=True)
class AreaPrep:
    """What drawn-area answers need from one snapshot, prepared before request threads use it."""

    index: AreaIndex
    scorer: Scorer
    model_source: str  # "stored" (result.model of the published classification) or "fitted at load"


def prepare_area(wide: Any, definition: Definition, result: ClassificationResult) -> AreaPrep:
    """Prepare drawn-area answers for a snapshot (call it in ``load_state``, before any request thread).

    Uses the index model stored with the official classification; a classification written before models were
    stored gets its model fitted here, once, from ``wide`` (the same fit :func:`geo.classify.classify` does).
    """
    model = result.model
    source = "stored"
    if model is None or model.definition_hash != definition.hash:
        model, source = fit_scoring_model(wide, definition), "fitted at load"
    return AreaPrep(index=prepare_area_index(wide), scorer=make_scorer(model, definition), model_source=source)
