"""Place search and eligibility by postcode (framework-free; the routes are in ``service/web/places.py``).

:func:`build_places` runs once per snapshot load (from :func:`service.api.state.load_state`): it prepares the
:class:`~geo.places.search.PlaceIndex` of the gazetteer and the answer of every postcode of the snapshot, so a request
is a lookup plus a JSON dump.

The postcode answer lists every Ortsteil the postcode touches with its share of the postcode's area and of
its estimated residents (the Ortsteil's residents spread evenly over its area) and that Ortsteil's own answer
(categories with reasons, designation, funding strands, ``eligible``). Ortsteile holding less than
:data:`MIN_SHARE` of both the area and the residents are boundary noise of the simplified postcode polygons:
they are listed with ``minor: true`` and do not decide the summary. The summary ``eligibility`` is ``all``,
``none`` or ``mixed``; ``mixed`` says plainly that the answer depends on the street.

Address geocoders (:mod:`geo.places.geocode`, :mod:`service.adapters.remote_geocoder`) are built once per app from
the configuration keys ``ADDRESS_FILE``, ``GEOCODER_URL``, ``GEOCODER_KIND`` and ``GEOCODER_TIMEOUT``
(:func:`build_geocoders`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geo.errors import InputError, Problem, UnknownKeyError
from geo.pipeline.snapshot import Snapshot
from geo.places.gazetteer import PLZ_PATTERN
from geo.places.geocode import (
    AddressFileGeocoder,
    GazetteerGeocoder,
    Geocoder,
    Match,
    PlaceSearch,
    search_places,
)
from geo.places.search import PlaceIndex
from service.adapters.remote_geocoder import RemoteGeocoder
from service.api.eligibility import answer_tails, clean, dumps, render_answer
from service.api.lookup import OUTSIDE, PointLocator, lookup_point
from service.api.transform import point_to_utm

#: an Ortsteil under this share of a postcode's area and of its residents does not decide the summary
MIN_SHARE = 0.01
MAX_LIMIT = 50
MAX_QUERY = 200
_DISTRICT_PARTS = ("district", "districts", "designation", "classification", "categories", "funding_strands",
                   "eligible")


@dataclass(frozen=True)
class Places:
    """What the place search and the postcode answers need, for one snapshot (never mutated)."""

    index: PlaceIndex
    gazetteer: GazetteerGeocoder
    postcode_tails: dict[str, str]

    @property
    def postcodes(self) -> list[str]:
        """The postcodes the service answers for, sorted."""
        return sorted(self.postcode_tails)


def _num(value: Any, digits: int) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def _names(items: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(d["name"]) for d in items)


def statement(subject: Mapping[str, str], eligible: Sequence[Mapping[str, Any]],
              ineligible: Sequence[Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    """Summary (``all`` | ``none`` | ``mixed``) and its plain German and English text.

    ``subject`` names the place in both languages, e.g. ``{"de": "Die Postleitzahl 28239", "en": "Postcode 28239"}``.
    """
    de, en = subject["de"], subject["en"]
    if eligible and ineligible:
        return "mixed", {
            "de": f"{de} umfasst förderfähige Ortsteile ({_names(eligible)}) und nicht förderfähige "
                  f"({_names(ineligible)}). Ob ein Ort gefördert werden kann, hängt von der Straße ab: bitte den "
                  "Ort auf der Karte wählen.",
            "en": f"{en} spans eligible districts ({_names(eligible)}) and ineligible ones ({_names(ineligible)}). "
                  "Whether a place qualifies depends on the street: pick the place on the map.",
        }
    if eligible:
        return "all", {"de": f"{de}: alle Ortsteile sind förderfähig ({_names(eligible)}).",
                       "en": f"{en}: every district qualifies ({_names(eligible)})."}
    return "none", {"de": f"{de}: keiner der Ortsteile ist förderfähig ({_names(ineligible)}).",
                    "en": f"{en}: none of the districts qualifies ({_names(ineligible)})."}


def postcode_answers(snapshot: Snapshot, answers: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The answer parts (everything but ``question`` and ``decision_id``) of every postcode of ``snapshot``."""
    shares = snapshot.postcode_shares
    if shares.empty:
        return {}
    gaz = snapshot.gazetteer
    points = {str(r["key"]): (float(r["lon"]), float(r["lat"])) for r in gaz[gaz["type"] == "postcode"]
              .to_dict("records")}
    areas: dict[str, float] = {}
    layer = snapshot.extras.get("postcodes")
    if layer is not None and "area_km2" in layer:
        areas = {str(p): float(a) for p, a in zip(layer["plz"], layer["area_km2"], strict=True)}
    first = next(iter(answers.values()), {})
    common = {k: first[k] for k in ("snapshot_version", "programme", "data_vintage") if k in first}
    out: dict[str, dict[str, Any]] = {}
    for plz, group in shares.groupby("plz", sort=True):
        plz = str(plz)
        districts = []
        for r in group.sort_values("share_area", ascending=False).to_dict("records"):
            key = str(r["key"])
            a = answers.get(key)
            share_area, share_res = _num(r["share_area"], 4), _num(r.get("share_residents"), 4)
            minor = (share_area or 0.0) < MIN_SHARE and (share_res or 0.0) < MIN_SHARE
            entry: dict[str, Any] = {"key": key, "name": str(r["name"]), "share_area": share_area,
                                     "share_residents": share_res,
                                     "residents_estimate": _num(r.get("residents_estimate"), 0),
                                     "overlap_km2": _num(r["overlap_km2"], 4), "minor": minor}
            if a is not None:
                entry.update({k: a.get(k) for k in _DISTRICT_PARTS})
            else:  # an Ortsteil without an answer cannot be judged
                entry["eligible"] = None
            districts.append(entry)
        deciding = [d for d in districts if not d["minor"] and d["eligible"] is not None]
        summary, text = statement({"de": f"Die Postleitzahl {plz}", "en": f"Postcode {plz}"},
                                  [d for d in deciding if d["eligible"]],
                                  [d for d in deciding if not d["eligible"]])
        lon, lat = points.get(plz, (None, None))
        city = "Bremerhaven" if plz.startswith("27") else "Bremen"
        out[plz] = clean({
            "postcode": {"plz": plz, "city": city, "point": {"lon": lon, "lat": lat},
                         "area_km2": _num(areas.get(plz), 3)},
            "eligibility": summary,
            "eligible": {"all": True, "none": False}.get(summary),
            "statement": text,
            "districts": districts,
            "method": {"share_area": "share of the postcode's area (EPSG:25832) in the Ortsteil",
                       "share_residents": "estimated: each Ortsteil's residents spread evenly over its area; "
                                          "null where an Ortsteil has no statistics",
                       "minor": f"under {MIN_SHARE:.0%} of the area and of the residents: boundary noise of the "
                                "simplified postcode polygons, not deciding the summary",
                       "source": "postcode areas © OpenStreetMap contributors (ODbL), via "
                                 "betschki/DE-PLZ-states"},
            **common,
        })
    return out


def build_places(snapshot: Snapshot, answers: Mapping[str, Mapping[str, Any]]) -> Places:
    """Prepare the place search and the postcode answers of ``snapshot`` (once per snapshot load)."""
    index = PlaceIndex.from_gazetteer(snapshot.gazetteer)
    return Places(index=index, gazetteer=GazetteerGeocoder(index),
                  postcode_tails=answer_tails(postcode_answers(snapshot, answers)))


# ------------------------------------------------------------------------------------------- questions


def parse_postcode(raw: str | None) -> str:
    """A 5-digit postcode string, or :class:`InputError` naming what was received."""
    text = "" if raw is None else str(raw).strip().replace(" ", "")
    if not PLZ_PATTERN.match(text):
        raise InputError(f"postcode must be 5 digits such as 28239, got {raw!r}",
                         problems=[Problem(check="postcode_format", message=f"postcode={raw!r}")])
    return text


def postcode_answer(places: Places, raw: str | None, *, snapshot_version: str, definition_hash: str) -> str:
    """The JSON answer for a postcode: every Ortsteil it touches, its share and its own eligibility."""
    plz = parse_postcode(raw)
    tail = places.postcode_tails.get(plz)
    if tail is None:
        known = places.postcodes
        span = f" ({len(known)} postcode areas, {known[0]}–{known[-1]})" if known else ""
        raise UnknownKeyError(
            f"postcode {plz} is not a postcode area of Bremen or Bremerhaven in snapshot {snapshot_version}{span}. "
            "Postcodes of PO boxes and large customers (such as 28189) have no area: search the street address "
            "or pick the place on the map.",
            problems=[Problem(check="unknown_postcode", message=f"postcode={plz}")])
    return render_answer(tail, {"kind": "postcode", "postcode": plz}, snapshot_version, definition_hash)


def parse_search_args(args: Mapping[str, str]) -> tuple[str, int]:
    """``q`` (1..200 characters) and ``limit`` (1..50, default 10); every problem reported at once."""
    problems = []
    q = " ".join(str(args.get("q") or "").split())
    if not q:
        problems.append(Problem(check="missing_parameter", message="q is required: a district name, a postcode "
                                                                   "or an address"))
    elif len(q) > MAX_QUERY:
        problems.append(Problem(check="too_long", message=f"q has {len(q)} characters; at most {MAX_QUERY}"))
    raw = args.get("limit")
    limit = 10
    if raw not in (None, ""):
        try:
            limit = int(str(raw))
        except ValueError:
            problems.append(Problem(check="not_an_integer", message=f"limit={raw!r} is not an integer"))
        else:
            if not 1 <= limit <= MAX_LIMIT:
                problems.append(Problem(check="range", message=f"limit={limit} must be between 1 and {MAX_LIMIT}"))
    if problems:
        raise InputError("; ".join(p.message for p in problems), problems=problems)
    return q, limit


# ------------------------------------------------------------------------------------------- search


def build_geocoders(settings: Mapping[str, Any]) -> list[Geocoder]:
    """Address geocoders from the configuration: the address file first (offline), then the remote server."""
    out: list[Geocoder] = []
    if settings["ADDRESS_FILE"]:
        out.append(AddressFileGeocoder.from_file(str(settings["ADDRESS_FILE"])))
    if settings["GEOCODER_URL"]:
        out.append(RemoteGeocoder(str(settings["GEOCODER_URL"]), kind=settings["GEOCODER_KIND"],
                                  timeout=settings["GEOCODER_TIMEOUT"]))
    return out


def _link(m: Match) -> str:
    if m.type == "postcode":
        return f"/api/v1/places/postcode/{m.key}"
    if m.type in ("ortsteil", "stadtteil", "stadtbezirk"):
        return f"/api/v1/eligibility?district={m.key}"
    return f"/api/v1/eligibility?lon={m.lon:.7f}&lat={m.lat:.7f}"


def search(places: Places, q: str, *, limit: int, geocoders: Sequence[Geocoder], locator: PointLocator,
           answers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The ``/api/v1/places`` answer: ranked matches with their point, district and eligibility link.

    Address matches outside every district of the snapshot are dropped; the others carry the Ortsteil (or
    Stadtteil) their point lies in.
    """
    where: dict[tuple[float, float], str] = {}

    def leaf(m: Match) -> str | None:
        pt = (m.lon, m.lat)
        if pt not in where:
            i = lookup_point(locator, *point_to_utm(m.lon, m.lat, "EPSG:4326"))
            where[pt] = "" if i == OUTSIDE else str(locator.keys[i])
        return where[pt] or None

    found: PlaceSearch = search_places(q, gazetteer=places.gazetteer, geocoders=geocoders, limit=limit,
                                       accept=lambda m: leaf(m) is not None)
    results = []
    for m in found.matches:
        d = m.to_dict()
        if m.type not in ("ortsteil", "stadtteil", "stadtbezirk", "postcode"):
            key = leaf(m)
            a = answers.get(key or "")
            if a is not None:
                d["district"] = {k: a["district"][k] for k in ("level", "key", "name")}
        d["eligibility"] = _link(m)
        results.append(d)
    return {"query": found.query, "count": len(results), "address_search": found.address_search,
            "address_source": found.address_source, "fallback_reason": found.fallback_reason,
            "results": results}


def search_json(*args: Any, **kwargs: Any) -> str:
    """The :func:`search` answer as JSON text."""
    return dumps(clean(search(*args, **kwargs)))


# ------------------------------------------------------------------------------------------- check page

#: texts of the check page's place answers (the pages' own i18n table belongs to maps/i18n.py)
PAGE_TEXT = {
    "de": {"postcode": "Postleitzahl", "stadtteil": "Stadtteil", "stadtbezirk": "Stadtbezirk",
           "share_area": "Anteil Fläche", "share_residents": "Anteil Einwohner (geschätzt)", "eligible": "förderfähig",
           "not_eligible": "nicht förderfähig", "unknown": "keine Angabe", "minor": "Randstück",
           "district": "Ortsteil", "categories": "Kategorien", "search_label": "Ort suchen",
           "search_hint": "Ortsteil, Postleitzahl oder Adresse; Vorschläge mit Pfeiltasten wählen",
           "no_address": "Adresssuche ist auf diesem Server nicht eingerichtet: Postleitzahlen und Ortsteile werden "
                         "gezeigt.", "unknown_postcode": "Diese Postleitzahl hat keine Fläche in Bremen oder "
                         "Bremerhaven (Postfach- und Großkunden-Postleitzahlen haben keine)."},
    "en": {"postcode": "Postcode", "stadtteil": "Stadtteil", "stadtbezirk": "Stadtbezirk",
           "share_area": "Share of area", "share_residents": "Share of residents (estimated)", "eligible": "eligible",
           "not_eligible": "not eligible", "unknown": "unknown", "minor": "sliver", "district": "Ortsteil",
           "categories": "Categories", "search_label": "Find a place",
           "search_hint": "District, postcode or address; choose suggestions with the arrow keys",
           "no_address": "Address search is not configured on this server: showing postcodes and districts.",
           "unknown_postcode": "This postcode has no area in Bremen or Bremerhaven (PO box and large-customer "
                               "postcodes have none)."},
}


def page_group(st: Any, *, postcode: str | None = None, district: str | None = None
               ) -> tuple[dict[str, Any] | None, str | None]:
    """A place made of several Ortsteile for the check page: a postcode, a Stadtteil or a Stadtbezirk.

    Returns ``(group, error)``: ``group`` has ``kind``, ``title``, ``eligibility``, ``statement`` (de, en) and
    ``districts`` (key, name, eligible, categories, shares for postcodes); ``error`` is ``unknown_postcode``
    or ``None``. ``(None, None)`` when ``district`` is not a Stadtteil or Stadtbezirk key.
    """
    import json

    places = getattr(st, "places", None)
    if st is None or places is None:
        return None, None
    if postcode is not None:
        tail = places.postcode_tails.get(postcode.strip())
        if tail is None:
            return None, "unknown_postcode"
        a = json.loads("{" + tail)
        return {"kind": "postcode", "key": a["postcode"]["plz"],
                "title": f"{a['postcode']['plz']} {a['postcode']['city']}", "eligibility": a["eligibility"],
                "statement": a["statement"], "districts": a["districts"]}, None
    a = st.answers.get(district or "")
    if a is None or a["district"]["level"] not in ("stadtteil", "stadtbezirk"):
        return None, None
    level, name = a["district"]["level"], a["district"]["name"]
    rows = []
    for child in a.get("ortsteile", []):
        own = st.answers.get(child["key"], {})
        rows.append({"key": child["key"], "name": child["name"], "eligible": own.get("eligible"),
                     "categories": own.get("categories", []), "minor": False, "share_area": None,
                     "share_residents": None})
    summary, text = statement({"de": f"{PAGE_TEXT['de'][level]} {name}", "en": f"{PAGE_TEXT['en'][level]} {name}"},
                              [r for r in rows if r["eligible"]], [r for r in rows if r["eligible"] is False])
    return {"kind": level, "key": district, "title": name, "eligibility": summary, "statement": text,
            "districts": rows}, None
