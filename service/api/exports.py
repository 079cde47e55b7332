"""Downloads (framework-free): layers and classifications as GeoPackage, GeoJSON and CSV.

CSV comes in two dialects: ``utf-8`` (comma, decimal point, no BOM, booleans ``True``/``False``) and
``excel-de`` (semicolon, decimal comma, UTF-8 with BOM, so German Excel opens it with umlauts intact; booleans
``ja``/``nein``, whole counts without ``,0``). Both end rows with CRLF (RFC 4180), so
a cell holding a bare CR or LF is quoted. Every CSV the service writes goes through :func:`to_csv`, which
neutralises spreadsheet formulas (:func:`neutralise_cell`).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.classify import ClassificationResult
from geo.errors import InputError, UnknownKeyError
from geo.pipeline.gpkg import write_layers, write_styles
from geo.pipeline.snapshot import Snapshot

FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
           "csv": "text/csv; charset=utf-8"}
DIALECTS = ("utf-8", "excel-de")
LAYERS = ("ortsteile", "stadtteile", "stadtbezirke", "designations", "indicators", "classification")


def check_format(fmt: str, dialect: str | None) -> str:
    """The CSV dialect to write (``utf-8`` unless given), after checking format and dialect.

    Raises
    ------
    UnknownKeyError
        For a format not in :data:`FORMATS`.
    InputError
        For an unknown dialect, or a dialect given for a format other than CSV.
    """
    if fmt not in FORMATS:
        raise UnknownKeyError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    d = dialect or "utf-8"
    if d not in DIALECTS:
        raise InputError(f"unknown CSV dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    if fmt != "csv" and dialect:
        raise InputError("the dialect parameter applies to CSV downloads only")
    return d


def layer_frame(snapshot: Snapshot, name: str) -> pd.DataFrame:
    """A layer (GeoDataFrame) or table (DataFrame) of the snapshot."""
    if name in snapshot.layers:
        return snapshot.layers[name]
    if name == "indicators":
        return snapshot.indicators
    if name == "designations":
        des = snapshot.designations
        geoms = snapshot.layers["ortsteile"].set_index("key").geometry
        extra = pd.concat([snapshot.layers["stadtteile"].set_index("key").geometry,
                           snapshot.layers["stadtbezirke"].set_index("key").geometry])
        allg = pd.concat([geoms, extra])
        allg = allg[~allg.index.duplicated()]
        if des.empty:
            return gpd.GeoDataFrame({"key": []}, geometry=[], crs="EPSG:25832")
        keys = des["key"].astype("string")
        return gpd.GeoDataFrame(des.reset_index(drop=True),
                                geometry=[allg.get(k) if isinstance(k, str) else None for k in keys],
                                crs="EPSG:25832")
    raise UnknownKeyError(f"unknown layer {name!r}; one of {', '.join(LAYERS)}")


def _indicator_columns(definition: dict[str, Any]) -> list[str]:
    """The table columns the indicators of a definition (and of each group basis) read, in order."""
    out: list[str] = []
    for part in (definition, *((definition.get("group_bases") or {}).values())):
        for ind in part.get("indicators") or []:
            sh = ind.get("shrinkage") or {}
            col = str(ind.get("column") or ind.get("id"))
            out.append(col)
            out += [c for c in (sh.get("numerator"), sh.get("denominator")) if c]
    return list(dict.fromkeys(out))


def classification_frame(snapshot: Snapshot, result: ClassificationResult,
                         wide: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The classification table (categories joined by ``;``) with the Ortsteil geometries.

    For every indicator the definition reads, the area's value and the year it is from (``<indicator>__year``)
    are joined too.
    """
    table = result.to_csv_frame()
    table = table[~table["is_extra"]].drop(columns=["is_extra"])
    wide = snapshot.wide("ortsteil") if wide is None else wide
    cols = [c for c in _indicator_columns(result.definition) if c in wide.columns and c not in table.columns]
    values = pd.DataFrame(wide[["key"]]).assign(key=wide["key"].astype(str))
    for col in cols:
        values[col] = wide[col].to_numpy()
        if f"{col}__year" in wide.columns:
            values[f"{col}__year"] = wide[f"{col}__year"].to_numpy()
    table = table.merge(values, on="key", how="left")
    geo = snapshot.layers["ortsteile"][["key", "geometry"]]
    out = geo.merge(table, on="key", how="right")
    out.insert(0, "definition_hash", result.definition_hash)
    out.insert(0, "definition_id", result.definition_id)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:25832")


#: a text cell starting with one of these is read as a formula by spreadsheet programs (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: a plain number written as text ("-5", "-1.5", "-1,5", "+2e3"): read as a number, never as a formula
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """A text starting like a formula gets a leading single quote (shown as text); other values unchanged.

    Only ``str`` values are touched, and of those not a plain number such as ``-5``: numbers (negative ones
    too, whether stored as numbers or as their text) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to every text cell and column name."""
    out = pd.DataFrame(frame).copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


#: units of indicators that count things (written without decimals)
COUNT_UNITS = ("persons", "dwellings")


def year_base(col: str) -> str | None:
    """The indicator a year column belongs to (``sgb2_u65_pct`` for ``sgb2_u65_pct_year`` or ``…__year``)."""
    from geo.pipeline.indicators import REGISTRY

    for suffix in ("__year", "_year"):
        if col.endswith(suffix) and col[: -len(suffix)] in REGISTRY:
            return col[: -len(suffix)]
    return None


def is_count(col: str) -> bool:
    """A column of counts or years: residents, dwellings, ``year`` and the year of each indicator value."""
    from geo.pipeline.indicators import REGISTRY

    ind = REGISTRY.get(col)
    return col == "year" or year_base(col) is not None or (ind is not None and ind.unit in COUNT_UNITS)


def german_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``excel-de`` cells: booleans as ``ja``/``nein`` and whole counts without a decimal part.

    ``3892``, not ``3892,0``; a count column with a fraction (an estimate) keeps its decimals.
    """
    from maps.i18n import t

    words = {True: t("value.true", "de"), False: t("value.false", "de")}
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series.dtype) or (
                series.dtype == object and series.map(lambda v: isinstance(v, bool) or v is None).all()
                and series.map(lambda v: isinstance(v, bool)).any()):
            out[col] = series.map(lambda v: words.get(v, v) if isinstance(v, bool) else v).astype(object)
        elif is_count(str(col)) and pd.api.types.is_float_dtype(series.dtype):
            finite = series.dropna()
            if (finite == finite.round()).all():
                out[col] = series.astype("Int64")
    return out


def to_csv(frame: pd.DataFrame, dialect: str = "utf-8") -> bytes:
    """The one CSV writer of the service (downloads, batch answers): formulas neutralised, CRLF rows.

    ``excel-de`` writes ``;``-separated UTF-8 with BOM, decimal commas, German booleans and whole counts
    (:func:`german_values`).
    """
    plain = neutralise_frame(pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore")))
    if dialect == "excel-de":
        plain = german_values(plain)
        return plain.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n",
                            quoting=csv.QUOTE_MINIMAL).encode("utf-8-sig")
    return plain.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).encode("utf-8")


def to_geojson(frame: pd.DataFrame) -> bytes:
    """A layer as GeoJSON in CRS84 (UTF-8); a table without geometry raises :class:`InputError`."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError("this table has no geometry; download it as CSV")
    return frame.to_crs("OGC:CRS84").to_json(na="null", drop_id=True, ensure_ascii=False).encode("utf-8")


def to_gpkg(frame: pd.DataFrame, layer: str) -> bytes:
    """One layer as a GeoPackage 1.2 with the web map's QGIS styles in ``layer_styles``.

    Written by :mod:`geo.pipeline.gpkg`, styled by :func:`maps.qgis.style_layer`.
    """
    from maps.qgis import style_layer

    fd, name = tempfile.mkstemp(suffix=".gpkg")
    os.close(fd)
    os.unlink(name)
    try:
        styles = write_layers(name, {layer: frame}, styler=style_layer)
        if styles:
            write_styles(name, styles)
        with open(name, "rb") as fh:
            return fh.read()
    finally:
        if os.path.exists(name):
            os.unlink(name)


def render(frame: pd.DataFrame, fmt: str, *, layer: str, dialect: str = "utf-8") -> bytes:
    """The download bytes of ``frame`` in ``fmt`` (``csv``, ``geojson``, otherwise GeoPackage)."""
    if fmt == "csv":
        return to_csv(frame, dialect)
    if fmt == "geojson":
        return to_geojson(frame)
    return to_gpkg(frame, layer)


def cached(cache: dict[str, Any], key: str, make: Any) -> Any:
    """Build a download once per snapshot state (the dict lives in the immutable state)."""
    if key not in cache:
        cache[key] = make()
    return cache[key]
