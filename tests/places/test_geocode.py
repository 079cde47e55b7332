"""Geocoders without the network: the address file, and a local HTTP server standing in for Nominatim and Photon."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from geo.errors import InputError
from geo.places.addresses import read_address_file
from geo.places.gazetteer import name_variants
from geo.places.geocode import (
    AddressFileGeocoder,
    GazetteerGeocoder,
    Geocoder,
    GeocoderError,
    looks_like_address,
    parse_address,
    search_places,
)
from geo.places.search import PlaceIndex
from service.adapters.remote_geocoder import RemoteGeocoder, TTLCache

DATA = Path(__file__).resolve().parents[1] / "data" / "addresses"

NOMINATIM = [
    {"lat": "53.1147", "lon": "8.7560", "display_name": "3, Lindenhofstraße, Lindenhof, Bremen, 28237, Deutschland",
     "osm_type": "node", "osm_id": 1, "address": {"road": "Lindenhofstraße", "house_number": "3",
                                                   "postcode": "28237", "city": "Bremen"}},
    {"lat": "52.52", "lon": "13.40", "display_name": "Lindenhofstraße 3, Berlin", "osm_type": "node", "osm_id": 2,
     "address": {"road": "Lindenhofstraße", "house_number": "3", "postcode": "10115", "city": "Berlin"}},
]
PHOTON = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [8.9574, 53.0714]},
     "properties": {"osm_type": "N", "osm_id": 7, "street": "Otto-Brenner-Allee", "housenumber": "10",
                    "postcode": "28325", "city": "Bremen"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.99, 53.55]},
     "properties": {"osm_type": "N", "osm_id": 8, "street": "Otto-Brenner-Allee", "housenumber": "10",
                    "postcode": "20000", "city": "Hamburg"}}]}


class FakeGeocoderHandler(BaseHTTPRequestHandler):
    """``/nominatim/search``, ``/photon/api``, ``/slow/search`` (3 s), ``/broken/search`` (500), ``/garbage/search``."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        type(self).seen.append(self.path)
        if parts.path.startswith("/slow"):
            time.sleep(3)
        if parts.path.startswith("/broken"):
            self.send_error(500)
            return
        if parts.path == "/nominatim/search":
            body = json.dumps(NOMINATIM).encode()
        elif parts.path == "/photon/api":
            body = json.dumps(PHOTON).encode()
        elif parts.path.startswith("/garbage"):
            body = b"<html>not json</html>"
        else:
            body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGeocoderHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def address_file() -> AddressFileGeocoder:
    return AddressFileGeocoder(read_address_file(DATA / "hauskoordinaten_sample.csv"))


@pytest.fixture(scope="module")
def gazetteer() -> GazetteerGeocoder:
    rows = [("ortsteil", "04011441", "Lindenhof"), ("ortsteil", "04011373", "Tenever"),
            ("ortsteil", "04011433", "Steffensweg"), ("postcode", "28237", "28237 Bremen")]
    gaz = pd.DataFrame([{"type": t, "key": k, "name": n, "city": "Bremen",
                         "variants": k if t == "postcode" else ";".join(name_variants(n)), "lon": 8.8, "lat": 53.1}
                        for t, k, n in rows])
    return GazetteerGeocoder(PlaceIndex.from_gazetteer(gaz))


# ------------------------------------------------------------------------------ query analysis


@pytest.mark.parametrize(("query", "expected"), [
    ("Lindenhofstraße 3", True), ("lindenhofstr. 3a", True), ("Am Wall 12", True), ("Lindenhofstr", True),
    ("Tenever", False), ("Tenver", False), ("28239", False), ("Tenever (04011373)", False), ("Gröpelingen", False)])
def test_looks_like_address(query: str, expected: bool) -> None:
    assert looks_like_address(query) is expected


def test_parse_address() -> None:
    q = parse_address("Lindenhofstr. 3 a, 28237 Bremen")
    assert (q.street, q.housenumber, q.postcode) == ("lindenhofstrasse", "3a", "28237")


# ------------------------------------------------------------------------------ address file


@pytest.mark.parametrize("query", ["Lindenhofstraße 3", "lindenhofstr. 3", "LINDENHOFSTRASSE 3", "Lindenhof-Str 3",
                                   "Lindenhofstrase 3", "Lindenhofstraße 3, 28237 Bremen"])
def test_address_file_street_spellings(address_file: AddressFileGeocoder, query: str) -> None:
    hit = address_file.geocode(query)[0]
    assert (hit.type, hit.key, hit.approximate) == ("address", "DEHBTEST00000002", False)
    assert hit.name == "Lindenhofstraße 3, 28237 Bremen" and isinstance(address_file, Geocoder)


def test_address_file_suffix_and_nearest_number(address_file: AddressFileGeocoder) -> None:
    assert address_file.geocode("Lindenhofstraße 3a")[0].key == "DEHBTEST00000003"
    near = address_file.geocode("Lindenhofstraße 5")[0]  # 5 is not in the file: nearest odd number
    assert near.approximate and near.extra["housenumber"] in ("3", "7") and near.score < 100


def test_address_file_street_without_number(address_file: AddressFileGeocoder) -> None:
    hit = address_file.geocode("Otto Brenner Allee")[0]
    assert hit.type == "street" and hit.postcode == "28325" and hit.extra["addresses"] == 2
    assert address_file.geocode("Nirgendwostraße 1") == []


# ------------------------------------------------------------------------------ remote


def test_nominatim_restricted_to_bbox_and_cached(fake_server: str) -> None:
    FakeGeocoderHandler.seen.clear()
    geo = RemoteGeocoder(fake_server + "/nominatim", kind="nominatim", timeout=2)
    hits = geo.geocode("Lindenhofstraße 3")
    assert [(h.type, h.postcode, h.source) for h in hits] == [("address", "28237", "nominatim")]  # Berlin dropped
    assert hits[0].name == "Lindenhofstraße 3, 28237 Bremen"
    assert geo.geocode("lindenhofstraße  3") == hits  # cached (case and spaces folded)
    assert len(FakeGeocoderHandler.seen) == 1 and geo.cache.hits == 1
    params = parse_qs(urlsplit(FakeGeocoderHandler.seen[0]).query)
    assert params["bounded"] == ["1"] and params["format"] == ["jsonv2"] and "viewbox" in params


def test_photon(fake_server: str) -> None:
    FakeGeocoderHandler.seen.clear()
    hits = RemoteGeocoder(fake_server + "/photon/", kind="photon").geocode("Otto-Brenner-Allee 10")
    assert [(h.type, h.city, h.name) for h in hits] == [("address", "Bremen", "Otto-Brenner-Allee 10, 28325 Bremen")]
    assert "bbox" in parse_qs(urlsplit(FakeGeocoderHandler.seen[0]).query)


def test_slow_server_times_out_and_search_falls_back(fake_server: str, gazetteer: GazetteerGeocoder) -> None:
    geo = RemoteGeocoder(fake_server + "/slow", kind="nominatim", timeout=0.3, cooldown=30)
    start = time.perf_counter()
    with pytest.raises(GeocoderError, match=r"no answer within 0\.3 s"):
        geo.geocode("Lindenhofstraße 3")
    assert time.perf_counter() - start < 2.5
    start = time.perf_counter()  # in the cool-down: answered at once, the reason kept
    found = search_places("Lindenhofstraße 3, 28237", gazetteer=gazetteer, geocoders=[geo])
    assert time.perf_counter() - start < 0.2
    assert found.address_search == "failed" and "no answer within 0.3 s" in (found.fallback_reason or "")
    assert [m.key for m in found.matches][:2] == ["28237", "04011441"]  # postcode, then "Lindenhof"


@pytest.mark.parametrize(("path", "reason"), [("/broken", "HTTP 500"), ("/garbage", "unreadable answer")])
def test_failing_server(fake_server: str, path: str, reason: str) -> None:
    with pytest.raises(GeocoderError, match=reason):
        RemoteGeocoder(fake_server + path, kind="nominatim", timeout=1).geocode("Am Wall 1")


def test_unreachable_server_falls_back_to_address_file(address_file: AddressFileGeocoder,
                                                       gazetteer: GazetteerGeocoder) -> None:
    dead = RemoteGeocoder("http://127.0.0.1:9/", kind="photon", timeout=0.5)
    found = search_places("Lindenhofstr 3", gazetteer=gazetteer, geocoders=[dead, address_file])
    assert found.address_search == "ok" and found.address_source == "address_file"
    assert found.matches[0].key == "DEHBTEST00000002" and "photon" in (found.fallback_reason or "")


def test_remote_configuration_is_checked() -> None:
    with pytest.raises(InputError) as exc:
        RemoteGeocoder("ftp://x", kind="google", timeout=0)
    assert all(w in exc.value.message for w in ("http(s) URL", "kind", "timeout"))


def test_ttl_cache_expires_and_evicts() -> None:
    now = [0.0]
    cache = TTLCache(maxsize=2, ttl=10, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("b") == 2
    now[0] = 11
    assert cache.get("b") is None


# ------------------------------------------------------------------------------ combined search


def test_search_without_address_source_says_so(gazetteer: GazetteerGeocoder) -> None:
    found = search_places("Lindenhofstraße 3", gazetteer=gazetteer)
    assert found.address_search == "not configured"
    assert "not configured" in (found.fallback_reason or "") and found.matches[0].key == "04011441"
    plain = search_places("Tenver", gazetteer=gazetteer)
    assert plain.fallback_reason is None and plain.matches[0].key == "04011373"


def test_district_named_like_a_street_stays_first(gazetteer: GazetteerGeocoder,
                                                  address_file: AddressFileGeocoder) -> None:
    found = search_places("Steffensweg", gazetteer=gazetteer, geocoders=[address_file])
    assert found.matches[0].key == "04011433"


def test_empty_query(gazetteer: GazetteerGeocoder) -> None:
    with pytest.raises(InputError):
        search_places("   ", gazetteer=gazetteer)
