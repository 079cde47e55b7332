"""Operating the build: unknown files, one build at a time, killed builds, storage errors, pruning.

The builds run on a small copy of the official files (boundaries and the two newest population tables), a few
seconds each; the real files come from the ``data_dir`` fixture (skipped without them, failing in CI).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo.errors import SnapshotError
from geo.pipeline.catalogue import discover
from geo.pipeline.locking import BuildLockedError, acquire_lock, release_lock
from geo.pipeline.publish import new_version_name, prune_versions
from geo.pipeline.snapshot import LOCK, current_version, list_versions, load_snapshot
from service.cli import main
from tests.official import RAW

REPO = Path(__file__).resolve().parent.parent
UNKNOWN = f"{RAW}/unknown.csv"


def _start(data: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "build", "--data", str(data), "--out", str(out),
                             *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith((".tmp-", ".CURRENT.", LOCK)))


def _assert_clean_and_current(out: Path) -> str:
    assert _leftovers(out) == []
    version = current_version(out)
    snap = load_snapshot(out)
    assert snap.version == version
    assert len(snap.layer("ortsteil")) == 113
    return version


# --- unknown files --------------------------------------------------------------------------------------------------

def test_discover_lists_unknown_csv_as_ignored_but_keeps_a_changed_known_table(mini_data: Path) -> None:
    (mini_data / UNKNOWN).write_text("a;b\n1;2\n", encoding="iso-8859-1")
    (mini_data / RAW / "other.csv").write_text("99999-01: Eine andere Tabelle\nx;y\n", encoding="iso-8859-1")
    cat = discover(mini_data)
    ignored = dict(cat.ignored)
    assert set(ignored) == {mini_data / UNKNOWN, mini_data / RAW / "other.csv"}
    assert all(reason.startswith("no reader knows this file") for reason in ignored.values())
    assert "'99999-01'" in ignored[mini_data / RAW / "other.csv"]
    assert [p.name for p in cat.statistics] == ["12411-03-03-2022.csv", "12411-03-03-2023.csv"]
    assert mini_data / UNKNOWN not in cat.all_files()


def test_unknown_file_is_a_warning_and_listed_in_the_manifest(mini_data: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (mini_data / UNKNOWN).write_text("a;b\n1;2\n", encoding="iso-8859-1")
    out = tmp_path / "snapshots"
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "[warning]" in err and "unknown.csv: ignored: no reader knows this file" in err
    manifest = json.loads((out / current_version(out) / "manifest.json").read_text(encoding="utf-8"))
    assert [item["path"] for item in manifest["ignored"]] == [UNKNOWN]
    assert "not a known statistics table id / layout" in manifest["ignored"][0]["reason"]
    assert UNKNOWN not in {item["path"] for item in manifest["inputs"]}


def test_unknown_file_is_an_error_with_strict(mini_data: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (mini_data / UNKNOWN).write_text("a;b\n1;2\n", encoding="iso-8859-1")
    out = tmp_path / "snapshots"
    assert main(["build", "--data", str(mini_data), "--out", str(out), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "[error]" in err and "unknown.csv: ignored: no reader knows this file" in err
    assert not (out / "CURRENT").exists()
    assert _leftovers(out) == []


# --- one build at a time ----------------------------------------------------------------------------------------------

def test_two_builds_at_once_one_publishes_the_other_exits_2(mini_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "snapshots"
    procs = [_start(mini_data, out), _start(mini_data, out)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, _, err in results if code == 2)
    assert "another build (pid " in loser and " is running since " in loser
    assert "Traceback" not in loser
    assert len(list_versions(out)) == 1
    _assert_clean_and_current(out)


def test_a_waiting_build_publishes_after_the_first(mini_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "snapshots"
    first = _start(mini_data, out)
    deadline = time.monotonic() + 30
    while not (out / LOCK).exists():
        assert first.poll() is None and time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.02)
    second = _start(mini_data, out, "--wait", "120")
    assert first.wait(timeout=120) == 0, first.communicate()
    assert second.wait(timeout=120) == 0, second.communicate()
    versions = list_versions(out)
    assert len(versions) == 2
    assert _assert_clean_and_current(out) == versions[-1]


def test_killed_builds_leave_nothing_after_the_next_build(mini_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "snapshots"
    rng = random.Random(13)
    saw_tmp = False
    for i in range(10):
        proc = _start(mini_data, out)
        if i == 0:  # once exactly while the version folder is being written
            deadline = time.monotonic() + 30
            while not any(p.name.startswith(".tmp-") for p in out.glob(".*")) and time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.01)
        else:
            time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.communicate()
        saw_tmp = saw_tmp or any(p.name.startswith(".tmp-") for p in out.glob(".*"))
    assert saw_tmp, "no kill hit a build while it wrote its version folder"
    had_lock = (out / LOCK).exists()
    proc = _start(mini_data, out)
    code, (_, err) = proc.wait(timeout=120), proc.communicate()
    assert code == 0, err
    if had_lock:
        assert "taking over the lock of a build that no longer runs" in err
    _assert_clean_and_current(out)


def test_a_lock_of_a_live_process_is_respected_and_a_dead_ones_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "snapshots"
    lock = acquire_lock(out)
    with pytest.raises(BuildLockedError, match=rf"another build \(pid {os.getpid()} on .*\) is running since"):
        acquire_lock(out, wait=0.5)
    release_lock(lock)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK).write_text(json.dumps({"pid": dead.pid, "host": lock.host, "started": "2020-01-01T00:00:00Z"}))
    (out / ".tmp-20200101T000000Z-deadbeef-1234abcd").mkdir()
    warnings: list[str] = []
    taken = acquire_lock(out, warn=warnings.append)
    assert taken.pid == os.getpid() and json.loads((out / LOCK).read_text())["pid"] == os.getpid()
    assert len(warnings) == 1 and f"pid {dead.pid}" in warnings[0]
    release_lock(taken)
    assert not (out / LOCK).exists()


# --- names ----------------------------------------------------------------------------------------------------------

def test_versions_made_in_the_same_second_get_distinct_ordered_names(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 2, 21, 0, 0, tzinfo=dt.UTC)
    first = new_version_name(tmp_path, "ab" * 32, now)
    assert first == "20261202T210000Z-abababab"
    (tmp_path / first).mkdir()
    second = new_version_name(tmp_path, "ab" * 32, now)
    (tmp_path / f".tmp-{second}-0123abcd").mkdir()  # being written by a build: reserved
    third = new_version_name(tmp_path, "ab" * 32, now)
    names = [first, second, third]
    assert len(set(names)) == 3
    assert sorted(names) == names
    assert second == first + "-02" and third == first + "-03"


# --- storage errors -------------------------------------------------------------------------------------------------

def _fake_version(root: Path, name: str, size: int = 1000) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text(json.dumps({"version": name}), encoding="utf-8")
    (root / name / "districts.gpkg").write_bytes(b"x" * size)


@pytest.mark.parametrize(("error", "words"), [
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
])
def test_a_full_disk_or_a_permission_problem_exits_2_and_keeps_current(
        mini_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        error: OSError, words: str) -> None:
    import geo.pipeline.publish

    out = tmp_path / "snapshots"
    _fake_version(out, "20200101T000000Z-00000000")
    (out / "CURRENT").write_text("20200101T000000Z-00000000\n", encoding="utf-8")

    def fail(folder: Path) -> None:
        error.filename = str(folder / "districts.gpkg")
        raise error

    monkeypatch.setattr(geo.pipeline.publish, "_make_read_only", fail)
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "districts.gpkg: cannot write snapshot version" in err
    assert "Traceback" not in err
    assert current_version(out) == "20200101T000000Z-00000000"
    assert list_versions(out) == ["20200101T000000Z-00000000"]
    assert _leftovers(out) == []


# --- prune ------------------------------------------------------------------------------------------------------------

def _versions(root: Path, n: int, current: int) -> list[str]:
    names = [f"2026010{i}T000000Z-0000000{i}" for i in range(1, n + 1)]
    for name in names:
        _fake_version(root, name)
    (root / "CURRENT").write_text(names[current] + "\n", encoding="utf-8")
    (root / "not-a-version").mkdir()  # no manifest: never touched
    return names


def test_prune_keeps_current_and_the_newest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = _versions(tmp_path, 8, current=0)
    for path in (tmp_path / names[1]).iterdir():  # published versions are read-only
        path.chmod(0o444)
    (tmp_path / names[1]).chmod(0o555)
    assert main(["prune", "--snapshots", str(tmp_path), "--keep", "3", "--dry-run"]) == 0
    assert list_versions(tmp_path) == names
    assert "would remove 4 version(s)" in capsys.readouterr().out
    assert main(["prune", "--snapshots", str(tmp_path), "--keep", "3"]) == 0
    printed = capsys.readouterr().out
    assert list_versions(tmp_path) == [names[0], *names[5:]]
    assert (tmp_path / "not-a-version").is_dir()
    assert all(f"removed {name}" in printed for name in names[1:5])
    one = sum(p.stat().st_size for p in (tmp_path / names[0]).iterdir())
    assert f"freed 0.0 MB ({4 * one:,} bytes)" in printed
    result = prune_versions(tmp_path, keep=0)
    assert [v for v, _ in result.removed] == names[5:] and list_versions(tmp_path) == [names[0]]
    assert result.freed_bytes == 3 * one


def test_prune_refuses_while_a_build_holds_the_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = _versions(tmp_path, 4, current=1)
    lock = acquire_lock(tmp_path)
    try:
        assert main(["prune", "--snapshots", str(tmp_path), "--keep", "0"]) == 2
        assert "another build (pid" in capsys.readouterr().err
        assert list_versions(tmp_path) == names
        with pytest.raises(BuildLockedError):
            prune_versions(tmp_path, keep=1)
    finally:
        release_lock(lock)
    assert [v for v, _ in prune_versions(tmp_path, keep=1).removed] == [names[0], names[2]]
    assert list_versions(tmp_path) == [names[1], names[3]]
    with pytest.raises(SnapshotError, match="--keep must be 0 or more"):
        prune_versions(tmp_path, keep=-1)
