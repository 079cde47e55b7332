"""The snapshot holder: reload always ends on the version CURRENT names last, CURRENT must name a version
folder, and a damaged current version falls back to the newest loadable one (stub loaders: no data needed)."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from geo.errors import SnapshotError
from geo.pipeline.publish import set_current
from geo.pipeline.snapshot import current_version
from service.api.state import StateHolder


@dataclass
class _Stub:
    version: str


def _versions(root: Path, *names: str) -> None:
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "manifest.json").write_text("{}", encoding="utf-8")


def test_change_during_a_reload_is_not_lost(tmp_path: Path) -> None:
    _versions(tmp_path, "v1", "v2", "v3")
    set_current(tmp_path, "v1")
    gate = threading.Event()

    def loader(version: str) -> _Stub:
        if version == "v2":
            assert gate.wait(10)
        return _Stub(version)

    holder = StateHolder(tmp_path, loader, check_interval=0)  # type: ignore[arg-type]
    assert holder.state.version == "v1"
    set_current(tmp_path, "v2")
    assert holder.check() is True  # v2 loading, blocked
    set_current(tmp_path, "v3")
    assert holder.check() is False  # still loading v2: nothing recorded
    gate.set()
    holder.wait_for_reload()
    assert holder.state.version in ("v2", "v3")  # reading the state looks again
    holder.wait_for_reload()
    assert holder.state.version == "v3"
    assert holder.last_error is None


@pytest.mark.parametrize("text", ["../other/v1", "/etc", "v1/../v1", "", "v 1", "x" * 200])
def test_current_must_name_a_version_folder(tmp_path: Path, text: str) -> None:
    _versions(tmp_path, "v1")
    (tmp_path / "CURRENT").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="CURRENT") as info:
        current_version(tmp_path)
    assert len(str(info.value)) < 400


def test_current_naming_a_missing_version(tmp_path: Path) -> None:
    _versions(tmp_path, "v1")
    (tmp_path / "CURRENT").write_text("v9\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="not in"):
        current_version(tmp_path)


def test_damaged_current_falls_back_to_newest_loadable(tmp_path: Path) -> None:
    _versions(tmp_path, "v1", "v2", "v3")
    set_current(tmp_path, "v3")

    def loader(version: str) -> _Stub:
        if version == "v3":
            raise OSError("truncated GeoPackage")
        return _Stub(version)

    holder = StateHolder(tmp_path, loader, check_interval=0)  # type: ignore[arg-type]
    assert holder.state.version == "v2"
    assert holder.last_error is not None and "v3" in holder.last_error and "v2" in holder.last_error


def test_no_loadable_version_is_a_snapshot_error(tmp_path: Path) -> None:
    _versions(tmp_path, "v1", "v2")
    set_current(tmp_path, "v2")

    def loader(version: str) -> _Stub:
        raise ValueError(f"bad manifest in {version}")

    with pytest.raises(SnapshotError, match="no other loadable version"):
        StateHolder(tmp_path, loader)  # type: ignore[arg-type]


@pytest.mark.realdata
@pytest.mark.parametrize("damage", ["gpkg", "manifest"])
def test_damaged_real_version_is_a_snapshot_error(snapshots_dir: Path, tmp_path: Path, damage: str) -> None:
    from geo.pipeline.snapshot import load_snapshot

    version = current_version(snapshots_dir)
    shutil.copytree(snapshots_dir / version, tmp_path / version)
    target = tmp_path / version / ("districts.gpkg" if damage == "gpkg" else "manifest.json")
    target.chmod(0o644)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 3] if damage == "gpkg" else b'{"version": ')
    set_current(tmp_path, version) if damage == "gpkg" else (tmp_path / "CURRENT").write_text(version)
    with pytest.raises(SnapshotError, match="damaged"):
        load_snapshot(tmp_path, version)
