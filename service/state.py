"""The loaded snapshot and everything precomputed from it, held immutably and swapped atomically.

:func:`load_state` reads one published snapshot version, obtains the classification of the official programme
(from ``<version>/classifications/<hash>.json`` if the build published it, else from the instance cache, else
it classifies once, here, at load time and caches the result in the instance folder), and prepares the point
locator, the per-district answers, the OGC collections and the place search (gazetteer index, postcode
answers). Nothing of this happens on the request path.

:class:`StateHolder` keeps the current :class:`ServiceState`. At most once per second per process (or when
asked, e.g. on SIGHUP) it looks at the ``CURRENT`` file; when it names another version, the new state is
loaded in a background thread while requests keep being answered from the old one, and then one reference
assignment swaps them (atomic in CPython). Requests in flight finish with the state they started with.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.classify import ClassificationResult, Definition, classify, load_definition, load_result, save_result
from geo.errors import QuartiereError
from geo.snapshot import CURRENT, Snapshot, current_version, load_snapshot
from service.eligibility import answer_tails, district_answers, leaf_table
from service.lookup import PointLocator, build_locator
from service.ogc import Collection, build_collections
from service.places import build_places

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceState:
    """Everything the service answers from, for one snapshot version (never mutated after loading)."""

    snapshot: Snapshot
    definition: Definition
    result: ClassificationResult
    wide: Any  # GeoDataFrame: Ortsteile wide table of the latest year (input of classifications)
    locator: PointLocator
    answers: dict[str, dict[str, Any]]
    tails: dict[str, str]
    leaf_tails: list[str]
    leaf_rows: pd.DataFrame
    collections: dict[str, Collection]
    loaded_at: float = field(default_factory=time.time)
    cache: dict[str, Any] = field(default_factory=dict)  # lazily built downloads (bytes), per snapshot
    places: Any = None  # service.places.Places: place search index and postcode answers

    @property
    def version(self) -> str:
        return self.snapshot.version


def official_result(snapshot: Snapshot, definition: Definition, wide: Any,
                    instance: Path | None) -> ClassificationResult:
    """The official classification for ``snapshot``: published, cached, or computed now (and cached)."""
    published = snapshot.path / "classifications" / f"{definition.hash}.json"
    if published.is_file():
        return load_result(published)
    cached = instance / "classifications" / snapshot.version / f"{definition.hash}.json" if instance else None
    if cached is not None and cached.is_file():
        try:
            return load_result(cached)
        except QuartiereError:
            log.warning("ignoring unreadable cached classification %s", cached)
    result = classify(wide, definition, meta={"snapshot_version": snapshot.version})
    if cached is not None:
        try:
            save_result(result, cached)
        except OSError as exc:  # a read-only instance folder only costs the cache
            log.warning("cannot cache the classification in %s: %s", cached, exc)
    return result


def load_state(snapshots: str | os.PathLike[str], programme: str | os.PathLike[str], *,
               instance: str | os.PathLike[str] | None = None, version: str | None = None) -> ServiceState:
    """Load ``version`` (default CURRENT) of ``snapshots`` and prepare everything the service needs."""
    snapshot = load_snapshot(snapshots, version)
    definition = load_definition(programme)
    wide = snapshot.wide("ortsteil")
    result = official_result(snapshot, definition, wide, Path(instance) if instance else None)
    locator = build_locator(snapshot.layers["ortsteile"], snapshot.layers["stadtteile"])
    answers = district_answers(snapshot, result, definition, indicator_years=wide.attrs.get("indicator_years"))
    tails = answer_tails(answers)
    leaf_tails = [tails[str(k)] for k in locator.keys]
    return ServiceState(snapshot=snapshot, definition=definition, result=result, wide=wide, locator=locator,
                        answers=answers, tails=tails, leaf_tails=leaf_tails,
                        leaf_rows=leaf_table(answers, locator.keys),
                        collections=build_collections(snapshot, result), places=build_places(snapshot, answers))



def settle_heap() -> None:
    """Move the long-lived objects of a loaded snapshot out of the garbage collector's reach.

    The snapshot, its prepared lookups and answers are millions of objects that live until the next reload.
    Without this, every full collection triggered by request garbage walks all of them (tens of milliseconds:
    the p99 latency). ``gc.freeze`` parks them in the permanent generation; the previous snapshot is unfrozen
    first so it can be freed.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class StateHolder:
    """Holds the current :class:`ServiceState` and switches to a newly published version without a gap."""

    def __init__(self, snapshots: str | os.PathLike[str], loader: Callable[[str], ServiceState], *,
                 check_interval: float = 1.0) -> None:
        self.root = Path(snapshots)
        self._loader = loader
        self._interval = check_interval
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self._stamp = self._current_stamp()
        self._state = loader(current_version(self.root))
        settle_heap()
        self._next_check = time.monotonic() + check_interval
        self.last_error: str | None = None

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.root / CURRENT).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    @property
    def state(self) -> ServiceState:
        """The current state; checks CURRENT at most once per ``check_interval`` seconds."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._interval
            self.check()
        return self._state

    def check(self, *, wait: bool = False) -> bool:
        """Start loading the version named in CURRENT if it differs; with ``wait`` load it synchronously.

        Returns True when a reload was started (or done).
        """
        stamp = self._current_stamp()
        if stamp == self._stamp and not wait:
            return False
        try:
            version = current_version(self.root)
        except QuartiereError as exc:
            self.last_error = str(exc)
            return False
        self._stamp = stamp
        if version == self._state.version:
            return False
        if wait:
            self._load(version)
            return True
        with self._lock:
            if self._loading is not None and self._loading.is_alive():
                return False
            self._loading = threading.Thread(target=self._load, args=(version,), daemon=True,
                                             name=f"snapshot-load-{version}")
            self._loading.start()
        return True

    def _load(self, version: str) -> None:
        try:
            new = self._loader(version)
        except Exception as exc:  # keep serving the old version; report it
            self.last_error = f"cannot load snapshot {version}: {exc}"
            log.error(self.last_error)
            self._stamp = None  # retry at the next check
            return
        self._state = new
        self.last_error = None
        settle_heap()
        log.info("switched to snapshot %s", version)

    def wait_for_reload(self, timeout: float = 60.0) -> None:
        t = self._loading
        if t is not None:
            t.join(timeout)


