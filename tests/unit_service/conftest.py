"""Fixtures of the service unit tests: the tiny SYNTHETIC snapshot (tests/tiny.py) and one app on it.

Nothing here reads the official data: the snapshot is built from the hand-made inputs in
``tests/data/tiny_snapshot/`` in a few seconds, once per session. The app is shared by the read-only tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny import make_app, publish_tiny


@pytest.fixture(scope="session")
def tiny_snapshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshots folder with the tiny snapshot published as CURRENT."""
    return publish_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_app(tiny_snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The Flask app on the tiny snapshot with the synthetic programme (no drafts: an empty scenarios folder)."""
    return make_app(tiny_snapshots_dir, tmp_path_factory.mktemp("tiny-app"))


@pytest.fixture()
def tiny_client(tiny_app):  # type: ignore[no-untyped-def]
    return tiny_app.test_client()
