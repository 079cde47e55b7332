"""Reader for the boundary shapefiles of GeoInformation Bremen (Ortsteil, Stadtteil, Stadtbezirk).

The two cities' files spell their attributes differently (``sch_ot`` vs ``SCH_OT``; ``sch`` for a Stadtteil
key) and only some carry a ``.cpg``. This module hides that: every layer comes back with the same columns,
``key`` (8-digit string), ``name``, ``source_file`` and ``geometry`` in EPSG:25832. It never repairs anything;
``geo.pipeline.repairs`` does that in named, recorded steps.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import CRSError, DataNotFoundError, InputError

STORAGE_CRS = "EPSG:25832"

#: attribute names (lower case) holding the key and the name, per level
KEY_COLUMNS = {"ortsteil": ("sch_ot",), "stadtteil": ("sch", "sch_st"), "stadtbezirk": ("sch_sb",)}
NAME_COLUMNS = {"ortsteil": ("bez_ot",), "stadtteil": ("bez_st",), "stadtbezirk": ("bez_sb",)}
#: optional parent attributes found in some files
PARENT_COLUMNS = {"sch_st": "stadtteil_key", "sch_sb": "stadtbezirk_key"}


def _read(path: Path, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, encoding=encoding) if encoding else pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL reports corrupt files with many exception types
        raise InputError(f"{path}: cannot read shapefile (truncated or corrupt?): {exc}") from exc


def read_boundary_layer(path: str | Path, level: str) -> gpd.GeoDataFrame:
    """Read one boundary shapefile and normalise its attributes.

    Parameters
    ----------
    path
        The ``.shp`` file; its ``.shx``, ``.dbf`` and ``.prj`` must lie beside it.
    level
        ``"ortsteil"``, ``"stadtteil"`` or ``"stadtbezirk"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``key``, ``name``, optional ``stadtteil_key``/``stadtbezirk_key`` from the file,
        ``source_file`` and ``geometry`` (EPSG:25832).

    Raises
    ------
    DataNotFoundError
        If the ``.shp`` or a sidecar file is missing.
    CRSError
        If the ``.prj`` is missing or names another CRS than EPSG:25832.
    InputError
        If the file cannot be read or lacks the key or name attribute.
    """
    path = Path(path)
    if level not in KEY_COLUMNS:
        raise ValueError(f"level must be one of {sorted(KEY_COLUMNS)}, got {level!r}")
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    for ext in (".shx", ".dbf"):
        if not path.with_suffix(ext).is_file():
            raise DataNotFoundError(f"{path}: sidecar file {path.with_suffix(ext).name} is missing")
    if not path.with_suffix(".prj").is_file():
        raise CRSError(
            f"{path}: shapefile has no .prj, so its coordinate reference system is unknown "
            f"(expected {STORAGE_CRS}, ETRS89 / UTM zone 32N)"
        )
    # Files without .cpg are decoded by GDAL from the dBASE language id (ISO-8859-1 by default). If that
    # produced UTF-8 mojibake ("Ã¼" for "ü"), the file really is UTF-8: read it again as such.
    frame = _read(path, None)
    texts = frame.select_dtypes(include=["object", "string"])
    if texts.apply(lambda col: col.astype("string").str.contains("Ã", regex=False).any()).any():
        frame = _read(path, "UTF-8")
    if frame.crs is None:
        raise CRSError(f"{path}: the .prj could not be interpreted as a coordinate reference system")
    epsg = frame.crs.to_epsg()
    if epsg != 25832:
        raise CRSError(
            f"{path}: coordinate reference system is {frame.crs.name} (EPSG:{epsg}), expected {STORAGE_CRS} "
            "(ETRS89 / UTM zone 32N) as published by GeoInformation Bremen"
        )
    missing = frame.geometry.isna()
    if missing.any():
        raise InputError(
            f"{path}: {int(missing.sum())} of {len(frame)} features have no geometry (truncated or corrupt .shp?)"
        )
    frame.columns = [c if c == "geometry" else c.lower() for c in frame.columns]
    frame = frame.set_geometry("geometry")
    key_col = next((c for c in KEY_COLUMNS[level] if c in frame.columns), None)
    name_col = next((c for c in NAME_COLUMNS[level] if c in frame.columns), None)
    if key_col is None or name_col is None:
        raise InputError(
            f"{path}: not a {level} layer: expected attributes {KEY_COLUMNS[level]} and {NAME_COLUMNS[level]}, "
            f"found {[c for c in frame.columns if c != 'geometry']}"
        )
    out = pd.DataFrame(
        {
            "key": frame[key_col].astype("string").str.strip(),
            "name": frame[name_col].astype("string").str.strip(),
        }
    )
    for src, dst in PARENT_COLUMNS.items():
        if src in frame.columns and src != key_col:
            out[dst] = frame[src].astype("string").str.strip().replace("", pd.NA)
    out["source_file"] = path.name
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=STORAGE_CRS)
