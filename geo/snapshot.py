"""Publish and load immutable, versioned snapshots.

Layout::

    SNAPSHOTS/
      CURRENT                      text file naming the current version
      <version>/districts.gpkg     GeoPackage 1.2: layers ortsteile, stadtteile, stadtbezirke (EPSG:25832),
                                   classification (Ortsteile with the shipped programme's classes), tables
                                   indicators, designations, layer_styles (QGIS styles, see geo.gpkg)
      <version>/districts.qgz      QGIS project on districts.gpkg (with the styles; see geo.qgsproject)
      <version>/manifest.json      version, time, inputs with SHA-256, repairs, validation report, code version
      <version>/classifications/   classification of each programme definition published with the build (by hash)
      <version>/products/          monitoring products of each of those definitions (see :mod:`geo.products`)

A version is written into a hidden temporary folder, renamed into place, made read-only and only then named in
CURRENT (written to a temporary file and renamed over it): a failed build leaves the previous version and
CURRENT untouched and no half-written folder behind.

One build at a time writes into a snapshots folder: :func:`build_lock` creates ``SNAPSHOTS/.build.lock`` (pid,
host, start time) with ``O_EXCL``; a lock whose process no longer lives on this host is stale and taken over.
Whoever holds the lock removes the ``.tmp-*`` leftovers of killed builds. A disk or permission problem while
writing raises :class:`~geo.errors.StorageError` (:class:`~geo.errors.StorageFullError` for a full disk) naming
the path; CURRENT is left as it was.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

import geo
from geo.build import Assembly
from geo.config import DEFAULT_PROGRAMME
from geo.errors import SnapshotError, StorageError, StorageFullError, UnknownKeyError
from geo.gpkg import GPKG_VERSION, LayerStyle, Styler, classification_layer, write_layers, write_styles

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


# --- one build at a time ------------------------------------------------------------------------------------------

class BuildLockedError(SnapshotError):
    """Another build (or prune) holds the lock of the snapshots folder."""


@dataclass(frozen=True)
class BuildLock:
    """The lock of one snapshots folder, as held by this process."""

    root: Path
    pid: int
    host: str
    started: str
    command: str

    @property
    def path(self) -> Path:
        return self.root / LOCK


def _storage_error(exc: OSError, what: str) -> StorageError:
    """A typed error naming the path and the problem (full disk, permission, ...)."""
    where = exc.filename or what
    cls = StorageFullError if exc.errno in (errno.ENOSPC, errno.EDQUOT) else StorageError
    return cls(f"{where}: cannot {what}: {exc.strerror or exc}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child nobody has waited for yet is a zombie: dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def read_lock(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The holder of ``root``'s build lock (pid, host, started, command), or None when nobody holds it."""
    try:
        text = (Path(root) / LOCK).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _storage_error(exc, "read the build lock") from exc
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    return info if isinstance(info, dict) else {"raw": text[:200]}


def _is_stale(info: dict[str, Any]) -> bool:
    pid = info.get("pid")
    if info.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False  # another host's process cannot be checked from here; a garbled lock is left to a human
    return not _pid_alive(pid)


def _describe(info: dict[str, Any]) -> str:
    what = "another build" if info.get("command", "build") == "build" else f"another quartiere {info['command']}"
    return (f"{what} (pid {info.get('pid', '?')} on {info.get('host', '?')}) is running since "
            f"{info.get('started', '?')}")


def _take_over_stale(root: Path, seen: dict[str, Any], warn: Callable[[str], None]) -> None:
    """Move the stale lock ``seen`` aside; if another process replaced it meanwhile, put that one back."""
    aside = root / f"{LOCK}.stale-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(root / LOCK, aside)
    except FileNotFoundError:
        return  # someone else took it over first
    try:
        moved = json.loads(aside.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        moved = None
    if moved != seen:
        with suppress(FileExistsError):  # a fresh lock taken meanwhile: restore it (unless yet another exists)
            os.link(aside, root / LOCK)
    else:
        warn(f"{root / LOCK}: taking over the lock of a build that no longer runs ({_describe(seen)} — pid gone)")
    aside.unlink(missing_ok=True)


def acquire_lock(root: str | os.PathLike[str], *, wait: float = 0.0, command: str = "build",
                 warn: Callable[[str], None] | None = None, poll: float = 0.2) -> BuildLock:
    """Take the build lock of ``root``, waiting up to ``wait`` seconds for another holder.

    Raises
    ------
    BuildLockedError
        When another live process still holds it after ``wait`` seconds.
    StorageError
        When the lock cannot be written (permission, full disk).
    """
    root = Path(root)
    say = warn or (lambda _msg: None)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _storage_error(exc, "create the snapshots folder") from exc
    deadline = time.monotonic() + max(0.0, wait)
    lock = BuildLock(root=root, pid=os.getpid(), host=socket.gethostname(), command=command,
                     started=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    body = json.dumps({"pid": lock.pid, "host": lock.host, "started": lock.started, "command": command}).encode()
    while True:
        try:
            fd = os.open(lock.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            info = read_lock(root)
            if info is None:
                continue
            if _is_stale(info):
                _take_over_stale(root, info, say)
                continue
            if time.monotonic() >= deadline:
                raise BuildLockedError(f"{root}: {_describe(info)}; try again later or wait with --wait SECONDS "
                                       f"(a lock left by a crashed build on another host: remove {lock.path})") \
                    from None
            time.sleep(poll)
            continue
        except OSError as exc:
            raise _storage_error(exc, "create the build lock") from exc
        try:
            os.write(fd, body)
        except OSError as exc:
            os.close(fd)
            lock.path.unlink(missing_ok=True)
            raise _storage_error(exc, "write the build lock") from exc
        os.close(fd)
        return lock


def release_lock(lock: BuildLock) -> None:
    """Remove the lock file if it is still ``lock``'s own."""
    info = read_lock(lock.root)
    if info is not None and info.get("pid") == lock.pid and info.get("host") == lock.host:
        lock.path.unlink(missing_ok=True)


@contextmanager
def build_lock(root: str | os.PathLike[str], *, wait: float = 0.0, command: str = "build",
               warn: Callable[[str], None] | None = None) -> Iterator[BuildLock]:
    """Hold the build lock of ``root`` for the ``with`` block (see :func:`acquire_lock`)."""
    lock = acquire_lock(root, wait=wait, command=command, warn=warn)
    try:
        yield lock
    finally:
        release_lock(lock)


def remove_tree(path: Path) -> None:
    """Remove ``path`` and everything in it, read-only versions included."""
    if path.is_dir() and not path.is_symlink():
        for sub in [path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())]:
            sub.chmod(stat.S_IRWXU)
    shutil.rmtree(path)


def remove_leftovers(lock: BuildLock) -> list[str]:
    """Remove what killed builds left in the snapshots folder (``.tmp-*`` folders, CURRENT's temporary files).

    Only the holder of the lock may call it: no other build can be writing then. Returns the names removed.
    """
    removed = []
    for path in sorted(lock.root.iterdir()):
        if path.name.startswith(TMP_PREFIX) or path.name.startswith(f".{CURRENT}."):
            if path.is_dir() and not path.is_symlink():
                remove_tree(path)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def publish(assembly: Assembly, out: str | os.PathLike[str], *,
            programmes: Sequence[str | os.PathLike[str]] | None = None, lock: BuildLock | None = None,
            styler: Styler | None = None) -> Path:
    """Write ``assembly`` as a new version under ``out`` and point CURRENT at it, atomically.

    Before the rename, the products of every programme definition in ``programmes`` (default: the shipped
    ``programmes/lebendige-quartiere.yml`` for the Bremen dataset, none for others) are computed and written
    into the version folder (:func:`geo.products.build_products`) and listed in the manifest.

    The GeoPackage is version 1.2 (:mod:`geo.gpkg`); it also holds the layer ``classification`` (the Ortsteile
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
        raise _storage_error(exc, "create the version folder") from exc
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
            raise _storage_error(exc, f"write snapshot version {version}") from exc
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
        from geo.products import build_products

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
    """Add the layer ``classification`` (the Ortsteile with the first programme's classification) to the
    GeoPackage, so that a GIS shows the categories and classes of the web map without a join."""
    first = next((e for e in entries if e["kind"] == "classification"), None)
    if first is None or "ortsteile" not in assembly.layers:
        return {}
    from geo.classify import load_result

    result = load_result(tmp / first["path"])
    layer = classification_layer(assembly.layers["ortsteile"], result.table)
    return write_layers(tmp / GPKG, {"classification": layer}, styler=styler)


def _write_project(tmp: Path, crs: str, version: str, styled: dict[str, list[LayerStyle]]) -> str:
    """``districts.qgz``: a QGIS project on the GeoPackage (Stadtbezirke over the programme categories)."""
    from geo.qgsproject import write_project

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
    return sorted(p.name for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / MANIFEST).is_file())


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
                raise _storage_error(exc, f"remove version {version}") from exc
            removed.append((version, size))
    return PruneResult(removed, kept, current)


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
        return str(self.manifest["version"])

    @property
    def latest_year(self) -> int:
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
