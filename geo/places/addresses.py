"""Address files for offline search: importers and the street/house-number normalisation they share.

Two publisher formats are read into one tidy table (:data:`ADDRESS_COLUMNS`, WGS84 points):

``read_hauskoordinaten``
    The official house coordinates of the survey offices ("Hauskoordinaten", HK-DE layout): ``;``-separated
    text, one row per house number, columns ``NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EAST;NORTH;STN;PLZ;ONM``
    (and more, ignored), coordinates in EPSG:25832. Column names are matched case-insensitively with the
    aliases ``RW``/``X`` for ``EAST`` and ``HW``/``Y`` for ``NORTH``; a file without a header line is read in
    the documented column order. Eastings with the UTM zone prefix (``32487654.3``) and decimal commas are
    accepted. UTF-8 (with or without BOM) is tried first, then Windows-1252 (older deliveries).
``read_osm_addresses``
    OpenStreetMap address points as GeoJSON (an Overpass or ``ogr2ogr`` export): properties ``addr:street``,
    ``addr:housenumber``, ``addr:postcode``, optional ``addr:city``; Point geometries (other geometries are
    represented by their representative point), WGS84 unless the file names another CRS.

Policy for bad input (one policy, written down): problems with the file as a whole (unreadable, missing
columns, no usable row) raise :class:`~geo.errors.InputError` listing every problem at once; single rows
without a street, house number or finite coordinates are dropped and counted in ``frame.attrs["dropped"]``
with up to 20 examples in ``frame.attrs["problems"]``.

Street names are compared in a normal form (:func:`street_key`): lower case, umlauts spelled out, ``ß`` as
``ss``, and ``Str.``/``Strasse``/``Straße`` (also as a word of its own) all become ``strasse``; ``Pl.`` becomes
``platz``; spaces and hyphens are dropped.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem
from geo.places.gazetteer import normalise

#: columns of the tidy address table returned by every importer
ADDRESS_COLUMNS = ["id", "street", "housenumber", "postcode", "city", "lon", "lat"]
#: documented column order of the official house-coordinate files (used when a file has no header line)
HK_COLUMNS = ["NBA", "OI", "QUA", "LAN", "RBZ", "KRS", "GMD", "OTT", "SSS", "HNR", "ADZ", "EAST", "NORTH", "STN",
              "PLZ", "ONM", "ZON", "POT", "PSN", "AUD"]
_HK_ALIASES = {"EAST": ("EAST", "RW", "X", "OSTWERT"), "NORTH": ("NORTH", "HW", "Y", "NORDWERT"),
               "STN": ("STN", "STRASSE", "STRNAME"), "HNR": ("HNR", "HSNR", "HAUSNUMMER"),
               "ADZ": ("ADZ", "HSNRZU", "ZUSATZ"), "PLZ": ("PLZ",), "ONM": ("ONM", "ORT"), "OI": ("OI",)}
_HK_REQUIRED = ("EAST", "NORTH", "STN", "HNR")
_MAX_EXAMPLES = 20

_STREET_SUFFIX = re.compile(r"(str|strasse|strase)\b")
_PLATZ = re.compile(r"\bpl\b")
HOUSENUMBER = re.compile(r"^(\d{1,4})\s*([a-z]?)(?:\s*[-/]\s*\d{1,4}\s*[a-z]?)?$")


def street_key(name: str) -> str:
    """Normal form of a street name for matching ("Lindenhofstr." == "Lindenhof-Straße" == "lindenhofstrasse").

    >>> street_key("Lindenhofstr."), street_key("Lange Straße"), street_key("Am Wall")
    ('lindenhofstrasse', 'langestrasse', 'amwall')
    """
    text = normalise(name)
    text = _STREET_SUFFIX.sub("strasse", text)
    text = _PLATZ.sub("platz", text)
    return text.replace(" ", "")


def housenumber_key(number: str) -> str:
    """House number with its addition in one normal form: ``"3 a"`` / ``"3A"`` -> ``"3a"`` (empty if none)."""
    return re.sub(r"[^0-9a-z]", "", normalise(str(number)))


# ------------------------------------------------------------------------------------------- helpers


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    # cp1252 leaves five bytes undefined: a file with them is neither encoding
    raise InputError(f"{path}: the file is neither UTF-8 nor Windows-1252 text")


def _number(text: Any) -> float:
    s = str(text or "").strip().replace(" ", "")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return math.nan


def _finish(frame: pd.DataFrame, path: Path, dropped: list[str], n_in: int) -> pd.DataFrame:
    if frame.empty:
        raise InputError(f"{path}: no usable address (read {n_in} rows, all dropped)",
                         problems=[Problem(check="row", message=m, file=str(path)) for m in dropped[:_MAX_EXAMPLES]])
    frame = frame[ADDRESS_COLUMNS].reset_index(drop=True)
    frame.attrs["source"] = str(path)
    frame.attrs["dropped"] = n_in - len(frame)
    frame.attrs["problems"] = dropped[:_MAX_EXAMPLES]
    return frame


# ------------------------------------------------------------------------------------------- importers


def read_hauskoordinaten(path: str | os.PathLike[str], *, crs: str = "EPSG:25832") -> pd.DataFrame:
    """Read an official house-coordinate file (HK-DE layout, see the module docstring) into the address table.

    Parameters
    ----------
    path
        The ``;``-separated text file.
    crs
        CRS of ``EAST``/``NORTH`` (keyword-only; the official files use EPSG:25832).

    Returns
    -------
    pandas.DataFrame
        :data:`ADDRESS_COLUMNS`; ``id`` is ``OI`` when present, else ``PLZ-street-number``; ``lon``/``lat`` WGS84.
    """
    from pyproj import Transformer

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: address file not found")
    text = _read_text(path)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: the file is empty")
    head = [c.strip().upper() for c in rows[0]]
    known = {a for aliases in _HK_ALIASES.values() for a in aliases} | set(HK_COLUMNS)
    if sum(h in known for h in head) >= 3:
        body = rows[1:]
    else:  # no header line: the documented order
        head, body = HK_COLUMNS[:max(len(rows[0]), 1)], rows
    index: dict[str, int] = {}
    for name, aliases in _HK_ALIASES.items():
        for alias in aliases:
            if alias in head:
                index[name] = head.index(alias)
                break
    missing = [c for c in _HK_REQUIRED if c not in index]
    if missing:
        raise InputError(f"{path}: not a house-coordinate file: columns {', '.join(missing)} are missing "
                         f"(found {', '.join(head[:20])})",
                         problems=[Problem(check="missing_column", message=f"column {c} (or an alias: "
                                           f"{'/'.join(_HK_ALIASES[c])}) is missing", file=str(path))
                                   for c in missing])

    def col(row: list[str], name: str) -> str:
        i = index.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    out, dropped = [], []
    for n, row in enumerate(body, start=2 if body is not rows else 1):
        street, hnr = col(row, "STN"), col(row, "HNR")
        east, north = _number(col(row, "EAST")), _number(col(row, "NORTH"))
        if east >= 1e7 and crs == "EPSG:25832":  # zone prefix "32" in front of the easting
            east -= 32_000_000
        if not street or not hnr or not (math.isfinite(east) and math.isfinite(north)):
            dropped.append(f"line {n}: street, house number or coordinates missing or unreadable")
            continue
        number = hnr + col(row, "ADZ")
        plz = col(row, "PLZ")
        out.append({"id": col(row, "OI") or f"{plz}-{street_key(street)}-{housenumber_key(number)}",
                    "street": street, "housenumber": number, "postcode": plz.zfill(5) if plz else "",
                    "city": col(row, "ONM"), "x": east, "y": north})
    frame = pd.DataFrame(out, columns=["id", "street", "housenumber", "postcode", "city", "x", "y"])
    if len(frame):
        tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(frame["x"].to_numpy(float), frame["y"].to_numpy(float))
        frame["lon"], frame["lat"] = np.round(lon, 7), np.round(lat, 7)
    else:
        frame["lon"], frame["lat"] = [], []
    return _finish(frame, path, dropped, len(body))


def read_osm_addresses(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read OpenStreetMap address points (GeoJSON with ``addr:*`` properties) into the address table."""
    import shapely
    from pyproj import Transformer

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: address file not found")
    try:
        doc = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise InputError(f"{path}: expected a GeoJSON FeatureCollection with addr:street, addr:housenumber")
    crs_member = doc.get("crs") if isinstance(doc.get("crs"), dict) else {}
    crs_name = (crs_member.get("properties") or {}).get("name")
    out, dropped = [], []
    for n, f in enumerate(feats):
        props = (f or {}).get("properties") or {}
        street, hnr = str(props.get("addr:street") or "").strip(), str(props.get("addr:housenumber") or "").strip()
        geom = (f or {}).get("geometry")
        x = y = math.nan
        if isinstance(geom, dict):
            try:
                g = shapely.geometry.shape(geom)
                pt = g if g.geom_type == "Point" else g.representative_point()
                x, y = float(pt.x), float(pt.y)
            except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
                pass
        if not street or not hnr or not (math.isfinite(x) and math.isfinite(y)):
            dropped.append(f"feature {n}: addr:street, addr:housenumber or a point geometry missing")
            continue
        plz = str(props.get("addr:postcode") or "").strip()
        osm = props.get("@id") or props.get("osm_id") or (f or {}).get("id")
        out.append({"id": str(osm) if osm else f"{plz}-{street_key(street)}-{housenumber_key(hnr)}",
                    "street": street, "housenumber": hnr, "postcode": plz, "city": str(props.get("addr:city") or ""),
                    "lon": x, "lat": y})
    frame = pd.DataFrame(out, columns=ADDRESS_COLUMNS)
    if len(frame) and crs_name and "CRS84" not in crs_name.upper() and not crs_name.upper().endswith(":4326"):
        tr = Transformer.from_crs(crs_name, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
        frame["lon"], frame["lat"] = lon, lat
    frame["lon"], frame["lat"] = frame["lon"].astype(float).round(7), frame["lat"].astype(float).round(7)
    return _finish(frame, path, dropped, len(feats))


def read_address_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an address file by its suffix: ``.geojson``/``.json`` OpenStreetMap points, else house coordinates."""
    p = Path(path)
    if p.suffix.lower() in (".geojson", ".json"):
        return read_osm_addresses(p)
    return read_hauskoordinaten(p)
