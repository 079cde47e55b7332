"""One build at a time writes into a snapshots folder.

One build at a time writes into a snapshots folder: :func:`build_lock` creates ``SNAPSHOTS/.build.lock`` (pid,
host, start time) with ``O_EXCL``; a lock whose process no longer lives on this host is stale and taken over.
Whoever holds the lock removes the ``.tmp-*`` leftovers of killed builds. A disk or permission problem while
writing raises :class:`~geo.errors.StorageError` (:class:`~geo.errors.StorageFullError` for a full disk) naming
the path; CURRENT is left as it was.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import socket
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import SnapshotError, StorageError, StorageFullError
from geo.pipeline.snapshot import CURRENT, LOCK, TMP_PREFIX


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
        """The lock file inside the snapshots folder."""
        return self.root / LOCK


def storage_error(exc: OSError, what: str) -> StorageError:
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
        raise storage_error(exc, "read the build lock") from exc
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
        raise storage_error(exc, "create the snapshots folder") from exc
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
            raise storage_error(exc, "create the build lock") from exc
        try:
            os.write(fd, body)
        except OSError as exc:
            os.close(fd)
            lock.path.unlink(missing_ok=True)
            raise storage_error(exc, "write the build lock") from exc
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


