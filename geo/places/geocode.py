"""Geocoders: turn what a planner types into places with a point, online or offline.

Every geocoder satisfies the :class:`Geocoder` protocol, ``geocode(query, *, limit) -> list[Match]``:

:class:`GazetteerGeocoder`
    Districts of every level and postcode areas from the snapshot's gazetteer (:class:`geo.places.search.PlaceIndex`);
    always available, offline.
:class:`AddressFileGeocoder`
    Street and house number from a bundled address file (:mod:`geo.places.addresses`); offline. Tolerant of typos in
    the street name and of "Str."/"Straße"/"Strasse"; a house number that is not in the file is answered with
    the nearest number on the same street (``approximate``).
:class:`service.adapters.remote_geocoder.RemoteGeocoder`
    A Nominatim- or Photon-compatible server: an adapter to the outside world, so it lives outside ``geo``.
    It satisfies the same protocol and raises :class:`GeocoderError` with a plain reason when the server fails.

:func:`search_places` combines them: it always searches the gazetteer, asks the address geocoders only for
queries that look like an address (:func:`looks_like_address`), and reports what happened in the answer
(``address_search``: ``not configured`` | ``not needed`` | ``ok`` | ``no match`` | ``failed``, and
``fallback_reason`` whenever the answer falls back to postcode and district search).

This module speaks no HTTP and never imports Flask.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo.errors import InputError, QuartiereError
from geo.places.addresses import HOUSENUMBER, housenumber_key, street_key
from geo.places.gazetteer import normalise
from geo.places.search import PlaceIndex

_STREET_WORDS = re.compile(r"(str\b|strasse\b|weg\b|platz\b|allee\b|damm\b|gasse\b|chaussee\b|ufer\b|deich\b|"
                           r"\bam wall\b|markt\b)")
_CITY_WORDS = {"bremen", "bremerhaven", "hb", "brhv", "deutschland", "germany"}


class GeocoderError(QuartiereError):
    """A remote geocoder failed, timed out or answered something unreadable (``reason`` says which)."""


@dataclass(frozen=True)
class Match:
    """One place found: ``type`` is ``ortsteil``/``stadtteil``/``stadtbezirk``/``postcode``/``street``/``address``.

    ``score`` is 0..100 (100: exact). ``source`` names the geocoder (``gazetteer``, ``address_file``,
    ``nominatim``, ``photon``). ``approximate`` marks a house number answered by its nearest neighbour.
    """

    type: str
    key: str
    name: str
    city: str
    lon: float
    lat: float
    score: float
    source: str
    postcode: str | None = None
    approximate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the match as a JSON-ready dict: ``point`` as ``{lon, lat}``, the ``extra`` fields at top level."""
        d = asdict(self)
        d["point"] = {"lon": d.pop("lon"), "lat": d.pop("lat")}
        extra = d.pop("extra")
        d.update(extra)
        return d


@runtime_checkable
class Geocoder(Protocol):
    """Anything that turns a query into ranked :class:`Match` es."""

    name: str

    def geocode(self, query: str, *, limit: int = 10) -> list[Match]:
        """Return up to ``limit`` matches for ``query``, best first."""


# ------------------------------------------------------------------------------------ query analysis


@dataclass(frozen=True)
class AddressQuery:
    """A query split into street (normal form, see :func:`geo.places.addresses.street_key`), house number, postcode."""

    street: str
    housenumber: str
    postcode: str
    text: str


def parse_address(query: str) -> AddressQuery:
    """Split "Lindenhofstr. 3a, 28237 Bremen" into street ``lindenhofstrasse``, number ``3a``, postcode."""
    text = normalise(query)
    postcode = ""
    m = re.search(r"\b(\d{5})\b", text)
    if m:
        postcode = m.group(1)
        text = (text[:m.start()] + " " + text[m.end():]).strip()
    words = [w for w in text.split() if w not in _CITY_WORDS]
    number = ""
    street_words: list[str] = []
    for i, w in enumerate(words):
        if w[0].isdigit() and street_words:
            rest = " ".join(words[i:i + 2])
            hm = HOUSENUMBER.match(rest) or HOUSENUMBER.match(w)
            number = housenumber_key(hm.group(1) + hm.group(2)) if hm else re.sub(r"\D", "", w)
            break
        street_words.append(w)
    return AddressQuery(street=street_key(" ".join(street_words)) if street_words else "",
                        housenumber=number, postcode=postcode, text=" ".join(street_words))


def looks_like_address(query: str) -> bool:
    """True for "Lindenhofstraße 3", "Am Wall 12", "Lindenhofstr": letters with a house number or a street word.

    District names that end like streets ("Steffensweg", "Goethestraße") also count; the search then puts an
    exact district match first.
    """
    text = normalise(query)
    if not re.search(r"[a-z]{2}", text):
        return False
    if re.search(r"[a-z]{2,}\s+\d{1,4}\s*[a-z]?(?=\s|$)", text):
        return True
    return bool(_STREET_WORDS.search(text))


# ------------------------------------------------------------------------------------ gazetteer


class GazetteerGeocoder:
    """Districts and postcodes from a :class:`PlaceIndex` (the snapshot's gazetteer)."""

    name = "gazetteer"

    def __init__(self, index: PlaceIndex) -> None:
        self.index = index

    def geocode(self, query: str, *, limit: int = 10) -> list[Match]:
        """Return up to ``limit`` districts and postcodes matching ``query``, best first."""
        return [Match(type=str(h["type"]), key=str(h["key"]), name=str(h["name"]), city=str(h["city"]),
                      lon=float(h["lon"]), lat=float(h["lat"]), score=float(h["score"]),  # type: ignore[arg-type]
                      source=self.name, postcode=str(h["key"]) if h["type"] == "postcode" else None)
                for h in self.index.search(query, limit=limit)]

    def fallback(self, query: str, *, limit: int = 10) -> list[Match]:
        """Postcode and district matches for an address-like query: its postcode, then its street's name part.

        "Lindenhofstraße 3, 28237" -> postcode 28237 first, then what "lindenhof" matches (Ortsteil Lindenhof).
        """
        aq = parse_address(query)
        out: dict[tuple[str, str], Match] = {}
        if aq.postcode:
            for m in self.geocode(aq.postcode, limit=1):
                out[(m.type, m.key)] = m
        stem = re.sub(r"(strasse|str|weg|platz|allee|damm|ring|gasse|chaussee|ufer|deich|kamp|wall|markt)$", "",
                      aq.street)
        name = stem or aq.text
        if len(name) >= 3:
            for m in self.geocode(name, limit=limit):
                out.setdefault((m.type, m.key), m)
        return list(out.values())[:limit]


# ------------------------------------------------------------------------------------ address file


class AddressFileGeocoder:
    """Street and house-number search over an address table (:func:`geo.places.addresses.read_address_file`).

    Parameters
    ----------
    addresses
        The address table (``street``, ``housenumber``, ``postcode``, ``city``, ``lon``, ``lat``, ``id``).
    min_score
        Lowest fuzzy score (rapidfuzz WRatio on the street's normal form) for a street to match.
    """

    name = "address_file"

    def __init__(self, addresses: pd.DataFrame, *, min_score: float = 80.0) -> None:
        frame = addresses.reset_index(drop=True).copy()
        frame["street_key"] = [street_key(s) for s in frame["street"].astype(str)]
        frame["number_key"] = [housenumber_key(h) for h in frame["housenumber"].astype(str)]
        frame["number_int"] = pd.to_numeric(frame["number_key"].str.extract(r"^(\d+)")[0], errors="coerce")
        self.addresses = frame
        self.min_score = min_score
        self.source_path = addresses.attrs.get("source")
        groups = frame.groupby(["street_key", "postcode"], sort=True).indices
        self._groups: list[tuple[str, str, np.ndarray]] = [(s, p, idx) for (s, p), idx in groups.items()]
        self._street_keys = [g[0] for g in self._groups]
        self._number_keys = frame["number_key"].to_numpy(dtype=object)
        self._number_ints = frame["number_int"].to_numpy(dtype=float)
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        self._middle = [int(idx[int(np.argmin((lon[idx] - lon[idx].mean()) ** 2 + (lat[idx] - lat[idx].mean()) ** 2))])
                        for _, _, idx in self._groups]

    @classmethod
    def from_file(cls, path: str, **kwargs: Any) -> AddressFileGeocoder:
        """Build the geocoder from an address file (see :func:`geo.places.addresses.read_address_file`)."""
        from geo.places.addresses import read_address_file

        return cls(read_address_file(path), **kwargs)

    def __len__(self) -> int:
        return len(self.addresses)

    def _row_match(self, i: int, score: float, *, approximate: bool = False) -> Match:
        r = self.addresses.iloc[i]
        city = str(r["city"] or ("Bremerhaven" if str(r["postcode"]).startswith("27") else "Bremen"))
        label = f"{r['street']} {r['housenumber']}, {(str(r['postcode']) + ' ') if r['postcode'] else ''}{city}"
        return Match(type="address", key=str(r["id"]), name=label, city=city, lon=float(r["lon"]),
                     lat=float(r["lat"]), score=round(score, 1), source=self.name,
                     postcode=str(r["postcode"]) or None, approximate=approximate,
                     extra={"street": str(r["street"]), "housenumber": str(r["housenumber"])})

    def geocode(self, query: str, *, limit: int = 10) -> list[Match]:
        """Return up to ``limit`` addresses or streets matching ``query``, best first.

        Streets are matched fuzzily (prefixes count as near-exact); a house number picks that address, or else the
        nearest number (same side of the street preferred; scored 10 lower, marked approximate); a postcode in
        the query puts its streets first.
        """
        aq = parse_address(query)
        if len(aq.street) < 3:
            return []
        hits = process.extract(aq.street, self._street_keys, scorer=fuzz.WRatio, limit=max(limit, 5),
                               score_cutoff=self.min_score)
        lo = bisect.bisect_left(self._street_keys, aq.street)  # keys are sorted: prefix matches are a run
        exact_prefix = []
        for j in range(lo, min(lo + limit, len(self._street_keys))):
            if not self._street_keys[j].startswith(aq.street):
                break
            exact_prefix.append(j)
        scored: dict[int, float] = {j: float(s) for _, s, j in hits}
        for j in exact_prefix[:limit]:
            scored[j] = max(scored.get(j, 0.0), 100.0 if self._street_keys[j] == aq.street else 95.0)
        if aq.postcode:  # a postcode given: streets in it first
            scored = {j: s + (1.0 if self._groups[j][1] == aq.postcode else -5.0) for j, s in scored.items()}
        out: list[Match] = []
        for j, s in sorted(scored.items(), key=lambda kv: (-kv[1], self._street_keys[kv[0]])):
            idx = self._groups[j][2]
            s = min(s, 100.0)
            if aq.housenumber:
                same = idx[self._number_keys[idx] == aq.housenumber]
                if len(same):
                    out.extend(self._row_match(int(i), s) for i in same)
                else:
                    wanted = float(re.match(r"\d+", aq.housenumber).group(0))  # type: ignore[union-attr]
                    nums = self._number_ints[idx]
                    parity = (nums % 2) == (wanted % 2)
                    dist = np.abs(nums - wanted) + np.where(parity, 0.0, 0.5)
                    if np.isfinite(dist).any():
                        out.append(self._row_match(int(idx[int(np.nanargmin(dist))]), s - 10.0, approximate=True))
            else:
                out.append(self._street_match(j, s))
            if len(out) >= limit:
                break
        return out[:limit]

    def _street_match(self, j: int, score: float) -> Match:
        """A whole street: its middle address stands for it (pick a house number for an exact answer)."""
        _, plz, idx = self._groups[j]
        r = self.addresses.iloc[self._middle[j]]
        city = str(r["city"] or ("Bremerhaven" if str(plz).startswith("27") else "Bremen"))
        return Match(type="street", key=f"{plz}-{self._groups[j][0]}", name=f"{r['street']}, {plz} {city}".strip(),
                     city=city, lon=float(r["lon"]), lat=float(r["lat"]), score=round(score, 1), source=self.name,
                     postcode=str(plz) or None, extra={"street": str(r["street"]), "addresses": len(idx)})


# ------------------------------------------------------------------------------------ combined search


@dataclass
class PlaceSearch:
    """The answer of :func:`search_places`."""

    query: str
    matches: list[Match]
    address_search: str
    address_source: str | None = None
    fallback_reason: str | None = None


def search_places(query: str, *, gazetteer: GazetteerGeocoder, geocoders: Sequence[Geocoder] = (),
                  limit: int = 10, accept: Callable[[Match], bool] | None = None) -> PlaceSearch:
    """Ranked places for ``query``: districts and postcodes always, addresses when the query looks like one.

    Parameters
    ----------
    gazetteer
        The offline district and postcode search.
    geocoders
        Address geocoders tried in order (the first with matches wins); empty: address search not configured.
    limit
        Most matches returned.
    accept
        Optional filter for address matches (e.g. "inside a district of the snapshot").
    """
    q = " ".join(str(query).split())
    if not q:
        raise InputError("the query is empty; type a district name, a postcode or an address")
    source_names = ", ".join(g.name for g in geocoders) or None
    places = gazetteer.geocode(q, limit=limit)
    if not looks_like_address(q):
        return PlaceSearch(q, places, "not configured" if not geocoders else "not needed", source_names)
    exact = [m for m in places if m.score >= 100.0]  # "Steffensweg" is an Ortsteil, too

    def fallback() -> list[Match]:
        return _merge(exact, gazetteer.fallback(q, limit=limit), places, limit=limit)

    if not geocoders:
        return PlaceSearch(q, fallback(), "not configured", None,
                           "address search is not configured on this server (no GEOCODER_URL, no ADDRESS_FILE): "
                           "showing postcode and district matches instead")
    failures: list[str] = []
    for coder in geocoders:
        try:
            found = [m for m in coder.geocode(q, limit=limit) if accept is None or accept(m)]
        except GeocoderError as exc:
            failures.append(exc.message)
            continue
        if found:
            near = [m for m in places if m.score >= 95.0]
            return PlaceSearch(q, _merge(exact, found, near, limit=limit), "ok", coder.name,
                               "; ".join(failures) + "; answered by the next address source" if failures else None)
    if failures and len(failures) == len(geocoders):
        return PlaceSearch(q, fallback(), "failed", source_names,
                           "; ".join(failures) + ": showing postcode and district matches instead")
    return PlaceSearch(q, fallback(), "no match", source_names,
                       "no address matched: showing postcode and district matches instead"
                       + (f" ({'; '.join(failures)})" if failures else ""))


def _merge(*lists: Sequence[Match], limit: int) -> list[Match]:
    out: dict[tuple[str, str], Match] = {}
    for ms in lists:
        for m in ms:
            out.setdefault((m.type, m.key), m)
    return list(out.values())[:limit]
