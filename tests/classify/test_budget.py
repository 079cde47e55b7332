"""Budget split: known answers and exactness to the cent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.classify import classify
from geo.classify.budget import largest_remainder, split_budget

from .fixtures import definition, grid_table


def split(pop, total, **kw):
    n = len(pop)
    amounts, summary = split_budget(
        ids=np.array([f"k{i}" for i in range(n)]),
        groups=np.array(["c"] * n),
        eligible=np.ones(n, bool),
        population=np.array(pop, float),
        need=np.ones(n),
        totals={"c": total},
        **kw,
    )
    return amounts, summary


def test_largest_remainder_known_answer():
    # 100 cents in three equal parts: 33 each + 1 cent left, goes to the first id (tie)
    assert largest_remainder(np.array([100 / 3] * 3), 100).tolist() == [34, 33, 33]
    # exact 12.6, 37.3, 50.1 (sum 100): floors 12, 37, 50 = 99 -> 1 cent to the largest fraction (0.6)
    assert largest_remainder(np.array([12.6, 37.3, 50.1]), 100).tolist() == [13, 37, 50]


def test_split_proportional_floor_and_cap():
    # residents 100, 200, 700, need 1, total 10 EUR -> 1, 2, 7
    assert split([100, 200, 700], 10.0)[0].tolist() == [1.0, 2.0, 7.0]
    # floor 2: clip(l*w, 2, inf) = 10 -> l*700 = 6 -> [2, 2, 6]
    assert split([100, 200, 700], 10.0, floor_eur=2.0)[0].tolist() == pytest.approx([2, 2, 6])
    # cap 5: third capped at 5, 5 EUR left split 1:2 -> 1.6667, 3.3333 -> cents 167, 333 (largest remainder)
    assert split([100, 200, 700], 10.0, cap_eur=5.0)[0].tolist() == [1.67, 3.33, 5.0]
    # caps everywhere: 3 x 2 EUR < 10 EUR, the rest stays unallocated and is reported
    a, s = split([100, 200, 700], 10.0, cap_eur=2.0)
    assert a.tolist() == [2.0, 2.0, 2.0]
    assert s["unallocated_eur"].iloc[0] == 4.0 and s["note"].iloc[0] == "all_at_cap"


def test_grid_budget_adds_up_and_follows_residents_times_need():
    r = classify(grid_table(), definition(), draws=0)
    t = r.table[r.table["city"] == "Bremen"]
    paid = t[t["budget_eur"].notna()]
    assert round(paid["budget_eur"].sum() * 100) == 100_000  # 1000.00 EUR to the cent
    # need = max(0.5, 1 + status_index): the WiN areas share one need, so EUR per resident is equal
    win = paid[paid["is_win"]]
    per_resident = (win["budget_eur"] / win["population"]).to_numpy()
    assert np.ptp(per_resident) < 0.0002  # equal up to the cent rounding


@settings(max_examples=150, deadline=None)
@given(
    pop=st.lists(st.floats(0, 50_000, allow_nan=False), min_size=1, max_size=40),
    need=st.floats(0.1, 5),
    total_cents=st.integers(0, 10**9),
    floor=st.floats(0, 1000),
    cap_extra=st.one_of(st.none(), st.floats(0, 10**6)),
)
def test_budget_adds_up_to_the_cent(pop, need, total_cents, floor, cap_extra):
    n = len(pop)
    total = total_cents / 100
    floor = round(floor, 2)
    cap = None if cap_extra is None else round(floor + cap_extra + 0.01, 2)
    amounts, summary = split_budget(
        ids=np.array([f"k{i:03d}" for i in range(n)]),
        groups=np.array(["c"] * n),
        eligible=np.ones(n, bool),
        population=np.array(pop),
        need=np.full(n, need),
        totals={"c": total},
        floor_eur=floor,
        cap_eur=cap,
    )
    cents = np.round(amounts * 100).astype(np.int64)
    assert np.allclose(amounts * 100, cents)  # whole cents
    allocated = round(summary["allocated_eur"].iloc[0] * 100)
    unallocated = round(summary["unallocated_eur"].iloc[0] * 100)
    assert cents.sum() == allocated
    assert allocated + unallocated == total_cents  # nothing lost or invented, to the cent
    if cap is None:
        assert cents.sum() == total_cents  # without caps everything is allocated
    elif unallocated > 0:
        # only caps (and areas without weight held at the floor: no residents, or fewer than 1e-12 of the
        # largest area's, see solve_amounts) leave money unallocated
        positive = np.array(pop) >= 1e-12 * max(pop)
        assert (cents[positive] == round(cap * 100)).all()
    if cap is not None:
        assert (cents <= round(cap * 100)).all()
    if n * floor <= total:
        assert (cents >= round(floor * 100) - 0).all()
