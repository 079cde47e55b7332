"""The programme-year report: one self-contained HTML file for the deputation, drawn from Jinja templates.

:func:`render_report` takes the :class:`ReportData` the service computed (:func:`service.report.collect_report_data`)
and returns one HTML string with everything inlined: CSS (``templates/report.css`` and the palettes), SVG charts
(:mod:`maps.charts`), the category map and tables. Nothing in the file requests anything from outside: the
interactive map is the folium overview map, rendered into an ``<iframe srcdoc>`` with the vendored Leaflet script
and stylesheet the service read and passed in (:class:`Leaflet`); without them a plain SVG map is drawn from the
geometries. Links to sources appear as plain text. The words are the catalogue's ``report.*`` and
``evaluation.*`` keys (:mod:`maps.i18n`); the engine's reasons and caveats arrive as codes
(:mod:`maps.evaluation`).
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from maps import palettes
from maps.i18n import check_lang
from maps.report.context import report_context
from maps.report.data import CHART_INDICATORS, MAP_INDICATORS, SYNTHETIC_MARKERS, Leaflet, ReportData
from maps.report.designations import designation_explanation
from maps.report.figures import static_map_svg

__all__ = [
    "CHART_INDICATORS",
    "MAP_INDICATORS",
    "SYNTHETIC_MARKERS",
    "Leaflet",
    "ReportData",
    "designation_explanation",
    "render_report",
    "static_map_svg",
]


def _palette_css() -> str:
    """CSS rules for the category, status and dynamics colours, from :mod:`maps.palettes` (one source)."""
    rules = [f".cat-{k}{{background:{v}}}" for k, v in palettes.CATEGORY_COLOURS.items()]
    rules += [f".status-{k}{{background:{v}}}" for k, v in palettes.STATUS_COLOURS.items()]
    rules += [f".dyn-{k}{{background:{v}}}" for k, v in palettes.DYNAMICS_COLOURS.items()]
    return "\n" + "\n".join(rules) + "\n"


def _environment() -> Environment:
    return Environment(loader=PackageLoader("maps.report", "templates"), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_report(data: ReportData, *, lang: str = "de", leaflet: Leaflet | None = None) -> str:
    """Render :class:`ReportData` into one self-contained HTML string.

    Parameters
    ----------
    data
        What the report shows.
    lang
        ``"de"`` (default) or ``"en"``.
    leaflet
        The vendored Leaflet script and stylesheet for the interactive map; None draws the static SVG map.
    """
    check_lang(lang)
    context = report_context(data, lang, leaflet)
    return _environment().get_template("report.html").render(**context, palette_css=Markup(_palette_css()))
