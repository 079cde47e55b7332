"""A published snapshot version is never written to: ``quartiere classify``, scenarios and pages leave its files
byte-identical (the build publishes every product; nothing is cached into a version afterwards)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.service.conftest import TOKEN
from tests.service.test_api import _draft_yaml

pytestmark = pytest.mark.realdata


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_classify_scenarios_and_pages_leave_the_version_untouched(snapshots_dir, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geo.config import DEFAULT_PROGRAMME
    from geo.pipeline.snapshot import current_version
    from service.cli import main

    version_dir = snapshots_dir / current_version(snapshots_dir)
    before = _digest(version_dir)
    assert "manifest.json" in before and "districts.gpkg" in before
    out = tmp_path / "result.csv"
    assert main(["classify", "--programme", str(DEFAULT_PROGRAMME), "--snapshot", str(snapshots_dir),
                 "--draws", "20", "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".json").is_file()
    client = app.test_client()
    r = client.post("/api/v1/scenarios", data=_draft_yaml(), content_type="application/yaml",
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code in (200, 201)
    for url in ("/", "/table", "/monitoring", "/scenarios", "/api/v1/downloads/snapshot.gpkg",
                "/api/v1/downloads/designations.csv"):
        assert client.get(url).status_code == 200, url
    assert _digest(version_dir) == before
