"""Service fixtures: one app per session on the real snapshot (read-only routes), fresh apps where state matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import free_port  # noqa: F401 (used by the service tests)

TOKEN = "test-token-please-change"
#: a point inside Tenever (representative point of Ortsteil 04011373, WGS84)
TENEVER = (8.958208, 53.070638)



@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def app(snapshots_dir: Path, instance_dir: Path):  # type: ignore[no-untyped-def]
    from service.app import create_app

    app = create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(instance_dir), "API_TOKEN": TOKEN,
                      "CORS_ORIGINS": ["https://maps.example.org"], "TESTING": True})
    return app


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def state(app):  # type: ignore[no-untyped-def]
    return app.extensions["quartiere"].holder.state
