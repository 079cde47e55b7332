"""Shared fixtures: the official data folder and one snapshot built from it per test session.

Tests that need the official files in ``../shared/data`` use the ``data_dir`` fixture (or ``real_snapshot``).
Without the files they are skipped on a developer machine, and fail when the environment variable ``CI`` is
set, so CI can never pass without really running them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.official import copy_official, require

REPO = Path(__file__).resolve().parent.parent


def _official_data() -> Path | None:
    env = os.environ.get("QUARTIERE_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", Path.cwd() / ".." / "shared" / "data"]:
        if (cand / "bremen-verwaltungsgrenzen").is_dir():
            return cand.resolve()
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = _official_data()
    if found is None:
        require("official data not found beside the repository (../shared/data) nor in QUARTIERE_DATA")
    assert found is not None
    return found


@pytest.fixture
def mini_data(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the boundary files and the two newest population tables (official files, unchanged)."""
    return copy_official(data_dir, tmp_path / "data")


@pytest.fixture
def published(mini_data: Path, tmp_path: Path) -> Path:
    """``mini_data`` built and published into ``tmp_path / "snapshots"``."""
    from service.cli import main

    out = tmp_path / "snapshots"
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def snapshots_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from geo.pipeline.build import assemble
    from geo.pipeline.publish import publish

    root = tmp_path_factory.mktemp("snapshots")
    publish(assemble(data_dir), root)
    return root


@pytest.fixture(scope="session")
def real_snapshot(snapshots_dir: Path):  # type: ignore[no-untyped-def]
    from geo.pipeline.snapshot import load_snapshot

    return load_snapshot(snapshots_dir)


CHROMIUM = os.environ.get("QUARTIERE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing_tool(message: str) -> None:
    """Skip on a developer machine, fail in CI: browser tests must really run there."""
    if os.environ.get("CI"):
        pytest.fail(message + " — required in CI (scripts/install-system-deps.sh, pip install playwright)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium driven by Playwright for the whole session (sync API: one per thread)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("the playwright Python package is not installed")
    if not Path(CHROMIUM).exists():
        missing_tool(f"{CHROMIUM} not found (Debian package chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def national_dir(data_dir: Path) -> Path:
    """The data folder, checked to hold the national files (``de-*``)."""
    if not (data_dir / "de-verwaltungsgebiete").is_dir():
        require(f"national data (de-*) not found in {data_dir}")
    return data_dir


@pytest.fixture(scope="session")
def national_assembly(national_dir: Path):  # type: ignore[no-untyped-def]
    """The national dataset assembled once per session (about 15 s), shared by every test folder."""
    from geo.national.build import assemble

    return assemble(national_dir)
