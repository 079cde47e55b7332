"""Programme definition: the shipped file loads; wrong fields are each reported by path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from geo.classify import classify, load_definition, parse_definition
from geo.classify.definition import FIXED_CATEGORY_IDS
from geo.errors import DefinitionError

from .fixtures import BASE_DEFINITION, definition, grid_table

SHIPPED = Path(__file__).resolve().parents[2] / "programmes" / "lebendige-quartiere.yml"


def fields_of(exc: DefinitionError) -> list[str]:
    return [str(p.detail.get("field")) for p in exc.problems]


def test_shipped_definition_loads_with_the_fixed_category_ids():
    d = load_definition(SHIPPED)
    assert d.category_ids == FIXED_CATEGORY_IDS
    assert d.budget is not None and d.budget.totals == {"Bremen": 1_600_000, "Bremerhaven": 400_000}
    assert {i.name for i in d.indices} == {"status", "dynamics"}
    assert len(d.hash) == 64


def test_hash_is_canonical_key_order_does_not_matter():
    a = parse_definition(BASE_DEFINITION)
    reordered = dict(reversed(list(copy.deepcopy(BASE_DEFINITION).items())))
    assert parse_definition(reordered).hash == a.hash
    assert parse_definition(definition(min_population=301)).hash != a.hash


def test_every_wrong_field_is_reported_at_once():
    bad = definition()
    bad["indices"]["status"]["components"] = [
        {"indicator": "x", "weight": "heavy"},  # weight not a number
        {"indicator": "unemployment", "weight": 1},  # unknown indicator
    ]
    bad["indices"]["status"]["cutoffs"] = [1.0, -1.0, 1.5]  # out of order
    bad["categories"][0]["all"][0]["op"] = "=>"  # unknown operator
    bad["robustness"]["stability_threshold"] = 1.5  # out of range
    bad["budgte"] = {}  # typo in a top-level key
    with pytest.raises(DefinitionError) as info:
        parse_definition(bad)
    fields = fields_of(info.value)
    assert "indices.status.components[0].weight" in fields
    assert "indices.status.components[1].indicator" in fields
    assert "indices.status.cutoffs" in fields
    assert "categories[0].all[0].op" in fields
    assert "robustness.stability_threshold" in fields
    assert "budgte" in fields
    messages = " ".join(p.message for p in info.value.problems)
    assert "'heavy'" in messages and "unemployment" in messages and "strictly increasing" in messages


def test_boolean_is_not_a_weight_and_labels_must_match_cutoffs():
    bad = definition()
    bad["indices"]["status"]["components"][0]["weight"] = True
    bad["indices"]["status"]["labels"] = ["a", "b"]
    with pytest.raises(DefinitionError) as info:
        parse_definition(bad)
    assert set(fields_of(info.value)) >= {"indices.status.components[0].weight", "indices.status.labels"}


def test_category_may_only_refer_to_earlier_categories_and_known_class_labels():
    bad = definition()
    bad["categories"][0]["all"].append({"category": "phase_out_candidate", "is": False})
    bad["categories"][1]["all"].append({"field": "status_class", "op": "==", "value": "awful"})
    with pytest.raises(DefinitionError) as info:
        parse_definition(bad)
    assert "categories[0].all[2].category[0]" in fields_of(info.value)
    assert "categories[1].all[1].value" in fields_of(info.value)


def test_floor_above_cap_and_missing_sections():
    bad = definition()
    bad["budget"]["floor_eur"] = 500
    bad["budget"]["cap_eur"] = 100
    del bad["indicators"]
    with pytest.raises(DefinitionError) as info:
        parse_definition(bad)
    assert "budget.floor_eur" in fields_of(info.value)
    assert "indicators" in fields_of(info.value)


def test_column_missing_from_table_names_the_definition_field():
    d = definition()
    d["indicators"][0]["column"] = "share_poor_pct"
    with pytest.raises(DefinitionError) as info:
        classify(grid_table(geometry=False), d, draws=0)
    assert fields_of(info.value) == ["indicators[0].column"]
    assert "share_poor_pct" in str(info.value)


def test_not_yaml_and_missing_file(tmp_path):
    f = tmp_path / "bad.yml"
    f.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_definition(f)
    with pytest.raises(DefinitionError, match="not found"):
        load_definition(tmp_path / "nope.yml")
