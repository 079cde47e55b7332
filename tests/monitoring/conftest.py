"""One app per session on the real snapshot (monitoring routes and pages)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def app(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path_factory.mktemp("instance")),
                       "TESTING": True})


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def state(app):  # type: ignore[no-untyped-def]
    return app.extensions["quartiere"].holder.state
