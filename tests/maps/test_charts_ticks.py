"""The SVG line charts: x-axis labels never print over each other, every label lies inside the chart, years sit
at their value, long titles wrap and legends break into rows instead of being cut off."""

from __future__ import annotations

import itertools
import re

import pytest

from maps.charts import legend_rows, line_chart, spaced_ticks, text_width, wrap_title

YEARS = [1980, 1990, 2000, 2010, 2020, 2021, 2022, 2023]


def _texts(svg: str, cls: str) -> list[tuple[float, float, str]]:
    """``(x, y, text)`` of the chart's ``<text class="cls">`` elements."""
    return [(float(m.group(1)), float(m.group(2)), m.group(3)) for m in re.finditer(
        rf'<text class="{cls}" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg)]


def _size(svg: str) -> tuple[float, float]:
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert m
    return float(m.group(1)), float(m.group(2))


def test_dense_recent_years_are_thinned_first_and_last_kept() -> None:
    def sx(y: float) -> float:
        return (y - 1980) / 43 * 400  # a 400 px wide plot

    ticks = spaced_ticks(YEARS, sx, min_gap_px=32)
    assert ticks[0] == 1980 and ticks[-1] == 2023
    assert all(sx(b) - sx(a) >= 32 for a, b in itertools.pairwise(ticks))
    assert 2021 not in ticks and 2022 not in ticks


def test_chart_year_labels_are_spaced_and_inside() -> None:
    svg = str(line_chart({"A": [(y, float(i)) for i, y in enumerate(YEARS)]}, title="t", lang="de"))
    width, _ = _size(svg)
    labels = _texts(svg, "q-chart-year")
    xs = [x for x, _, _ in labels]
    assert len(xs) >= 4 and all(b - a >= text_width("2023", 11) for a, b in itertools.pairwise(xs))
    assert labels[-1][2] == "2023"  # the last year is labelled, whole, inside the frame (was cut to "202")
    assert xs[-1] + text_width("2023", 11) / 2 <= width
    assert xs[0] - text_width("1980", 11) / 2 >= 0


def test_years_sit_at_their_value() -> None:
    """2020-2023 close together on a 1980-2023 axis: the points' x positions are linear in the year."""
    svg = str(line_chart({"A": [(y, 1.0 + i) for i, y in enumerate(YEARS)]}, title="t"))
    cx = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert len(cx) == len(YEARS)
    per_year = (cx[-1] - cx[0]) / (YEARS[-1] - YEARS[0])
    for x, y in zip(cx, YEARS, strict=True):
        assert x == pytest.approx(cx[0] + (y - YEARS[0]) * per_year, abs=0.2)
    assert cx[5] - cx[4] < (cx[4] - cx[3]) / 5  # one year apart versus ten


def test_long_title_wraps_within_the_chart() -> None:
    title = "Alleinerziehende je 100 Familien mit Kindern (Zensus 2022) im Vergleich mit der ganzen Stadt Bremerhaven"
    svg = str(line_chart({"A": [(2011, 1.0), (2022, 2.0)]}, title=title, unit="%", width=520))
    width, height = _size(svg)
    lines = _texts(svg, "q-chart-title")
    assert len(lines) >= 2
    assert " ".join(t for _, _, t in lines) == f"{title} (%)"  # nothing dropped
    assert all(x + text_width(t, 13, bold=True) <= width for x, _, t in lines)
    assert all(y < height for _, y, _ in lines)


def test_legend_breaks_into_rows_and_fits() -> None:
    names = ["Theil gesamt", "Theil zwischen Stadtbezirken", "Theil innerhalb der Stadtbezirke"]
    svg = str(line_chart({n: [(2005, i + 0.1), (2018, i + 0.2)] for i, n in enumerate(names)}, title="t",
                         width=420, decimals=3))
    width, height = _size(svg)
    legend = _texts(svg, "q-chart-legend")
    assert [t for _, _, t in legend] == names
    assert all(x + text_width(t, 11) <= width for x, _, t in legend)
    assert len({y for _, y, _ in legend}) >= 2  # more than one row
    assert max(y for _, y, _ in legend) <= height


def test_legend_rows_and_wrap_title_helpers() -> None:
    rows = legend_rows(["a" * 30, "b" * 30, "c"], 300)
    assert [i for row in rows for i in row] == [0, 1, 2] and len(rows) >= 2
    assert wrap_title("eins zwei drei", 10_000) == ["eins zwei drei"]
    assert wrap_title("Donaudampfschifffahrtsgesellschaft kurz", 40)[0] == "Donaudampfschifffahrtsgesellschaft"


def test_tick_labels_fit_left_of_the_axis() -> None:
    svg = str(line_chart({"Bremen": [(1980, 560_000.0), (2023, 577_026.0)]}, title="Einwohner", decimals=0))
    ticks = re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="11" text-anchor="end"[^>]*>([^<]*)</text>', svg)
    assert ticks
    assert all(float(x) - text_width(t, 11) >= 0 for x, t in ticks)
    assert all("," not in t for _, t in ticks)  # residents: whole numbers on the axis
