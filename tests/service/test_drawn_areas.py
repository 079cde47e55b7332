"""Drawn areas scored with the stored index model (issue 11): same answers as the refit, no refit per request.

The polygons are SYNTHETIC TEST GEOMETRY (buffers and boxes around real district points of the snapshot).
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.classify import classify, load_result, save_result
from geo.classify.engine import fit_scoring_model, make_scorer, score_rows
from geo.classify.result import ClassificationResult, ScoringModel
from geo.errors import DefinitionError

pytestmark = pytest.mark.realdata

TENEVER = "04011373"


def test_build_publishes_the_model_and_it_survives_json(state, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = state.result.model
    assert isinstance(model, ScoringModel) and model.definition_hash == state.definition.hash
    spec = model.indices["status"]
    assert spec["method"] == "zscore" and spec["cutoffs"] == [-1.0, 1.0, 1.5] and spec["sum_sd"] > 0
    assert set(model.margin_sd) >= {"status_index", "population"}
    back = ScoringModel.from_dict(json.loads(json.dumps(model.to_dict(), allow_nan=False)))
    assert back.to_dict() == model.to_dict()
    path = save_result(state.result, tmp_path / "result.json")
    assert load_result(path).model.to_dict() == model.to_dict()  # type: ignore[union-attr]
    # the model the build stored is the one fitted on the snapshot's Ortsteile
    assert fit_scoring_model(state.wide, state.definition).to_dict() == model.to_dict()


def test_own_row_reproduces_every_classifiable_ortsteil(state) -> None:  # type: ignore[no-untyped-def]
    official = state.result.table.set_index("key")
    scored = score_rows(state.result.model, state.wide, state.definition).table.set_index("key")
    keys = official.index[official["classifiable"].to_numpy(dtype=bool)]
    assert len(keys) > 80
    got, want = scored.loc[keys], official.loc[keys]
    for col in ("status_index", "dynamics_index"):
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=0, atol=1e-12)
    for col in ("status_class", "dynamics_class", "matrix_cell", "missing_indicators"):
        assert (got[col] == want[col]).all(), col
    assert got["classifiable"].all()
    # categories: the same, except where a spatial rule (enclave, population cap) moved the official one,
    # which never applies to a row scored alone
    reasons = state.result.reasons
    spatial = set(reasons.loc[reasons["part"] == "spatial", "key"].astype(str)) if len(reasons) else set()
    for key in keys:
        if key not in spatial:
            assert list(got.at[key, "categories"]) == list(want.at[key, "categories"]), key
    assert not scored.loc[official.index[~official["classifiable"].to_numpy(dtype=bool)], "classifiable"].any()


def test_scoring_a_foreign_definition_is_refused(state) -> None:  # type: ignore[no-untyped-def]
    from geo.classify import parse_definition

    raw = dict(state.definition.raw) | {"id": "other", "min_population": 500}
    with pytest.raises(DefinitionError, match="fitted with definition"):
        make_scorer(state.result.model, parse_definition(raw))


def same(a, b) -> bool:  # type: ignore[no-untyped-def]
    """Equal, floats within 1e-12 (a matrix product over 114 rows may round the last bit differently)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-12, atol=1e-12))
    return bool(a == b)


def _areas(state) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def, type-arg]
    pts = state.snapshot.layers["ortsteile"].set_index("key").geometry
    tenever = pts[TENEVER].representative_point()
    first = pts.index[0]
    return [
        ("tenever 200 m", json.loads(shapely.to_geojson(tenever.buffer(200.0)))),
        ("tenever 1.5 km", json.loads(shapely.to_geojson(tenever.buffer(1500.0)))),
        ("tiny 20 m", json.loads(shapely.to_geojson(tenever.buffer(20.0)))),
        ("box across districts", json.loads(shapely.to_geojson(shapely.box(tenever.x - 2500, tenever.y - 300,
                                                                            tenever.x + 900, tenever.y + 400)))),
        (f"around {first}", json.loads(shapely.to_geojson(pts[first].representative_point().buffer(400.0)))),
    ]


def test_answer_equals_the_refit_path(state) -> None:  # type: ignore[no-untyped-def]
    from geo.analysis.interpolate import estimate_custom_area
    from service.api.answers import classification_parts
    from service.api.area import AREA_KEY, area_eligibility, area_prep, complete_estimate

    prep = area_prep(state)
    for label, body in _areas(state):
        answer = area_eligibility(state, body, crs="EPSG:25832", max_vertices=10_000)
        est = estimate_custom_area(body, prep.index, crs="EPSG:25832", key=AREA_KEY, name="Drawn area")
        frame, _ = complete_estimate(est.frame, est.sources, state.wide, state.definition.input_columns())
        full = classify(state.wide, state.definition, extra_rows=frame, draws=0)
        extra = full.table[full.table["is_extra"]]
        sub = ClassificationResult(table=extra, reasons=full.reasons[full.reasons["key"] == AREA_KEY],
                                   near_misses=full.near_misses.iloc[0:0], designation_check=full.designation_check,
                                   budget=full.budget, robustness=full.robustness, policy=full.policy,
                                   definition_id=full.definition_id, definition_hash=full.definition_hash)
        parts = classification_parts(sub, state.definition, extra=True)[AREA_KEY]
        cls = {k: v for k, v in answer["classification"].items() if k != "stability_note"}
        assert same(cls, parts["classification"]), (label, cls, parts["classification"])
        assert same(answer["categories"], parts["categories"]), label
        assert answer["funding_strands"] == parts["strands"], label
        assert answer["estimate"]["uncertainty"] == bool(est.frame["uncertainty"].iloc[0]), label
        assert answer["estimate"]["uncertainty_reason"] == (est.frame["uncertainty_reason"].iloc[0] or None)
    tiny = area_eligibility(state, _areas(state)[2][1], crs="EPSG:25832", max_vertices=10_000)
    assert tiny["classification"]["classifiable"] is False and tiny["estimate"]["uncertainty"] is True


def test_scored_frame_matches_classify_extra_row_exactly(state) -> None:  # type: ignore[no-untyped-def]
    from geo.analysis.interpolate import estimate_custom_area
    from service.api.area import AREA_KEY, area_prep, complete_estimate

    prep = area_prep(state)
    body = _areas(state)[3][1]
    est = estimate_custom_area(body, prep.index, crs="EPSG:25832", key=AREA_KEY)
    frame, _ = complete_estimate(est.frame, est.sources, state.wide, state.definition.input_columns())
    full = classify(state.wide, state.definition, extra_rows=frame, draws=0)
    want = full.table[full.table["is_extra"]].reset_index(drop=True)
    got = prep.scorer.score(frame).table
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=False, rtol=1e-12)
    r_full = full.reasons[full.reasons["key"] == AREA_KEY].reset_index(drop=True)
    r_got = prep.scorer.score(frame).reasons
    pd.testing.assert_frame_equal(r_got, r_full, check_exact=False, rtol=1e-12)


def test_preparation_is_done_once_per_state(state) -> None:  # type: ignore[no-untyped-def]
    from service.api.area import area_prep

    seen = []
    barrier = threading.Barrier(6)

    def grab() -> None:
        barrier.wait()
        seen.append(area_prep(state))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(p) for p in seen}) == 1
    assert not shapely.is_prepared(seen[0].index.geoms).any()
