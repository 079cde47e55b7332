"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the app served by gunicorn.

The server runs on a free localhost port with a copy of the real snapshot in which two districts carry hostile
names. Every request that would leave localhost is aborted and recorded; tests assert that none was tried.
Without Chromium or Playwright the tests are skipped on a developer machine and fail in CI (``CI`` set).
Screenshots go to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.maps.evil import make_drafts, make_evil_snapshots
from tests.servers import Watch, free_port, gunicorn_command, serve_app, watched_page

__all__ = ["ARTIFACTS", "BROWSER_TOKEN", "Watch", "page", "screenshot", "server"]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

pytestmark = pytest.mark.realdata
#: the API token of the browser tests' server (saving a drafted scenario needs it)
BROWSER_TOKEN = "browser-test-token-not-secret"


@pytest.fixture(scope="session")
def server(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``gunicorn 'service.app:create_app(...)'`` on a free localhost port."""
    snaps = make_evil_snapshots(snapshots_dir, tmp_path_factory.mktemp("browser-snapshots"))
    drafts = make_drafts(tmp_path_factory.mktemp("browser-drafts"))
    instance = tmp_path_factory.mktemp("browser-instance")
    port = free_port()
    config = {"SNAPSHOTS": str(snaps), "INSTANCE": str(instance), "SCENARIOS_DIR": str(drafts),
              "API_TOKEN": BROWSER_TOKEN}
    with serve_app(gunicorn_command(config, port), port,
                   tmp_path_factory.mktemp("browser-log") / "gunicorn.log") as base:
        yield base


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    with watched_page(browser, server) as pg:
        yield pg


def screenshot(pg, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=False)
    return path
