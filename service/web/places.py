"""``/api/v1/places``: place search (districts, postcodes, addresses) and eligibility by postcode.

Thin adapter over :mod:`service.api.places`. The geocoders (address file, remote server) are built once per app by
:func:`init_app` from ``ADDRESS_FILE``, ``GEOCODER_URL``, ``GEOCODER_KIND`` and ``GEOCODER_TIMEOUT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from geo.errors import InputError, SnapshotError
from service.api import places as pl
from service.api.state import ServiceState
from service.web.context import state

bp = Blueprint("places", __name__, url_prefix="/api/v1")
EXTENSION = "quartiere_geocoders"


def init_app(app: Flask, settings: Mapping[str, Any]) -> None:
    """Build the address geocoders once (a wrong ADDRESS_FILE or GEOCODER_URL fails at start, not per request)."""
    app.extensions[EXTENSION] = pl.build_geocoders(settings)


def _places(st: ServiceState) -> pl.Places:
    places = getattr(st, "places", None)
    if places is None:
        raise SnapshotError(f"snapshot {st.version} has no gazetteer; rebuild it with 'quartiere build'")
    return places


def _json(text: str) -> Response:
    return Response(text, mimetype="application/json")


@bp.get("/places")
def places_search() -> Response:
    """``GET /api/v1/places?q=``: ranked districts, postcodes and addresses matching ``q``, with their district."""
    q, limit = pl.parse_search_args(request.args)
    st = state()
    return _json(pl.search_json(_places(st), q, limit=limit, geocoders=current_app.extensions.get(EXTENSION, []),
                                locator=st.locator, answers=st.answers))


@bp.get("/places/postcode/<plz>")
def postcode(plz: str) -> Response:
    """``GET /api/v1/places/postcode/<plz>``: every Ortsteil the postcode touches, its share and eligibility."""
    st = state()
    return _json(pl.postcode_answer(_places(st), plz, snapshot_version=st.version,
                                    definition_hash=st.definition.hash))


def eligibility_by_postcode(args: Mapping[str, str]) -> Response:
    """``GET /api/v1/eligibility?postcode=28239`` (called by the eligibility route when ``postcode`` is given)."""
    others = sorted(k for k in ("lon", "lat", "x", "y", "district") if args.get(k) not in (None, ""))
    if others:
        raise InputError(f"give postcode alone, not together with {', '.join(others)}")
    st = state()
    return _json(pl.postcode_answer(_places(st), args.get("postcode"), snapshot_version=st.version,
                                    definition_hash=st.definition.hash))
