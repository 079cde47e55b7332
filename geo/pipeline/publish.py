"""Publish a build as an immutable, versioned snapshot (the layout is in :mod:`geo.pipeline.snapshot`).

A version is written into a hidden temporary folder, renamed into place, made read-only and only then named in
CURRENT (written to a temporary file and renamed over it): a failed build leaves the previous version and
CURRENT untouched and no half-written folder behind.

A disk or permission problem while writing raises :class:`~geo.errors.StorageError`
(:class:`~geo.errors.StorageFullError` for a full disk) naming the path; CURRENT is left as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import subprocess
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio

import geo
from geo.config import DEFAULT_PROGRAMME
from geo.errors import SnapshotError, StorageError
from geo.pipeline.build import Assembly
from geo.pipeline.gpkg import GPKG_VERSION, LayerStyle, Styler, classification_layer, write_layers, write_styles
from geo.pipeline.locking import BuildLock, build_lock, remove_leftovers, remove_tree, storage_error
from geo.pipeline.snapshot import CURRENT, GPKG, MANIFEST, PROJECT, TMP_PREFIX, current_version, list_versions


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except OSError:
        commit = ""
    return f"{geo.__version__}+{commit}" if commit else geo.__version__


def _inputs_digest(inputs: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for item in inputs:
        h.update(f"{item['path']}={item['sha256']}\n".encode())
    return h.hexdigest()


def new_version_name(root: Path, digest: str, now: dt.datetime) -> str:
    """A version name not yet used in ``root``: ``YYYYmmddTHHMMSSZ-<digest[:8]>``, then ``-02``, ``-03``, ...

    A name counts as used when its folder exists or a build is writing it (``.tmp-<name>-*``), so two versions
    built within the same second get distinct names that sort in the order they were made.
    """
    base = now.strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:8]
    taken = {p.name for p in root.iterdir()} if root.is_dir() else set()
    reserved = {name[len(TMP_PREFIX):].rsplit("-", 1)[0] for name in taken if name.startswith(TMP_PREFIX)}
    version, n = base, 1
    while version in taken or version in reserved:
        n += 1
        version = f"{base}-{n:02d}"
    return version


def publish(assembly: Assembly, out: str | os.PathLike[str], *,
            programmes: Sequence[str | os.PathLike[str]] | None = None, lock: BuildLock | None = None,
            styler: Styler | None = None) -> Path:
    """Write ``assembly`` as a new version under ``out`` and point CURRENT at it, atomically.

    Before the rename, the products of every programme definition in ``programmes`` (default: the shipped
    ``programmes/lebendige-quartiere.yml`` for the Bremen dataset, none for others) are computed and written
    into the version folder (:func:`geo.pipeline.products.build_products`) and listed in the manifest.

    The GeoPackage is version 1.2 (:mod:`geo.pipeline.gpkg`); it also holds the layer ``classification`` (the Ortsteile
    with the first programme's classification) and, with a ``styler`` (:func:`maps.qgis.style_layer`, passed in
    by the command line), the QGIS styles of its layers in ``layer_styles``.

    ``lock`` is the build lock of ``out`` when the caller holds it (``quartiere build`` takes it before
    reading); without it, publish takes the lock itself and fails at once when another build holds it.

    Returns
    -------
    pathlib.Path
        The new version folder.

    Raises
    ------
    BuildLockedError
        Without ``lock``, when another build holds the lock.
    StorageError
        When the disk is full or a file cannot be written (:class:`StorageFullError` for a full disk); CURRENT
        is unchanged and no temporary folder is left.
    """
    root = Path(out)
    if lock is None:
        with build_lock(root) as own:
            return publish(assembly, root, programmes=programmes, lock=own, styler=styler)
    if lock.root.resolve() != root.resolve():
        raise SnapshotError(f"{root}: the build lock held is that of {lock.root}")
    remove_leftovers(lock)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    inputs = assembly.catalogue.checksums()
    digest = _inputs_digest(inputs)
    version = new_version_name(root, digest, now)
    tmp = root / f"{TMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
    except OSError as exc:
        raise storage_error(exc, "create the version folder") from exc
    try:
        _write_version(tmp, assembly, version=version, now=now, inputs=inputs, digest=digest,
                       programmes=programmes, styler=styler)
        final = root / version
        os.rename(tmp, final)
        set_current(root, version)
    except BaseException as exc:
        with suppress(OSError):
            if tmp.exists():
                remove_tree(tmp)
        if isinstance(exc, OSError):
            raise storage_error(exc, f"write snapshot version {version}") from exc
        if isinstance(exc, (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                            pyogrio.errors.FeatureError)):
            raise StorageError(f"{tmp / GPKG}: cannot write the GeoPackage: {str(exc)[:300]}") from exc
        raise
    return final


def _write_version(tmp: Path, assembly: Assembly, *, version: str, now: dt.datetime, inputs: list[dict[str, Any]],
                   digest: str, programmes: Sequence[str | os.PathLike[str]] | None,
                   styler: Styler | None) -> None:
    gpkg = tmp / GPKG
    tables: dict[str, pd.DataFrame] = {**assembly.layers, "indicators": assembly.indicators}
    if not assembly.designations.empty:
        tables["designations"] = assembly.designations
    if assembly.postcodes is not None:
        tables["postcodes"] = assembly.postcodes
    for name in ("postcode_shares", "gazetteer"):
        table = getattr(assembly, name)
        if table is not None and len(table):
            tables[name] = table
    styled = write_layers(gpkg, tables, styler=styler)
    manifest = {
        "version": version,
        "created": now.isoformat().replace("+00:00", "Z"),
        "code_version": code_version(),
        "crs": next(iter(assembly.layers.values())).crs.to_string(),
        "data_root": str(assembly.catalogue.root),
        "inputs": inputs,
        "inputs_sha256": digest,
        "ignored": assembly.catalogue.ignored_entries(),
        "statistics_tables": assembly.statistics_tables,
        "years": assembly.years,
        "dataset": assembly.dataset,
        "layers": list(assembly.layers),
        "counts": {name: len(frame) for name, frame in assembly.layers.items()}
        | {"indicator_rows": len(assembly.indicators)},
        "repairs": [r.to_dict() for r in assembly.repairs],
        "validation": [p.to_dict() for p in assembly.problems],
        "timings_s": {k: round(v, 3) for k, v in assembly.timings.items()},
        "products": [],
    }
    _write_manifest(tmp, manifest)
    if programmes is None:
        programmes = [DEFAULT_PROGRAMME] if assembly.dataset == "bremen" else []
    if programmes:
        from geo.pipeline.products import build_products

        entries, timings = build_products(tmp, programmes)
        manifest["products"] = [e for e in entries if e["kind"] != "skipped"]
        manifest["products_skipped"] = [e for e in entries if e["kind"] == "skipped"]
        manifest["timings_s"].update({k: round(v, 3) for k, v in timings.items()})
        styled |= _write_classification_layer(tmp, assembly, entries, styler)
    if styled:
        write_styles(gpkg, styled)
    manifest["geopackage"] = {"version": GPKG_VERSION, "styles": {k: [s.name for s in v] for k, v in styled.items()}}
    if "classification" in styled:
        manifest["geopackage"]["project"] = _write_project(tmp, manifest["crs"], version, styled)
    _write_manifest(tmp, manifest)
    _make_read_only(tmp)


def _write_classification_layer(tmp: Path, assembly: Assembly, entries: list[dict[str, Any]],
                                styler: Styler | None) -> dict[str, list[LayerStyle]]:
    """Add the layer ``classification`` to the GeoPackage and return the styles written for it.

    The layer holds the Ortsteile with the first programme's classification, so that a GIS shows the categories
    and classes of the web map without a join.
    """
    first = next((e for e in entries if e["kind"] == "classification"), None)
    if first is None or "ortsteile" not in assembly.layers:
        return {}
    from geo.classify import load_result

    result = load_result(tmp / first["path"])
    layer = classification_layer(assembly.layers["ortsteile"], result.table)
    return write_layers(tmp / GPKG, {"classification": layer}, styler=styler)


def _write_project(tmp: Path, crs: str, version: str, styled: dict[str, list[LayerStyle]]) -> str:
    """``districts.qgz``: a QGIS project on the GeoPackage (Stadtbezirke over the programme categories)."""
    from geo.pipeline.qgsproject import write_project

    default = next(s.name for s in styled["classification"] if s.default)
    layers = [(name, name.capitalize(), name == "stadtbezirke") for name in ("stadtbezirke", "stadtteile",
                                                                             "ortsteile") if name in styled]
    write_project(tmp / PROJECT, GPKG, [*layers, ("classification", default, True)], styled, authid=crs,
                  title=f"Lebendige Quartiere {version}")
    return PROJECT


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=_json_default),
                                   encoding="utf-8")


def _make_read_only(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
                                                                 if path.is_dir() else 0))


def _json_default(obj: object) -> object:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def set_current(root: Path, version: str) -> None:
    """Point CURRENT at ``version`` with an atomic rename."""
    if not (root / version / MANIFEST).is_file():
        raise SnapshotError(f"{root / version}: not a published snapshot version")
    tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, root / CURRENT)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune_versions` removed (or, with ``dry_run``, would remove) and what it kept."""

    removed: list[tuple[str, int]]
    kept: list[str]
    current: str | None

    @property
    def freed_bytes(self) -> int:
        """The bytes the removed versions took (or would take, with ``dry_run``)."""
        return sum(n for _, n in self.removed)


def prune_versions(root: str | os.PathLike[str], *, keep: int = 5, dry_run: bool = False,
                   warn: Callable[[str], None] | None = None) -> PruneResult:
    """Remove old versions from the snapshots folder ``root``: all but CURRENT and the ``keep`` newest.

    Versions sort by name (``YYYYmmddTHHMMSSZ-...``, see :func:`new_version_name`). The service records nowhere
    which version it serves; it serves CURRENT, or when CURRENT cannot be read the newest readable version, so
    both are kept. The build lock is held while removing: prune refuses while a build runs (and no build can start
    meanwhile). Folders without a manifest (not a published version) are never touched.

    Raises
    ------
    BuildLockedError
        When a build holds the lock (not with ``dry_run``, which removes nothing).
    SnapshotError
        When ``keep`` is negative, or ``keep`` is 0 and there is no readable CURRENT.
    StorageError
        When a version cannot be removed (permission).
    """
    root = Path(root)
    if keep < 0:
        raise SnapshotError(f"--keep must be 0 or more, got {keep}")
    if not root.is_dir():
        raise SnapshotError(f"{root}: no snapshots folder")

    def plan() -> tuple[list[str], list[str], str | None]:
        try:
            current: str | None = current_version(root)
        except SnapshotError:
            current = None
        if current is None and keep == 0:
            raise SnapshotError(f"{root}: CURRENT names no readable version; refusing to remove every version "
                                "with --keep 0")
        versions = list_versions(root)
        kept = set(versions[len(versions) - keep:] if keep else []) | ({current} if current else set())
        return [v for v in versions if v not in kept], [v for v in versions if v in kept], current

    if dry_run:
        doomed, kept, current = plan()
        return PruneResult([(v, _tree_bytes(root / v)) for v in doomed], kept, current)
    with build_lock(root, command="prune", warn=warn):
        doomed, kept, current = plan()
        removed = []
        for version in doomed:
            size = _tree_bytes(root / version)
            try:
                remove_tree(root / version)
            except OSError as exc:
                raise storage_error(exc, f"remove version {version}") from exc
            removed.append((version, size))
    return PruneResult(removed, kept, current)


