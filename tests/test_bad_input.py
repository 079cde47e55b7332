"""Corrupted inputs: each gives a precise message naming the file and the problem, exit code 2, and leaves
the previously published snapshot current and no half-written folder behind."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from geo.pipeline.snapshot import current_version
from service.cli import main
from tests.official import ORIGINAL, RAW


def _build_fails(data: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = current_version(out)
    folders = sorted(p.name for p in out.iterdir())
    assert main(["build", "--data", str(data), "--out", str(out)]) == 2
    assert current_version(out) == before
    assert sorted(p.name for p in out.iterdir()) == folders  # nothing half-written
    return capsys.readouterr().err


def _edit_csv(path: Path, edit: Callable[[str], str], encoding: str = "iso-8859-1") -> None:
    text = path.read_bytes().decode("iso-8859-1")
    path.chmod(0o644)
    path.write_bytes(edit(text).encode(encoding))


def _shp(mini: Path, name: str) -> Path:
    return mini / ORIGINAL / f"{name}.shp"


def test_missing_file(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dbf = _shp(mini_data, "hb_ortsteile_BRE").with_suffix(".dbf")
    dbf.unlink()
    err = _build_fails(mini_data, published, capsys)
    assert "hb_ortsteile_BRE.shp: sidecar file hb_ortsteile_BRE.dbf is missing" in err


def test_missing_folder_says_where_to_get_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "official data folder not found" in err and "Statistisches Landesamt Bremen" in err


def test_shapefile_without_prj(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shp(mini_data, "hb_stadtteile_BHV").with_suffix(".prj").unlink()
    err = _build_fails(mini_data, published, capsys)
    assert "hb_stadtteile_BHV.shp: shapefile has no .prj" in err and "EPSG:25832" in err


def test_truncated_shp(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shp = _shp(mini_data, "hb_ortsteile_BHV")
    data = shp.read_bytes()
    shp.chmod(0o644)
    shp.write_bytes(data[: len(data) // 3])
    err = _build_fails(mini_data, published, capsys)
    assert "hb_ortsteile_BHV.shp: 18 of 25 features have no geometry (truncated or corrupt .shp?)" in err


def test_wrong_crs(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prj = _shp(mini_data, "hb_stadtbezirke_BRE").with_suffix(".prj")
    prj.chmod(0o644)
    prj.write_text('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
                   'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
    err = _build_fails(mini_data, published, capsys)
    assert "hb_stadtbezirke_BRE.shp: coordinate reference system is WGS 84 (EPSG:4326), expected EPSG:25832" in err


def _rewrite_layer(path: Path, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
    frame = gpd.read_file(path)
    frame = change(frame)
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        if path.with_suffix(ext).exists():
            path.with_suffix(ext).chmod(0o644)
            path.with_suffix(ext).unlink()
    frame.to_file(path, encoding="UTF-8")


def test_self_intersecting_polygon_is_repaired_and_recorded(mini_data: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    shp = _shp(mini_data, "hb_ortsteile_BHV")

    def bowtie(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        # swap two consecutive vertices of Weddewarden's outline: the ring crosses itself in a tiny bow tie
        ring = list(frame.geometry.iloc[1].geoms[0].exterior.coords
                    if frame.geometry.iloc[1].geom_type == "MultiPolygon" else frame.geometry.iloc[1].exterior.coords)
        for i in range(1, len(ring) - 3):
            trial = [*ring[:i], ring[i + 1], ring[i], *ring[i + 2:]]
            if not Polygon(trial).is_valid:
                break
        frame.loc[1, "geometry"] = Polygon(trial)
        return frame

    _rewrite_layer(shp, bowtie)
    out = tmp_path / "s"
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 0
    from geo.pipeline.snapshot import load_snapshot

    repairs = load_snapshot(out).manifest["repairs"]
    fixed = [r for r in repairs if r["step"] == "repair_invalid_geometry"]
    assert fixed and "Self-intersection" in fixed[0]["description"] and "hb_ortsteile_BHV.shp" in fixed[0][
        "description"]
    capsys.readouterr()
    assert main(["build", "--strict", "--data", str(mini_data), "--out", str(out)]) == 2
    assert "Self-intersection" in capsys.readouterr().err


def test_duplicate_key(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def duplicate(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame.loc[2, "SCH_OT"] = frame.loc[1, "SCH_OT"]
        return frame

    _rewrite_layer(_shp(mini_data, "hb_ortsteile_BHV"), duplicate)
    err = _build_fails(mini_data, published, capsys)
    assert "ortsteil: key 04012111 occurs 2 times (hb_ortsteile_BHV.shp)" in err


def test_csv_in_utf8(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_csv(mini_data / RAW / "12411-03-03-2023.csv", lambda t: t, encoding="utf-8")
    err = _build_fails(mini_data, published, capsys)
    assert "12411-03-03-2023.csv: file is UTF-8, expected ISO-8859-1" in err


def test_csv_unknown_layout(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_csv(mini_data / RAW / "12411-03-03-2022.csv", lambda t: t.replace(";weiblich;", ";divers;", 1))
    err = _build_fails(mini_data, published, capsys)
    assert "12411-03-03-2022.csv: unknown layout for table 12411-03-03: columns not as expected" in err


def test_statistics_key_without_geometry(mini_data: Path, published: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    def add_district(text: str) -> str:
        rows = [ln for ln in text.splitlines() if ln.startswith("04011373;")]
        extra = "\r\n".join(r.replace("04011373;Tenever", "04011379;Neubaugebiet") for r in rows)
        return text.replace(rows[-1], rows[-1] + "\r\n" + extra)

    _edit_csv(mini_data / RAW / "12411-03-03-2023.csv", add_district)
    err = _build_fails(mini_data, published, capsys)
    assert "statistics key 04011379 has 10130 residents in 2023 but no geometry" in err
    assert "12411-03-03-2023.csv" in err


def test_negative_count(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_csv(mini_data / RAW / "12411-03-03-2023.csv",
              lambda t: t.replace("04011373;Tenever (Ortsteil);2023-12-31;Insgesamt;10130;",
                                  "04011373;Tenever (Ortsteil);2023-12-31;Insgesamt;-10130;"))
    err = _build_fails(mini_data, published, capsys)
    assert "12411-03-03-2023.csv" in err and "04011373 2023-12-31 total: negative count -10130" in err


def test_all_problems_reported_at_once(mini_data: Path, published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shp(mini_data, "hb_stadtteile_BHV").with_suffix(".prj").unlink()
    _edit_csv(mini_data / RAW / "12411-03-03-2023.csv", lambda t: t, encoding="utf-8")
    err = _build_fails(mini_data, published, capsys)
    assert "shapefile has no .prj" in err and "file is UTF-8" in err


def test_validate_reports_by_file_with_a_summary_and_publishes_nothing(mini_data: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", str(mini_data)]) == 0
    ok = capsys.readouterr().out
    assert "0 error(s)" in ok and ok.rstrip().splitlines()[-1].startswith("valid:")
    raw = mini_data / RAW
    copy = raw / "12411-03-03-2023-copy.csv"
    shutil.copy(raw / "12411-03-03-2023.csv", copy)  # the same table and year twice
    _edit_csv(raw / "12411-03-03-2022.csv", lambda t: t.replace("\n", "\nbroken line without fields\n", 1))
    assert main(["validate", "--data", str(mini_data)]) == 2
    out = capsys.readouterr().out
    assert f"{copy}:" in out or f"{raw / '12411-03-03-2023.csv'}:" in out  # grouped under a file header
    summary = next(ln for ln in out.splitlines() if "error(s)" in ln)
    assert int(summary.split()[0]) >= 1 and "file(s)" in summary
    assert not (tmp_path / "snapshots").exists()  # validate writes nothing


def test_a_single_published_year_builds(mini_data: Path, tmp_path: Path) -> None:
    (mini_data / RAW / "12411-03-03-2022.csv").unlink()  # no earlier year: no change indicators at all
    out = tmp_path / "one-year"
    assert main(["build", "--data", str(mini_data), "--out", str(out)]) == 0
    from geo.pipeline.snapshot import load_snapshot

    snap = load_snapshot(out)
    assert snap.manifest["years"] == [2023] and snap.indicators["year"].dtype.kind == "i"
    assert snap.wide("ortsteil")["population"].notna().sum() > 80


def test_city_outline_with_an_empty_prj_is_a_warning(mini_data: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The outline only serves the coverage check: without a CRS it is skipped with a warning (was a traceback)."""
    prj = mini_data / ORIGINAL / "hb_landesflaeche_Teil_I_BRE.prj"
    prj.chmod(0o644)
    prj.write_text("", encoding="utf-8")
    assert main(["build", "--data", str(mini_data), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "hb_landesflaeche_Teil_I_BRE.shp: city outline has no coordinate reference system" in err
