"""x-axis labels of the SVG line charts never print over each other."""

from __future__ import annotations

import itertools
import re

from maps.charts import line_chart, spaced_ticks


def test_dense_recent_years_are_thinned_first_and_last_kept() -> None:
    years = [1980, 1990, 2000, 2010, 2020, 2021, 2022, 2023]

    def sx(y: float) -> float:
        return (y - 1980) / 43 * 400  # a 400 px wide plot

    ticks = spaced_ticks(years, sx, min_gap_px=32)
    assert ticks[0] == 1980 and ticks[-1] == 2023
    assert all(sx(b) - sx(a) >= 32 for a, b in itertools.pairwise(ticks))
    assert 2021 not in ticks and 2022 not in ticks


def test_chart_labels_are_spaced() -> None:
    svg = str(line_chart({"A": [(y, float(i)) for i, y in enumerate([1980, 1990, 2000, 2010, 2020, 2021, 2022,
                                                                       2023])]}, title="t", lang="de"))
    xs = [float(m.group(1)) for m in re.finditer(r'<text x="([\d.]+)" y="[\d.]+" font-size="11" '
                                                   r'text-anchor="middle"[^>]*>(\d{4})</text>', svg)]
    assert len(xs) >= 4 and all(b - a >= 32 for a, b in itertools.pairwise(xs))
