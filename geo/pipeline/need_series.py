"""The need series of the need catalogue (Ortsteilatlas, Wahlatlas) in the long indicator table's form.

:func:`read_need_sources` reads the catalogue and the files it names; :func:`need_indicators` turns them into long
rows, one source per indicator and year, checked against each other where the catalogue asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geo.errors import Problem, QuartiereError
from geo.pipeline import checks_need, validate
from geo.pipeline import indicators as ind
from geo.pipeline.catalogue import Catalogue, NeedCatalogue, load_need_catalogue
from geo.pipeline.sources import ortsteilatlas, wahlatlas


@dataclass
class NeedSources:
    """The need catalogue and the Ortsteilatlas and Wahlatlas files read with it."""

    catalogue: NeedCatalogue
    atlas: list[ortsteilatlas.AtlasTable] = field(default_factory=list)
    wahl: list[wahlatlas.WahlatlasTable] = field(default_factory=list)


def read_need_sources(cat: Catalogue) -> tuple[NeedSources | None, list[Problem]]:
    """The need catalogue with its Ortsteilatlas and Wahlatlas files (None without such files), and read problems."""
    if not cat.ortsteilatlas and not cat.wahlatlas:
        return None, []
    problems: list[Problem] = []
    try:
        sources = NeedSources(load_need_catalogue())
    except QuartiereError as exc:
        return None, [Problem("read", exc.message)]
    need = sources.catalogue
    for path in cat.ortsteilatlas:
        try:
            table = ortsteilatlas.read_ortsteilatlas(path, key_prefix=need.atlas_key_prefix,
                                                     topics={i.topic for i in need.atlas_indicators})
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
            continue
        sources.atlas.append(table)
        problems += table.problems
    for path in cat.wahlatlas:
        try:
            wtable = wahlatlas.read_wahlatlas(path, city_prefixes=need.wahl_city_prefixes,
                                              geographies=need.wahl_geographies,
                                              comparison_keys=need.wahl_comparison_keys)
        except QuartiereError as exc:
            problems.append(Problem("read", exc.message, file=str(path)))
            continue
        sources.wahl.append(wtable)
        problems += wtable.problems
    return sources, problems


def _sole_ortsteil_stadtteile(rows: pd.DataFrame, ortsteile: gpd.GeoDataFrame) -> pd.DataFrame:
    """Stadtteile that are a single Ortsteil are published only as that Ortsteil: give them its values."""
    sole = ortsteile.groupby("stadtteil_key")["key"].agg(list)
    sole = sole[sole.map(len) == 1].map(lambda ks: ks[0])
    have = rows[(rows["level"] == "stadtteil") & rows["value"].notna()]
    have_pairs = set(zip(have["key"], have["indicator"], have["year"], strict=True))
    ot = rows[(rows["level"] == "ortsteil") & rows["key"].isin(set(sole))]
    st_of = {ot_key: st_key for st_key, ot_key in sole.items()}
    add = ot.assign(key=ot["key"].map(st_of), level="stadtteil",
                    source=ot["source"] + " (published for its only Ortsteil " + ot["key"] + ")")
    add = add[[(k, i, y) not in have_pairs for k, i, y in zip(add["key"], add["indicator"], add["year"],
                                                                strict=True)]]
    added = set(zip(add["key"], add["indicator"], add["year"], strict=True))
    drop = pd.Series([lvl == "stadtteil" and (k, i, y) in added for lvl, k, i, y in
                      zip(rows["level"], rows["key"], rows["indicator"], rows["year"], strict=True)],
                     index=rows.index, dtype=bool)
    return pd.concat([rows[~drop], add], ignore_index=True)


def need_indicators(sources: NeedSources, layers: dict[str, gpd.GeoDataFrame]) -> tuple[pd.DataFrame, list[Problem]]:
    """The need series of the catalogue in the long table's form, one source per indicator and year."""
    need = sources.catalogue
    problems: list[Problem] = []
    by_source: dict[str, list[pd.DataFrame]] = {"ortsteilatlas": [], "wahlatlas": []}
    units = checks_need.units_of(need)
    for table in sources.atlas:
        rows, more = ortsteilatlas.to_indicators(table, need)
        by_source["ortsteilatlas"].append(rows)
        problems += more + checks_need.check_need(checks_need.atlas_cells(rows, table.data), units, str(table.file))
    for wtable in sources.wahl:
        rows, more = wahlatlas.to_indicators(wtable, need)
        by_source["wahlatlas"].append(rows)
        problems += more + checks_need.check_need(rows, units, str(wtable.file))
    known = {k for frame in layers.values() for k in frame["key"]} | set(layers["ortsteil"]["city_key"])
    frames: dict[str, pd.DataFrame] = {}
    for name, parts in by_source.items():
        if not parts:
            continue
        rows = pd.concat(parts, ignore_index=True)
        # a newer file of the same source wins (files are read in sorted order)
        rows = rows.drop_duplicates(["key", "indicator", "year"], keep="last")
        unknown = sorted(set(rows["key"]) - known)
        for key in unknown:
            problems.append(Problem("need_key_without_geometry", f"{name}: key {key} matches no district of the "
                                    "boundary layers; its values are left out", "warning", key=key))
        rows = rows[rows["key"].isin(known)]
        frames[name] = _sole_ortsteil_stadtteile(rows, layers["ortsteil"])
    for check in need.agreement_checks:
        ident = str(check["indicator"])
        a, b = (frames.get(s) for s in ("ortsteilatlas", "wahlatlas"))
        if a is None or b is None:
            continue
        problems += validate.check_agreement(a[a["indicator"] == ident], b[b["indicator"] == ident], ident,
                                             tolerance=float(check.get("tolerance", 0.0)),
                                             max_share_differing=float(check.get("max_share_differing", 0.25)),
                                             names=("ortsteilatlas", "wahlatlas"))
    out = []
    for name, rows in frames.items():
        for ident, part in rows.groupby("indicator", sort=False):
            order = need.sources_by_year.get(str(ident), (name,))
            if name not in order:
                order = (*order, name)
            # the first source in the catalogue's order that has the year gives every value of that year
            years_of = {s: set(f.loc[f["indicator"] == ident, "year"]) for s, f in frames.items()}
            winner = {y: next(s for s in order if y in years_of.get(s, set())) for y in years_of[name]}
            out.append(part[part["year"].map(winner) == name])
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=ind.LONG_COLUMNS)
    result = pd.concat([result, ind.fixed_changes(result, need.changes)], ignore_index=True)
    result["year"] = result["year"].astype(int)
    return result[ind.LONG_COLUMNS], problems
