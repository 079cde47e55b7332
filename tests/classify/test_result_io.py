"""Results serialise to JSON and back without loss."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.classify import classify, load_result, save_result
from geo.classify.definition import canonical_json
from geo.errors import InputError

from .fixtures import definition, grid_table


def test_round_trip(tmp_path):
    r = classify(grid_table(), definition(), draws=20)
    path = save_result(r, tmp_path / "v1" / "classifications" / f"{r.definition_hash}.json")
    back = load_result(path)
    for name in ("table", "reasons", "near_misses", "designation_check", "budget", "robustness"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(r, name), check_dtype=False)
    assert back.table["key"].tolist()[0] == "00000001"  # leading zeros kept
    assert back.table.set_index("key").loc["00000002", "categories"] == ["win"]
    assert back.policy == r.policy and back.definition_hash == r.definition_hash
    # the stored definition reproduces the hash
    import hashlib

    assert hashlib.sha256(canonical_json(back.definition).encode()).hexdigest() == r.definition_hash
    assert json.loads(path.read_text())["format"] == "quartiere-classification/1"


def test_load_rejects_other_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"format": "something"}')
    with pytest.raises(InputError):
        load_result(p)
