"""The published JSON Schema: every shipped programme validates against it, a wrong one fails at its path."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from geo.classify import parse_definition
from geo.classify.schema import json_schema
from geo.errors import DefinitionError
from service.cli import main

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
SHIPPED = sorted(PROGRAMMES.glob("*.yml"))


def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_there_are_shipped_programmes():
    assert len(SHIPPED) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_programme_validates_against_the_published_schema(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator().iter_errors(data)] == []


def test_a_wrong_programme_fails_the_schema_and_the_models_at_the_same_path():
    data = yaml.safe_load((PROGRAMMES / "lebendige-quartiere.yml").read_text(encoding="utf-8"))
    data["indices"]["status"]["components"][2]["weight"] = "heavy"
    data["indices"]["dynamics"]["closed"] = "middle"
    data["categories"][0]["colour"] = "red"
    errors = {e.json_path: e.message for e in validator().iter_errors(data)}
    assert "'heavy' is not of type 'number'" in errors["$.indices.status.components[2].weight"]
    assert "'middle' is not one of ['left', 'right']" in errors["$.indices.dynamics.closed"]
    assert "'colour' was unexpected" in errors["$.categories[0]"]
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    fields = {p.detail["field"] for p in info.value.problems}
    assert fields == {"indices.status.components[2].weight", "indices.dynamics.closed", "categories[0].colour"}


def test_quartiere_schema_prints_and_writes_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()
    out = tmp_path / "programme.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json_schema()


def test_the_schema_beside_the_programmes_is_current():
    # editors read programmes/programme.schema.json (README); `quartiere schema --out` renews it
    committed = json.loads((PROGRAMMES / "programme.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema()
