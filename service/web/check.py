"""The check page (``/check``): one answer for a clicked point, a searched district or a drawn area.

Routes (on the pages blueprint, so the endpoints stay ``pages.check`` and ``pages.check_area``):

``GET  /check?district=<name or key>`` · ``?postcode=`` · ``?lon=&lat=``
    The answer rendered on the server (works without JavaScript); the URL is the answer's shareable link.
``POST /check/area?lang=``
    A GeoJSON area (Polygon, MultiPolygon, Feature, one-feature FeatureCollection; WGS84) -> the area's answer
    as an HTML fragment for ``#answer``. It is the API's own answer (:func:`service.api.area.area_eligibility`,
    which ``POST /api/v1/eligibility`` returns as JSON) put into words by :mod:`service.web.check_view`. Bad
    geometry is a 4xx problem+json like the API's. The page keeps the drawn area in its URL's hash
    (``#area=<GeoJSON geometry>``), so that link restores the answer; a hash never reaches a server, so large
    uploaded outlines do not hit request-line limits.

The map (static/js/check.js) marks the clicked point and outlines the answer's district (the outline is embedded
in the page as ``application/json``), draws areas with the vendored Leaflet-Geoman and reads GeoJSON files in the
browser. When no address source is configured the page says so next to the search field, and an address typed
there gets no district suggestions by fuzzy name (they would be unrelated).
"""

from __future__ import annotations

import math
import re
from typing import Any

import shapely.geometry
from flask import Blueprint, current_app, g, render_template, request

from geo.errors import InputError
from geo.places.geocode import looks_like_address
from service.web.check_view import answer_view
from service.web.context import services, services_if_any, state
from service.web.district_page import district_context
from service.web.page_common import PageData, lang_url, page_data, page_map, with_nonce

#: a fuzzy suggestion for an address-like text must score at least this (the place index's 0..100)
STRONG_MATCH = 90.0
#: largest GeoJSON body of an area posted by the page (the API's own limits apply inside)
MAX_AREA_BYTES = 2 * 1024 * 1024


def register(bp: Blueprint) -> None:
    """Add the check page's routes to the pages blueprint."""
    bp.add_url_rule("/check", "check", check)
    bp.add_url_rule("/check/area", "check_area", check_area, methods=["POST"])


def find_district(data: PageData, text: str) -> tuple[str | None, list[tuple[str, str]]]:
    """Key of the district meant by ``text`` (key, ``Name (key)`` or name), and suggestions when unsure."""
    text = text.strip()
    table = data.table
    if text in table.index:
        return text, []
    if text.endswith(")") and "(" in text:
        inner = text.rsplit("(", 1)[1].rstrip(")").strip()
        if inner in table.index:
            return inner, []
    low = text.casefold()
    exact = [(k, n) for k, n in data.names if n.casefold() == low]
    if len(exact) == 1:
        return exact[0][0], []
    partial = [(k, n) for k, n in data.names if low and low in n.casefold()]
    if len(partial) == 1:
        return partial[0][0], []
    return None, (exact or partial)[:10]


def locate(lon: float, lat: float) -> str | None:
    """District key at WGS84 ``lon``/``lat``, or None outside both cities.

    This is the API's own lookup (:func:`service.api.lookup.lookup_point` on the loaded locator: a point on a shared
    border goes to the smallest key; a point in no Ortsteil but in a Stadtteil gets the Stadtteil), so the page
    and ``GET /api/v1/eligibility`` always name the same district.
    """
    from service.api.lookup import OUTSIDE, lookup_point
    from service.api.transform import point_to_utm

    st = state()
    leaf = lookup_point(st.locator, *point_to_utm(lon, lat, "EPSG:4326"))
    return None if leaf == OUTSIDE else str(st.locator.keys[leaf])


def address_search_configured() -> bool:
    """True when an address file or a geocoding server is configured (``/api/v1/places`` finds addresses)."""
    from service.web.places import EXTENSION

    return bool(current_app.extensions.get(EXTENSION))


def _point(lon_raw: str, lat_raw: str) -> tuple[str | None, str | None, list[float] | None]:
    """``(key, error, [lon, lat])`` of the typed or clicked coordinates."""
    try:
        lon, lat = float(lon_raw.replace(",", ".")), float(lat_raw.replace(",", "."))
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError
    except ValueError:
        return None, "bad_coordinates", None
    key = locate(lon, lat)
    if key is None:
        return None, "outside", [lon, lat]
    if key not in page_data().table.index:  # the lookup's Stadtteil fallback (a hole in the Ortsteil layer)
        return None, "fallback", [lon, lat]
    return key, None, [lon, lat]


def _by_text(data: PageData, text: str) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """``(key, error, suggestions)`` for a typed district name, key or address."""
    key, suggestions = find_district(data, text)
    if key is not None:
        return key, None, []
    if looks_like_address(text) and not address_search_configured():
        return None, "address_not_found", [s for s in place_suggestions(text, strong=True) if s not in suggestions]
    return None, "not_found", suggestions or place_suggestions(text)


def check() -> str:
    """``/check``: the eligibility check page, answering a typed name, key, address or postcode, or a map point."""
    data = page_data()
    args = request.args
    error, key, question, point = None, None, None, None
    suggestions: list[Any] = []
    text = (args.get("district") or "").strip()
    lon_raw, lat_raw = (args.get("lon") or "").strip(), (args.get("lat") or "").strip()
    group, group_error = place_group(text)
    if group is not None or group_error:
        question, error = (args.get("postcode") or text), group_error
    elif text:
        question = text
        key, error, suggestions = _by_text(data, text)
    elif lon_raw or lat_raw:
        question = f"{lon_raw}, {lat_raw}"
        key, error, point = _point(lon_raw, lat_raw)
    ctx: dict[str, Any] = {}
    if key is not None:
        ctx = district_context(data, key)
        ctx["view"] = answer_view(_answer(key), g.lang)
        ctx["share_url"] = (lang_url("pages.check", lon=lon_raw, lat=lat_raw) if point
                            else lang_url("pages.check", district=key))
    click = lang_url("pages.check", lon="__LON__", lat="__LAT__")
    parts = page_map(data, "check", click_url=click, layers=["categories", "designations", "status"],
                 use_hash=False)
    shown = _shown_text(data, key, text) if text and key else text
    return render_template(
        "pages/check.html", data=data, map=with_nonce(parts), error=error, answer_key=key, suggestions=suggestions,
        question=question, text=shown, lon=lon_raw, lat=lat_raw, names=data.names, group=group,
        marks=_marks(data, key, group, point), address_configured=address_search_configured(), **place_texts(), **ctx)


def _answer(key: str) -> dict[str, Any]:

    return dict(state().answers.get(key) or {})


def _shown_text(data: PageData, key: str, text: str) -> str:
    """What the search field shows after a district was found.

    Its name, with the key only when the name is not unique, so that submitting the field again finds the same
    district.
    """
    name = str(data.table.at[key, "name"])
    same = sum(1 for _, n in data.names if n.casefold() == name.casefold())
    return name if same == 1 else f"{name} ({key})"


def _marks(data: PageData, key: str | None, group: Any, point: list[float] | None) -> dict[str, Any]:
    """What the map marks: the point and the outlines of the answer's district(s), with their names."""
    keys = [key] if key else [str(d["key"]) for d in (group or {}).get("districts", [])]
    web = data.web
    web_keys = web["key"].astype(str)
    shapes = []
    for k in keys:
        rows = web[web_keys == k]
        if len(rows):
            shapes.append({"type": "Feature", "geometry": shapely.geometry.mapping(rows.geometry.iloc[0]),
                           "properties": {"key": k, "name": str(rows["name"].iloc[0])}})
    return {"point": point, "shapes": {"type": "FeatureCollection", "features": shapes}}


def check_area() -> str:
    """The answer for a drawn or uploaded area, as the HTML fragment the page puts into ``#answer``."""
    from service.api.area import area_eligibility
    from service.api.eligibility import check_area_geojson, read_json

    raw = request.get_data(cache=False)
    if len(raw) > MAX_AREA_BYTES:
        raise InputError(f"the area is larger than {MAX_AREA_BYTES:,} bytes of GeoJSON")
    if not raw.strip():
        raise InputError("the request body is empty; send a GeoJSON area")
    body = read_json(raw)
    check_area_geojson(body)
    answer = area_eligibility(state(), body, crs=None,
                              max_vertices=int(services().settings["POLYGON_MAX_VERTICES"]))
    return render_template("pages/_check_area.html", answer=answer, view=answer_view(answer, g.lang),
                           **place_texts())


def place_group(text: str) -> tuple[Any, str | None]:
    """A postcode (``?postcode=`` or 5 digits typed), Stadtteil or Stadtbezirk: its Ortsteile (service.api.places)."""
    if services_if_any() is None:
        return None, None
    from service.api.places import page_group

    pc = (request.args.get("postcode") or "").strip() or (text if re.fullmatch(r"\d{5}", text) else "")
    return page_group(state(), postcode=pc or None, district=None if pc else text)


def place_suggestions(text: str, *, strong: bool = False) -> list[tuple[str, str]]:
    """Ortsteile whose names resemble ``text`` (typos, umlauts), from the place search, as ``(key, name)``.

    ``strong``: only close matches (for an address-like text, where a weak match names an unrelated district).
    """
    if services_if_any() is None:
        return []

    places = getattr(state(), "places", None)
    hits = places.index.search(text, limit=10) if places is not None else []
    return [(str(h["key"]), str(h["name"])) for h in hits
            if h["type"] == "ortsteil" and (not strong or float(h["score"]) >= STRONG_MATCH)][:5]


def place_texts() -> dict[str, Any]:
    """The place words of the page's language for the templates, as ``{"ptext": ...}``."""
    from service.api.places import PAGE_TEXT

    return {"ptext": PAGE_TEXT.get(g.lang, PAGE_TEXT["de"])}
