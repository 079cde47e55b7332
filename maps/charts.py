"""Small server-side SVG charts (no chart library, no CDN): time series of a district against its city.

Every text is escaped here; the result is returned as :class:`markupsafe.Markup` ready for a template.
The SVG uses presentation attributes only (no ``style`` attributes), so it satisfies a strict CSP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from maps.i18n import fmt_number

SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]  # Okabe-Ito
DASHES = ["", "6 3", "2 2", "8 2 2 2"]


def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = step * (lo // step)
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def spaced_ticks(years: Sequence[int], sx: Callable[[float], float], *, min_gap_px: float) -> list[int]:
    """The years to label on the x axis of a chart, ``sx`` mapping a year to its x position in pixels.

    The first and the last always, others only where they keep ``min_gap_px`` from their labelled neighbours
    (2020-2023 on a 1980-2023 axis would otherwise print over each other).
    """
    if len(years) <= 2:
        return list(years)
    keep = [years[0]]
    for yr in years[1:-1]:
        if sx(yr) - sx(keep[-1]) >= min_gap_px and sx(years[-1]) - sx(yr) >= min_gap_px:
            keep.append(yr)
    return [*keep, years[-1]]


#: rough glyph widths (em) of the system sans-serif at the chart's sizes: enough to lay out titles and legends
#: without measuring text in a browser (DejaVu Sans, the widest of the usual fallbacks)
_EM_REGULAR, _EM_BOLD = 0.6, 0.66
_TITLE_SIZE, _LABEL_SIZE, _LINE = 13, 11, 16


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated width in px of ``text`` at font ``size`` (no font metrics on the server)."""
    return len(text) * size * (_EM_BOLD if bold else _EM_REGULAR)


def wrap_title(title: str, width: float) -> list[str]:
    """``title`` broken at spaces into lines that fit ``width`` px (a word longer than a line stays whole)."""
    lines: list[str] = []
    for word in title.split():
        if lines and text_width(f"{lines[-1]} {word}", _TITLE_SIZE, bold=True) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def legend_rows(names: Sequence[str], width: float, *, swatch: float = 22, gap: float = 12) -> list[list[int]]:
    """Indices of the series per legend row so that no row is wider than ``width`` px."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, name in enumerate(names):
        w = swatch + text_width(name, _LABEL_SIZE) + gap
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += w
    return rows


def line_chart(series: Mapping[str, Sequence[tuple[int, float]]], *, title: str, unit: str = "",
               lang: str = "de", width: int = 520, height: int = 220, decimals: int = 1) -> Markup:
    """An SVG line chart of one or more series of ``(year, value)``; the first series is drawn strongest.

    Missing values (NaN) break the line. Years sit at their value on the x axis (2020-2023 close together on a
    1980-2023 axis), labelled where they do not collide (:func:`spaced_ticks`), the last one inside the frame.
    A long title wraps and the legend breaks into rows, the chart growing in height rather than cutting text.
    The chart carries ``role="img"``, a ``<title>`` and a ``<desc>`` with the values, so a screen reader gets
    the numbers.
    """
    pts = {name: [(int(y), float(v)) for y, v in data if v == v] for name, data in series.items()}
    pts = {k: v for k, v in pts.items() if v}
    if not pts:
        return Markup("")
    years = sorted({y for data in pts.values() for y, _ in data})
    values = [v for data in pts.values() for _, v in data]
    lo, hi = min(values), max(values)
    lo = min(lo, 0.0) if lo >= 0 and lo < (hi - lo) else lo
    ticks = _nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]
    x0, x1 = years[0], years[-1] if years[-1] > years[0] else years[0] + 1
    tick_decimals = decimals if abs(y1 - y0) < 10 else 0
    tick_texts = [fmt_number(tv, lang, decimals=tick_decimals) for tv in ticks]
    unit_txt = f" {unit}" if unit else ""
    heading = wrap_title(title + (f" ({unit})" if unit else ""), width - 16)
    names = list(pts)
    rows = legend_rows(names, width - 16)
    left = max(40, 14 + max(text_width(x, _LABEL_SIZE) for x in tick_texts))
    right = 8 + text_width(str(years[-1]), _LABEL_SIZE) / 2  # the last year's label, centred on the frame's edge
    top = 12 + _LINE * len(heading)
    bottom = 26 + _LINE * len(rows)
    plot_height = height - 28 - 38  # the plot keeps its height; long titles and legends add to the chart's
    height = int(top + plot_height + bottom)
    pw, ph = width - left - right, plot_height

    def sx(year: float) -> float:
        return left + (year - x0) / (x1 - x0) * pw

    def sy(val: float) -> float:
        return top + ph - (val - y0) / (y1 - y0 or 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="q-chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img">']
    desc = "; ".join(f"{name}: " + ", ".join(f"{y} {fmt_number(v, lang, decimals=decimals)}{unit_txt}"
                                             for y, v in data) for name, data in pts.items())
    out.append(f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>")
    for i, line in enumerate(heading):
        out.append(f'<text class="q-chart-title" x="8" y="{16 + _LINE * i}" font-size="{_TITLE_SIZE}" '
                   f'font-weight="600" fill="#222">{escape(line)}</text>')
    for tv, txt in zip(ticks, tick_texts, strict=True):
        y = sy(tv)
        out.append(f'<line x1="{left:.1f}" x2="{left + pw:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" font-size="{_LABEL_SIZE}" text-anchor="end" '
                   f'fill="#444">{escape(txt)}</text>')
    for yr in spaced_ticks(years, sx, min_gap_px=text_width("0000", _LABEL_SIZE) + 8):
        out.append(f'<text class="q-chart-year" x="{sx(yr):.1f}" y="{top + ph + 16:.1f}" font-size="{_LABEL_SIZE}" '
                   f'text-anchor="middle" fill="#444">{yr}</text>')
    out.append(f'<line x1="{left:.1f}" x2="{left + pw:.1f}" y1="{top + ph:.1f}" y2="{top + ph:.1f}" stroke="#888"/>')
    for i, data in enumerate(pts.values()):
        colour, dash = SERIES_COLOURS[i % 4], DASHES[i % 4]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{'M' if j == 0 else 'L'}{sx(y):.1f},{sy(v):.1f}" for j, (y, v) in enumerate(data))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{2.5 if i == 0 else 1.8}"'
                   f"{dash_attr}/>")
        for y, v in data:
            out.append(f'<circle cx="{sx(y):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{colour}"/>')
    for r, row in enumerate(rows):
        lx, ly = 8.0, top + ph + 36 + _LINE * r
        for i in row:
            colour, dash = SERIES_COLOURS[i % 4], DASHES[i % 4]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{lx:.1f}" x2="{lx + 18:.1f}" y1="{ly - 4:.1f}" y2="{ly - 4:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
            out.append(f'<text class="q-chart-legend" x="{lx + 22:.1f}" y="{ly:.1f}" font-size="{_LABEL_SIZE}" '
                       f'fill="#222">{escape(names[i])}</text>')
            lx += 22 + text_width(names[i], _LABEL_SIZE) + 12
    out.append("</svg>")
    return Markup("".join(out))
