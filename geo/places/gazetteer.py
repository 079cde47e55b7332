"""Gazetteer: district names with their spelling variants and postcode areas with their district shares.

Planners ask for "Gröpelingen", "groepelingen", "St. Magnus" or "28239". The gazetteer holds one row per place
(district at any level, postcode) with a representative point, and the normalised spellings a search can match.
Postcode areas are cut with the Ortsteile in EPSG:25832: each (postcode, Ortsteil) pair gets its share of the
postcode's area and an estimated share of its residents (the Ortsteil's residents spread evenly over its area:
the finest estimate the published data allow).
"""

from __future__ import annotations

import re
import unicodedata

import geopandas as gpd
import pandas as pd

from geo.errors import InputError

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e"})
PLZ_PATTERN = re.compile(r"^\d{5}$")


def normalise(text: str) -> str:
    """Lower case, umlauts spelled out (ä -> ae, ß -> ss), punctuation and hyphens as single spaces."""
    text = unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)
    text = re.sub(r"\bsankt\b|\bst\b\.?", "st ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def name_variants(name: str) -> list[str]:
    """Spellings a user may type for ``name``: umlauts as ae/oe/ue or plain vowels, ss/ß, St./St/Sankt, hyphens.

    >>> name_variants("St.Magnus")[:2]
    ['st magnus', 'stmagnus']
    """
    base = normalise(name)
    plain = unicodedata.normalize("NFKD", name.lower().replace("ß", "ss"))
    plain = normalise("".join(c for c in plain if not unicodedata.combining(c)))
    out = [base, base.replace(" ", ""), plain, plain.replace(" ", ""), base.replace("st ", "sankt ")]
    return list(dict.fromkeys(v for v in out if v))


def read_postcode_areas(path: str) -> gpd.GeoDataFrame:
    """Postcode polygons as published (GeoJSON, EPSG:4326, ``plz_code``), one row per postcode, EPSG:25832."""
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # GDAL reports malformed GeoJSON with several exception types
        raise InputError(f"{path}: cannot read postcode areas: {exc}") from exc
    column = next((c for c in ("plz_code", "plz") if c in frame.columns), None)
    if column is None or frame.crs is None:
        raise InputError(f"{path}: expected a GeoJSON with a CRS and a column plz_code or plz")
    frame = frame.rename(columns={column: "plz"})[["plz", "geometry"]]
    frame["plz"] = frame["plz"].astype("string").str.zfill(5)
    bad = frame.loc[~frame["plz"].str.match(PLZ_PATTERN.pattern), "plz"]
    if len(bad):
        raise InputError(f"{path}: postcodes {sorted(bad)[:5]} are not 5-digit strings")
    frame = frame.to_crs("EPSG:25832").dissolve(by="plz", as_index=False)
    frame["area_km2"] = frame.geometry.area / 1e6
    return frame


def postcode_shares(postcodes: gpd.GeoDataFrame, ortsteile: gpd.GeoDataFrame,
                    population: pd.Series) -> pd.DataFrame:
    """Share of each postcode in every Ortsteil it touches, by area and by estimated residents.

    Parameters
    ----------
    postcodes
        One polygon per ``plz`` (EPSG:25832).
    ortsteile
        Ortsteil polygons with ``key`` and ``name`` (EPSG:25832).
    population
        Residents per Ortsteil key (latest year); missing for Ortsteile without statistics.

    Returns
    -------
    pandas.DataFrame
        ``plz``, ``key``, ``name``, ``overlap_km2``, ``share_area`` (of the postcode's area),
        ``residents_estimate`` and ``share_residents`` (NaN where a touched Ortsteil has no statistics).
        Slivers under 1,000 m² are dropped.
    """
    pieces = gpd.overlay(postcodes[["plz", "geometry"]], ortsteile[["key", "name", "geometry"]],
                         how="intersection", keep_geom_type=True)
    pieces["overlap_km2"] = pieces.geometry.area / 1e6
    pieces = pieces[pieces["overlap_km2"] >= 0.001].copy()
    ot_area = ortsteile.set_index("key").geometry.area / 1e6
    pieces["share_area"] = pieces["overlap_km2"] / pieces["plz"].map(postcodes.set_index("plz")["area_km2"])
    pieces["residents_estimate"] = pieces["key"].map(population) * pieces["overlap_km2"] / pieces["key"].map(ot_area)
    total = pieces.groupby("plz")["residents_estimate"].transform(lambda s: s.sum(min_count=len(s)))
    pieces["share_residents"] = pieces["residents_estimate"] / total
    out = pd.DataFrame(pieces.drop(columns="geometry"))
    return out.sort_values(["plz", "share_area"], ascending=[True, False]).reset_index(drop=True)


def build_gazetteer(layers: dict[str, gpd.GeoDataFrame], postcodes: gpd.GeoDataFrame | None,
                    shares: pd.DataFrame | None) -> pd.DataFrame:
    """One row per place: ``type``, ``key``, ``name``, ``city``, ``variants`` (";"-joined), ``lon``, ``lat``."""
    rows = []
    for layer, frame in layers.items():
        points = frame.geometry.representative_point().to_crs("EPSG:4326")
        for key, name, city, pt in zip(frame["key"], frame["name"], frame["city"], points, strict=True):
            rows.append({"type": layer.rstrip("e") if layer != "stadtbezirke" else "stadtbezirk", "key": key,
                         "name": name, "city": city, "variants": ";".join(name_variants(name)),
                         "lon": round(pt.x, 6), "lat": round(pt.y, 6)})
    if postcodes is not None:
        points = postcodes.geometry.representative_point().to_crs("EPSG:4326")
        main = shares.sort_values("share_area", ascending=False).drop_duplicates("plz").set_index("plz") \
            if shares is not None and len(shares) else pd.DataFrame()
        for plz, pt in zip(postcodes["plz"], points, strict=True):
            city = "Bremerhaven" if plz.startswith("27") else "Bremen"
            label = f"{plz} {city}"
            if plz in main.index:
                label += f" ({main.at[plz, 'name']} …)"
            rows.append({"type": "postcode", "key": plz, "name": label, "city": city, "variants": plz,
                         "lon": round(pt.x, 6), "lat": round(pt.y, 6)})
    return pd.DataFrame(rows)
