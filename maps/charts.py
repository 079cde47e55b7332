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
    """Years to label on the x axis: the first and the last always, others only where they keep ``min_gap_px``
    from their labelled neighbours (2020-2023 on a 1980-2023 axis would otherwise print over each other)."""
    if len(years) <= 2:
        return list(years)
    keep = [years[0]]
    for yr in years[1:-1]:
        if sx(yr) - sx(keep[-1]) >= min_gap_px and sx(years[-1]) - sx(yr) >= min_gap_px:
            keep.append(yr)
    return [*keep, years[-1]]


def line_chart(series: Mapping[str, Sequence[tuple[int, float]]], *, title: str, unit: str = "",
               lang: str = "de", width: int = 520, height: int = 220, decimals: int = 1) -> Markup:
    """An SVG line chart of one or more series of ``(year, value)``; the first series is drawn strongest.

    Missing values (NaN) break the line. The chart carries ``role="img"``, a ``<title>`` and a ``<desc>`` with
    the values, so a screen reader gets the numbers.
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
    left, right, top, bottom = 58, 12, 28, 38
    pw, ph = width - left - right, height - top - bottom

    def sx(year: float) -> float:
        return left + (year - x0) / (x1 - x0) * pw

    def sy(val: float) -> float:
        return top + ph - (val - y0) / (y1 - y0 or 1) * ph

    unit_txt = f" {unit}" if unit else ""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="q-chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img">']
    desc = "; ".join(f"{name}: " + ", ".join(f"{y} {fmt_number(v, lang, decimals=decimals)}{unit_txt}"
                                             for y, v in data) for name, data in pts.items())
    out.append(f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>")
    out.append(f'<text x="{left}" y="16" font-size="13" font-weight="600" fill="#222">{escape(title)}'
               f"{escape(unit_txt and f' ({unit})')}</text>")
    for tv in ticks:
        y = sy(tv)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#444">'
                   f"{escape(fmt_number(tv, lang, decimals=decimals if abs(y1 - y0) < 10 else 0))}</text>")
    for yr in spaced_ticks(years, sx, min_gap_px=32.0):
        out.append(f'<text x="{sx(yr):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle" '
                   f'fill="#444">{yr}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#888"/>')
    lx = left
    for i, (name, data) in enumerate(pts.items()):
        colour, dash = SERIES_COLOURS[i % 4], DASHES[i % 4]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{'M' if j == 0 else 'L'}{sx(y):.1f},{sy(v):.1f}" for j, (y, v) in enumerate(data))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{2.5 if i == 0 else 1.8}"'
                   f"{dash_attr}/>")
        for y, v in data:
            out.append(f'<circle cx="{sx(y):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{colour}"/>')
        ly = height - 6
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="2.5"{dash_attr}/>')
        out.append(f'<text x="{lx + 22}" y="{ly}" font-size="11" fill="#222">{escape(name)}</text>')
        lx += 30 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))
