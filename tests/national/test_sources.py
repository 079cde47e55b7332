"""Readers of the national files: errors name the file; keys stay strings of their official length."""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.errors import CRSError, DataNotFoundError, InputError
from geo.national import sources

GEM_HEADER = "ARS,AGS,GEN,BEZ,IBZ,BEM,SN_L,SN_R,SN_K,SN_V1,SN_V2,SN_G,NUTS,WSK,EWZ,KFL\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_vg250ew_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"vg250ew_gem_attribute\.csv"):
        sources.read_vg250ew(tmp_path / "vg250ew_gem_attribute.csv", "gemeinde")


def test_vg250ew_keeps_leading_zeros(tmp_path: Path) -> None:
    f = _write(tmp_path / "gem.csv", GEM_HEADER + "010010000000,01001000,Flensburg,Stadt,60,x,01,0,01,00,00,000,"
               "DEF01,2008-01-01,92550,56.73\n")
    out = sources.read_vg250ew(f, "gemeinde")
    assert out["key"].tolist() == ["01001000"] and out["population"].iloc[0] == 92550


@pytest.mark.parametrize(("body", "match"), [
    ("ARS,AGS,GEN\n010010000000,01001000,Flensburg\n", "column"),
    (GEM_HEADER + "010010000000,01001000,Flensburg,Stadt,60,x,01,0,01,00,00,000,DEF01,2008-01-01,viele,56.73\n",
     "EWZ"),
    (GEM_HEADER + "010010000000,1001000,Flensburg,Stadt,60,x,01,0,01,00,00,000,DEF01,2008-01-01,5,56.73\n",
     "8-digit"),
    (GEM_HEADER + "010010000000,01001000,A,Stadt,60,x,01,0,01,00,00,000,DEF01,2008-01-01,5,1\n"
     "010010000000,01001000,B,Stadt,60,x,01,0,01,00,00,000,DEF01,2008-01-01,5,1\n", "problem"),
    (GEM_HEADER + "010010000000,01001000,A,Stadt,60,x,01,0,01,00,00,000,DEF01,2008-01-01,-5,1\n", "problem"),
])
def test_vg250ew_malformed(tmp_path: Path, body: str, match: str) -> None:
    f = _write(tmp_path / "vg250ew_gem_attribute.csv", body)
    with pytest.raises(InputError, match=match) as info:
        sources.read_vg250ew(f, "gemeinde")
    assert "vg250ew_gem_attribute.csv" in str(info.value)


def test_inkar_missing_and_malformed(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"inkar\.csv\.gz"):
        sources.read_inkar(tmp_path / "inkar.csv.gz")
    bad = tmp_path / "inkar.csv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as fh:
        fh.write("ebene,schluessel,kennziffer,name,zeitbezug,bereich,kuerzel,wert\n"
                 "Kreis,01001,01001000,Flensburg,zwanzig,x,q_SGBII,1.0\n")
    with pytest.raises(InputError, match=r"inkar\.csv\.gz"):
        sources.read_inkar(bad)
    with gzip.open(bad, "wt", encoding="utf-8") as fh:
        fh.write("ebene,schluessel,kennziffer,name,zeitbezug,bereich,kuerzel,wert\n"
                 "Kreis,01001,01001000,Flensburg,2020,sozialleistungen,q_SGBII,1.5\n"
                 "Gemeinde,01001000,01001000,Flensburg,2021,sozialleistungen,q_PBG_bev,2.5\n"
                 "Bund,111,111,Deutschland,2021,sozialleistungen,q_PBG_bev,2.5\n")
    out = sources.read_inkar(bad)
    assert out["key"].tolist() == ["01001", "01001000"] and out["level"].tolist() == ["kreis", "gemeinde"]


def test_gisd_inputs_and_release_malformed(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="gisd_input"):
        sources.read_gisd_inputs(tmp_path / "gisd_input_indicators_long.csv.gz")
    f = _write(tmp_path / "GISD_Bund_Kreis.csv", "kreis_id,kreis_name,year,gisd_score\n01001,F,2020,0.5\n")
    with pytest.raises(InputError, match=r"GISD_Bund_Kreis\.csv.*gisd_5"):
        sources.read_gisd_release(f)
    f = _write(tmp_path / "unknown.csv", "source_file,indicator,aggregat,kennziffer,raumeinheit,year,value\n"
               "X.xls,x,Gemeinden,01001000,F,2020,1\n")
    with pytest.raises(InputError, match="unknown source file"):
        sources.read_gisd_inputs(f)


def test_bbsr_malformed(tmp_path: Path) -> None:
    f = _write(tmp_path / "bbsr_referenz_2015_kreise.csv", "kreis_id,ktyp4\n01001,4\n")
    with pytest.raises(InputError, match=r"bbsr_referenz_2015_kreise\.csv"):
        sources.read_bbsr(f, "kreis")


def _shapefile(tmp_path: Path, keys: list[str], gf: list[int], name: str = "VG5000_KRS.shp") -> Path:
    geoms = [shapely.box(3_400_000 + i * 1000, 5_600_000, 3_401_000 + i * 1000, 5_601_000) for i in range(len(keys))]
    frame = gpd.GeoDataFrame({"AGS": keys, "ARS": keys, "GEN": [f"K{k}" for k in keys], "BEZ": "Kreis", "GF": gf,
                              "WSK": "2020-01-01"}, geometry=geoms, crs="EPSG:31467")
    path = tmp_path / name
    frame.to_file(path)
    return path


def test_vg5000_reads_reprojects_and_drops_gf8(tmp_path: Path) -> None:
    path = _shapefile(tmp_path, ["01001", "01002", "01002"], [9, 9, 8])
    layer = sources.read_vg5000(path)
    assert layer.frame.crs.to_epsg() == 3035
    assert layer.frame["key"].tolist() == ["01001", "01002"] and layer.dropped["gf"].tolist() == [8]


def test_vg5000_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"VG5000_KRS\.shp"):
        sources.read_vg5000(tmp_path / "VG5000_KRS.shp")
    path = _shapefile(tmp_path, ["01001"], [7])
    with pytest.raises(InputError, match="Geofaktor"):
        sources.read_vg5000(path)
    path = _shapefile(tmp_path, ["1001"], [9])
    with pytest.raises(InputError, match="5-digit"):
        sources.read_vg5000(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="prj"):
        sources.read_vg5000(path)
    path.with_suffix(".dbf").unlink()
    with pytest.raises(DataNotFoundError, match=r"VG5000_KRS\.dbf"):
        sources.read_vg5000(path)
    with pytest.raises(InputError, match="not a VG5000 layer"):
        sources.read_vg5000(tmp_path / "other.shp")
