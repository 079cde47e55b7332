"""Index methods as a registry: a definition names a registered method; a new one is one small class."""

from __future__ import annotations

import numpy as np
import pytest

from geo.classify import classify, load_definition
from geo.classify.index_methods import REGISTRY, IndexFit, IndexMethod, get_method, method_names, register
from geo.classify.schema import json_schema
from geo.errors import DefinitionError

from .test_methods import one_index, plain


def test_the_three_methods_are_registered_with_what_distinguishes_them():
    assert method_names() == ("zscore", "percentile", "exponential")
    z, p, e = (get_method(n) for n in method_names())
    assert (z.unit, p.unit, e.unit) == ("SD", "rank", "score")
    assert (z.component_suffix, p.component_suffix, e.component_suffix) == ("__z", "__pr", "__z")
    assert [m.name for m in (z, p, e) if m.allows_optional] == ["zscore"]
    assert [m.name for m in (z, p, e) if m.needs_domains] == ["exponential"]
    assert [m.name for m in (z, p, e) if m.flags] == ["percentile"]


def test_an_unknown_method_lists_the_registered_ones():
    with pytest.raises(DefinitionError) as info:
        load_definition(one_index("zscores", [{"indicator": "x"}], [0.0], ["a", "b"]))
    (problem,) = info.value.problems
    assert problem.detail["field"] == "indices.status.method"
    assert problem.message == ("indices.status.method: unknown index method 'zscores' "
                               "(registered: zscore, percentile, exponential)")


def test_a_new_method_is_one_class_overriding_aggregate():
    class Mean(IndexMethod):
        """The weighted mean of the oriented z-scores (not standardised again)."""

        name = "mean_z"
        unit = "SD"

        def aggregate(self, fit: IndexFit, comps: np.ndarray, weights: np.ndarray, *,
                      stats_from_ref: bool) -> np.ndarray:
            return np.asarray(comps @ weights.T / weights.sum(axis=1)[None, :])

    register(Mean)
    try:
        assert json_schema()["$defs"]["IndexSpec"]["properties"]["method"]["enum"][-1] == "mean_z"
        d = one_index("mean_z", [{"indicator": "x", "weight": 3.0}, {"indicator": "y", "weight": 1.0}],
                      [0.0], ["a", "b"])
        # x = 0, 2 -> z = -1, 1 ; y = 5, 5 -> no variance, z = 0 ; mean = (3 z_x + 0) / 4 = -0.75, 0.75
        r = classify(plain({"x": [0.0, 2.0], "y": [5.0, 5.0]}), d)
        assert r.table["status_index"].tolist() == pytest.approx([-0.75, 0.75])
        assert r.table["status_class"].tolist() == ["a", "b"]
        with pytest.raises(ValueError, match="registered already"):
            register(Mean)
    finally:
        REGISTRY.pop("mean_z", None)
    assert "mean_z" not in method_names()
