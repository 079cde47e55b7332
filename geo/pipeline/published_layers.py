"""The published layers, one row per district.

Each row holds the district's boundary attributes, the latest main indicators, the need series (each with the
year its value is from) and its designations.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.pipeline import indicators as ind
from geo.pipeline.sources.boundaries import STORAGE_CRS


def wide_layer(frame: gpd.GeoDataFrame, level: str, long: pd.DataFrame,
                designations: pd.DataFrame) -> gpd.GeoDataFrame:
    """Build the published layer of ``level``.

    It holds the boundary attributes, the latest year's main indicators, the need series (each with
    ``<id>_year``, the year its value is from) and designations.
    """
    sub = long[(long["level"] == level) & long["indicator"].isin(ind.MAIN_INDICATORS)]
    latest = int(sub.loc[sub["indicator"] == "population"].dropna(subset=["value"])["year"].max())
    wide = sub[sub["year"] == latest].pivot_table(index="key", columns="indicator", values="value", aggfunc="first",
                                                  dropna=False)
    out = frame.drop(columns=["source_file"]).merge(wide.reindex(columns=ind.MAIN_INDICATORS), left_on="key",
                                                    right_index=True, how="left")
    out["year"] = latest
    out["has_statistics"] = out["population"].notna()
    # the need series with a direction, each with the year its value is from (latest published, <= latest)
    need = [i for i, meta in ind.NEED_INDICATORS.items() if meta.direction in ("higher_is_worse", "higher_is_better")]
    series = long[(long["level"] == level) & long["indicator"].isin(need) & long["value"].notna()
                  & (long["year"] <= latest)]
    last = series.sort_values("year").groupby(["key", "indicator"]).tail(1)
    for ident in need:
        part = last[last["indicator"] == ident].set_index("key")
        out[ident] = out["key"].map(part["value"]).astype(float)
        out[f"{ident}_year"] = out["key"].map(part["year"]).astype("Int64")
    out = out.merge(designation_summary(designations), left_on="key", right_index=True, how="left")
    out["designated"] = out["designation_specific"].fillna(False).astype(bool)
    out = out.drop(columns=["designation_specific"])
    cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs=STORAGE_CRS)


def reach_ortsteile(designations: pd.DataFrame, ortsteile: gpd.GeoDataFrame) -> pd.DataFrame:
    """Designations of a whole Stadtbezirk or Stadtteil (Bremerhaven's two WiN districts) reach its Ortsteile.

    Each Ortsteil of such a district gets a row of its own with confidence ``district-wide`` (the source names
    the district, not the Ortsteil); the district's own row stays.
    """
    from geo.pipeline.sources.tables import DISTRICT_WIDE

    if designations.empty:
        return designations
    rows = []
    for col in ("stadtbezirk_key", "stadtteil_key"):
        members = ortsteile.groupby(col)["key"].agg(list)
        hits = designations[designations["key"].isin(set(members.index)) & ~designations["key"].isin(
            set(ortsteile["key"]))]
        for rec in hits.to_dict("records"):
            names = ortsteile.set_index("key")["name"]
            for key in members[rec["key"]]:
                rows.append({**rec, "key": key, "key_name": str(names.get(key, "")), "confidence": DISTRICT_WIDE})
    if not rows:
        return designations
    out = pd.concat([designations, pd.DataFrame(rows)], ignore_index=True)
    out["key"] = out["key"].astype("string")
    return out


def designation_summary(designations: pd.DataFrame) -> pd.DataFrame:
    """Summarise the designations, one row per designated key.

    Columns: area names, programme tags, the best confidence flag, and whether a designation names this
    district itself (``designation_specific``; not only a whole district around it).
    """
    from geo.pipeline.sources.tables import CONFIDENCE_ORDER, DISTRICT_WIDE

    if designations.empty:
        return pd.DataFrame(columns=["designation_areas", "designation_programmes", "designation_confidence",
                                     "designation_specific"])
    d = designations.dropna(subset=["key"])
    rank = {c: i for i, c in enumerate(CONFIDENCE_ORDER)}
    grouped = d.groupby("key")
    return pd.DataFrame(
        {
            "designation_areas": grouped["area"].agg(lambda s: ";".join(dict.fromkeys(s))),
            "designation_programmes": grouped["programmes"].agg(
                lambda s: ";".join(sorted({t for v in s for t in v.split(";") if t}))),
            "designation_confidence": grouped["confidence"].agg(lambda s: min(s, key=lambda c: rank[c])),
            "designation_specific": grouped["confidence"].agg(lambda s: bool((s != DISTRICT_WIDE).any())),
        }
    )
