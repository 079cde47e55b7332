"""Named repair steps. Each returns the repaired frame(s) and records what it did.

A repair never happens silently: every step appends :class:`Repair` records that end up in the snapshot
manifest, so a reader of the snapshot can see which geometry or attribute did not come from the source as is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

CITY_NAMES = {"04011": "Bremen", "04012": "Bremerhaven"}
FILE_CITY = {"BRE": "Bremen", "BHV": "Bremerhaven"}


@dataclass(frozen=True)
class Repair:
    """One repair applied to the inputs."""

    step: str
    description: str
    keys: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The repair as a JSON-ready mapping (as recorded in the manifest)."""
        return asdict(self)


def city_of(key: str) -> str:
    """City name of an 8-digit key (by its first five digits, the municipality key)."""
    return CITY_NAMES.get(key[:5], "unknown")


def parent_keys(key: pd.Series) -> pd.DataFrame:
    """Stadtteil, Stadtbezirk and city keys of Ortsteil keys, derived from the key itself."""
    return pd.DataFrame(
        {
            "stadtteil_key": key.str.slice(0, 7) + "0",
            "stadtbezirk_key": key.str.slice(0, 6) + "00",
            "city_key": key.str.slice(0, 5) + "000",
        },
        index=key.index,
    )


def assign_city_by_key(frame: gpd.GeoDataFrame, level: str, log: list[Repair]) -> gpd.GeoDataFrame:
    """Set ``city`` from the key; record districts filed in the other city's layer (the Bremen exclave)."""
    frame = frame.copy()
    frame["city"] = frame["key"].map(city_of)
    file_city = frame["source_file"].str.extract(r"_(BRE|BHV)\.shp$", expand=False).map(FILE_CITY)
    moved = frame[file_city.notna() & (file_city != frame["city"])]
    if len(moved):
        log.append(
            Repair(
                step="assign_city_by_key",
                description=(
                    f"{level}: {len(moved)} district(s) filed in the other city's layer belong to the city named by "
                    "their key (the port area 'Stadtbremisches Überseehafengebiet' lies in Bremerhaven but belongs "
                    "to the city of Bremen)"
                ),
                keys=sorted(moved["key"].tolist()),
                detail={"files": sorted(moved["source_file"].unique().tolist())},
            )
        )
    return frame


def merge_split_districts(frame: gpd.GeoDataFrame, level: str, log: list[Repair]) -> gpd.GeoDataFrame:
    """Union the pieces of a district whose key appears in several files (Häfen: city part + exclave)."""
    dup = frame["key"].duplicated(keep=False)
    if not dup.any():
        return frame
    split = frame[dup & (frame.groupby("key")["source_file"].transform("nunique") > 1)]
    if split.empty:
        return frame  # same key twice within one file: left for validation to report
    merged_rows = []
    for key, part in split.groupby("key"):
        geom = shapely.union_all(part.geometry.values)
        row = part.iloc[0].copy()
        row["geometry"] = geom
        row["source_file"] = "+".join(sorted(part["source_file"].unique()))
        file_city = part["source_file"].str.extract(r"_(BRE|BHV)\.shp$", expand=False).map(FILE_CITY)
        home = part[file_city == city_of(str(key))]
        row["name"] = home["name"].iloc[0] if len(home) else row["name"]
        merged_rows.append(row)
        log.append(
            Repair(
                step="merge_split_districts",
                description=f"{level} {key}: {len(part)} polygons from {row['source_file']} united into one district",
                keys=[str(key)],
                detail={"names": part["name"].tolist()},
            )
        )
    rest = frame[~frame["key"].isin(split["key"])]
    merged = gpd.GeoDataFrame(merged_rows, geometry="geometry", crs=frame.crs)
    return gpd.GeoDataFrame(pd.concat([rest, merged], ignore_index=True), geometry="geometry", crs=frame.crs)


def fill_missing_ortsteile(ortsteile: gpd.GeoDataFrame, stadtteile: gpd.GeoDataFrame,
                           statistics_names: dict[str, str], log: list[Repair]) -> gpd.GeoDataFrame:
    """Create an Ortsteil from its Stadtteil polygon where the Ortsteil layer has a hole.

    Applies when a Stadtteil has no Ortsteil in the layer and the statistics name exactly one Ortsteil in it
    (Oberneuland, 04011361, is missing from the published Ortsteil layer; its Stadtteil 04011360 fills the hole).
    """
    have = set(ortsteile["key"].str.slice(0, 7))
    added = []
    for st in stadtteile.itertuples():
        prefix = st.key[:7]
        if prefix in have:
            continue
        children = sorted(k for k in statistics_names if k.startswith(prefix) and len(k) == 8)
        if len(children) != 1:
            continue
        key = children[0]
        added.append(
            {"key": key, "name": statistics_names[key], "source_file": f"{st.source_file} (Stadtteil {st.key})",
             "city": st.city, "geometry": st.geometry}
        )
        log.append(
            Repair(
                step="fill_missing_ortsteil_from_stadtteil",
                description=(
                    f"Ortsteil {key} ({statistics_names[key]}) is missing from the Ortsteil layer; its geometry is "
                    f"taken from Stadtteil {st.key} ({st.name}), which has exactly this one Ortsteil in the statistics"
                ),
                keys=[key],
                detail={"area_km2": round(float(st.geometry.area) / 1e6, 3)},
            )
        )
    if not added:
        return ortsteile
    extra = gpd.GeoDataFrame(added, geometry="geometry", crs=ortsteile.crs)
    return gpd.GeoDataFrame(pd.concat([ortsteile, extra], ignore_index=True), geometry="geometry", crs=ortsteile.crs)


def derive_missing_parents(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, *, parent_col: str,
                           level: str, log: list[Repair]) -> gpd.GeoDataFrame:
    """Build parent districts absent from their layer by dissolving their children.

    Four Stadtteile of Bremen (Seehausen, Strom, Borgfeld, Blockland) have no subdivision: they are published
    only as Ortsteile. Their Stadtteil is the Ortsteil itself, keyed ``<first 7 digits>0``.
    """
    missing = sorted(set(children[parent_col]) - set(parents["key"]))
    if not missing:
        return parents
    rows = []
    for key in missing:
        part = children[children[parent_col] == key]
        rows.append(
            {"key": key, "name": part["name"].iloc[0] if len(part) == 1 else key,
             "source_file": "dissolved from " + "+".join(sorted(part["source_file"].unique())),
             "city": part["city"].iloc[0], "geometry": shapely.union_all(part.geometry.values)}
        )
    log.append(
        Repair(
            step=f"derive_{level}_without_subdivision",
            description=(
                f"{len(missing)} {level} district(s) are not in the {level} layer; each is built from its "
                "Ortsteil(e), as the statistics office does"
            ),
            keys=missing,
            detail={"names": [r["name"] for r in rows]},
        )
    )
    extra = gpd.GeoDataFrame(rows, geometry="geometry", crs=parents.crs)
    return gpd.GeoDataFrame(pd.concat([parents, extra], ignore_index=True), geometry="geometry", crs=parents.crs)


def repair_invalid_geometries(frame: gpd.GeoDataFrame, level: str, log: list[Repair]) -> gpd.GeoDataFrame:
    """Make invalid polygons valid with ``shapely.make_valid`` (keeping only polygonal parts); record each."""
    valid = shapely.is_valid(frame.geometry.values)
    if valid.all():
        return frame
    frame = frame.copy()
    for idx in frame.index[~valid]:
        geom = frame.at[idx, "geometry"]
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polys = [g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")]
        fixed = shapely.union_all(polys) if polys else fixed
        frame.at[idx, "geometry"] = fixed
        log.append(
            Repair(
                step="repair_invalid_geometry",
                description=f"{level} {frame.at[idx, 'key']} in {frame.at[idx, 'source_file']}: {reason}; "
                "repaired with make_valid",
                keys=[str(frame.at[idx, "key"])],
                detail={"reason": reason, "area_change_m2": round(float(fixed.area - geom.area), 1)},
            )
        )
    return frame


def record_name_differences(frame: gpd.GeoDataFrame, statistics_names: dict[str, str], level: str,
                            log: list[Repair]) -> None:
    """Record names that differ between the boundary file and the statistics (joins use keys, not names)."""
    diffs = {
        k: {"boundaries": n, "statistics": statistics_names[k]}
        for k, n in zip(frame["key"], frame["name"], strict=True)
        if k in statistics_names and statistics_names[k] != n
    }
    if diffs:
        log.append(
            Repair(
                step="join_on_keys_not_names",
                description=f"{level}: {len(diffs)} names differ between boundaries and statistics; joined on keys",
                keys=sorted(diffs),
                detail={"names": diffs},
            )
        )
