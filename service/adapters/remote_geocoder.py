"""A Nominatim- or Photon-compatible geocoding server, as an address geocoder of :mod:`geo.places.geocode`.

:class:`RemoteGeocoder` satisfies :class:`geo.places.geocode.Geocoder`: timeouts, an LRU cache with a time to live
(:class:`TTLCache`), answers restricted to a bounding box (default: the two cities), and after a failure a short
cool-down in which the server is not asked again. Failures raise :class:`geo.places.geocode.GeocoderError` with a
plain reason. HTTP is spoken with :mod:`urllib.request` only; no Flask.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from geo.errors import InputError
from geo.places.geocode import GeocoderError, Match

#: lon/lat bounding box around Bremen and Bremerhaven (min lon, min lat, max lon, max lat), with a small margin
BREMEN_BBOX = (8.45, 53.0, 9.0, 53.62)
KINDS = ("nominatim", "photon")


class TTLCache:
    """A small thread-safe LRU cache whose entries expire after ``ttl`` seconds."""

    def __init__(self, maxsize: int = 512, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.maxsize, self.ttl, self._clock = maxsize, ttl, clock
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any | None:
        """Return the cached value of ``key``, or None when it is missing or expired."""
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < self._clock():
                self._data.pop(key, None)
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, dropping the least recently used beyond ``maxsize``."""
        with self._lock:
            self._data[key] = (self._clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)


class RemoteGeocoder:
    """A Nominatim- or Photon-compatible geocoding server.

    Parameters
    ----------
    url
        Base URL (``https://nominatim.example/`` or ``https://photon.example/``); the search path (``/search``,
        ``/api``) is appended unless the URL already ends with it.
    kind
        ``nominatim`` or ``photon``.
    timeout
        Seconds for connecting and for each read (urllib); a slower server counts as failed.
    bbox
        (min lon, min lat, max lon, max lat): sent to the server and enforced on its answers.
    cache_size, cache_ttl
        LRU cache of answers (successful ones only).
    cooldown
        Seconds after a failure in which the server is not asked again (answers fall back at once).
    user_agent
        Sent with every request (Nominatim's usage policy asks for one that names the application).
    """

    def __init__(self, url: str, *, kind: str = "nominatim", timeout: float = 2.0,
                 bbox: Sequence[float] = BREMEN_BBOX, cache_size: int = 512, cache_ttl: float = 3600.0,
                 cooldown: float = 30.0, user_agent: str = "lebendige-quartiere (Bremen) geocoder client",
                 language: str = "de") -> None:
        problems = []
        parts = urllib.parse.urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"url must be an http(s) URL, got {url!r}")
        if kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not (isinstance(timeout, int | float) and 0 < timeout <= 60):
            problems.append(f"timeout must be between 0 and 60 seconds, got {timeout!r}")
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            problems.append(f"bbox must be (min lon, min lat, max lon, max lat), got {bbox!r}")
        if problems:
            raise InputError("RemoteGeocoder: " + "; ".join(problems))
        path = parts.path.rstrip("/")
        suffix = "/search" if kind == "nominatim" else "/api"
        self.endpoint = urllib.parse.urlunsplit((parts.scheme, parts.netloc,
                                                 path if path.endswith(suffix) else path + suffix, "", ""))
        self.kind = kind
        self.name = kind
        self.timeout = float(timeout)
        self.bbox = tuple(float(b) for b in bbox)
        self.cache = TTLCache(cache_size, cache_ttl)
        self.cooldown = float(cooldown)
        self.user_agent = user_agent
        self.language = language
        self._down_until = 0.0
        self._last_error = ""

    def _url(self, query: str, limit: int) -> str:
        lo0, la0, lo1, la1 = self.bbox
        if self.kind == "nominatim":
            params = {"q": query, "format": "jsonv2", "addressdetails": 1, "limit": limit, "countrycodes": "de",
                      "viewbox": f"{lo0},{la1},{lo1},{la0}", "bounded": 1, "accept-language": self.language}
        else:
            params = {"q": query, "limit": limit, "bbox": f"{lo0},{la0},{lo1},{la1}", "lang": self.language}
        return self.endpoint + "?" + urllib.parse.urlencode(params)

    def geocode(self, query: str, *, limit: int = 10) -> list[Match]:
        """Matches inside the bounding box; raises :class:`GeocoderError` when the server fails."""
        q = " ".join(query.split())
        if not q:
            return []
        key = (q.casefold(), limit)
        cached = self.cache.get(key)
        if cached is not None:
            return list(cached)
        now = time.monotonic()
        if now < self._down_until:
            raise GeocoderError(f"the {self.kind} geocoder failed {now - (self._down_until - self.cooldown):.0f}"
                                      f" s ago ({self._last_error}); not asked again for {self.cooldown:.0f} s")
        req = urllib.request.Request(self._url(q, limit), headers={"User-Agent": self.user_agent,
                                                                   "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # URL scheme checked in __init__
                body = resp.read(4 * 1024 * 1024)
            data = json.loads(body)
            matches = self._parse(data)
        except (TimeoutError, urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
            reason = _reason(exc, self.timeout)
            self._last_error = reason
            self._down_until = time.monotonic() + self.cooldown
            raise GeocoderError(f"the {self.kind} geocoder at {self.endpoint} failed: {reason}") from exc
        matches = matches[:limit]
        self.cache.put(key, tuple(matches))
        return matches

    def _inside(self, lon: float, lat: float) -> bool:
        lo0, la0, lo1, la1 = self.bbox
        return lo0 <= lon <= lo1 and la0 <= lat <= la1

    def _parse(self, data: Any) -> list[Match]:
        out: list[Match] = []
        if self.kind == "nominatim":
            if not isinstance(data, list):
                raise ValueError("a Nominatim answer must be a JSON array")
            n = max(len(data), 1)
            for rank, item in enumerate(data):
                lon, lat = float(item["lon"]), float(item["lat"])
                if not self._inside(lon, lat):
                    continue
                addr = item.get("address") or {}
                street, number = addr.get("road") or "", addr.get("house_number") or ""
                city = addr.get("city") or addr.get("town") or ""
                kind = "address" if number else ("street" if street else "place")
                name = (f"{street} {number}".strip() + (f", {addr.get('postcode', '')} {city}".rstrip()
                                                        if street else "")) or item.get("display_name", "")
                out.append(Match(type=kind, key=f"{item.get('osm_type', '')}{item.get('osm_id', rank)}",
                                 name=name.strip(", "), city=city, lon=lon, lat=lat,
                                 score=round(100.0 - 20.0 * rank / n, 1), source=self.name,
                                 postcode=addr.get("postcode") or None,
                                 extra={"display_name": item.get("display_name", "")}))
        else:
            feats = data.get("features") if isinstance(data, dict) else None
            if not isinstance(feats, list):
                raise ValueError("a Photon answer must be a GeoJSON FeatureCollection")
            n = max(len(feats), 1)
            for rank, f in enumerate(feats):
                lon, lat = (float(c) for c in f["geometry"]["coordinates"][:2])
                if not self._inside(lon, lat):
                    continue
                p = f.get("properties") or {}
                street, number = p.get("street") or "", p.get("housenumber") or ""
                city = p.get("city") or ""
                kind = "address" if number else ("street" if street or p.get("osm_key") == "highway" else "place")
                head = f"{street} {number}".strip() or str(p.get("name") or "")
                name = head + (f", {p.get('postcode', '')} {city}".rstrip() if city or p.get("postcode") else "")
                out.append(Match(type=kind, key=f"{p.get('osm_type', '')}{p.get('osm_id', rank)}",
                                 name=name.strip(", "), city=city, lon=lon, lat=lat,
                                 score=round(100.0 - 20.0 * rank / n, 1), source=self.name,
                                 postcode=p.get("postcode") or None))
        return out


def _reason(exc: BaseException, timeout: float) -> str:
    inner = getattr(exc, "reason", exc)
    if isinstance(exc, TimeoutError) or isinstance(inner, TimeoutError) or "timed out" in str(exc):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, ValueError | KeyError | TypeError):
        return f"unreadable answer ({type(exc).__name__}: {exc})"[:200]
    return f"{type(inner).__name__}: {inner}"[:200]
