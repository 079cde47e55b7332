"""Load published snapshots: the layout of a snapshots folder, its CURRENT version and :class:`Snapshot`.

Layout::

    SNAPSHOTS/
      CURRENT                      text file naming the current version
      <version>/districts.gpkg     GeoPackage 1.2: layers ortsteile, stadtteile, stadtbezirke (EPSG:25832),
                                   classification (Ortsteile with the shipped programme's classes), tables
                                   indicators, designations, layer_styles (QGIS styles, see geo.pipeline.gpkg)
      <version>/districts.qgz      QGIS project on districts.gpkg (with the styles; see geo.pipeline.qgsproject)
      <version>/manifest.json      version, time, inputs with SHA-256, repairs, validation report, code version
      <version>/classifications/   classification of each programme definition published with the build (by hash)
      <version>/products/          monitoring products of each of those definitions (see :mod:`geo.pipeline.products`)

A version is written into a hidden temporary folder, renamed into place, made read-only and only then named in
CURRENT (written to a temporary file and renamed over it): a failed build leaves the previous version and
CURRENT untouched and no half-written folder behind.

Writing is :mod:`geo.pipeline.publish`; one build at a time, :mod:`geo.pipeline.locking`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import SnapshotError, UnknownKeyError

GPKG = "districts.gpkg"
#: the QGIS project on the GeoPackage (written with the styles)
PROJECT = "districts.qgz"
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
LOCK = ".build.lock"
#: prefix of the folder a version is written into before it is renamed into place
TMP_PREFIX = ".tmp-"
#: polygon layers of the Bremen dataset; other datasets (e.g. ``germany``) name theirs in ``Assembly.level_names``
LAYERS = ("ortsteile", "stadtteile", "stadtbezirke")
LEVEL_OF_LAYER = {"ortsteile": "ortsteil", "stadtteile": "stadtteil", "stadtbezirke": "stadtbezirk",
                  "gemeinden": "gemeinde", "gemeindeverbaende": "gemeindeverband", "kreise": "kreis",
                  "laender": "land"}
LAYER_OF_LEVEL = {v: k for k, v in LEVEL_OF_LAYER.items()}


#: a version name as :func:`publish` makes them: a plain folder name, never a path
VERSION_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,99}")


def current_version(root: str | os.PathLike[str]) -> str:
    """The version named in ``root/CURRENT``: a plain version name of a folder in ``root``."""
    path = Path(root) / CURRENT
    if not path.is_file():
        raise SnapshotError(f"{root}: no snapshot published yet (no CURRENT file); run 'quartiere build'")
    try:
        version = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot be read ({exc})") from exc
    if not VERSION_NAME.fullmatch(version) or ".." in version:
        raise SnapshotError(f"{path} must name a version folder in {root}, got {version[:60]!r}")
    if not (Path(root) / version).is_dir():
        raise SnapshotError(f"{path} names version {version!r}, which is not in {root}; rebuild: quartiere build")
    return version


def list_versions(root: str | os.PathLike[str]) -> list[str]:
    """The names of the complete versions (folders with a manifest) in the snapshots folder ``root``, sorted."""
    return sorted(p.name for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / MANIFEST).is_file())


@dataclass
class Snapshot:
    """A published snapshot, loaded read-only."""

    path: Path
    manifest: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame] = field(repr=False)
    indicators: pd.DataFrame = field(repr=False)
    designations: pd.DataFrame = field(repr=False)
    extras: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        """The version name recorded in the manifest (``YYYYmmddTHHMMSSZ-...``)."""
        return str(self.manifest["version"])

    @property
    def latest_year(self) -> int:
        """The latest of the snapshot's years (the manifest's ``years``)."""
        return int(max(self.manifest["years"]))

    @property
    def gazetteer(self) -> pd.DataFrame:
        """Places with spelling variants and points (empty when the snapshot has none)."""
        return self.extras.get("gazetteer", pd.DataFrame(columns=["type", "key", "name", "city", "variants", "lon",
                                                                     "lat"]))

    @property
    def postcode_shares(self) -> pd.DataFrame:
        """Share of each postcode in every Ortsteil it touches (by area and by estimated residents)."""
        return self.extras.get("postcode_shares", pd.DataFrame())

    def layer(self, level: str) -> gpd.GeoDataFrame:
        """The layer of ``level`` (``ortsteil``/``ortsteile``, ...)."""
        name = LAYER_OF_LEVEL.get(level, level)
        if name not in self.layers:
            raise UnknownKeyError(f"unknown level {level!r}; one of {sorted(self.layers)}")
        return self.layers[name]

    @cached_property
    def _by_key(self) -> dict[str, tuple[str, int]]:
        return {k: (name, i) for name, frame in self.layers.items() for i, k in enumerate(frame["key"])}

    def district(self, key: str) -> pd.Series:
        """One district's row (any level) by its 8-digit key."""
        if key not in self._by_key:
            raise UnknownKeyError(f"no district with key {key!r} in snapshot {self.version}")
        name, i = self._by_key[key]
        return self.layers[name].iloc[i]

    def wide(self, level: str = "ortsteil", year: int | None = None) -> gpd.GeoDataFrame:
        """One row per district of ``level`` with every indicator of ``year`` (default: the latest year).

        Indicators without a value in ``year`` (the 2013 tables) carry their latest earlier value; the year each
        value comes from is in ``attrs["indicator_years"]`` (the latest per indicator) and, per district, in the
        column ``X__year``. For each rate ``X`` the columns ``X__numerator`` and ``X__denominator`` are included.
        ``too_small_for_index`` marks districts under the minimum population.
        """
        base = self.layer(level)
        year = int(year or self.latest_year)
        lvl = LEVEL_OF_LAYER.get(LAYER_OF_LEVEL.get(level, level), level)
        ind = self.indicators[(self.indicators["level"] == lvl) & (self.indicators["year"] <= year)
                              & ~self.indicators["indicator"].str.startswith("si_")]
        ind = ind.dropna(subset=["value", "numerator", "denominator"], how="all")
        last = ind.sort_values("year").groupby(["key", "indicator"]).tail(1)
        exact = last[last["year"] == year]
        carried = last[last["year"] != year]
        carried = carried[~carried["indicator"].isin(exact["indicator"].unique())]
        last = pd.concat([exact, carried])
        values = last.pivot(index="key", columns="indicator", values="value")
        nums = last.dropna(subset=["numerator"]).pivot(index="key", columns="indicator", values="numerator")
        dens = last.dropna(subset=["denominator"]).pivot(index="key", columns="indicator", values="denominator")
        nums.columns = [f"{c}__numerator" for c in nums.columns]
        dens.columns = [f"{c}__denominator" for c in dens.columns]
        value_years = last.dropna(subset=["value"]).pivot(index="key", columns="indicator", values="year")
        value_years.columns = [f"{c}__year" for c in value_years.columns]
        nums = nums.join(value_years.astype("Int64"), how="outer")
        keep = [c for c in base.columns if c not in values.columns and c != "year"]
        out = base[keep].merge(values, left_on="key", right_index=True, how="left")
        out = out.merge(nums.join(dens, how="outer"), left_on="key", right_index=True, how="left")
        out["level"] = lvl
        out["year"] = year
        min_pop = 300.0
        out["too_small_for_index"] = ~(out["population"] >= min_pop) if "population" in out else True
        out["has_statistics"] = out["key"].isin(set(ind.loc[ind["indicator"] == "population", "key"]))
        for col in ("designated",):
            if col in out:
                out[col] = out[col].fillna(False).astype(bool)
        out.attrs["indicator_years"] = last.groupby("indicator")["year"].max().astype(int).to_dict()
        return gpd.GeoDataFrame(out, geometry="geometry", crs=base.crs)


def load_snapshot(root: str | os.PathLike[str], version: str | None = None) -> Snapshot:
    """Load the snapshot ``version`` (default: CURRENT) from the snapshots folder ``root``.

    A damaged version (unreadable manifest, truncated GeoPackage) raises :class:`SnapshotError`.
    """
    root = Path(root)
    version = version or current_version(root)
    path = root / version
    if not (path / MANIFEST).is_file() or not (path / GPKG).is_file():
        raise SnapshotError(f"{path}: snapshot version is missing or incomplete")
    try:
        return _read_snapshot(path)
    except (OSError, ValueError, KeyError, TypeError, pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError) as exc:
        raise SnapshotError(f"{path}: snapshot version is damaged ({str(exc)[:200]}); rebuild: quartiere build") \
            from exc


def _read_snapshot(path: Path) -> Snapshot:
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError("manifest.json is not an object")
    layers = {name: pyogrio.read_dataframe(path / GPKG, layer=name) for name in manifest.get("layers", LAYERS)}
    for frame in layers.values():
        for col in [c for c in frame.columns if c == "key" or c.endswith("_key")]:
            frame[col] = frame[col].astype("string")
    indicators = pyogrio.read_dataframe(path / GPKG, layer="indicators", read_geometry=False)
    indicators["key"] = indicators["key"].astype("string")
    available = {name for name, _ in pyogrio.list_layers(path / GPKG)}
    designations = (pyogrio.read_dataframe(path / GPKG, layer="designations", read_geometry=False)
                    if "designations" in available else pd.DataFrame())
    extras: dict[str, pd.DataFrame] = {}
    for name in ("postcodes", "postcode_shares", "gazetteer"):
        if name in available:
            table = pyogrio.read_dataframe(path / GPKG, layer=name, read_geometry=name == "postcodes")
            for col in ("key", "plz"):
                if col in table.columns:
                    table[col] = table[col].astype("string")
            extras[name] = table
    return Snapshot(path=path, manifest=manifest, layers=layers, indicators=indicators, designations=designations,
                    extras=extras)
