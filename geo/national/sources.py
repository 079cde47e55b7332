"""Readers for the national files as they are published (one function per publisher format).

Every reader takes a path, checks that the file exists and has the columns it needs, and returns a tidy frame
with string keys of their official length (Land 2, Kreis 5, Gemeinde 8, Gemeindeverband 9 digits). A missing
file raises :class:`~geo.errors.DataNotFoundError`, a file that cannot be read or lacks a column raises
:class:`~geo.errors.InputError`; both name the file. Readers never repair: :mod:`geo.national.territory` and
:mod:`geo.national.build` do that in recorded steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.errors import CRSError, DataNotFoundError, InputError, Problem
from geo.national import KEY_LENGTHS, NATIONAL_CRS

#: VG5000 layer file stem -> (level, key attribute)
VG5000_LAYERS = {"GEM": ("gemeinde", "AGS"), "VWG": ("gemeindeverband", "ARS"), "KRS": ("kreis", "AGS"),
                 "LAN": ("land", "AGS")}
#: VG "Geofaktor" values kept: 4 = land with administrative structure, 9 = land plus inland water with structure
#: (the VG5000 "Ebenen" product). 8 and 1-3 are sea, Bodensee and water areas without structure.
GF_KEEP = frozenset({4, 9})
GF_KNOWN = frozenset({1, 2, 3, 4, 8, 9})
VG250EW_KEY = {"gemeinde": "AGS", "gemeindeverband": "ARS", "kreis": "AGS"}
INKAR_LEVELS = {"Gemeinde": "gemeinde", "Gemeindeverband": "gemeindeverband", "Kreis": "kreis", "Land": "land",
                "Bund": "bund"}
#: GISD input ``aggregat`` -> level of the key
GISD_AGGREGAT_LEVEL = {
    "Gemeinden": "gemeinde",
    "Kreise": "kreis",
    "Landkreis": "kreis",
    "krsfr. Stadt": "kreis",
    "Gemeindeverbände (Verwaltungsgemeinschaft)": "gemeindeverband",
    "Gemeindeverbände 2022": "gemeindeverband",
    # 8-digit INKAR Gemeindeverband code of release 2022 (an older territorial status): kept apart
    "Gemeindeverband": "gemeindeverband_inkar2022",
    "verbandsfreie Gemeinde": "gemeindeverband_inkar2022",
    "gemeindefreies Gebiet": "gemeindeverband_inkar2022",
}
#: GISD input file -> variable name used by the RKI script (file name without prefix and extension)
GISD_VARIABLES = {
    "A_Arbeitslosigkeit.xls": "Arbeitslosigkeit",
    "A_ErwerbsfaehigeBevoelkerung.xls": "ErwerbsfaehigeBevoelkerung",
    "A_Beschaeftigtenquote_2022v11.xlsx": "Beschaeftigtenquote_gvb2022",
    "E_Einkommensteuer.xls": "Einkommensteuer",
    "IRIS_Einkommenssteuer_Gemeindeverbaende_2022.csv": "Einkommensteuer_IRIS",
    "A_ArbeitslosigkeitKreis.xls": "ArbeitslosigkeitKreis",
    "A_ErwerbsfaehigeBevoelkerungKreis.xls": "ErwerbsfaehigeBevoelkerungKreis",
    "A_BeschaeftigtenquoteKreis.xls": "BeschaeftigtenquoteKreis",
    "A_Bruttoverdienst.xls": "Bruttoverdienst",
    "E_Haushaltseinkommen.xls": "Haushaltseinkommen",
    "E_Schuldnerquote.xls": "Schuldnerquote",
    "B_SchulabgaengerohneAbschluss.xls": "SchulabgaengerohneAbschluss",
    "B_SVBeschaeftigte.xls": "SVBeschaeftigte",
    "B_BeschaeftigtemitakadAbschluss.xls": "BeschaeftigtemitakadAbschluss",
    "B_BeschaeftigteohneAbschluss.xls": "BeschaeftigteohneAbschluss",
    "B_BeschaeftigtemitakadAbschluss-pre2012.xlsx": "BeschaeftigtemitakadAbschluss-pre2012",
    "B_BeschaeftigteohneAbschluss-pre2012.xlsx": "BeschaeftigteohneAbschluss-pre2012",
}


try:
    import pyarrow  # noqa: F401

    _CSV_ENGINE = "pyarrow"
except ImportError:  # pragma: no cover - pyarrow is a dependency of the Dask engine, optional for reading
    _CSV_ENGINE = "c"


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------
def _require_file(path: Path) -> None:
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")


def _read_csv(path: str | Path, required: Iterable[str], *, dtype: object = str, what: str) -> pd.DataFrame:
    """Read a CSV (optionally gzip) with every column as text; check the required columns."""
    path = Path(path)
    _require_file(path)
    try:  # the pyarrow parser is about five times faster on the national long tables
        frame = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], engine=_CSV_ENGINE)
    except Exception as exc:  # pyarrow, zlib and the csv module report broken files with many types
        raise InputError(f"{path}: cannot read as {what} CSV: {exc}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: not a {what} table: column(s) {', '.join(missing)} missing (it has: "
                         f"{', '.join(map(str, frame.columns[:20]))})")
    if frame.empty:
        raise InputError(f"{path}: {what} table has no rows")
    return frame


def _numeric(frame: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = True) -> pd.Series:
    """Convert a text column to float; every non-numeric cell is a problem naming the file."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if not allow_missing:
        bad |= raw.isna()
    if bad.any():
        examples = raw[bad].astype(str).head(5).tolist()
        raise InputError(f"{path}: column {column!r} has {int(bad.sum())} non-numeric value(s), e.g. {examples}",
                         problems=[Problem("non_numeric", f"{column} = {v!r}", file=str(path)) for v in examples])
    return values.astype(float)


def check_key_format(keys: pd.Series, level: str, *, file: str | None = None) -> list[Problem]:
    """Keys of ``level`` must be digit strings of the official length (Land 2, Kreis 5, Gemeinde 8, GVB 9)."""
    length = KEY_LENGTHS[level]
    text = keys.astype("string")
    bad = ~text.str.fullmatch(rf"\d{{{length}}}").fillna(False)
    return [Problem("key_format", f"{level}: key {k!r} is not a {length}-digit string", file=file, key=str(k))
            for k in keys[bad].head(50)]


def check_unique(keys: pd.Series, level: str, *, file: str | None = None) -> list[Problem]:
    """A ``duplicate_key`` problem for every key of ``level`` that occurs more than once."""
    dup = keys[keys.duplicated(keep=False)]
    return [Problem("duplicate_key", f"{level}: key {k} occurs {n} times", file=file, key=str(k))
            for k, n in dup.value_counts().items()]


def _raise_if(problems: list[Problem], path: Path, what: str) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(f"{path}: {len(errors)} problem(s) in the {what}: {errors[0].message}", problems=errors)


# ---------------------------------------------------------------------------------------------------------
# BKG VG5000 (polygons) and VG250-EW (attributes)
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Vg5000Layer:
    """One VG5000 layer as read: the kept polygons and the parts dropped by the Geofaktor rule."""

    frame: gpd.GeoDataFrame
    dropped: pd.DataFrame


def read_vg5000(path: str | Path) -> Vg5000Layer:
    """Read one BKG VG5000 shapefile (``VG5000_{GEM,VWG,KRS,LAN}.shp``) and reproject it to EPSG:3035.

    Parameters
    ----------
    path
        The ``.shp`` file; ``.shx``, ``.dbf`` and ``.prj`` must lie beside it. The level follows from the file
        name (``GEM`` Gemeinden, ``VWG`` Gemeindeverbände, ``KRS`` Kreise, ``LAN`` Länder).

    Returns
    -------
    Vg5000Layer
        ``frame``: columns ``key`` (string of the level's length), ``ars``, ``name``, ``bez``, ``gf``, ``wsk``,
        ``source_file``, ``geometry`` (EPSG:3035), only parts with Geofaktor 4 or 9 (units with administrative
        structure). ``dropped``: key, name and GF of the parts left out (sea and Bodensee areas, GF 8).

    Raises
    ------
    DataNotFoundError
        The ``.shp`` or a sidecar is missing.
    CRSError
        No ``.prj`` or an uninterpretable one.
    InputError
        Unreadable file, unknown layer name, missing attribute, unknown GF value or malformed keys.
    """
    path = Path(path)
    stem = path.stem.upper().rsplit("_", 1)[-1]
    if stem not in VG5000_LAYERS:
        raise InputError(f"{path}: not a VG5000 layer (expected VG5000_GEM/VWG/KRS/LAN.shp)")
    level, key_col = VG5000_LAYERS[stem]
    _require_file(path)
    for ext in (".shx", ".dbf"):
        if not path.with_suffix(ext).is_file():
            raise DataNotFoundError(f"{path}: sidecar file {path.with_suffix(ext).name} is missing")
    if not path.with_suffix(".prj").is_file():
        raise CRSError(f"{path}: shapefile has no .prj; VG5000 is published in EPSG:31467 (DHDN / GK zone 3)")
    try:
        raw = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL reports corrupt files with many exception types
        raise InputError(f"{path}: cannot read shapefile (truncated or corrupt?): {exc}") from exc
    if raw.crs is None:
        raise CRSError(f"{path}: the .prj could not be interpreted as a coordinate reference system")
    missing = [c for c in (key_col, "ARS", "GEN", "BEZ", "GF") if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: VG5000 attribute(s) {', '.join(missing)} missing")
    gf = pd.to_numeric(raw["GF"], errors="coerce")
    unknown = sorted(set(gf.dropna().astype(int)) - GF_KNOWN) + (["empty"] if gf.isna().any() else [])
    if unknown:
        raise InputError(f"{path}: unknown Geofaktor (GF) value(s) {unknown}; known: {sorted(GF_KNOWN)}")
    key = raw[key_col].astype("string").str.strip()
    if level == "gemeindeverband":
        key = raw["ARS"].astype("string").str.strip().str.slice(0, 9)
    keep = gf.isin(GF_KEEP).to_numpy()
    frame = gpd.GeoDataFrame(
        {
            "key": key.to_numpy(dtype=object),
            "ars": raw["ARS"].astype("string").to_numpy(dtype=object),
            "name": raw["GEN"].astype("string").to_numpy(dtype=object),
            "bez": raw["BEZ"].astype("string").to_numpy(dtype=object),
            "gf": gf.astype(int).to_numpy(),
            "wsk": raw["WSK"].astype("string").to_numpy(dtype=object) if "WSK" in raw else None,
            "source_file": path.name,
        },
        geometry=raw.geometry.values,
        crs=raw.crs,
    )
    dropped = pd.DataFrame(frame.loc[~keep, ["key", "name", "gf"]]).reset_index(drop=True)
    frame = frame.loc[keep].reset_index(drop=True)
    problems = check_key_format(frame["key"], level, file=str(path))
    _raise_if(problems, path, f"VG5000 {level} keys")
    frame = frame.to_crs(NATIONAL_CRS)
    return Vg5000Layer(frame=frame, dropped=dropped)


def read_vg250ew(path: str | Path, level: str) -> pd.DataFrame:
    """Read a VG250-EW attribute table (``vg250ew_{gem,vwg,krs}_attribute.csv``).

    Returns
    -------
    pandas.DataFrame
        ``key`` (Gemeinde ``AGS`` 8, Gemeindeverband ``ARS`` 9, Kreis ``AGS`` 5 digits), ``ars``, ``name``,
        ``bez``, ``population`` (``EWZ``, residents on the reference date), ``area_km2_official`` (``KFL``).

    Raises
    ------
    DataNotFoundError, InputError
        Missing file; missing column, non-numeric or negative population/area, malformed or duplicate key.
    """
    path = Path(path)
    if level not in VG250EW_KEY:
        raise ValueError(f"level must be one of {sorted(VG250EW_KEY)}, got {level!r}")
    key_col = VG250EW_KEY[level]
    raw = _read_csv(path, [key_col, "ARS", "GEN", "BEZ", "EWZ", "KFL"], what="VG250-EW attribute")
    out = pd.DataFrame({
        "key": raw[key_col].str.strip(),
        "ars": raw["ARS"].str.strip(),
        "name": raw["GEN"],
        "bez": raw["BEZ"],
        "population": _numeric(raw, "EWZ", path, allow_missing=False),
        "area_km2_official": _numeric(raw, "KFL", path, allow_missing=False),
    })
    problems = check_key_format(out["key"], level, file=str(path)) + check_unique(out["key"], level, file=str(path))
    for col in ("population", "area_km2_official"):
        for k in out.loc[out[col] < 0, "key"].head(20):
            problems.append(Problem("negative_count", f"{level} {k}: negative {col}", file=str(path), key=str(k)))
    _raise_if(problems, path, "VG250-EW attributes")
    return out


# ---------------------------------------------------------------------------------------------------------
# INKAR extract
# ---------------------------------------------------------------------------------------------------------
def read_inkar(path: str | Path, *, levels: Iterable[str] = ("gemeinde", "gemeindeverband", "kreis", "land"),
               indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the INKAR 2024 extract (long form, ``inkar2024_auszug_long.csv.gz``).

    Returns
    -------
    pandas.DataFrame
        ``level``, ``key`` (``schluessel``: Kreis 5 digits, Gemeinde 8, GVB 9, Land 2), ``name``, ``year`` (int),
        ``bereich``, ``kuerzel`` (INKAR indicator code), ``value`` (float); rows of other levels dropped.
    """
    path = Path(path)
    raw = _read_csv(path, ["ebene", "schluessel", "name", "zeitbezug", "bereich", "kuerzel", "wert"],
                    dtype={"ebene": "category", "schluessel": str, "kennziffer": str, "name": str,
                           "zeitbezug": "int64", "bereich": "category", "kuerzel": str, "wert": "float64"},
                    what="INKAR long")
    unknown = sorted(set(raw["ebene"].dropna()) - set(INKAR_LEVELS))
    if unknown:
        raise InputError(f"{path}: unknown INKAR level(s) (ebene) {unknown}")
    level = raw["ebene"].cat.rename_categories({c: INKAR_LEVELS[c] for c in raw["ebene"].cat.categories})
    keep = level.isin(list(levels)).to_numpy()
    if indicators is not None:
        keep &= raw["kuerzel"].isin(list(indicators)).to_numpy()
    raw = raw.loc[keep].reset_index(drop=True)
    out = pd.DataFrame({
        "level": level[keep].astype(str).reset_index(drop=True),
        "key": raw["schluessel"].str.strip(),
        "name": raw["name"],
        "year": raw["zeitbezug"].astype(int),
        "bereich": raw["bereich"],
        "kuerzel": raw["kuerzel"],
        "value": raw["wert"].astype(float),
    })
    problems: list[Problem] = []
    for level, part in out[["level", "key"]].drop_duplicates().groupby("level"):
        problems += check_key_format(part["key"], str(level), file=str(path))
    dup = out.duplicated(["level", "key", "year", "kuerzel"])
    if dup.any():
        r = out[dup].iloc[0]
        problems.append(Problem("duplicate_row", f"{int(dup.sum())} duplicate (level, key, year, indicator) rows, "
                                f"e.g. {r['level']} {r['key']} {r['year']} {r['kuerzel']}", file=str(path)))
    _raise_if(problems, path, "INKAR extract")
    return out


def read_inkar_metadata(path: str | Path) -> pd.DataFrame:
    """INKAR indicator metadata (``inkar2024_auszug_indikatoren.csv``): kuerzel, kurzname, name, algorithmus."""
    return _read_csv(path, ["kuerzel", "kurzname", "name"], what="INKAR indicator metadata")


# ---------------------------------------------------------------------------------------------------------
# GISD (RKI)
# ---------------------------------------------------------------------------------------------------------
def read_gisd_inputs(path: str | Path) -> pd.DataFrame:
    """Read the GISD raw input indicators (``gisd_input_indicators_long.csv.gz``).

    Returns
    -------
    pandas.DataFrame
        ``variable`` (the RKI script's variable name, e.g. ``Arbeitslosigkeit``), ``source_file``, ``level``
        (``gemeinde``/``gemeindeverband``/``kreis``, or ``gemeindeverband_inkar2022`` for the 8-digit INKAR
        code of release 2022), ``key``, ``year`` (int), ``value`` (float).
    """
    path = Path(path)
    raw = _read_csv(path, ["source_file", "indicator", "aggregat", "kennziffer", "year", "value"],
                    what="GISD input indicators")
    unknown_files = sorted(set(raw["source_file"]) - set(GISD_VARIABLES))
    unknown_agg = sorted(set(raw["aggregat"].dropna()) - set(GISD_AGGREGAT_LEVEL))
    if unknown_files or unknown_agg:
        raise InputError(f"{path}: unknown source file(s) {unknown_files} / aggregat(s) {unknown_agg}")
    year = pd.to_numeric(raw["year"], errors="coerce")
    if year.isna().any():
        raise InputError(f"{path}: {int(year.isna().sum())} row(s) without a numeric year")
    out = pd.DataFrame({
        "variable": raw["source_file"].map(GISD_VARIABLES).to_numpy(dtype=object),
        "source_file": raw["source_file"].to_numpy(dtype=object),
        "level": raw["aggregat"].map(GISD_AGGREGAT_LEVEL).to_numpy(dtype=object),
        "key": raw["kennziffer"].str.strip().to_numpy(dtype=object),
        "year": year.astype(int).to_numpy(),
        "value": _numeric(raw, "value", path).to_numpy(),
    })
    problems: list[Problem] = []
    for level, part in out[out["level"] != "gemeindeverband_inkar2022"].groupby("level"):
        problems += check_key_format(part["key"].drop_duplicates(), str(level), file=str(path))
    _raise_if(problems, path, "GISD inputs")
    return out


GISD_RELEASE_KEYS = {"GISD_Bund_Kreis.csv": ("kreis_id", "kreis"), "GISD_Bund_Raumordnungsregion.csv":
                     ("ror_id", None), "GISD_Bund_NUTS2.csv": ("nuts_2_id", None)}


def read_gisd_release(path: str | Path) -> pd.DataFrame:
    """Read a GISD release file of the Bund frame (``GISD_Bund_{Kreis,Raumordnungsregion,NUTS2}.csv``).

    Returns ``key``, ``name``, ``year`` (int), ``gisd_score`` (0-1, higher = more deprived), ``gisd_5``,
    ``gisd_10``, ``gisd_k``.
    """
    path = Path(path)
    key_col, level = GISD_RELEASE_KEYS.get(path.name, ("kreis_id", "kreis"))
    raw = _read_csv(path, [key_col, "year", "gisd_score", "gisd_5", "gisd_10", "gisd_k"], what="GISD release")
    name_col = next((c for c in raw.columns if c.endswith("_name")), None)
    out = pd.DataFrame({"key": raw[key_col].str.strip(), "name": raw[name_col] if name_col else "",
                        "year": _numeric(raw, "year", path, allow_missing=False).astype(int)})
    for col in ("gisd_score", "gisd_5", "gisd_10", "gisd_k"):
        out[col] = _numeric(raw, col, path)
    problems = check_key_format(out["key"], level, file=str(path)) if level else []
    problems += [Problem("duplicate_row", f"key {k} year {y} occurs more than once", file=str(path), key=str(k))
                 for k, y in out.loc[out.duplicated(["key", "year"]), ["key", "year"]].head(20).itertuples(
                     index=False)]
    _raise_if(problems, path, "GISD release")
    return out


def read_gisd_land_frame(path: str | Path) -> pd.DataFrame:
    """Read the stacked per-Land GISD file (normalised within each Land: not comparable with the Bund frame)."""
    path = Path(path)
    raw = _read_csv(path, ["bezugsrahmen_land", "ebene", "id", "name", "year", "gisd_score"],
                    what="GISD Bundesland")
    return pd.DataFrame({"land_frame": raw["bezugsrahmen_land"],
                         "level": raw["ebene"].map({"Kreis": "kreis", "Gemeindeverband": "gemeindeverband"}),
                         "key": raw["id"].str.strip(), "name": raw["name"],
                         "year": _numeric(raw, "year", path, allow_missing=False).astype(int),
                         "gisd_score": _numeric(raw, "gisd_score", path)})


def read_gisd_revision_2018(path: str | Path) -> pd.DataFrame:
    """Read a stacked GISD revision 2018 file (Bund frame, 1998-2014, Gebietsstand 31.12.2014)."""
    path = Path(path)
    raw = _read_csv(path, ["year", "GISD_Score", "GISD_5"], what="GISD revision 2018")
    key_col = next((c for c in ("kreis_id", "ags", "gvb_kennziffer_padded") if c in raw.columns), None)
    if key_col is None:
        raise InputError(f"{path}: no key column (kreis_id, ags or gvb_kennziffer_padded)")
    return pd.DataFrame({"key": raw[key_col].str.strip(),
                         "year": _numeric(raw, "year", path, allow_missing=False).astype(int),
                         "population_2014": _numeric(raw, "Bevölkerung", path) if "Bevölkerung" in raw else np.nan,
                         "gisd_score": _numeric(raw, "GISD_Score", path),
                         "gisd_5": _numeric(raw, "GISD_5", path)})


# ---------------------------------------------------------------------------------------------------------
# BBSR Raumgliederung 2015
# ---------------------------------------------------------------------------------------------------------
BBSR_KEYS = {"kreis": ("kreis_id", ["ktyp4", "ktyp4_label", "slraum", "slraum_label"]),
             "gemeindeverband": ("gvb_ars9", ["sgtyp", "sgtyp_label"]),
             "gemeinde": ("ags", ["gvb_ars9"])}


def read_bbsr(path: str | Path, level: str) -> pd.DataFrame:
    """Read a BBSR reference table of 2015 (``bbsr_referenz_2015_{kreise,gemeindeverbaende,gemeinden}.csv``).

    Returns ``key`` and the type columns: Kreise ``ktyp4`` (siedlungsstruktureller Kreistyp 1-4) and ``slraum``
    (1 städtisch, 2 ländlich) with labels; Gemeindeverbände ``sgtyp`` (Stadt- und Gemeindetyp 10-50).
    Territorial status 31.12.2015: keys that changed since are matched and reported by the caller.
    """
    path = Path(path)
    if level not in BBSR_KEYS:
        raise ValueError(f"level must be one of {sorted(BBSR_KEYS)}, got {level!r}")
    key_col, cols = BBSR_KEYS[level]
    raw = _read_csv(path, [key_col, *cols], what=f"BBSR reference ({level})")
    out = raw[[key_col, *cols]].rename(columns={key_col: "key"}).copy()
    out["key"] = out["key"].str.strip()
    problems = check_key_format(out["key"], level, file=str(path)) + check_unique(out["key"], level, file=str(path))
    _raise_if(problems, path, "BBSR reference")
    return out.reset_index(drop=True)
