"""HTML pages: the blueprint of the map, district profiles, the eligibility check, scenarios and the table.

Registered by the app factory with ``from service.web.pages import bp``; the pages have no URL prefix. Each page
lives in its own module (``district_page``, ``table_page``, ``scenario_pages``, ``check``) and adds its routes
here; :mod:`service.web.page_common` holds what they share, :mod:`service.web.filters` the template filters.

Content-Security-Policy and the nonce
-------------------------------------
folium renders its map as inline ``<script>``/``<style>`` elements. Every page therefore gets a per-response
nonce: :func:`~service.web.page_common.page_setup` puts it in ``flask.g.csp_nonce`` (reusing one the app set
before), every inline ``<script>``/``<style>`` of our templates and maps carries ``nonce="{{ g.csp_nonce }}"``,
and the pages satisfy::

    default-src 'self'; script-src 'self' 'nonce-<g.csp_nonce>'; style-src 'self' 'nonce-<g.csp_nonce>';
    img-src 'self' data: [tile host]; connect-src 'self'; font-src 'self'; object-src 'none';
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'

:func:`csp_header` builds that text. ``after_request`` of this blueprint sets it on page responses that have
no ``Content-Security-Policy`` yet; an app-wide CSP must include ``'nonce-' + g.csp_nonce`` in ``script-src``
and ``style-src`` for these pages. No page has inline event handlers or ``style`` attributes.

Configuration read from ``current_app.config`` (declared, with their defaults, in :mod:`service.settings`):

``SCENARIOS_DIR``
    Folder of draft definitions ``<id>.yml`` for ``/scenarios/<id>`` (default: ``programmes/``).
``MAP_CONFIG``
    Overrides of :data:`maps.DEFAULT_CONFIG` (classification scheme and classes, ``tiles`` and
    ``attribution`` for a basemap).

The pages show the service's loaded state (:func:`service.web.context.state`): the snapshot version, and the
classification and monitoring that ``quartiere build`` published in it, so pages and API always agree.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from service.web import check, district_page, filters, scenario_pages, table_page
from service.web.page_common import HERE, page_data, page_headers, page_map, page_setup, with_nonce

bp = Blueprint(
    "pages",
    __name__,
    template_folder=str(HERE / "templates"),
    static_folder=str(HERE / "static"),
    static_url_path="/static",
)
bp.before_request(page_setup)
bp.after_request(page_headers)


def index() -> str:
    """``/``: the map of every Ortsteil with the programme's categories."""
    data = page_data()
    parts = page_map(data, "overview")
    return render_template("pages/index.html", map=with_nonce(parts), data=data,
                           version=data.snapshot.version)


bp.add_url_rule("/", "index", index)
filters.register(bp)
for page in (district_page, table_page, scenario_pages, check):
    page.register(bp)
