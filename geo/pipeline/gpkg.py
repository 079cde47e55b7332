"""Writing GeoPackages that every current desktop opens cleanly, with QGIS styles in ``layer_styles``.

Every GeoPackage the project writes (the snapshot's ``districts.gpkg`` and the service's downloads) goes through
:func:`write_layers`:

* **Version 1.2.** GDAL 3.6 (Debian 12, QGIS 3.22) warns that a 1.4 GeoPackage "may only be partially
  supported", and its ``validate_gpkg.py`` reports false errors on 1.4's R-tree triggers. Nothing here needs a
  1.3 or 1.4 feature, so the files are created with the GDAL creation option ``VERSION=1.2``.
* **Styles.** A *styler* (a callable ``(layer name, frame) -> (frame, styles)``) may add the columns its styles
  read and return :class:`LayerStyle` documents; :func:`write_styles` writes them into the QGIS table
  ``layer_styles``
  (the columns QGIS creates itself), registered in ``gpkg_contents`` as an attributes table, one row per
  layer and style, one of them ``useAsDefault``. QGIS then opens each layer with its default style and lists
  the others under Layer Properties > Style > Load Style > From Database.

Why the styler is passed in rather than imported: the colours and German words live in ``maps`` (the web map's
palettes and texts, :mod:`maps.qgis` makes the documents), and ``geo`` never imports ``maps``. The adapters
(the ``quartiere`` command line, the download routes in ``service``) compose the two.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

#: GeoPackage version written (GDAL creation option ``VERSION``)
GPKG_VERSION = "1.2"
#: the QGIS style table
STYLE_TABLE = "layer_styles"


@dataclass(frozen=True)
class LayerStyle:
    """One style of a layer: a QGIS QML document (and an SLD one) with its name."""

    name: str
    qml: str
    sld: str = ""
    default: bool = False
    description: str = ""


#: ``(layer name, frame) -> (frame to write, its styles)``; see :mod:`maps.qgis`
Styler = Callable[[str, pd.DataFrame], tuple[pd.DataFrame, list[LayerStyle]]]


def write_layers(path: str | os.PathLike[str], layers: Mapping[str, pd.DataFrame], *,
                 styler: Styler | None = None) -> dict[str, list[LayerStyle]]:
    """Write (or add) ``layers`` to the GeoPackage ``path``, a new file as version 1.2; return their styles.

    The styles are not written: collect them and call :func:`write_styles` once, when every layer is in the
    file (GDAL writes the ``update_time`` of rows appended to an existing table in a form it then warns about).

    Parameters
    ----------
    path
        The GeoPackage; created when missing, otherwise the layers are added to it (names must be new).
    layers
        Layer name to frame: a GeoDataFrame becomes a feature table, a DataFrame an attributes table.
    styler
        Makes the styles of a layer (and the columns they read); None writes no styles.

    Returns
    -------
    dict
        The styles written, by layer name (only layers that have some).
    """
    styles: dict[str, list[LayerStyle]] = {}
    for name, frame in layers.items():
        if styler is not None:
            frame, found = styler(name, frame)
            if found:
                styles[name] = found
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                dataset_options={"VERSION": GPKG_VERSION})
    return styles


def write_styles(path: str | os.PathLike[str], styles: Mapping[str, Sequence[LayerStyle]]) -> None:
    """Write the ``layer_styles`` table of ``path`` (QGIS's own columns): one row per layer and style.

    Each layer needs exactly one default style; the GeoPackage must not have the table yet.
    """
    for layer, items in styles.items():
        defaults = sum(s.default for s in items)
        if defaults != 1:
            raise ValueError(f"write_styles: layer {layer!r} has {defaults} default styles, needs exactly one")
    geometry = _geometry_columns(path)
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(microsecond=0))
    rows = pd.DataFrame([{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
        "f_geometry_column": geometry.get(layer, ""), "styleName": style.name, "styleQML": style.qml,
        "styleSLD": style.sld, "useAsDefault": bool(style.default), "description": style.description,
        "owner": "", "ui": "", "update_time": now,
    } for layer, items in styles.items() for style in items])
    pyogrio.write_dataframe(rows, path, layer=STYLE_TABLE, driver="GPKG", layer_options={"FID": "id"},
                            dataset_options={"VERSION": GPKG_VERSION})


def read_styles(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The ``layer_styles`` table of ``path`` (empty when it has none)."""
    if STYLE_TABLE not in {name for name, _ in pyogrio.list_layers(path)}:
        return pd.DataFrame(columns=["f_table_name", "styleName", "styleQML", "styleSLD", "useAsDefault"])
    return pyogrio.read_dataframe(path, layer=STYLE_TABLE, read_geometry=False)


def _geometry_columns(path: str | os.PathLike[str]) -> dict[str, str]:
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as con:
        return dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())


def classification_layer(districts: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The Ortsteile with one classification: geometry, designation and the classes the map shows.

    ``districts`` is the Ortsteil layer (``key``, ``name``, ``city``, the designation columns), ``table`` a
    classification's table (``key``, ``categories`` as lists or ``;``-joined text, ``status_class``,
    ``dynamics_class``, ``classifiable``, ...). Categories are written joined by ``;``.
    """
    keep = ["key", "name", "city", "population", "status_class", "dynamics_class", "status_index",
            "dynamics_index", "categories", "classifiable", "stability", "basis", "basis_confidence"]
    cls = pd.DataFrame(table)
    if "is_extra" in cls:
        cls = cls[~cls["is_extra"].astype(bool)]
    cls = cls[[c for c in keep if c in cls.columns]].copy()
    cls["key"] = cls["key"].astype(str)
    if "categories" in cls:
        cls["categories"] = cls["categories"].map(lambda c: c if isinstance(c, str) else ";".join(c))
    geo_cols = [c for c in ("key", "name", "city", "designation_areas", "designation_programmes",
                            "designation_confidence", "designated") if c in districts.columns]
    base = districts[[*geo_cols, districts.geometry.name]].copy()
    base["key"] = base["key"].astype(str)
    out = base.merge(cls.drop(columns=[c for c in ("name", "city") if c in cls.columns]), on="key", how="inner")
    return gpd.GeoDataFrame(out, geometry=districts.geometry.name, crs=districts.crs)
