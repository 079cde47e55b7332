"""Web geometry: coverage simplification and rounding keep neighbours' borders identical (no gaps, overlaps)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from maps.geometry import clean_coverage, web_geometry
from tests.maps.conftest import grid_districts


def _shared_edges_identical(geoms: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of touching polygons whose common boundary is not the same line on both sides."""
    bad = []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        common = shapely.intersection(geoms[i].boundary, geoms[j].boundary)
        if common.length == 0:
            continue
        # every vertex of the shared part must be a vertex of both rings
        vi = {tuple(c) for c in shapely.get_coordinates(geoms[i])}
        vj = {tuple(c) for c in shapely.get_coordinates(geoms[j])}
        shared = {tuple(c) for c in shapely.get_coordinates(common)}
        if not shared <= vi or not shared <= vj:
            bad.append((i, j))
    return bad


def _gap_overlap(geoms: np.ndarray) -> tuple[float, float]:
    union = shapely.union_all(geoms).area
    total = float(shapely.area(geoms).sum())
    return union, total


def test_simplification_keeps_a_coverage_on_synthetic_districts() -> None:
    frame = grid_districts(4)
    web = web_geometry(frame, tolerance_m=25, decimals=5)
    assert web.crs.to_epsg() == 4326
    geoms = web.geometry.values
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    assert _shared_edges_identical(geoms) == []
    metric = web.to_crs(25832).geometry.values
    union, total = _gap_overlap(metric)
    assert total == pytest.approx(union, rel=1e-9)  # no overlaps
    outer_before = shapely.union_all(frame.geometry.values).area
    assert union == pytest.approx(outer_before, rel=1e-3)  # no gaps opened inside
    before = shapely.get_num_coordinates(frame.geometry.values).sum()
    after = shapely.get_num_coordinates(geoms).sum()
    assert after < before * 0.8  # it really simplified


def test_rounding_to_five_decimals() -> None:
    web = web_geometry(grid_districts(2), tolerance_m=10, decimals=5)
    coords = shapely.get_coordinates(web.geometry.values)
    assert np.allclose(coords, np.round(coords, 5), atol=0, rtol=0)


def test_clean_coverage_removes_overlaps() -> None:
    frame = grid_districts(2)
    # push one district 0.3 m into its neighbour: an overlap like the ones in the published files
    frame.loc[0, "geometry"] = shapely.affinity.translate(frame.geometry.iloc[0], 0.3, 0.0)
    assert not shapely.coverage_is_valid(frame.geometry.values)
    clean = clean_coverage(frame)
    assert shapely.coverage_is_valid(clean.geometry.values)
    union, total = _gap_overlap(clean.geometry.values)
    assert total == pytest.approx(union, rel=1e-9)


def test_rejects_frames_without_crs_or_in_degrees() -> None:
    frame = grid_districts(2)
    with pytest.raises(ValueError, match="no CRS"):
        web_geometry(frame.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="projected"):
        web_geometry(frame.to_crs(4326))
    with pytest.raises(ValueError, match="tolerance_m"):
        web_geometry(frame, tolerance_m=-1)


@pytest.mark.realdata
def test_real_ortsteile_stay_a_coverage(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    frame = real_snapshot.layer("ortsteile")
    web = web_geometry(frame)
    geoms = web.geometry.values
    assert len(geoms) == 113
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    assert _shared_edges_identical(geoms) == []
    metric = web.to_crs(25832).geometry.values
    union, total = _gap_overlap(metric)
    assert total == pytest.approx(union, rel=1e-9)
    assert union == pytest.approx(frame.union_all().area, rel=2e-3)
    assert not any(g.is_empty for g in geoms)
