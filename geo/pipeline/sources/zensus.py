"""Readers of the census grids: the Zensus 2011 1 km grid and the Zensus 2022 100 m extract.

- :func:`read_grid_2011` reads the 1 km "Spitze Werte" parquet files (``continuous_<variable>.parquet``, columns
  ``<variable>, x, y``; ``x``/``y`` are cell centres in EPSG:3035, ``-1`` means no value or confidential), builds
  each cell's square from its centre (± half the cell size) in EPSG:3035 and reprojects it to EPSG:25832.
- :func:`read_cells_2022` reads the long 100 m extract (``datei_z22data, x_mp_100m_epsg3035, y_mp_100m_epsg3035,
  wert, quality[, ot_key_zentroid]``): one row per published count and cell, the cell centre as a point.

:mod:`geo.pipeline.census` interpolates both to the Ortsteile.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataNotFoundError, InputError, Problem
from geo.pipeline.checks_need import check_census_counts_2022

STORAGE_CRS = "EPSG:25832"
GRID_CRS = "EPSG:3035"
GRID_FILE_PREFIX = "continuous_"
COLUMNS_2022 = {"file": "datei_z22data", "x": "x_mp_100m_epsg3035", "y": "y_mp_100m_epsg3035", "value": "wert",
                "quality": "quality", "centroid_key": "ot_key_zentroid"}
REQUIRED_2022 = ("file", "x", "y", "value")
#: codes of the 2011 grid files that mean "no value" besides ``missing_value`` (-1): -9 (confidential / not
#: applicable) in every variable but Einwohner; read as a number it gave negative rates (-1.6 % vacancy)
OTHER_MISSING_2011 = (-9.0,)


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
