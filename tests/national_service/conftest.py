"""Fixtures of the national service tests: one national snapshot published from the real files per session, an
app serving it beside the Bremen snapshot, and one gunicorn (``quartiere serve --national-snapshots``).

Real-data fixtures skip without ``../shared/data/de-*`` on a developer machine and fail when ``CI`` is set
(through the shared ``data_dir`` and ``national_dir`` fixtures in ``tests/conftest.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, serve_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def national_snapshots(national_assembly, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """A national snapshot published from the real files (as ``quartiere build --dataset germany``)."""
    from geo.pipeline.publish import publish

    root = tmp_path_factory.mktemp("national-snapshots")
    publish(national_assembly, root)
    return root


@pytest.fixture(scope="session")
def national_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Instance folder shared by the app and gunicorn: the classification is computed once and cached here."""
    return tmp_path_factory.mktemp("national-instance")


@pytest.fixture(scope="session")
def national_app(snapshots_dir: Path, national_snapshots: Path, national_instance: Path):  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(snapshots_dir), "NATIONAL_SNAPSHOTS": str(national_snapshots),
                       "INSTANCE": str(national_instance), "TESTING": True})


@pytest.fixture(scope="session")
def national_state(national_app):  # type: ignore[no-untyped-def]
    return national_app.extensions["quartiere_national"].state


@pytest.fixture()
def nclient(national_app):  # type: ignore[no-untyped-def]
    return national_app.test_client()


@pytest.fixture(scope="session")
def national_server(national_app, snapshots_dir: Path, national_snapshots: Path,  # type: ignore[no-untyped-def]
                    national_instance: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``quartiere serve --national-snapshots`` (gunicorn, 1 worker) on a free localhost port.

    Depends on ``national_app`` so the classification is already cached in the shared instance folder.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "service.cli", "serve", "--snapshots", str(snapshots_dir), "--national-snapshots",
           str(national_snapshots), "--instance", str(national_instance), "--port", str(port), "--workers", "1",
           "--threads", "4"]
    with serve_app(cmd, port, tmp_path_factory.mktemp("national-log") / "gunicorn.log",
                   ready_path="/ogcapi/collections/kreise") as base:
        yield base
