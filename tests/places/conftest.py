"""Fixtures of the place-search tests: apps with and without an address file, and a browser server with one.

The browser tests reuse ``page`` of ``tests/browser/conftest.py``; ``server`` is overridden here so that those
pages talk to a gunicorn configured with the invented address file ``tests/data/addresses/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import page  # noqa: F401 (fixture re-exported for tests/places)
from tests.servers import free_port, gunicorn_command, serve_app

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
    port = free_port()
    config = {"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(instance), "ADDRESS_FILE": str(ADDRESS_FILE)}
    with serve_app(gunicorn_command(config, port), port,
                   tmp_path_factory.mktemp("places-browser-log") / "gunicorn.log") as base:
        yield base
