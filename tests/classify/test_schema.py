"""The pydantic models of a programme definition: one problem per wrong field, at its path, in our words."""

from __future__ import annotations

import pytest

from geo.classify import parse_definition
from geo.classify.schema import LIMITS
from geo.errors import DefinitionError

from .fixtures import definition


def problems_of(bad: dict) -> dict[str, tuple[str, str]]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(bad)
    return {str(p.detail["field"]): (p.check, p.message) for p in info.value.problems}


def test_each_wrong_value_is_one_problem_naming_path_value_and_expectation():
    bad = definition(min_population=True, title=["a", "b"])
    bad["indicators"][0]["direction"] = "up"
    bad["indices"]["status"]["components"][0]["weight"] = "1.5"  # strict: a text is no number
    bad["categories"][0]["all"][0]["value"] = [0.5]
    found = problems_of(bad)
    assert set(found) == {"min_population", "title", "indicators[0].direction",
                          "indices.status.components[0].weight", "categories[0].all[0].value"}
    assert found["min_population"] == ("type", "min_population: must be a finite number, got True")
    assert found["indicators[0].direction"] == (
        "definition", "indicators[0].direction: must be one of higher_is_worse, lower_is_worse, got 'up'")
    assert found["indices.status.components[0].weight"][1].endswith("must be a finite number, got '1.5'")
    assert found["title"][0] == "type" and "['a', 'b']" in found["title"][1]


def test_unknown_keys_list_the_allowed_ones_at_every_depth():
    bad = definition()
    bad["indices"]["status"]["colour"] = "red"
    bad["categories"][2]["all"][1]["iss"] = False  # a category reference with a typo
    found = problems_of(bad)
    check, message = found["indices.status.colour"]
    assert check == "unknown_field" and "method" in message and "cutoffs" in message and "closed" in message
    check, message = found["categories[2].all[1].iss"]
    assert check == "unknown_field" and "(allowed: category, is, label)" in message


def test_references_are_checked_against_the_rest_of_the_document():
    bad = definition()
    bad["categories"][0]["all"].append({"category": "phase_out_candidate"})  # defined later
    bad["categories"][1]["all"].append({"field": "status_class", "op": ">=", "value": "high"})
    bad["budget"]["categories"] = ["win", "nosuch"]
    found = problems_of(bad)
    assert "unknown earlier category 'phase_out_candidate' (known: none)" in found[
        "categories[0].all[2].category[0]"][1]
    assert "holds class labels" in found["categories[1].all[1].op"][1]
    assert "unknown category 'nosuch'" in found["budget.categories[1]"][1]

    listed = definition()
    listed["categories"][1]["all"].append({"field": "status_class", "op": "in", "value": ["high", "awful"]})
    listed["categories"][1]["all"].append({"field": "x", "op": "in", "value": [1, [2]]})
    found = problems_of(listed)
    assert "unknown class label 'awful' of status_class" in found["categories[1].all[1].value[1]"][1]
    assert found["categories[1].all[2].value[1]"][1].endswith("got [2]")


def test_null_means_not_given_and_limits_hold():
    d = parse_definition(definition(budget=None, matrix=None, near_miss=None))
    assert d.budget is None and d.matrix is None and d.near_miss_margin_sd == 0.25
    many = definition()
    many["indices"]["status"]["cutoffs"] = [float(k) for k in range(LIMITS["cutoffs"] + 1)]
    check, message = problems_of(many)["indices.status.cutoffs"]
    assert check == "limit" and f"at most {LIMITS['cutoffs']}" in message
