"""The GISD method on a hand-made table, and its replication of the RKI release on the real inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.national import gisd


def test_quantile_classes_like_r_type9() -> None:
    x = np.arange(1, 11, dtype=float)
    # R: findInterval(findInterval(1:10, quantile(1:10, 0:5/5, type=9)), 1:5) -> 1 1 2 2 3 3 4 4 5 5
    assert gisd.quantile_classes(x, 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert gisd.quantile_classes(x, 10).tolist() == list(range(1, 11))


def test_rescale() -> None:
    assert gisd.rescale(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert gisd.rescale(np.array([1.0, 1.0])).tolist() == [0.5, 0.5]  # as R scales::rescale


def test_inkar2022_gvb_code() -> None:
    ars = pd.Series(["091715101", "091710111", "010010000", "031535401"])
    assert gisd.inkar2022_gvb_code(ars).tolist() == ["09171901", "09171111", "01001000", "03153901"]


def _tiny_workfile(seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """6 Gemeinden in 3 Kreise x 3 years; one latent deprivation drives all nine indicators."""
    rng = np.random.default_rng(seed)
    latent = np.array([-1.5, -0.8, -0.2, 0.3, 0.9, 1.6])
    rows = []
    for i, z in enumerate(latent):
        for year in (2019, 2020, 2021):
            e = rng.normal(0, 0.05, 9)
            rows.append({"key": f"0100100{i}", "year": year, "kreis_key": f"0100{i // 2}", "gemeindeverband_key":
                         f"01001500{i}", "population": 1000.0 * (i + 1),
                         "Arbeitslosigkeit": 5 + 2 * z + e[0], "Beschaeftigtenquote": 60 - 5 * z + e[1],
                         "Bruttoverdienst_ln": 8 - 0.1 * z + e[2], "Einkommensteuer_ln": 6 - 0.2 * z + e[3],
                         "Haushaltseinkommen_ln": 7.5 - 0.1 * z + e[4], "Schuldnerquote": 9 + 2 * z + e[5],
                         "BeschaeftigtemitakadAbschluss_adj": 15 - 4 * z + e[6],
                         "BeschaeftigteohneAbschluss_adj": 12 + 2 * z + e[7],
                         "SchulabgaengerohneAbschluss_adj": 6 + z + e[8]})
    return pd.DataFrame(rows), latent


def test_model_recovers_the_latent_order_and_signs() -> None:
    wf, latent = _tiny_workfile()
    model = gisd.GisdModel().fit(wf)
    w = model.weights().set_index("indicator")["loading"]
    assert w["Arbeitslosigkeit"] > 0 and w["Beschaeftigtenquote"] < 0 and w["Einkommensteuer_ln"] < 0
    assert w["SchulabgaengerohneAbschluss_adj"] > 0 and w["BeschaeftigtemitakadAbschluss_adj"] < 0
    scores = model.transform(wf)
    for _year, part in scores.groupby("year"):
        assert part["gisd_score"].min() == 0 and part["gisd_score"].max() == 1
        assert np.argsort(part["gisd_score"].to_numpy()).tolist() == np.argsort(latent).tolist()
    kreise = gisd.aggregate(scores)
    assert sorted(kreise["key"].unique()) == ["01000", "01001", "01002"]
    k21 = kreise[kreise["year"] == 2021].set_index("key")
    assert k21["gisd_score"].tolist() == [0.0, pytest.approx(k21["gisd_score"].iloc[1]), 1.0]
    assert k21["gisd_5"].iloc[0] == 1 and k21["gisd_5"].iloc[-1] == 5


def test_imputation_fills_from_the_trend() -> None:
    wf, _ = _tiny_workfile()
    wf.loc[(wf["key"] == "01001003") & (wf["year"] == 2020), "Schuldnerquote"] = np.nan
    out = gisd.impute(wf, ("Schuldnerquote",))
    val = out.loc[(out["key"] == "01001003") & (out["year"] == 2020), "Schuldnerquote"].iloc[0]
    neighbours = wf.loc[(wf["key"] == "01001003") & (wf["year"] != 2020), "Schuldnerquote"]
    assert abs(val - neighbours.mean()) < 0.5


def test_compare_with_release_identity() -> None:
    wf, _ = _tiny_workfile()
    ours = gisd.aggregate(gisd.GisdModel().fit(wf).transform(wf))
    table = gisd.compare_with_release(ours, ours[["key", "year", "gisd_score", "gisd_5"]])
    assert (table["spearman_rho"] > 0.999).all() and (table["quintile_agreement"] == 1).all()


#: achieved on the real inputs (release 2025 v1.0, Kreise, 1998-2021): lower bounds
MIN_RHO = 0.998
MIN_QUINTILE_AGREEMENT = 0.935
MIN_MEAN_QUINTILE_AGREEMENT = 0.965


@pytest.mark.realdata
def test_replication_of_the_release(national_dir) -> None:  # type: ignore[no-untyped-def]
    from geo.national import sources

    d = national_dir / "de-verwaltungsgebiete/vg250ew_2022-12-31_attribute/vg250ew_gem_attribute.csv"
    gem = sources.read_vg250ew(d, "gemeinde")
    gem = gem.assign(gemeindeverband_key=gem["ars"].str[:9], kreis_key=gem["key"].str[:5])
    inputs = sources.read_gisd_inputs(national_dir / "de-gisd-rki/inputs/gisd_input_indicators_long.csv.gz")
    release = sources.read_gisd_release(national_dir / "de-gisd-rki/release_2025_v1.0/GISD_Bund_Kreis.csv")
    _, kreise, _ = gisd.gisd_from_inputs(gem, inputs)
    table = gisd.compare_with_release(kreise, release)
    assert table["year"].tolist() == list(range(1998, 2022)) and (table["n"] == 400).all()
    assert table["spearman_rho"].min() >= MIN_RHO
    assert table["quintile_agreement"].min() >= MIN_QUINTILE_AGREEMENT
    assert table["quintile_agreement"].mean() >= MIN_MEAN_QUINTILE_AGREEMENT
    assert table["within_one_quintile"].min() == 1.0
