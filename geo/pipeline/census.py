"""Census grids interpolated to the Ortsteile: the Zensus 2011 1 km grid and the Zensus 2022 100 m extract.

:func:`to_indicators` turns the grids read by :mod:`geo.pipeline.sources.zensus` into rows of the long indicator
table (:data:`geo.pipeline.indicators.LONG_COLUMNS`) for the Ortsteile and, by summing the Ortsteile's counts with
the parent keys of the layer, for the Stadtteile, Stadtbezirke and cities. Which variables and files become which
indicator is data: the ``zensus`` section of ``geo/pipeline/need_catalogue.yml``. :func:`census_indicators` reads
the discovered files and calls it, read errors turned into problems.

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

from geo.errors import CRSError, InputError, Problem, QuartiereError
from geo.pipeline.catalogue import NeedCatalogue, NeedIndicator, load_need_catalogue
from geo.pipeline.checks_need import check_census_grid
from geo.pipeline.sources.zensus import (
    GRID_CRS,
    GRID_FILE_PREFIX,
    STORAGE_CRS,
    cell_ids,
    read_cells_2022,
    read_grid_2011,
)

LEVEL_COLUMNS = {"ortsteil": "key", "stadtteil": "stadtteil_key", "stadtbezirk": "stadtbezirk_key",
                 "stadt": "city_key"}
LONG_COLUMNS = ["key", "level", "year", "indicator", "value", "numerator", "denominator", "flag", "base_year",
                "source"]
METHOD_TEXT = {
    "sum": "area-weighted from the 1 km cells",
    "resident_weighted": "weighted by the residents each district receives from a 1 km cell (area-weighted)",
    "per_household": "residents per household, households = residents / cell value (area-weighted)",
}


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
