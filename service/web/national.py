"""The national layers in the service: holder, OGC API lookups and the Kreis-level overview page ``/national``.

The OGC API lookups are used by :mod:`service.web.ogcapi`.

Active only when ``NATIONAL_SNAPSHOTS`` is configured (:func:`init_app`, called by the app factory). The national
snapshot is loaded once per process at start (:func:`service.api.national.load_national`) and, like the Bremen one,
replaced without a gap when its ``CURRENT`` names another version (:class:`service.api.state.StateHolder`).

The page follows the pages' strict CSP contract (see :mod:`service.web.pages`): a per-response nonce on every inline
``<script>``/``<style>``, the same policy text (:func:`service.web.page_common.csp_header`), no outside requests.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Flask, current_app, g, render_template, request, url_for
from markupsafe import Markup

from service.api.national import NationalCollection, NationalState, load_national
from service.web.page_common import page_headers, page_setup

EXTENSION = "quartiere_national"
bp = Blueprint("national", __name__)
_MAP_LOCK = threading.Lock()

#: indicators of the national map (besides status and dynamics classes) and of the Kreis panel
MAP_INDICATORS = ["sgb2_rate_pct", "child_poverty_pct", "unemployment_share_pct", "gisd_score",
                  "income_tax_per_inhabitant_eur", "population_change_5y_pct"]
TOOLTIP_INDICATORS = ["population", "sgb2_rate_pct", "child_poverty_pct"]
#: Bremen and Bremerhaven (Kreis keys) get their own zoom buttons and are shown first in the panel
FOCUS = {"Bremen": ["04011"], "Bremerhaven": ["04012"]}

TEXT: dict[str, dict[str, str]] = {
    "de": {"nav": "Deutschland", "title": "Deutschland: Kreise im Vergleich", "all": "Deutschland",
           "intro": "Nationales Screening sozialer Herausforderungen für alle 400 Kreise und kreisfreien Städte "
                    "(Programm {programme}). Ein Screening, keine Förderentscheidung.",
           "find": "Kreis suchen", "submit": "Anzeigen", "not_found": "Kein Kreis mit diesem Namen oder Schlüssel.",
           "status": "Statusklasse", "index": "Statusindex", "dynamics": "Dynamik", "categories": "Kategorien",
           "none": "keine", "not_classifiable": "nicht klassifizierbar", "key": "Schlüssel", "land": "Land",
           "ogc": "Als GeoJSON (OGC API)", "ogc_all": "Alle nationalen Ebenen in der OGC API",
           "did_you_mean": "Meinten Sie"},
    "en": {"nav": "Germany", "title": "Germany: Kreise compared", "all": "Germany",
           "intro": "National screening of social challenges for all 400 Kreise and kreisfreie Städte (programme "
                    "{programme}). A screening, not a funding decision.",
           "find": "Find a Kreis", "submit": "Show", "not_found": "No Kreis with this name or key.",
           "status": "Status class", "index": "Status index", "dynamics": "Dynamics", "categories": "Categories",
           "none": "none", "not_classifiable": "not classifiable", "key": "Key", "land": "Land",
           "ogc": "As GeoJSON (OGC API)", "ogc_all": "All national levels in the OGC API",
           "did_you_mean": "Did you mean"},
}


def init_app(app: Flask, settings: Mapping[str, Any]) -> None:
    """Load the national snapshot (``settings["NATIONAL_SNAPSHOTS"]``) and register the page when pages are on."""
    from service.api.state import StateHolder

    root = Path(settings["NATIONAL_SNAPSHOTS"])
    programme = settings["NATIONAL_PROGRAMME"]
    instance = Path(app.instance_path)

    def loader(version: str) -> NationalState:
        return load_national(root, programme=programme, instance=instance, version=version)

    app.extensions[EXTENSION] = StateHolder(root, loader,  # type: ignore[arg-type]
                                            check_interval=settings["RELOAD_INTERVAL"])
    if settings["PAGES"]:
        app.register_blueprint(bp)

        @app.context_processor
        def _nav() -> dict[str, Any]:
            lang = getattr(g, "lang", "de")
            return {"national_nav": TEXT.get(lang, TEXT["de"])["nav"]}


def national_state() -> NationalState | None:
    """The national state of this request (fixed for the request), or None when not configured."""
    holder = current_app.extensions.get(EXTENSION)
    if holder is None:
        return None
    env = request.environ
    st = env.get("quartiere.national")
    if st is None:
        st = env["quartiere.national"] = holder.state
    return cast(NationalState, st)


def national_collections() -> dict[str, NationalCollection]:
    """The national OGC API collections by id; empty when no national snapshot is configured."""
    st = national_state()
    return st.collections if st is not None else {}


def collection_ids(app: Flask | None = None) -> tuple[str, ...]:
    """Ids of the national collections when configured (for the OpenAPI document), else ``()``."""
    from service.api.national import LAYERS

    app = app or current_app
    return tuple(LAYERS) if app.extensions.get(EXTENSION) is not None else ()


# ----------------------------------------------------------------------------------------------- page


# the pages' CSP nonce, language and headers (see the contract at the top of service/web/pages.py)
bp.before_request(page_setup)
bp.after_request(page_headers)


def _map_parts(st: NationalState, lang: str) -> Any:
    """The rendered Kreis map for ``lang`` (built once per snapshot version and language, without nonce)."""
    from maps import map_parts, overview_map
    from service.api.national import kreise_map_frames

    key = f"map-{lang}"
    with _MAP_LOCK:
        if key not in st.cache:
            districts, classification, web = kreise_map_frames(st)
            text = TEXT[lang]
            cfg = {**current_app.config["MAP_CONFIG"], "indicators": MAP_INDICATORS,
                   "tooltip_indicators": TOOLTIP_INDICATORS, "label_zoom": 9}
            m = overview_map(districts, classification=classification, lang=lang, config=cfg, web=web,
                             layers=["status", "dynamics", *MAP_INDICATORS, "outline"], initial_layer="status",
                             asset_base=url_for("pages.static", filename="vendor").rstrip("/"),
                             profile_url=url_for("national.page", kreis="__KEY__", lang=lang if lang == "en" else None),
                             focus=FOCUS, all_label=text["all"], zoom_by_city=False)
            st.cache[key] = map_parts(m)
        return st.cache[key]


@bp.get("/national")
def page() -> str | tuple[str, int]:
    """``/national``: the Kreis map with the panels of the searched Kreis (``?kreis=``) or of the focus Kreise."""
    from maps.render import add_nonce
    from service.api.national import find_kreis, kreis_panel

    st = national_state()
    assert st is not None  # the blueprint is registered only when configured
    lang = g.lang
    parts = _map_parts(st, lang)
    n = g.csp_nonce
    m = {"head": Markup(add_nonce(str(parts.head), n)), "body": parts.body,
         "script": Markup(add_nonce(str(parts.script), n))}
    query = (request.args.get("kreis") or "").strip()
    chosen, suggestions = find_kreis(st, query) if query else (list(FOCUS_KEYS), [])
    panels = [kreis_panel(st, k, lang) for k in chosen]
    text = TEXT[lang]
    return render_template("pages/national.html", data=st, map=m, panels=panels, query=query,
                           suggestions=suggestions, not_found=bool(query and not chosen), text=text,
                           intro=text["intro"].format(programme=f"{st.definition.id} {st.definition.version}"),
                           names=st.cache.get("kreis-names") or _names(st))


FOCUS_KEYS = [k for keys in FOCUS.values() for k in keys]


def _names(st: NationalState) -> list[tuple[str, str]]:
    k = st.snapshot.layers["kreise"].sort_values("name")
    names = [(str(a), str(b)) for a, b in zip(k["key"], k["name"], strict=True)]
    st.cache["kreis-names"] = names
    return names
