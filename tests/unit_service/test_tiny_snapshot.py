"""The tiny SYNTHETIC snapshot itself: published by the pipeline from the hand-made inputs only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tiny import ORTSTEILE, STADTBEZIRKE, STADTTEILE, YEARS


def manifest(snapshots: Path) -> dict:  # type: ignore[type-arg]
    version = (snapshots / "CURRENT").read_text(encoding="utf-8").strip()
    return json.loads((snapshots / version / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_published_from_the_tiny_inputs_only(tiny_snapshots_dir: Path) -> None:
    m = manifest(tiny_snapshots_dir)
    paths = sorted(item["path"] for item in m["inputs"])
    assert [p for p in paths if p.endswith((".shp", ".csv"))] == [
        "bremen-bevoelkerung-ortsteile/raw/12411-03-03-2021.csv",
        "bremen-bevoelkerung-ortsteile/raw/12411-03-03-2023.csv",
        "bremen-verwaltungsgrenzen/original/hb_ortsteile_TINY.shp",
        "bremen-verwaltungsgrenzen/original/hb_stadtbezirke_TINY.shp",
        "bremen-verwaltungsgrenzen/original/hb_stadtteile_TINY.shp",
    ]
    assert "shared" not in m["data_root"]
    assert m["counts"]["ortsteile"] == len(ORTSTEILE) and m["counts"]["stadtteile"] == len(STADTTEILE)
    assert m["counts"]["stadtbezirke"] == len(STADTBEZIRKE)
    assert m["years"] == list(YEARS)
    assert not [p for p in m["validation"] if p["severity"] == "error"] and m["repairs"] == []


def test_the_synthetic_programme_is_published(tiny_snapshots_dir: Path) -> None:
    m = manifest(tiny_snapshots_dir)
    kinds = {(p["programme"], p["kind"]) for p in m["products"]}
    assert kinds == {("tiny-synthetic", "classification"), ("tiny-synthetic", "monitoring")}
    assert not m.get("products_skipped")
