"""The loaded snapshot and everything the build published for it, held immutably and swapped atomically.

:func:`load_state` reads one published snapshot version and the products ``quartiere build`` published in it
(:mod:`geo.pipeline.products`): the classification of the official programme and its monitoring. It prepares the point
locator, the per-district answers, the OGC collections and the place search (lookups over what was read, no
classification and no statistics). A version without the products raises
:class:`geo.errors.ProductMissingError` ("rebuild"), which the HTTP layer answers with 503.

:class:`StateHolder` keeps the current :class:`ServiceState`. At most once per second per process (or when
asked) it looks at the ``CURRENT`` file; when it names another version, the new state is loaded in a background
thread while requests keep being answered from the old one, and then one reference assignment swaps them
(atomic in CPython). Requests in flight finish with the state they started with. It always ends on the
version CURRENT names last: a change seen while a load is running is picked up when that load ends.

At start-up a current version that cannot be loaded (truncated GeoPackage, damaged manifest) is replaced by
the newest loadable version with a warning; with none the holder raises :class:`geo.errors.SnapshotError`.
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

from geo.classify import ClassificationResult, Definition, load_definition
from geo.errors import ProductMissingError, QuartiereError, SnapshotError
from geo.pipeline.products import read_classification
from geo.pipeline.snapshot import CURRENT, Snapshot, current_version, list_versions, load_snapshot
from service.api.answers import district_answers
from service.api.area_setup import AreaPrep, prepare_area
from service.api.eligibility import answer_tails, leaf_table
from service.api.lookup import PointLocator, build_locator
from service.api.monitoring import Monitoring, load_monitoring
from service.api.ogc import Collection, build_collections
from service.api.places import build_places

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
    places: Any = None  # service.api.places.Places: place search index and postcode answers
    monitoring_product: Monitoring | None = None
    monitoring_missing: str | None = None
    area: AreaPrep | None = None  # drawn areas: districts index (never prepared lazily) and the stored model

    @property
    def version(self) -> str:
        """The loaded snapshot's version."""
        return self.snapshot.version

    @property
    def monitoring(self) -> Monitoring:
        """The published monitoring (raises :class:`ProductMissingError` for a version built without it)."""
        if self.monitoring_product is None:
            raise ProductMissingError(self.monitoring_missing or f"snapshot {self.version} has no monitoring; "
                                      "rebuild it: quartiere build")
        return self.monitoring_product


def official_result(snapshot: Snapshot, definition: Definition) -> ClassificationResult:
    """The official classification that the build published for ``snapshot`` (never computed here)."""
    return read_classification(snapshot.path, snapshot.manifest, definition)


def load_state(snapshots: str | os.PathLike[str], programme: str | os.PathLike[str], *,
               version: str | None = None) -> ServiceState:
    """Load ``version`` (default CURRENT) of ``snapshots`` and prepare everything the service needs."""
    snapshot = load_snapshot(snapshots, version)
    definition = load_definition(programme)
    wide = snapshot.wide("ortsteil")
    result = official_result(snapshot, definition)
    try:
        monitoring: Monitoring | None = load_monitoring(snapshot, definition)
        monitoring_missing = None
    except ProductMissingError as exc:  # an older build: the monitoring routes answer 503 "rebuild"
        monitoring, monitoring_missing = None, exc.message
    locator = build_locator(snapshot.layers["ortsteile"], snapshot.layers["stadtteile"])
    answers = district_answers(snapshot, result, definition, indicator_years=wide.attrs.get("indicator_years"))
    tails = answer_tails(answers)
    leaf_tails = [tails[str(k)] for k in locator.keys]
    return ServiceState(snapshot=snapshot, definition=definition, result=result, wide=wide, locator=locator,
                        answers=answers, tails=tails, leaf_tails=leaf_tails,
                        leaf_rows=leaf_table(answers, locator.keys),
                        collections=build_collections(snapshot, result), places=build_places(snapshot, answers),
                        monitoring_product=monitoring, monitoring_missing=monitoring_missing,
                        area=prepare_area(wide, definition, result))



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


def _load_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


class StateHolder:
    """Holds the current :class:`ServiceState` and switches to a newly published version without a gap."""

    def __init__(self, snapshots: str | os.PathLike[str], loader: Callable[[str], ServiceState], *,
                 check_interval: float = 1.0) -> None:
        self.root = Path(snapshots)
        self._loader = loader
        self._interval = check_interval
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self.last_error: str | None = None
        self._stamp = self._current_stamp()
        self._state = self._initial_state()
        settle_heap()
        self._next_check = time.monotonic() + check_interval

    def _initial_state(self) -> ServiceState:
        """CURRENT's version, else (damaged) the newest version that loads, with a warning."""
        version = current_version(self.root)
        try:
            return self._loader(version)
        except ProductMissingError:
            raise
        except Exception as exc:  # a damaged version: any reader error
            first = f"snapshot {version} named in CURRENT cannot be loaded: {_load_error(exc)}"
        for other in sorted((v for v in list_versions(self.root) if v != version), reverse=True):
            try:
                state = self._loader(other)
            except Exception:  # try the next older one
                continue
            self.last_error = f"{first}; serving the newest loadable version {other} instead"
            log.warning(self.last_error)
            return state
        raise SnapshotError(f"{first}; no other loadable version in {self.root}; rebuild: quartiere build")

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.root / CURRENT).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino, st.st_size)

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

        Returns True when a reload was started (or done). While a load runs nothing is recorded, so a change
        of CURRENT during the load is seen at the next check after it.
        """
        with self._lock:
            if self._loading is not None and self._loading.is_alive():
                return False
            stamp = self._current_stamp()
            if stamp == self._stamp and not wait:
                return False
            try:
                version = current_version(self.root)
            except QuartiereError as exc:
                self.last_error = str(exc)
                self._stamp = stamp
                return False
            self._stamp = stamp
            if version == self._state.version:
                return False
            if not wait:
                self._loading = threading.Thread(target=self._load, args=(version,), daemon=True,
                                                 name=f"snapshot-load-{version}")
                self._loading.start()
                return True
        self._load(version)
        return True

    def _load(self, version: str) -> None:
        try:
            new = self._loader(version)
        except Exception as exc:  # keep serving the old version; report it
            self.last_error = f"cannot load snapshot {version}: {_load_error(exc)}"
            log.error(self.last_error)
            self._stamp = None  # retry at the next check
            return
        self._state = new
        self.last_error = None
        settle_heap()
        log.info("switched to snapshot %s", version)

    def wait_for_reload(self, timeout: float = 60.0) -> None:
        """Wait up to ``timeout`` seconds for a snapshot load running in the background, if there is one."""
        t = self._loading
        if t is not None:
            t.join(timeout)
