"""Which side of a cut-off is inclusive (``closed: left | right``), on a tiny hand-made table."""

from __future__ import annotations

import numpy as np
import pytest

from geo.classify import classify, load_definition
from geo.classify.methods import class_codes
from geo.errors import DefinitionError

from .test_methods import one_index, plain

MSS = {"cutoffs": [-1.0, 1.0, 1.5], "labels": ["high", "medium", "low", "very_low"]}


def mss(**extra: object) -> dict:
    return one_index("zscore", [{"indicator": "x"}], MSS["cutoffs"], MSS["labels"], **extra)


def test_berlin_mss_counts_plus_one_as_medium_with_closed_right():
    # x = -1, -1, 1, 1 has mean 0 and population SD 1, so z = x, and the sum of one component standardised
    # again is z itself: the index is exactly -1 and +1, each on a cut-off of [-1, 1, 1.5].
    table = plain({"x": [-1.0, -1.0, 1.0, 1.0]})
    left = classify(table, mss()).table
    right = classify(table, mss(closed="right")).table
    assert left["status_index"].tolist() == pytest.approx([-1.0, -1.0, 1.0, 1.0])
    # today (closed: left, cut-offs are lower bounds): +1.0 goes up to "low"
    assert left["status_class"].tolist() == ["medium", "medium", "low", "low"]
    # Berlin's convention: +1.0 is still "medium" (and -1.0 still "high": each class includes its upper cut-off)
    assert right["status_class"].tolist() == ["high", "high", "medium", "medium"]


def test_closed_right_is_stated_in_the_policy_and_left_stays_the_default():
    table = plain({"x": [-1.0, -1.0, 1.0, 1.0]})
    assert "closed: right" in classify(table, mss(closed="right")).policy
    assert "closed: right" not in classify(table, mss()).policy
    assert load_definition(mss()).indices[0].closed == "left"
    with pytest.raises(DefinitionError, match=r"indices\.status\.closed"):
        load_definition(mss(closed="both"))


def test_class_codes_with_jittered_cutoffs_keep_the_side():
    values = np.array([[1.0, 1.0], [2.0, np.nan]])  # (n areas, draws)
    cuts = np.array([[1.0, 2.0], [0.5, 1.0]])  # per draw
    assert class_codes(values, cuts, "left").tolist() == [[1, 2], [2, -1]]
    assert class_codes(values, cuts, "right").tolist() == [[0, 1], [1, -1]]
