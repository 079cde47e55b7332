"""Analytics on the real snapshot (built once per session by tests/conftest.py).

Skipped on a developer machine without ../shared/data; failing, never skipping, when CI is set.
"""

from __future__ import annotations

import numpy as np
import pytest

from geo.analysis.hotspots import CLASSES, local_hotspots
from geo.analysis.interpolate import estimate_custom_area
from geo.analysis.monitoring import (
    early_warning,
    evaluate_funding,
    inequality_series,
    parent_map,
    segregation_series,
)
from geo.analysis.monitoring.evaluation import TOO_THIN
from geo.analysis.monitoring.messages import Message
from geo.analysis.typology import fit_typology

pytestmark = pytest.mark.realdata
REAL_YEARS = [1980, 1990, 2000, 2010, 2020, 2021, 2022, 2023]


@pytest.fixture(scope="module")
def wide(real_snapshot):  # type: ignore[no-untyped-def]
    return real_snapshot.wide("ortsteil", 2023)


def test_custom_area_equal_to_tenever_reproduces_its_counts(wide):
    tenever = wide[wide["key"] == "04011373"].iloc[0]
    est = estimate_custom_area(wide[wide["key"] == "04011373"].geometry, wide, crs="EPSG:25832")
    row = est.frame.iloc[0]
    assert row["population"] == pytest.approx(tenever["population"], rel=1e-3)
    assert row["share_foreign_pct"] == pytest.approx(tenever["share_foreign_pct"], rel=1e-3)
    assert not row["uncertainty"]


def test_small_square_in_tenever_is_flagged(wide):
    centre = wide[wide["key"] == "04011373"].geometry.iloc[0].representative_point()
    est = estimate_custom_area(centre.buffer(150, cap_style="square"), wide, crs="EPSG:25832")
    assert est.uncertain and "small parts" in est.frame.iloc[0]["uncertainty_reason"]


def test_inequality_and_segregation_cover_every_year(real_snapshot, wide):
    ineq = inequality_series(real_snapshot.indicators, groups=parent_map(wide), indicators=["share_foreign_pct"])
    assert ineq["year"].tolist() == REAL_YEARS
    assert (ineq["n_districts"] > 80).all()
    np.testing.assert_allclose(ineq["theil_between"] + ineq["theil_within"], ineq["theil"], rtol=1e-9)
    assert ineq["gini"].between(0.1, 0.6).all()
    seg = segregation_series(real_snapshot.indicators, districts=wide, permutations=199)
    assert seg["year"].tolist() == REAL_YEARS
    assert seg["dissimilarity"].between(0.1, 0.5).all()
    assert (seg["isolation"] > seg["group_share"]).all()  # foreign nationals live above the city-wide share
    assert seg.set_index("year").loc[2023, "morans_i"] > 0


def test_hotspots_and_typology_run_on_bremen(wide):
    hs = local_hotspots(wide, "share_foreign_pct", permutations=199)
    assert set(hs["hotspot_class"]) <= set(CLASSES)
    no_stats = set(wide.loc[~wide["has_statistics"], "key"])
    assert (hs.loc[hs["key"].isin(no_stats), "hotspot_class"] == "not_tested").all()
    bremen = wide[wide["has_statistics"] & ~wide["too_small_for_index"]]
    typ = fit_typology(bremen, ["share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct",
                                "density_per_km2"])
    assert 3 <= typ.k <= 8
    assert typ.profiles["size"].sum() == len(bremen) - len(typ.excluded)


def test_early_warning_runs_on_population(real_snapshot):
    ew = early_warning(real_snapshot.indicators, threshold=0.5)
    assert ew["run_length"].ge(0).all() and ew["warning"].dtype == bool


def test_evaluation_of_win_says_plainly_that_data_are_too_thin(real_snapshot):
    # demographic outcomes (population years): only 1980 and 1990 before WiN's start
    res = evaluate_funding(real_snapshot.indicators, real_snapshot.designations, n_boot=199,
                           outcomes=["share_under_18_pct", "share_aged_65_plus_pct"])
    win = res.outcomes[res.outcomes["start_year"] == 1999]
    assert len(win) == 2 and (win["n_treated"] >= 15).all()
    assert (win["pre_years"] == "1980;1990").all()
    assert (win["verdict"] == TOO_THIN).all()
    assert all(any(m.code == "few_pre_years" and (m.params["n"], m.params["start"]) == (2, 1999) for m in r)
               for r in win["reasons"])
    assert Message("method_break", {"year": 2016}) in res.caveats
    # need series (the default): no year at all before the start
    need = evaluate_funding(real_snapshot.indicators, real_snapshot.designations, n_boot=99,
                            outcomes=["sgb2_u15_pct"])
    win = need.outcomes[need.outcomes["start_year"] == 1999].iloc[0]
    assert win["verdict"] == TOO_THIN
    assert Message("few_pre_years", {"n": 0, "start": 1999, "years": [], "min": 3}) in win["reasons"]
