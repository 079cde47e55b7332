"""The national pipeline: ``assemble(data_dir, ...) -> Assembly`` with dataset ``germany``.

Reads the BKG polygons (VG5000, 01.01.2021) and attributes (VG250-EW, 31.12.2022), the INKAR 2024 extract, the
GISD inputs and release and the BBSR types; repairs and validates like the Bremen pipeline (invalid polygons
made valid and recorded, keys matched both ways, territorial changes between 2021 and 2022 resolved and
recorded); computes the indicators (:mod:`geo.national.indicators`) and returns the four layers ``gemeinden``,
``gemeindeverbaende``, ``kreise``, ``laender`` (EPSG:3035, an equal-area CRS) with the long ``indicators`` table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DataNotFoundError, Problem, ValidationError
from geo.national import LAYER_OF_LEVEL, NATIONAL_CRS, checks, sources, territory
from geo.national.indicators import MAIN_NATIONAL, NationalInputs, compute_indicators
from geo.pipeline import indicators as ind
from geo.pipeline import repairs, validate
from geo.pipeline.build import Assembly
from geo.pipeline.catalogue import SHAPEFILE_SIDECARS, Catalogue
from geo.pipeline.repairs import Repair

Progress = Callable[[str], None]

#: input files relative to the data folder
FILES = {
    "vg5000_gem": "de-verwaltungsgebiete/vg5000_2021-01-01/VG5000_GEM.shp",
    "vg5000_vwg": "de-verwaltungsgebiete/vg5000_2021-01-01/VG5000_VWG.shp",
    "vg5000_krs": "de-verwaltungsgebiete/vg5000_2021-01-01/VG5000_KRS.shp",
    "vg5000_lan": "de-verwaltungsgebiete/vg5000_2021-01-01/VG5000_LAN.shp",
    "vg250ew_gem": "de-verwaltungsgebiete/vg250ew_2022-12-31_attribute/vg250ew_gem_attribute.csv",
    "vg250ew_vwg": "de-verwaltungsgebiete/vg250ew_2022-12-31_attribute/vg250ew_vwg_attribute.csv",
    "vg250ew_krs": "de-verwaltungsgebiete/vg250ew_2022-12-31_attribute/vg250ew_krs_attribute.csv",
    "inkar": "de-inkar-2024-auszug/inkar2024_auszug_long.csv.gz",
    "gisd_inputs": "de-gisd-rki/inputs/gisd_input_indicators_long.csv.gz",
    "gisd_kreis": "de-gisd-rki/release_2025_v1.0/GISD_Bund_Kreis.csv",
    "bbsr_kreise": "de-bbsr-raumgliederung-2015/bbsr_referenz_2015_kreise.csv",
    "bbsr_gvb": "de-bbsr-raumgliederung-2015/bbsr_referenz_2015_gemeindeverbaende.csv",
}
OPTIONAL = frozenset({"bbsr_kreise", "bbsr_gvb", "gisd_kreis"})
POPULATION_YEAR = 2022


@dataclass
class NationalData:
    """The national inputs as read and repaired (before indicators)."""

    layers: dict[str, gpd.GeoDataFrame]
    attrs: dict[str, pd.DataFrame]
    inputs: NationalInputs
    bbsr: dict[str, pd.DataFrame]
    catalogue: Catalogue
    repairs: list[Repair]
    problems: list[Problem]


def discover_national(data_dir: Path) -> tuple[dict[str, Path], Catalogue]:
    """Locate the national files; raise :class:`DataNotFoundError` naming every missing required one."""
    paths = {name: Path(data_dir) / rel for name, rel in FILES.items()}
    missing = [str(p) for name, p in paths.items() if name not in OPTIONAL and not p.is_file()]
    if missing:
        raise DataNotFoundError(f"{data_dir}: national input file(s) not found: {', '.join(missing)}")
    files: list[Path] = []
    for _name, path in paths.items():
        if not path.is_file():
            continue
        files.append(path)
        if path.suffix == ".shp":
            files.extend(p for ext in SHAPEFILE_SIDECARS if (p := path.with_suffix(ext)).is_file())
    return paths, Catalogue(root=Path(data_dir), files=files)


def read_national(data_dir: Path, *, progress: Progress | None = None) -> NationalData:
    """Read, repair and validate the national inputs; problems are collected, not raised."""
    say = progress or (lambda _msg: None)
    paths, cat = discover_national(Path(data_dir))
    problems: list[Problem] = []
    log: list[Repair] = []
    say("reading VG5000 polygons and VG250-EW attributes")
    raw: dict[str, sources.Vg5000Layer] = {}
    for level, name in (("gemeinde", "vg5000_gem"), ("gemeindeverband", "vg5000_vwg"), ("kreis", "vg5000_krs"),
                        ("land", "vg5000_lan")):
        raw[level] = sources.read_vg5000(paths[name])
        if len(raw[level].dropped):
            d = raw[level].dropped
            log.append(Repair(step="drop_areas_without_structure", description=f"{level}: {len(d)} part(s) with "
                              "Geofaktor 8 (coastal sea, Bodensee: no administrative structure) left out; units are "
                              "their GF 9 parts (land plus inland water)", keys=sorted(set(d["key"])),
                              detail={"names": d["name"].tolist()}))
    attrs = {level: sources.read_vg250ew(paths[name], level)
             for level, name in (("gemeinde", "vg250ew_gem"), ("gemeindeverband", "vg250ew_vwg"),
                                 ("kreis", "vg250ew_krs"))}
    for level, layer in raw.items():
        layer.frame = repairs.repair_invalid_geometries(layer.frame, level, log)
        problems += validate.check_crs(layer.frame, level, expected=NATIONAL_CRS)

    say("bringing the 2021 polygons to the 2022 territorial status")
    gem21 = raw["gemeinde"].frame
    gem, mapping, more = territory.gemeinden_to_2022(gem21, attrs["gemeinde"], log)
    problems += more
    gem_attrs = attrs["gemeinde"].set_index("key")
    gem["gemeindeverband_key"] = gem["key"].map(gem_attrs["ars"]).str.slice(0, 9)
    gem["kreis_key"] = gem["key"].str.slice(0, 5)
    gem["land_key"] = gem["key"].str.slice(0, 2)
    layers = {"gemeinde": gem}
    for level, parent_col in (("gemeindeverband", "gemeindeverband_key"), ("kreis", "kreis_key")):
        layers[level] = territory.parent_layer_2022(gem, gem21, raw[level].frame, attrs[level], level=level,
                                                    parent_col=parent_col, mapping=mapping, log=log)
    layers["gemeindeverband"]["kreis_key"] = layers["gemeindeverband"]["key"].str.slice(0, 5)
    layers["gemeindeverband"]["land_key"] = layers["gemeindeverband"]["key"].str.slice(0, 2)
    layers["kreis"]["land_key"] = layers["kreis"]["key"].str.slice(0, 2)
    lan = raw["land"].frame
    layers["land"] = lan[["key", "name", "bez", "ars", "source_file", "geometry"]].copy()
    problems += _match_parents(layers, attrs)

    for level, frame in layers.items():
        frame = frame.drop(columns=[c for c in ("gf", "wsk") if c in frame.columns])
        problems += sources.check_key_format(frame["key"], level) + sources.check_unique(frame["key"], level)
        problems += validate.check_geometries(frame, level)
        layers[level] = frame.sort_values("key").reset_index(drop=True)

    say("reading INKAR, GISD and BBSR tables")
    inkar = sources.read_inkar(paths["inkar"])
    gisd_inputs = sources.read_gisd_inputs(paths["gisd_inputs"])
    gisd_release = (sources.read_gisd_release(paths["gisd_kreis"]) if paths["gisd_kreis"].is_file()
                    else pd.DataFrame(columns=["key", "name", "year", "gisd_score", "gisd_5", "gisd_10", "gisd_k"]))
    problems += _match_statistics(layers, inkar, gisd_inputs, gisd_release, paths)
    files = {"inkar": str(paths["inkar"]), "gisd_inputs": str(paths["gisd_inputs"]),
             "gisd_kreis": str(paths["gisd_kreis"]),
             **{level: str(paths[name]) for level, name in (("gemeinde", "vg250ew_gem"),
                                                            ("gemeindeverband", "vg250ew_vwg"),
                                                            ("kreis", "vg250ew_krs"))}}
    problems += checks.check_national(inkar, gisd_inputs, gisd_release, attrs, files)
    bbsr: dict[str, pd.DataFrame] = {}
    for level, name in (("kreis", "bbsr_kreise"), ("gemeindeverband", "bbsr_gvb")):
        if paths[name].is_file():
            bbsr[level] = sources.read_bbsr(paths[name], level)
            gone = sorted(set(bbsr[level]["key"]) - set(layers[level]["key"]))
            new = sorted(set(layers[level]["key"]) - set(bbsr[level]["key"]))
            if gone or new:
                problems.append(Problem("territorial_change_2015_2022", f"{level}: BBSR types are on the status of "
                                        f"31.12.2015; {len(gone)} key(s) of 2015 no longer exist and {len(new)} "
                                        "2022 unit(s) have no type", "warning", file=str(paths[name]),
                                        detail={"only_2015": gone[:50], "only_2022": new[:50]}))
    gem_table = pd.DataFrame(layers["gemeinde"][["key", "gemeindeverband_key", "kreis_key", "land_key"]])
    gem_table = gem_table.merge(attrs["gemeinde"][["key", "population", "area_km2_official"]], on="key", how="left")
    inputs = NationalInputs(gemeinden=gem_table, inkar=inkar, gisd_inputs=gisd_inputs, gisd_release=gisd_release,
                            population_year=POPULATION_YEAR)
    return NationalData(layers=layers, attrs=attrs, inputs=inputs, bbsr=bbsr, catalogue=cat, repairs=log,
                        problems=problems)


def _match_parents(layers: dict[str, gpd.GeoDataFrame], attrs: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every Gemeinde's parent exists one level up, and every parent has members (both ways)."""
    problems = []
    gem = layers["gemeinde"]
    for level, col in (("gemeindeverband", "gemeindeverband_key"), ("kreis", "kreis_key"), ("land", "land_key")):
        have = set(layers[level]["key"])
        for key in sorted(set(gem[col].dropna()) - have):
            problems.append(Problem("parent_without_geometry", f"{level} {key}: parent of Gemeinden but without a "
                                    "polygon", key=key))
        for key in sorted(have - set(gem[col].dropna())):
            problems.append(Problem("geometry_without_members", f"{level} {key}: polygon without any Gemeinde",
                                    key=key))
    for level in ("gemeindeverband", "kreis"):
        for key in sorted(set(attrs[level]["key"]) - set(layers[level]["key"])):
            problems.append(Problem("statistics_without_geometry", f"{level} {key}: in the VG250-EW attributes but "
                                    "without polygon", key=key))
    return problems


def _match_statistics(layers: dict[str, gpd.GeoDataFrame], inkar: pd.DataFrame, gisd_inputs: pd.DataFrame,
                      gisd_release: pd.DataFrame, paths: dict[str, Path]) -> list[Problem]:
    """Keys of the statistics against the layers, both ways: a statistic without geometry is an error."""
    problems = []
    tables = [("inkar", inkar), ("gisd_inputs", gisd_inputs[gisd_inputs["level"].isin(list(layers))]),
              ("gisd_kreis", gisd_release.assign(level="kreis"))]
    for name, table in tables:
        for level, part in table.groupby("level"):
            if level not in layers:
                continue
            keys = set(part["key"])
            have = set(layers[str(level)]["key"])
            for key in sorted(keys - have)[:50]:
                problems.append(Problem("statistics_without_geometry", f"{level} {key}: has rows in {paths[name].name}"
                                        " but no polygon", file=str(paths[name]), key=key))
            without = sorted(have - keys)
            if without and name == "inkar":
                problems.append(Problem("no_statistics", f"{level}: {len(without)} unit(s) have no row in "
                                        f"{paths[name].name} (e.g. {', '.join(without[:5])}); their INKAR "
                                        "indicators are missing", "warning", file=str(paths[name]),
                                        detail={"keys": without[:200]}))
    return problems


def _check_population_sums(long: pd.DataFrame, attrs: dict[str, pd.DataFrame]) -> list[Problem]:
    """Sums of the Gemeinden against the published Gemeindeverband and Kreis populations (VG250-EW)."""
    problems: list[Problem] = []
    pop = long[long["indicator"] == "population"]
    for level in ("gemeindeverband", "kreis"):
        children = pop[pop["level"] == level].set_index(["key", "year"])[["value"]].rename(
            columns={"value": "population"})
        published = attrs[level].assign(year=POPULATION_YEAR).set_index(["key", "year"])[["population"]]
        problems += validate.check_sums(children, published, level, ["population"])
    return problems


def wide_layer(frame: gpd.GeoDataFrame, level: str, long: pd.DataFrame, *, attrs: pd.DataFrame | None = None,
               types: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The published layer: attributes, ``area_km2`` (EPSG:3035), and the latest value of each main indicator."""
    sub = long[(long["level"] == level) & long["indicator"].isin(MAIN_NATIONAL) & long["value"].notna()]
    last = sub.sort_values("year").groupby(["key", "indicator"]).tail(1)
    wide = last.pivot(index="key", columns="indicator", values="value").reindex(columns=MAIN_NATIONAL)
    years = last.groupby("indicator")["year"].max()
    out = frame.copy()
    out["area_km2"] = out.geometry.area / 1e6
    if attrs is not None:
        out = out.merge(attrs[["key", "area_km2_official"]], on="key", how="left")
    out = out.merge(wide, left_on="key", right_index=True, how="left")
    out["year"] = POPULATION_YEAR
    out["has_statistics"] = out["population"].notna() & (out["population"] > 0)
    if types is not None:
        out = out.merge(types, on="key", how="left")
    cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
    out = gpd.GeoDataFrame(out[cols], geometry="geometry", crs=frame.crs)
    out.attrs["indicator_years"] = {k: int(v) for k, v in years.items()}
    return out


def assemble(data_dir: Path, *, extra: list[Path] | None = None, rule: ind.SmallNumberRule | None = None,
             strict: bool = False, progress: Progress | None = None, engine: str = "memory",
             scheduler: str | None = None) -> Assembly:
    """Read, repair, validate and compute the national snapshot.

    Parameters
    ----------
    data_dir
        The official data folder (with the ``de-*`` folders).
    extra
        Not supported for the national dataset yet (a non-empty list raises).
    rule
        Small-number rule for computed rates.
    strict
        Treat warnings (e.g. repaired geometries) as errors.
    progress
        Called with a short message before each step.
    engine, scheduler
        ``"memory"`` (default) or ``"dask"`` (indicators computed per Land on a Dask cluster; ``scheduler`` is
        the address of an existing one, default a local cluster). Results are identical.

    Raises
    ------
    DataNotFoundError, InputError
        A required file is missing or unreadable (the message names it).
    ValidationError
        With every problem found, when any is an error.
    """
    say = progress or (lambda _msg: None)
    rule = rule or ind.SmallNumberRule()
    if extra:
        raise ValidationError("--extra tables are not supported for the germany dataset yet",
                              problems=[Problem("extra", "own tables for the national dataset are not supported")])
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = read_national(Path(data_dir), progress=say)
    timings["read_and_repair"] = time.perf_counter() - t0
    problems, log = data.problems, data.repairs
    t1 = time.perf_counter()
    say("checking overlaps")
    for level, frame in data.layers.items():
        problems += validate.check_overlaps(frame, level, tolerance_m2=OVERLAP_TOLERANCE_M2)
    timings["overlaps"] = time.perf_counter() - t1
    validate.raise_on_errors(problems, str(data_dir), stage="the national inputs")
    say(f"computing indicators ({engine} engine)")
    t2 = time.perf_counter()
    if engine == "dask":
        from geo.national.dask_engine import compute_indicators_dask

        long = compute_indicators_dask(data.inputs, rule=rule, scheduler=scheduler)
    elif engine == "memory":
        long = compute_indicators(data.inputs, rule=rule)
    else:
        raise ValueError(f"engine must be 'memory' or 'dask', got {engine!r}")
    problems += _check_population_sums(long, data.attrs)
    timings["indicators"] = time.perf_counter() - t2
    problems = validate.escalate(problems, log, strict=strict)
    validate.raise_on_errors(problems, str(data_dir))
    say("building the wide layers")
    types = {"kreis": data.bbsr.get("kreis"), "gemeindeverband": data.bbsr.get("gemeindeverband")}
    out_layers = {}
    for level, frame in data.layers.items():
        t = types.get(level)
        if t is not None:
            t = t.rename(columns={c: f"bbsr2015_{c}" for c in t.columns if c != "key"})
        out_layers[LAYER_OF_LEVEL[level]] = wide_layer(frame, level, long, attrs=data.attrs.get(level), types=t)
    timings["total"] = time.perf_counter() - t0
    stats: list[dict[str, object]] = [{"file": FILES[name], "years": sorted(int(y) for y in table["year"].unique())}
             for name, table in (("inkar", data.inputs.inkar), ("gisd_inputs", data.inputs.gisd_inputs),
                                 ("gisd_kreis", data.inputs.gisd_release)) if len(table)]
    return Assembly(layers=out_layers, indicators=long, designations=pd.DataFrame(), catalogue=data.catalogue,
                    repairs=log, problems=problems, timings=timings, statistics_tables=stats, dataset="germany")


#: VG5000 is generalised to 1:5,000,000: neighbours overlap by slivers; above 0.05 km² it is an error
OVERLAP_TOLERANCE_M2 = 50_000.0


__all__ = ["FILES", "NationalData", "assemble", "discover_national", "read_national", "wide_layer"]
