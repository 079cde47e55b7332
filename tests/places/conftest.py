"""Fixtures of the place-search tests: apps with and without an address file, and a browser server with one.

The browser tests reuse ``page`` of ``tests/browser/conftest.py``; ``server`` is overridden here so that those
pages talk to a gunicorn configured with the invented address file ``tests/data/addresses/``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import _free_port, page  # noqa: F401 (fixture re-exported for tests/places)

REPO = Path(__file__).resolve().parents[2]
ADDRESS_FILE = REPO / "tests" / "data" / "addresses" / "hauskoordinaten_sample.csv"


@pytest.fixture(scope="session")
def places_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("places-instance")


@pytest.fixture(scope="session")
def places_app(snapshots_dir: Path, places_instance: Path):  # type: ignore[no-untyped-def]
    """The service on the real snapshot with the invented address file."""
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(places_instance), "TESTING": True,
                       "ADDRESS_FILE": str(ADDRESS_FILE)})


@pytest.fixture(scope="session")
def plain_app(snapshots_dir: Path, places_instance: Path):  # type: ignore[no-untyped-def]
    """The service without any address source."""
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(places_instance), "TESTING": True})


@pytest.fixture(scope="session")
def server(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn with ADDRESS_FILE on a free localhost port (overrides the browser tests' ``server``)."""
    instance = tmp_path_factory.mktemp("places-browser-instance")
    port = _free_port()
    config = {"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(instance), "ADDRESS_FILE": str(ADDRESS_FILE)}
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log_path = tmp_path_factory.mktemp("places-browser-log") / "gunicorn.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
                                 "--timeout", "120", f"service.app:create_app({config!r})"],
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            import urllib.request

            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"gunicorn exited with {proc.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(base + "/api/v1/status", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("gunicorn did not start within 90 s")
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
