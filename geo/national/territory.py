"""Bring the VG5000 polygons (status 01.01.2021) to the territorial status of the statistics (31.12.2022).

The statistics (VG250-EW population, INKAR, GISD inputs) are on the status of 31.12.2022; the polygons are
on that of 01.01.2021. Between the two, Gemeinden merged (Langelsheim with three Gemeinden of the Samtgemeinde
Lutter am Barenberge, Schwedt/Oder with three Gemeinden, Kelheim absorbed the Hienheimer Forst, Eisenach left
its kreisfreie status and became ``16063105`` in the Wartburgkreis). Nothing is dropped silently: every 2021
polygon ends up in exactly one 2022 Gemeinde, and every step is a :class:`~geo.pipeline.repairs.Repair`.

Matching rule for a 2021 polygon whose key no longer exists (an "orphan"), in this order:

1. a new 2022 key of the same Land with the same name (``Eisenach`` -> ``16063105``);
2. otherwise the neighbouring 2022 Gemeinde (a polygon touching it, or an orphan already matched) whose official
   2022 area (``KFL``) exceeds its 2021 polygon area the most; the deficit must be at least half the orphan's area.
   Repeated until nothing changes, so chains of merged Gemeinden resolve.

Orphans that match nothing, and 2022 keys that receive no polygon, are returned as errors.
Parent layers (Gemeindeverbände, Kreise) keep their VG5000 polygon when their set of member Gemeinden did not
change; otherwise they are dissolved from their 2022 members.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem
from geo.pipeline.repairs import Repair

MIN_DEFICIT_SHARE = 0.5


def match_orphans(gem21: gpd.GeoDataFrame, attrs22: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    """Map each 2021 Gemeinde key missing in 2022 to the 2022 key its territory belongs to.

    Returns the mapping and the orphans that could not be matched.
    """
    keys22 = set(attrs22["key"])
    keys21 = set(gem21["key"])
    orphans = sorted(keys21 - keys22)
    new22 = attrs22[~attrs22["key"].isin(keys21)]
    if not orphans:
        return {}, []
    area21 = dict(zip(gem21["key"], gem21.geometry.area.to_numpy() / 1e6, strict=True))
    deficit = {k: float(a) - area21.get(k, 0.0) for k, a in zip(attrs22["key"], attrs22["area_km2_official"],
                                                                  strict=True)}
    name21 = dict(zip(gem21["key"], gem21["name"], strict=True))
    mapping: dict[str, str] = {}
    for key in orphans:  # rule 1: same name, same Land, new key
        same = new22[(new22["name"] == name21[key]) & (new22["key"].str[:2] == key[:2])]
        if len(same) == 1:
            target = str(same["key"].iloc[0])
            mapping[key] = target
            deficit[target] -= area21[key]
    geoms = gem21.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pos = {k: i for i, k in enumerate(gem21["key"])}
    all_keys = gem21["key"].to_numpy()
    neighbours: dict[str, list[str]] = {}
    for key in orphans:
        idx = tree.query(geoms[pos[key]], predicate="intersects")
        neighbours[key] = [str(all_keys[i]) for i in idx if all_keys[i] != key]
    changed = True
    while changed:  # rule 2: the neighbour with the largest area deficit
        changed = False
        best: tuple[float, str, str] | None = None
        for key in orphans:
            if key in mapping:
                continue
            cands = {mapping.get(n, n) for n in neighbours[key]}
            cands = {c for c in cands if c in keys22}
            for c in cands:
                score = deficit[c] / area21[key]
                if score >= MIN_DEFICIT_SHARE and (best is None or score > best[0]):
                    best = (score, key, c)
        if best is not None:
            _, key, target = best
            mapping[key] = target
            deficit[target] -= area21[key]
            changed = True
    return mapping, [k for k in orphans if k not in mapping]


def gemeinden_to_2022(gem21: gpd.GeoDataFrame, attrs22: pd.DataFrame,
                      log: list[Repair]) -> tuple[gpd.GeoDataFrame, dict[str, str], list[Problem]]:
    """One polygon per 2022 Gemeinde: merged 2021 polygons are united under their 2022 key.

    Returns the layer (columns of ``gem21`` with ``key``/``name``/``bez`` of 2022), the orphan mapping and the
    problems (unmatched orphans and 2022 keys without any polygon are errors).
    """
    mapping, unmatched = match_orphans(gem21, attrs22)
    problems = [Problem("geometry_without_statistics", f"gemeinde {k} ({gem21.loc[gem21['key'] == k, 'name'].iloc[0]}"
                        ") exists in VG5000 2021 but not in the 2022 statistics, and no 2022 Gemeinde could be "
                        "found that took over its territory", key=k) for k in unmatched]
    frame = gem21.copy()
    frame["key"] = frame["key"].map(lambda k: mapping.get(k, k))
    targets = sorted(set(mapping.values()))
    for target in targets:
        sources = sorted(k for k, t in mapping.items() if t == target)
        kept = target in set(gem21["key"])
        log.append(Repair(
            step="territorial_change_2021_2022",
            description=f"gemeinde {target} ({attrs22.loc[attrs22['key'] == target, 'name'].iloc[0]}): 2021 "
            f"polygon(s) {', '.join(sources)} "
            f"{'united with its own polygon' if kept else ('united' if len(sources) > 1 else 'taken over')} "
            "(merger between 01.01.2021 and 31.12.2022)",
            keys=[target, *sources],
            detail={"names_2021": [str(gem21.loc[gem21["key"] == s, "name"].iloc[0]) for s in sources]},
        ))
    merged = frame[frame["key"].isin(targets)]
    rest = frame[~frame["key"].isin(targets)]
    rows = []
    for _key, part in merged.groupby("key"):
        row = part.iloc[0].copy()
        row["geometry"] = shapely.union_all(part.geometry.to_numpy())
        row["source_file"] = part["source_file"].iloc[0] + " (united)"
        rows.append(row)
    parts = [rest, gpd.GeoDataFrame(rows, geometry="geometry", crs=gem21.crs)] if rows else [rest]
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=gem21.crs)
    out = out[out["key"].isin(set(attrs22["key"])) | out["key"].isin(unmatched)]
    attrs = attrs22.set_index("key")
    known = out["key"].isin(attrs.index)
    for col in ("name", "bez"):
        out.loc[known, col] = out.loc[known, "key"].map(attrs[col])
    out.loc[known, "ars"] = out.loc[known, "key"].map(attrs["ars"])
    without = sorted(set(attrs22["key"]) - set(out["key"]))
    problems += [Problem("statistics_without_geometry", f"gemeinde {k} ({attrs.at[k, 'name']}) is in the 2022 "
                         "statistics but no 2021 polygon could be assigned to it", key=k) for k in without]
    return out.sort_values("key").reset_index(drop=True), mapping, problems


def parent_layer_2022(gem22: gpd.GeoDataFrame, gem21: gpd.GeoDataFrame, layer21: gpd.GeoDataFrame,
                      attrs22: pd.DataFrame, *, level: str, parent_col: str, mapping: dict[str, str],
                      log: list[Repair]) -> gpd.GeoDataFrame:
    """Gemeindeverbände or Kreise on the 2022 status.

    A parent keeps its VG5000 polygon when its 2022 members are exactly its 2021 members (after the Gemeinde
    mergers); otherwise it is dissolved from its 2022 member Gemeinden. 2021 parents missing in 2022 are recorded.
    """
    length = 9 if level == "gemeindeverband" else 5
    members22 = gem22.groupby(parent_col)["key"].agg(frozenset)
    g21_parent = gem21["ars"].str[:length] if level == "gemeindeverband" else gem21["key"].str[:5]
    members21 = pd.Series(gem21["key"].map(lambda k: mapping.get(k, k)).to_numpy(),
                          index=g21_parent.to_numpy()).groupby(level=0).agg(frozenset)
    poly21 = dict(zip(layer21["key"], layer21.geometry.to_numpy(), strict=True))
    rows = []
    rebuilt = []
    for key in attrs22["key"]:
        m22 = members22.get(key)
        if m22 is None:
            continue  # reported by the caller (statistics_without_geometry)
        if key in poly21 and members21.get(key) == m22:
            geom = poly21[key]
            source = layer21["source_file"].iloc[0]
        else:
            geom = shapely.union_all(gem22.loc[gem22[parent_col] == key].geometry.to_numpy())
            source = f"dissolved from {len(m22)} Gemeinden"
            rebuilt.append(key)
        rows.append({"key": key, "geometry": geom, "source_file": source})
    gone = sorted(set(poly21) - set(attrs22["key"]))
    if rebuilt:
        log.append(Repair(step=f"dissolve_{level}_2022", description=f"{len(rebuilt)} {level} unit(s) changed "
                          "members between 2021 and 2022 (or have no 2021 polygon); each is dissolved from its 2022 "
                          "Gemeinden", keys=rebuilt))
    if gone:
        log.append(Repair(step=f"retire_{level}_2021", description=f"{len(gone)} {level} unit(s) of VG5000 2021 no "
                          "longer exist on 31.12.2022; their territory belongs to the units listed under "
                          f"dissolve_{level}_2022", keys=gone,
                          detail={"names": layer21.loc[layer21["key"].isin(gone), "name"].tolist()}))
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=gem22.crs)
    attrs = attrs22.set_index("key")
    for col in ("name", "bez", "ars"):
        out[col] = out["key"].map(attrs[col])
    return out.sort_values("key").reset_index(drop=True)


def area_deviation(frame: gpd.GeoDataFrame, official: pd.Series) -> pd.Series:
    """Relative deviation of the polygon area from the official area (the generalisation of VG5000)."""
    area = frame.set_index("key").geometry.area / 1e6
    return (area - official.reindex(area.index)) / official.reindex(area.index).replace(0, np.nan)
