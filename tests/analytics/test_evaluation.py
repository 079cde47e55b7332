from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.analysis.monitoring import evaluate_funding, start_years_from_designations
from geo.analysis.monitoring.evaluation import SUPPORTS, TOO_THIN
from geo.analysis.monitoring.messages import Message
from geo.errors import ValidationError

YEARS = [1980, 1990, 2000, 2010, 2020]


def synthetic_long(effect: float, *, n_treated: int = 8, n_controls: int = 20, seed: int = 0,
                   noise: float = 0.05) -> pd.DataFrame:
    """Treated districts T00.. and controls C00..; outcome y follows a common trend 0.1/year plus unit level;
    treated units get ``effect`` added from 2000 on (start year 1995 in the tests)."""
    rng = np.random.default_rng(seed)
    rows = []
    for kind, n in (("T", n_treated), ("C", n_controls)):
        for i in range(n):
            level = rng.normal(10, 2)
            for y in YEARS:
                v = level + 0.1 * (y - 1980) + rng.normal(0, noise) + (effect if kind == "T" and y >= 1995 else 0)
                rows.append({"key": f"{kind}{i:02d}", "level": "ortsteil", "year": y, "indicator": "y", "value": v})
    return pd.DataFrame(rows)


def designations(n_treated: int = 8, start: int | None = 1995) -> pd.DataFrame:
    return pd.DataFrame({"area": [f"Area {i}" for i in range(n_treated)],
                         "key": [f"T{i:02d}" for i in range(n_treated)],
                         "programmes": "win", "confidence": "stated-in-source",
                         "start_year": [start] * n_treated})


def test_start_years_assumed_from_programmes_and_earliest_wins():
    d = pd.DataFrame({"area": ["Gröpelingen", "Blockdiek", "Überseestadt", "Alwin-Lonke", "Hünertshagen"],
                      "key": ["04011442;04011441", "04011375", "04011437", "04011511", None],
                      "programmes": ["win", "llq_kleinst_sonder", "llq_quartier_im_werden;win", "llq_kleinst_sonder",
                                     "llq_kleinst_sonder"],
                      "confidence": "x"})
    d = pd.concat([d, pd.DataFrame({"area": ["Grambke"], "key": ["04011511"], "programmes": ["win"],
                                    "confidence": ["x"]})])
    out = start_years_from_designations(d).set_index("key")
    assert out.loc["04011442", "start_year"] == 1999 and out.loc["04011441", "start_year"] == 1999
    assert out.loc["04011375", "start_year"] == 2020
    assert out.loc["04011437", "start_year"] == 1999  # WiN before LLQ
    assert out.loc["04011511", "start_year"] == 1999  # two rows: earliest
    assert out.loc["04011511", "programmes"] == "llq_kleinst_sonder;win"
    assert "assumed" in out.loc["04011375", "start_year_source"]
    assert len(out) == 5  # the row without a key is dropped
    custom = start_years_from_designations(d, start_years={"win": 1998, "llq_kleinst_sonder": 2021})
    assert custom.set_index("key").loc["04011375", "start_year"] == 2021


def test_clear_effect_with_enough_data_supports_a_conclusion():
    res = evaluate_funding(synthetic_long(effect=2.0), designations(), outcomes=["y"], min_post_years=2,
                           n_boot=499)
    row = res.outcomes.iloc[0]
    # pre = 1980, 1990; post = 2000, 2010, 2020: effect 2 added in every post year -> DiD = 2 (+- noise)
    assert row["estimate"] == pytest.approx(2.0, abs=0.1)
    assert row["ci_low"] > 0
    assert row["pre_years"] == "1980;1990" and row["post_years"] == "2000;2010;2020"
    # with only 2 pre years the default (3) declares the data too thin, and says why
    assert row["verdict"] == TOO_THIN
    assert Message("few_pre_years", {"n": 2, "start": 1995, "years": [1980, 1990], "min": 3}) in row["reasons"]
    loose = evaluate_funding(synthetic_long(effect=2.0), designations(), outcomes=["y"], min_pre_years=2,
                             n_boot=499).outcomes.iloc[0]
    assert loose["verdict"] == SUPPORTS and loose["reasons"] == ()
    assert abs(loose["pretrend_estimate"]) < 0.2


def test_no_effect_gives_interval_including_zero():
    # without noise every unit changes by the common trend only: all effects are exactly 0, interval [0, 0]
    res = evaluate_funding(synthetic_long(effect=0.0, noise=0.0), designations(), outcomes=["y"], min_pre_years=2,
                           n_boot=499)
    row = res.outcomes.iloc[0]
    assert row["estimate"] == pytest.approx(0.0, abs=1e-9)
    assert row["ci_low"] <= 0 <= row["ci_high"]
    assert row["verdict"] == TOO_THIN and Message("interval_includes_zero", {"level": 95}) in row["reasons"]


def test_too_few_treated_and_no_pre_years_are_reported():
    long = synthetic_long(effect=2.0, n_treated=2)
    res = evaluate_funding(long, designations(2), outcomes=["y"], min_pre_years=2, n_boot=99)
    assert Message("few_treated", {"n": 2, "min": 5}) in res.outcomes.iloc[0]["reasons"]
    early = evaluate_funding(long, designations(2, start=1975), outcomes=["y"], n_boot=99).outcomes.iloc[0]
    assert early["verdict"] == TOO_THIN
    assert Message("few_pre_years", {"n": 0, "start": 1975, "years": [], "min": 3}) in early["reasons"]


def test_bootstrap_is_seeded_and_matches_are_controls():
    long, d = synthetic_long(effect=1.0), designations()
    a = evaluate_funding(long, d, outcomes=["y"], n_boot=199, seed=5)
    b = evaluate_funding(long, d, outcomes=["y"], n_boot=199, seed=5)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    assert a.matches["control_key"].str.startswith("C").all()
    assert len(a.matches) == 8 * 3
    assert any(c.code == "start_years_assumed" and c.params["years"]["win"] == 1999 for c in a.caveats)


def test_did_by_hand_on_two_units():
    # T: pre 1980 = 1, post 2000 = 5 -> delta 4; C: pre 2, post 3 -> delta 1; DiD = 3
    rows = [("T00", 1980, 1.0), ("T00", 2000, 5.0), ("C00", 1980, 2.0), ("C00", 2000, 3.0)]
    long = pd.DataFrame([{"key": k, "level": "ortsteil", "year": y, "indicator": "y", "value": v}
                         for k, y, v in rows])
    res = evaluate_funding(long, designations(1, start=1990), outcomes=["y"], n_boot=99)
    row = res.outcomes.iloc[0]
    assert row["estimate"] == pytest.approx(3.0)
    assert np.isnan(row["ci_low"]) and row["verdict"] == TOO_THIN


def test_unknown_outcome_is_rejected():
    with pytest.raises(ValidationError) as err:
        evaluate_funding(synthetic_long(0.0), designations(), outcomes=["nope"])
    assert "'nope'" in str(err.value)
