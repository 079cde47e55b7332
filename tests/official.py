"""The official data in tests: where it is required, and small copies of it for tests that change files.

The copies are made in a temporary folder and never in ``../shared/data``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

ORIGINAL = "bremen-verwaltungsgrenzen/original"
RAW = "bremen-bevoelkerung-ortsteile/raw"


def require(message: str) -> None:
    """Data a test needs is missing: fail when ``CI`` is set, else skip with ``message``."""
    if os.environ.get("CI"):
        pytest.fail(message + " — required in CI")
    pytest.skip(message)


def copy_official(data_dir: Path, root: Path, *, years: Iterable[int] = (2022, 2023), folders: Iterable[str] = (),
                  writable: bool = False) -> Path:
    """Copy the boundary files, the population tables of ``years`` and the folders ``folders`` (official files,
    unchanged) to ``root``; ``writable`` makes every copy writable (the originals are read-only)."""
    shutil.copytree(data_dir / ORIGINAL, root / ORIGINAL)
    (root / RAW).mkdir(parents=True)
    for year in years:
        shutil.copy(data_dir / RAW / f"12411-03-03-{year}.csv", root / RAW)
    for folder in folders:
        shutil.copytree(data_dir / folder, root / folder)
    if writable:
        for path in root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def version_without_product(snapshots_dir: Path, root: Path, kind: str) -> Path:
    """A copy of the current published version in ``root`` (made current there) whose manifest no longer lists
    the products of ``kind``: what an older build looks like to the service. Returns ``root``."""
    import json

    from geo.pipeline.publish import set_current
    from geo.pipeline.snapshot import current_version

    version = current_version(snapshots_dir)
    shutil.copytree(snapshots_dir / version, root / version)
    manifest_path = root / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["products"] = [p for p in manifest["products"] if p["kind"] != kind]
    manifest_path.chmod(0o644)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    set_current(root, version)
    return root
