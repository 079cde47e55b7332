"""Census grids interpolated to the Ortsteile: the Zensus 2011 1 km grid and the Zensus 2022 100 m extract.

Two readers and one pure function:

- :func:`read_grid_2011` reads the 1 km "Spitze Werte" parquet files (``continuous_<variable>.parquet``, columns
  ``<variable>, x, y``; ``x``/``y`` are cell centres in EPSG:3035, ``-1`` means no value or confidential), builds
  each cell's square from its centre (± half the cell size) in EPSG:3035 and reprojects it to EPSG:25832.
- :func:`read_cells_2022` reads the long 100 m extract (``datei_z22data, x_mp_100m_epsg3035, y_mp_100m_epsg3035,
  wert, quality[, ot_key_zentroid]``): one row per published count and cell, the cell centre as a point.
- :func:`to_indicators` turns both into rows of the long indicator table (:data:`geo.pipeline.indicators.LONG_COLUMNS`)
  for the Ortsteile and, by summing the Ortsteile's counts with the parent keys of the layer, for the
  Stadtteile, Stadtbezirke and cities. Which variables and files become which indicator is data:
  the ``zensus`` section of ``geo/pipeline/need_catalogue.yml``.

The maths
---------
2011: let ``f_ij`` be the share of cell ``i``'s area that lies in Ortsteil ``j`` (the part outside every Ortsteil,
e.g. in Lower Saxony, is lost: ``allocate_total=False`` in tobler) and ``p_i`` the cell's residents (``-1``
counts as none). Every indicator is a pair of extensive counts per cell, interpolated by area as
:func:`tobler.area_weighted.area_interpolate` does (``sum_i f_ij x_i``, one sparse product on the intersection
table; a test checks it against tobler) and summed to the levels above:

- ``sum``: the count itself (residents ``p_i``);
- ``resident_weighted``: numerator ``p_i * v_i`` (``/ 100`` for a %), denominator ``p_i``, over the cells with a
  value ``v_i`` only: the cell value weighted by the residents the district receives from the cell;
- ``per_household``: numerator ``p_i``, denominator the households ``p_i / v_i``: a mean household size is
  residents per household, so it is aggregated as that ratio of counts (a resident-weighted mean of the cell
  means would overstate it).

The value is ``numerator / denominator`` (``* 100`` for a %) at every level. A flag ``partial_cells`` marks a
district where less than ``core_share_min`` of its interpolated residents come from cells lying mostly (more
than half their area) inside it, or which receives fewer than ``min_cell_equivalents`` populated cells' worth of
area: its values rest on a few cells shared with neighbours.

2022: the 100 m cells (1 ha) are far smaller than any Ortsteil (0.4 km² and more, i.e. 40 cells and more), and
the counts sit in buildings, not spread over the cell's area: each cell is given whole to the Ortsteil that
contains its centre (the publisher's extract was cut the same way; ``ot_key_zentroid`` is checked against our
assignment). Counts stay whole numbers, and per city they add up exactly to the file's. Because counts of 1 and 2
are not published, every sum is a lower bound (flags from the catalogue).

A value that cannot be computed is NaN with its reason in ``flag`` (``missing_no_cells``: no cell overlaps the
district; ``missing_no_cell_value``: no populated cell with a value of that variable; ``missing_zero_denominator``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import CRSError, DataNotFoundError, InputError, Problem, QuartiereError
from geo.pipeline.catalogue import NeedCatalogue, NeedIndicator, load_need_catalogue
from geo.pipeline.checks_need import check_census_counts_2022, check_census_grid

STORAGE_CRS = "EPSG:25832"
GRID_CRS = "EPSG:3035"
GRID_FILE_PREFIX = "continuous_"
COLUMNS_2022 = {"file": "datei_z22data", "x": "x_mp_100m_epsg3035", "y": "y_mp_100m_epsg3035", "value": "wert",
                "quality": "quality", "centroid_key": "ot_key_zentroid"}
REQUIRED_2022 = ("file", "x", "y", "value")
#: codes of the 2011 grid files that mean "no value" besides ``missing_value`` (-1): -9 (confidential / not
#: applicable) in every variable but Einwohner; read as a number it gave negative rates (-1.6 % vacancy)
OTHER_MISSING_2011 = (-9.0,)
LEVEL_COLUMNS = {"ortsteil": "key", "stadtteil": "stadtteil_key", "stadtbezirk": "stadtbezirk_key",
                 "stadt": "city_key"}
LONG_COLUMNS = ["key", "level", "year", "indicator", "value", "numerator", "denominator", "flag", "base_year",
                "source"]
AGGREGATES = ("sum", "resident_weighted", "per_household")
METHOD_TEXT = {
    "sum": "area-weighted from the 1 km cells",
    "resident_weighted": "weighted by the residents each district receives from a 1 km cell (area-weighted)",
    "per_household": "residents per household, households = residents / cell value (area-weighted)",
}


# --- readers ------------------------------------------------------------------------------------------------------

def _grid_files(source: Path | Sequence[Path], variables: Sequence[str] | None) -> dict[str, Path]:
    if isinstance(source, str | Path):
        folder = Path(source)
        if not folder.is_dir():
            raise DataNotFoundError(f"{folder}: census grid folder not found")
        files = sorted(folder.glob(f"{GRID_FILE_PREFIX}*.parquet"))
    else:
        files = [Path(p) for p in source]
    found = {p.stem.removeprefix(GRID_FILE_PREFIX): p for p in files}
    if variables is None:
        return found
    missing = [v for v in variables if v not in found]
    if missing:
        where = source if isinstance(source, str | Path) else "the given files"
        raise DataNotFoundError(f"{where}: no grid file for {missing} ({GRID_FILE_PREFIX}<variable>.parquet)")
    return {v: found[v] for v in variables}


def _read_grid_file(path: Path, variable: str, bbox: tuple[float, float, float, float] | None,
                    problems: list[Problem]) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = str(path)
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException, ValueError) as exc:
        problems.append(Problem("read", f"{path.name}: not a readable parquet file ({exc})", file=where))
        return None
    missing = [c for c in (variable, "x", "y") if c not in schema.names]
    if missing:
        problems.append(Problem("read", f"{path.name}: columns {missing} missing (found {schema.names})", file=where))
        return None
    bad = [c for c in (variable, "x", "y") if not (pa.types.is_integer(schema.field(c).type)
                                                    or pa.types.is_floating(schema.field(c).type))]
    if bad:
        problems.append(Problem("read", f"{path.name}: columns {bad} are not numeric", file=where))
        return None
    try:
        table = pq.read_table(path, columns=[variable, "x", "y"])
    except (OSError, pa.ArrowException, ValueError) as exc:
        problems.append(Problem("read", f"{path.name}: cannot read ({exc})", file=where))
        return None
    cols = {c: table.column(c).to_numpy().astype(float) for c in (variable, "x", "y")}
    if np.isnan(cols["x"]).any() or np.isnan(cols["y"]).any():
        problems.append(Problem("read", f"{path.name}: cells without coordinates", file=where))
        return None
    if bbox is not None:  # masking after one whole read is faster than parquet filters for these small files
        keep = (cols["x"] >= bbox[0]) & (cols["x"] <= bbox[2]) & (cols["y"] >= bbox[1]) & (cols["y"] <= bbox[3])
        cols = {c: v[keep] for c, v in cols.items()}
    frame = pd.DataFrame(cols)
    dup = int(frame.duplicated(["x", "y"]).sum())
    if dup:
        problems.append(Problem("read", f"{path.name}: {dup} cells given more than once", file=where))
        return None
    return frame


def read_grid_2011(source: Path | Sequence[Path], *, variables: Sequence[str] | None = None,
                   bbox: tuple[float, float, float, float] | None = None, cell_size_m: float = 1000.0,
                   missing_value: float = -1.0, crs: str = GRID_CRS) -> gpd.GeoDataFrame:
    """Read the Zensus 2011 1 km grid files into one frame of cell squares in EPSG:25832.

    Parameters
    ----------
    source
        The folder holding ``continuous_<variable>.parquet`` files, or the files themselves.
    variables
        The variables to read (default: every file found); only these files and columns are opened.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in the grid's CRS: only cells whose centre lies inside are read (filtered
        while reading, so all of Germany is never loaded).
    cell_size_m, missing_value, crs
        The grid's cell size, its "no value or confidential" code (becomes NaN) and the CRS of the centres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell: ``x``, ``y`` (centres in ``crs``), one float column per variable (NaN where the file has
        ``missing_value`` or no row), the square as geometry in EPSG:25832.

    Raises
    ------
    DataNotFoundError
        The folder or a requested variable's file does not exist.
    InputError
        A file is no parquet file, lacks its columns or has duplicate cells; ``problems`` names every such file.
    """
    files = _grid_files(source, variables)
    if not files:
        raise DataNotFoundError(f"{source}: no census grid files ({GRID_FILE_PREFIX}*.parquet)")
    problems: list[Problem] = []
    frames = [(v, _read_grid_file(p, v, bbox, problems)) for v, p in files.items()]
    if problems:
        raise InputError(f"{len(problems)} census grid file(s) cannot be read", problems=problems)
    merged: pd.DataFrame | None = None
    for _variable, frame in frames:
        assert frame is not None
        merged = frame if merged is None else merged.merge(frame, on=["x", "y"], how="outer")
    assert merged is not None
    merged = merged.sort_values(["y", "x"]).reset_index(drop=True)
    for variable in files:
        merged[variable] = merged[variable].where(~merged[variable].isin((missing_value, *OTHER_MISSING_2011)))
    half = cell_size_m / 2
    x, y = merged["x"].to_numpy(float), merged["y"].to_numpy(float)
    squares = shapely.box(x - half, y - half, x + half, y + half)
    grid = gpd.GeoDataFrame(merged[["x", "y", *files]], geometry=squares, crs=crs)
    return grid.to_crs(STORAGE_CRS)


def read_cells_2022(path: Path) -> gpd.GeoDataFrame:
    """Read the long Zensus 2022 100 m extract (CSV, optionally gzipped) into points in EPSG:25832.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per published count: ``file`` (the ``datei_z22data`` name, categorical), ``x``, ``y`` (centres in
        EPSG:3035), ``value`` (the count), ``quality`` and ``centroid_key`` (the extract's Ortsteil of the centre;
        empty when the file has no such column), the centre as a point in EPSG:25832.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file is not a CSV of this layout; ``problems`` lists every finding (missing columns, counts that are
        not whole non-negative numbers, cells without coordinates, counts given twice).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: census 2022 cell file not found")
    where = str(path)
    text = {COLUMNS_2022["file"]: str, COLUMNS_2022["centroid_key"]: str, COLUMNS_2022["quality"]: str}
    try:
        raw = pd.read_csv(path, dtype=text, keep_default_na=False)
    except (OSError, UnicodeDecodeError, ValueError, EOFError) as exc:  # gzip errors are OSError / EOFError
        message = f"{path.name}: not a readable CSV file ({exc})"
        raise InputError(message, problems=[Problem("read", message, file=where)]) from exc
    problems: list[Problem] = []
    missing = [COLUMNS_2022[c] for c in REQUIRED_2022 if COLUMNS_2022[c] not in raw.columns]
    if missing:
        problems.append(Problem("read", f"{path.name}: columns {missing} missing (found {list(raw.columns)})",
                                file=where))
        raise InputError(f"{path.name}: not a census 2022 cell extract", problems=problems)
    out = pd.DataFrame({"file": raw[COLUMNS_2022["file"]].str.strip().astype("category")})
    for name in ("x", "y", "value"):
        column = raw[COLUMNS_2022[name]]
        out[name] = (column.astype(float) if pd.api.types.is_numeric_dtype(column)
                     else pd.to_numeric(column, errors="coerce"))
        bad = out[name].isna().to_numpy()
        if bad.any():
            problems.append(Problem("read", f"{path.name}: {int(bad.sum())} rows with no number in "
                                    f"{COLUMNS_2022[name]} (first: line {int(bad.argmax()) + 2})", file=where))
    problems += check_census_counts_2022(out, where)  # finite, whole, non-negative: named line, cell and value
    empty = int((out["file"] == "").sum())
    if empty:
        problems.append(Problem("read", f"{path.name}: {empty} rows name no file", file=where))
    dup = int(out.duplicated(["file", "x", "y"]).sum())
    if dup:
        problems.append(Problem("read", f"{path.name}: {dup} counts given twice for the same file and cell",
                                file=where))
    if problems:
        raise InputError(f"{path.name}: {len(problems)} problem(s) in the census 2022 cells", problems=problems)
    out["quality"] = raw[COLUMNS_2022["quality"]] if COLUMNS_2022["quality"] in raw.columns else ""
    out["centroid_key"] = raw[COLUMNS_2022["centroid_key"]] if COLUMNS_2022["centroid_key"] in raw.columns else ""
    # one point per cell, reprojected once (a cell has a row per file)
    cell, first = cell_ids(out["x"].to_numpy(), out["y"].to_numpy())
    points = gpd.GeoSeries(gpd.points_from_xy(out["x"].to_numpy()[first], out["y"].to_numpy()[first]),
                           crs=GRID_CRS).to_crs(STORAGE_CRS)
    return gpd.GeoDataFrame(out, geometry=np.asarray(points.values)[cell], crs=STORAGE_CRS)


def cell_ids(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row the number of its cell (its centre ``x, y``), and for each cell its first row."""
    codes, uniques = pd.factorize(np.asarray(x, dtype=float) + 1j * np.asarray(y, dtype=float))
    first = np.full(len(uniques), -1)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return codes, first


# --- interpolation ------------------------------------------------------------------------------------------------

def _check_frames(grid: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None,
                  ortsteile: gpd.GeoDataFrame) -> None:
    """The guard of :func:`to_indicators`: every wrong argument named at once."""
    errors = []
    crs_errors = []
    for name, frame in (("ortsteile", ortsteile), ("grid", grid), ("cells", cells)):
        if frame is None:
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            errors.append(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
            continue
        if frame.crs is None:
            crs_errors.append(f"{name} has no CRS")
        elif frame.crs.to_epsg() != int(STORAGE_CRS.split(":")[1]):
            crs_errors.append(f"{name} is in {frame.crs.to_string()}, not {STORAGE_CRS}")
    if isinstance(ortsteile, gpd.GeoDataFrame):
        missing = [c for c in LEVEL_COLUMNS.values() if c not in ortsteile.columns]
        if missing:
            errors.append(f"ortsteile lacks the columns {missing}")
        elif ortsteile["key"].duplicated().any():
            errors.append(f"ortsteile has duplicate keys {sorted(ortsteile.loc[ortsteile['key'].duplicated(), 'key'])}")
    if isinstance(cells, gpd.GeoDataFrame):
        missing = [c for c in ("file", "x", "y", "value") if c not in cells.columns]
        if missing:
            errors.append(f"cells lacks the columns {missing} (read it with read_cells_2022)")
    if crs_errors:
        raise CRSError("; ".join(crs_errors + errors))
    if errors:
        raise InputError("; ".join(errors))


class _Levels:
    """The Ortsteile's position in every level: for each level the keys and each Ortsteil's number in it."""

    def __init__(self, ortsteile: gpd.GeoDataFrame) -> None:
        self.keys: dict[str, np.ndarray] = {}
        self.codes: dict[str, np.ndarray] = {}
        for level, col in LEVEL_COLUMNS.items():
            codes, keys = pd.factorize(ortsteile[col].astype(str).to_numpy(object), sort=True)
            self.codes[level], self.keys[level] = codes, np.asarray(keys, dtype=object)

    def sum(self, level: str, per_ortsteil: np.ndarray) -> np.ndarray:
        """Ortsteil counts summed to ``level`` (the parent keys of the layer)."""
        return np.bincount(self.codes[level], weights=per_ortsteil, minlength=len(self.keys[level]))


class _Rows:
    """Rows of the long table, collected as arrays and framed once."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, level: str, keys: np.ndarray, year: int, ident: str, value: np.ndarray, numerator: np.ndarray,
            denominator: np.ndarray, flag: np.ndarray, source: str) -> None:
        self.parts.append({"key": keys, "level": level, "year": year, "indicator": ident, "value": value,
                           "numerator": numerator, "denominator": denominator, "flag": flag, "source": source})

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=LONG_COLUMNS)
        n = [len(p["key"]) for p in self.parts]
        cols: dict[str, Any] = {}
        for name in ("key", "value", "numerator", "denominator", "flag"):
            cols[name] = np.concatenate([np.asarray(p[name], dtype=object if name in ("key", "flag") else float)
                                         for p in self.parts])
        for name in ("level", "year", "indicator", "source"):
            cols[name] = np.repeat([p[name] for p in self.parts], n)
        cols["base_year"] = np.full(sum(n), np.nan)
        out = pd.DataFrame(cols)
        out["year"] = out["year"].astype(int)
        out["key"] = out["key"].astype(str)
        out["flag"] = out["flag"].astype(str)
        return out[LONG_COLUMNS]


def _join_flags(*parts: np.ndarray) -> np.ndarray:
    """Flags joined with ``;`` element by element, empty ones left out."""
    out = np.full(len(parts[0]), "", dtype=object)
    for part in parts:
        part = np.asarray(part, dtype=object)
        out = np.where(part == "", out, np.where(out == "", part, out + ";" + part))
    return out


def _entries(catalogue: NeedCatalogue, source: str) -> list[NeedIndicator]:
    return [i for i in catalogue.zensus_indicators if i.source == source and i.in_snapshot]


def _cell_shares(cells: gpd.GeoDataFrame, ortsteile: gpd.GeoDataFrame) -> tuple[np.ndarray, ...]:
    """Every overlapping (cell, Ortsteil) by position, the overlap's area (m²) and its share of the cell's area."""
    cell_geoms = np.asarray(cells.geometry.values)
    ot_geoms = np.asarray(ortsteile.geometry.values)
    icell, iot = ortsteile.sindex.query(cell_geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(cell_geoms[icell], ot_geoms[iot]))
    keep = area > 0
    icell, iot, area = icell[keep], iot[keep], area[keep]
    return icell, iot, area, area / shapely.area(cell_geoms[icell])


def _indicators_2011(grid: gpd.GeoDataFrame, ortsteile: gpd.GeoDataFrame, levels: _Levels, rows: _Rows,
                     catalogue: NeedCatalogue) -> list[Problem]:
    from scipy.sparse import coo_matrix, csr_matrix

    spec = catalogue.zensus_grid
    problems: list[Problem] = []
    pop_var = str(spec.get("population", "Einwohner"))
    if pop_var not in grid.columns:
        return [Problem("zensus_no_population", f"census 2011 grid: no {pop_var} column, so no cell weights; the "
                        "2011 census indicators are left out", "warning")]
    year = int(spec.get("year", 2011))
    pop = np.clip(np.nan_to_num(grid[pop_var].to_numpy(float), nan=0.0), 0.0, None)
    # every indicator as two extensive counts per cell (numerator __n, denominator __d)
    counts: dict[str, np.ndarray] = {}
    used = []
    for e in _entries(catalogue, "zensus2011"):
        if e.variable not in grid.columns:
            problems.append(Problem("zensus_missing_variable", f"census 2011 grid: no {e.variable} column; {e.id} is "
                                    "left out", "warning"))
            continue
        v = grid[e.variable].to_numpy(float)
        valid = np.isfinite(v) & (pop > 0)
        factor = 100.0 if e.unit == "%" else 1.0
        if e.aggregate == "sum":
            num, den = np.where(np.isfinite(v), np.clip(v, 0.0, None), 0.0), np.zeros(len(v))
        elif e.aggregate == "resident_weighted":
            num, den = np.where(valid, pop * v / factor, 0.0), np.where(valid, pop, 0.0)
        else:  # per_household: residents over households (residents / mean household size of the cell)
            valid &= v > 0
            num, den = np.where(valid, pop, 0.0), np.where(valid, pop / np.where(valid, v, 1.0), 0.0)
        counts[f"{e.id}__n"], counts[f"{e.id}__d"] = num, den
        used.append((e, factor))
    icell, iot, _area, share = _cell_shares(grid, ortsteile)
    # tobler's area weighting with allocate_total=False, on the intersection table computed once above: each
    # count times the share f_ij of the cell's area in the Ortsteil (the part outside every Ortsteil, another
    # Land or the sea, keeps its residents); tobler's own function is not imported for this one sparse product,
    # because importing tobler pulls in statsmodels (about 1.5 s of every build)
    weights = csr_matrix((share, (icell, iot)), shape=(len(grid), len(ortsteile)))
    est = {name: np.asarray(weights.T @ values, dtype=float) for name, values in counts.items()}
    core_min = float(spec.get("core_share_min", 0.5))
    min_eq = float(spec.get("min_cell_equivalents", 2))
    publisher = spec.get("publisher", "Zensus 2011")
    for level, keys in levels.keys.items():
        # the cells' shares of each district of this level (an Ortsteil's parents add up its shares)
        per = coo_matrix((share, (icell, levels.codes[level][iot])), shape=(len(grid), len(keys))).tocsr().tocoo()
        residents = per.data * pop[per.row]
        n = len(keys)
        touched = np.bincount(per.col, minlength=n) > 0
        received = np.bincount(per.col, weights=residents, minlength=n)
        core = np.bincount(per.col, weights=np.where(per.data > 0.5, residents, 0.0), minlength=n)
        equiv = np.bincount(per.col, weights=np.where(pop[per.row] > 0, per.data, 0.0), minlength=n)
        core_share = np.divide(core, received, out=np.zeros(n), where=received > 0)
        partial = touched & (received > 0) & ((core_share < core_min) | (equiv < min_eq))
        partial_flag = np.where(partial, "partial_cells", "")
        nan = np.full(n, np.nan)
        for e, factor in used:
            num = levels.sum(level, est[f"{e.id}__n"])
            den = levels.sum(level, est[f"{e.id}__d"])
            source = f"{publisher}: {e.variable}, {METHOD_TEXT[e.aggregate]}"
            if e.aggregate == "sum":
                flag = np.where(~touched, "missing_no_cells",
                                np.where(received > 0, partial_flag, "no_populated_cells"))
                rows.add(level, keys, year, e.id, np.where(touched, num, np.nan), nan, nan, flag, source)
                continue
            ok = den > 0
            value = np.divide(num, den, out=nan.copy(), where=ok) * factor
            why = np.where(received > 0, "missing_no_cell_value", "missing_no_populated_cells")
            flag = np.where(~touched, "missing_no_cells", np.where(ok, partial_flag, _join_flags(why, partial_flag)))
            rows.add(level, keys, year, e.id, value, np.where(ok, num, np.nan), np.where(ok, den, np.nan), flag,
                     source)
    return problems


def _match(patterns: Sequence[str], names: Sequence[str]) -> list[str]:
    return sorted({n for n in names for p in patterns if fnmatch.fnmatchcase(n, p)})


def _indicators_2022(cells: gpd.GeoDataFrame, ortsteile: gpd.GeoDataFrame, levels: _Levels, rows: _Rows,
                     catalogue: NeedCatalogue) -> list[Problem]:
    spec = catalogue.zensus_cells
    year = int(spec.get("year", 2022))
    problems: list[Problem] = []
    # each cell whole to the Ortsteil containing its centre (the first, for a centre on a shared edge)
    cell, first = cell_ids(cells["x"].to_numpy(float), cells["y"].to_numpy(float))
    ipt, iot = ortsteile.sindex.query(np.asarray(cells.geometry.values)[first], predicate="intersects")
    ot_of_cell = np.full(len(first), -1)
    ot_of_cell[ipt[::-1]] = iot[::-1]
    ot_of_row = ot_of_cell[cell]
    value = cells["value"].to_numpy(float)
    outside = ot_of_row < 0
    if outside.any():
        problems.append(Problem("zensus_cells_outside", f"census 2022: {int((ot_of_cell < 0).sum())} cell centre(s) "
                                f"lie in no Ortsteil; their {int(value[outside].sum())} counts are left out",
                                "warning"))
    if "centroid_key" in cells.columns:
        ot_keys = ortsteile["key"].astype(str).to_numpy(object)
        given = cells["centroid_key"].astype(str).to_numpy(object)[first]
        ours = np.where(ot_of_cell >= 0, ot_keys[np.maximum(ot_of_cell, 0)], "")
        differ = (given != "") & (given != ours)
        if differ.any():
            pairs = sorted(set(zip(given[differ], ours[differ], strict=True)))[:5]
            problems.append(Problem("zensus_centroid_mismatch", f"census 2022: {int(differ.sum())} cells lie in "
                                    "another Ortsteil than the extract's ot_key_zentroid says (given, ours: "
                                    f"{pairs})", "warning"))
    files = cells["file"].astype("category")
    names = [str(n) for n in files.cat.categories]
    codes = files.cat.codes.to_numpy()
    inside = ~outside
    n_ot = len(ortsteile)
    has_cells = np.bincount(ot_of_cell[ot_of_cell >= 0], minlength=n_ot).astype(float)

    def total(selected: list[str]) -> np.ndarray:
        rows_of = inside & np.isin(codes, [names.index(s) for s in selected])
        return np.bincount(ot_of_row[rows_of], weights=value[rows_of], minlength=n_ot)

    publisher = spec.get("publisher", "Zensus 2022")
    for e in _entries(catalogue, "zensus2022"):
        num_files, den_files = _match(e.numerator_files, names), _match(e.denominator_files, names)
        if not num_files or (e.denominator_files and not den_files):
            problems.append(Problem("zensus_missing_files", f"census 2022: no rows of {list(e.numerator_files)} / "
                                    f"{list(e.denominator_files)}; {e.id} is left out", "warning"))
            continue
        num_ot = total(num_files)
        den_ot = total(den_files) if den_files else None
        described = " + ".join(f"{p} ({len(_match([p], names))} files)" if "*" in p else p for p in e.numerator_files)
        if den_files:
            described += " per 100 of " + " + ".join(
                f"{p} ({len(_match([p], names))} files)" if "*" in p else p for p in e.denominator_files)
        source = f"{publisher}: {described}, 100 m cells summed by centre"
        for level, keys in levels.keys.items():
            touched = levels.sum(level, has_cells) > 0
            num = levels.sum(level, num_ot)
            nan = np.full(len(keys), np.nan)
            if den_ot is None:
                flag = np.where(touched, e.flag, _join_flags(np.full(len(keys), e.flag, dtype=object),
                                                             np.full(len(keys), "no_cells", dtype=object)))
                rows.add(level, keys, year, e.id, num, nan, nan, flag, source)
                continue
            den = levels.sum(level, den_ot)
            ok = touched & (den > 0)
            ratio = np.divide(100.0 * num, den, out=nan.copy(), where=ok)
            flag = np.where(~touched, "missing_no_cells", np.where(~ok, "missing_zero_denominator", e.flag))
            rows.add(level, keys, year, e.id, ratio, np.where(ok, num, np.nan), np.where(ok, den, np.nan), flag,
                     source)
    return problems


def to_indicators(grid: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None, ortsteile: gpd.GeoDataFrame,
                  catalogue: NeedCatalogue) -> tuple[pd.DataFrame, list[Problem]]:
    """The catalogue's census indicators for the Ortsteile and every level above, in the long table's form.

    Parameters
    ----------
    grid
        The 2011 grid from :func:`read_grid_2011` (EPSG:25832), or None.
    cells
        The 2022 cells from :func:`read_cells_2022` (EPSG:25832), or None.
    ortsteile
        The Ortsteil layer (EPSG:25832) with ``key``, ``stadtteil_key``, ``stadtbezirk_key`` and ``city_key``.
    catalogue
        The need catalogue; its ``zensus`` section names the indicators.

    Returns
    -------
    (pandas.DataFrame, list of Problem)
        Rows with the columns of :data:`geo.pipeline.indicators.LONG_COLUMNS` (levels ortsteil, stadtteil, stadtbezirk,
        stadt), and warnings (a variable or file the catalogue names is missing, cells outside every Ortsteil, a
        centre assigned differently than the extract says).

    Raises
    ------
    CRSError
        A frame has no CRS or is not in EPSG:25832.
    InputError
        ``ortsteile`` lacks a key column or has duplicate keys, or ``cells`` lacks its columns.
    """
    _check_frames(grid, cells, ortsteile)
    ortsteile = ortsteile.reset_index(drop=True)
    levels = _Levels(ortsteile)
    rows = _Rows()
    problems: list[Problem] = []
    if grid is not None and len(grid):
        problems += _indicators_2011(grid.reset_index(drop=True), ortsteile, levels, rows, catalogue)
    if cells is not None and len(cells):
        problems += _indicators_2022(cells.reset_index(drop=True), ortsteile, levels, rows, catalogue)
    return rows.frame(), problems


# --- from the discovered files ------------------------------------------------------------------------------------

def _as_problems(exc: QuartiereError, file: object) -> list[Problem]:
    if exc.problems:
        return list(exc.problems)
    return [Problem("read", exc.message, file=str(file))]


def grid_bbox(ortsteile: gpd.GeoDataFrame, *, margin_m: float = 1000.0,
              crs: str = GRID_CRS) -> tuple[float, float, float, float]:
    """The Ortsteile's bounding box in the grid's CRS, widened by ``margin_m`` (cells whose square reaches in)."""
    box = gpd.GeoSeries([shapely.box(*ortsteile.total_bounds)], crs=ortsteile.crs).to_crs(crs)
    xmin, ymin, xmax, ymax = box.total_bounds
    return (xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m)


def census_indicators(grid_files: Sequence[Path], cells_files: Sequence[Path], ortsteile: gpd.GeoDataFrame, *,
                      catalogue: NeedCatalogue | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read the discovered census files and compute :func:`to_indicators`; read errors become problems.

    Only the grid variables the catalogue names are read, and only the cells within the Ortsteile's bounding box.
    An unreadable or malformed file is a ``read`` problem (an error) naming the file, never a traceback.
    """
    problems: list[Problem] = []
    try:
        catalogue = catalogue or load_need_catalogue()
    except QuartiereError as exc:
        return pd.DataFrame(columns=LONG_COLUMNS), [Problem("read", exc.message)]
    spec: dict[str, Any] = catalogue.zensus_grid
    grid = None
    variables = list(dict.fromkeys([str(spec.get("population", "Einwohner"))]
                                   + [e.variable for e in _entries(catalogue, "zensus2011")]))
    present = {Path(p).stem.removeprefix(GRID_FILE_PREFIX) for p in grid_files}
    if grid_files:
        missing = [v for v in variables if v not in present]
        if missing:
            problems.append(Problem("zensus_missing_variable", f"census 2011 grid: no file for {missing}; the "
                                    "indicators of these variables are left out", "warning"))
        wanted = [v for v in variables if v in present]
        try:
            cell = float(spec.get("cell_size_m", 1000))
            grid = read_grid_2011(list(grid_files), variables=wanted,
                                  bbox=grid_bbox(ortsteile, margin_m=cell, crs=str(spec.get("crs", GRID_CRS))),
                                  cell_size_m=cell, missing_value=float(spec.get("missing_value", -1)),
                                  crs=str(spec.get("crs", GRID_CRS)))
            problems += check_census_grid(grid, {e.variable: e.unit for e in _entries(catalogue, "zensus2011")},
                                          str(Path(grid_files[0]).parent))
        except QuartiereError as exc:
            problems += _as_problems(exc, Path(grid_files[0]).parent)
    frames = []
    for path in cells_files:
        try:
            frames.append(read_cells_2022(Path(path)))
        except QuartiereError as exc:
            problems += _as_problems(exc, path)
    cells = None
    if frames:  # a later file gives a count of the same file and cell anew
        both = pd.concat(frames, ignore_index=True).drop_duplicates(["file", "x", "y"], keep="last")
        cells = gpd.GeoDataFrame(both, geometry="geometry", crs=STORAGE_CRS)
    if any(p.severity == "error" for p in problems):
        return pd.DataFrame(columns=LONG_COLUMNS), problems
    rows, more = to_indicators(grid, cells, ortsteile, catalogue)
    return rows, problems + more
