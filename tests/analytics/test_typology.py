from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.analysis.typology as typology
from geo.analysis.typology import fit_typology, standardise
from geo.errors import ValidationError


def three_groups() -> pd.DataFrame:
    # three tight, well separated groups of three districts in two indicators
    return pd.DataFrame({
        "key": [f"0401100{i}" for i in range(9)],
        "share_foreign_pct": [30.0, 31.0, 29.0, 5.0, 6.0, 4.0, 5.0, 6.0, 4.0],
        "share_aged_65_plus_pct": [15.0, 16.0, 14.0, 35.0, 36.0, 34.0, 15.0, 16.0, 14.0],
    })


def test_standardise_uses_population_sd():
    # 1, 2, 3: mean 2, population SD sqrt(2/3) = 0.8165 -> z = -1.2247, 0, 1.2247
    z, means, stds = standardise(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), ["a"])
    np.testing.assert_allclose(z["a"], [-1 / np.sqrt(2 / 3), 0.0, 1 / np.sqrt(2 / 3)])
    assert means["a"] == 2.0 and stds["a"] == pytest.approx(np.sqrt(2 / 3))


def test_three_obvious_types_are_found_and_described():
    result = fit_typology(three_groups(), ["share_foreign_pct", "share_aged_65_plus_pct"])
    assert result.k == 3
    assert result.scores["k"].tolist() == [3, 4, 5, 6, 7, 8]
    assert result.scores.set_index("k")["silhouette"].idxmax() == 3
    members = set(result.profiles["members"])
    assert members == {"04011000;04011001;04011002", "04011003;04011004;04011005", "04011006;04011007;04011008"}
    prof = result.profiles.set_index("members")
    # group 1 mean z of share_foreign: overall mean = (90 + 15 + 15)/9 = 40/3; group mean 30 -> deviation 50/3.
    # deviations x3: 50, 53, 47 and -25, -22, -28 (twice): sum of squares = (7518 + 2*1893)/9 = 1256
    # population SD = sqrt(1256/9) = 11.813 -> mean z = (50/3)/11.813 = 1.4108
    assert prof.loc["04011000;04011001;04011002", "z_share_foreign_pct"] == pytest.approx(
        (50 / 3) / np.sqrt(1256 / 9))
    hi_foreign = prof.loc["04011000;04011001;04011002"]
    assert hi_foreign["label_en"].startswith("high share of foreign nationals")
    assert hi_foreign["label_de"].startswith("Ausländeranteil hoch")
    old = prof.loc["04011003;04011004;04011005"]
    assert old["label_en"].startswith("high share aged 65+")
    assert (result.profiles["size"] == 3).all()
    assert result.profiles["type_id"].tolist() == [1, 2, 3]  # equal sizes: numbered by smallest key
    assert "silhouette" in result.criterion and "random_state=0" in result.criterion


def test_ties_go_to_the_smaller_k(monkeypatch):
    monkeypatch.setattr(typology, "silhouette_score", lambda X, labels: 0.5)
    result = fit_typology(three_groups(), ["share_foreign_pct", "share_aged_65_plus_pct"], k_values=[5, 4, 6])
    assert result.k == 4


def test_rows_missing_values_are_assigned_on_what_they_have_or_excluded():
    frame = three_groups()
    frame.loc[8, "share_foreign_pct"] = np.nan              # half of the indicators: nearest type on the other
    frame.loc[7, ["share_foreign_pct", "share_aged_65_plus_pct"]] = np.nan  # none: left out, not imputed
    result = fit_typology(frame, ["share_foreign_pct", "share_aged_65_plus_pct"])
    key7, key8 = frame.loc[7, "key"], frame.loc[8, "key"]
    assert result.excluded == [key7]
    rows = result.assignments.set_index("key")
    assert pd.isna(rows.loc[key7, "type_id"]) and pd.isna(rows.loc[key7, "label_en"])
    assert bool(rows.loc[key8, "partial"]) and not rows.drop(index=[key7, key8])["partial"].any()
    # the nearest centre on the one indicator it has
    z = (frame.loc[8, "share_aged_65_plus_pct"] - result.means["share_aged_65_plus_pct"]) / \
        result.stds["share_aged_65_plus_pct"]
    centres = result.profiles.set_index("type_id")["z_share_aged_65_plus_pct"]
    assert rows.loc[key8, "type_id"] == int((centres - z).abs().idxmin())
    assert result.profiles["size"].sum() == 7  # the types are fitted on the complete areas only


def test_invalid_input_is_rejected():
    frame = three_groups()
    frame["flat"] = 1.0
    with pytest.raises(ValidationError, match="cannot fit") as err:
        fit_typology(frame, ["share_foreign_pct", "flat"])
    assert "'flat' is constant" in str(err.value)
    with pytest.raises(ValidationError) as err:
        fit_typology(frame, ["nope"])
    assert "nope" in str(err.value)
    with pytest.raises(ValidationError, match="cannot fit") as err:
        fit_typology(frame.head(3), ["share_foreign_pct"])
    assert "too few" in str(err.value)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000))
def test_types_do_not_depend_on_row_order(seed):
    # unstructured random data: only the internal sort by key can make this hold
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"key": [f"{i:08d}" for i in range(25)],
                          "a": rng.normal(size=25), "b": rng.normal(size=25)})
    shuffled = frame.sample(frac=1.0, random_state=seed)
    first = fit_typology(frame, ["a", "b"], k_values=[2, 3, 4], n_init=3)
    second = fit_typology(shuffled, ["a", "b"], k_values=[2, 3, 4], n_init=3)
    assert first.k == second.k
    assert first.profiles["members"].tolist() == second.profiles["members"].tolist()
    assert second.assignments["key"].tolist() == shuffled["key"].tolist()  # input order kept
    merged = first.assignments.merge(second.assignments, on="key")
    assert (merged["type_id_x"] == merged["type_id_y"]).all()
