"""GeoPackages as Debian's GIS desktop sees them: version 1.2, silent ``ogrinfo``, the GDAL validator, and the
QGIS styles in ``layer_styles`` (same classes, colours and German words as the web map).

The snapshot is built with the ``quartiere`` command line from the official data (as ``scripts/run`` does), the
downloads come from the service on that snapshot. The tools are Debian's: ``ogrinfo`` (gdal-bin),
``validate_gpkg.py`` (python3-gdal, a dependency of gdal-bin) and QGIS 3.22 (python3-qgis, qgis-providers), all
installed by ``scripts/install-system-deps.sh``; without them a test skips on a developer machine and fails in CI.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from tests.conftest import missing_tool

pytestmark = pytest.mark.realdata

SYSTEM_PYTHON = "/usr/bin/python3"
MAIN_LAYERS = ("ortsteile", "stadtteile", "stadtbezirke", "classification")
#: the columns of the table QGIS creates when it saves a style into a GeoPackage
QGIS_STYLE_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                      "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]


@pytest.fixture(scope="module")
def styled(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot built by ``quartiere build`` from the official data; returns the snapshots folder."""
    from service.cli import main

    out = tmp_path_factory.mktemp("styled") / "snapshots"
    assert main(["build", "--data", str(data_dir), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def gpkg(styled: Path) -> Path:
    from geo.pipeline.snapshot import GPKG

    return styled / (styled / "CURRENT").read_text(encoding="utf-8").strip() / GPKG


@pytest.fixture(scope="module")
def downloads(styled: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The GeoPackage downloads of the service on the styled snapshot, by layer."""
    from service.app import create_app

    folder = tmp_path_factory.mktemp("downloads")
    client = create_app({"SNAPSHOTS": str(styled), "INSTANCE": str(folder / "instance"),
                         "TESTING": True}).test_client()
    out = {}
    for layer in ("ortsteile", "designations", "classification"):
        r = client.get(f"/api/v1/downloads/{layer}.gpkg")
        assert r.status_code == 200, r.data[:300]
        out[layer] = folder / f"{layer}.gpkg"
        out[layer].write_bytes(r.data)
    return out


def _ogrinfo() -> str:
    found = shutil.which("ogrinfo")
    if found is None:
        missing_tool("ogrinfo not found (Debian package gdal-bin; scripts/install-system-deps.sh)")
    assert found is not None
    return found


def _header(path: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return con.execute("PRAGMA application_id").fetchone()[0], con.execute("PRAGMA user_version").fetchone()[0]


def assert_desktop_opens(path: Path) -> None:
    """Version 1.2 header; ``ogrinfo`` summary and full read of every layer without a word on stderr; the
    GDAL validator of Debian's python3-gdal passes."""
    assert _header(path) == (0x47504B47, 10200)  # "GPKG", 1.2.0
    for args in (["-so", "-al"], ["-al", "-q"]):
        run = subprocess.run([_ogrinfo(), *args, str(path)], capture_output=True, text=True, timeout=120,
                             check=False)
        assert run.returncode == 0, run.stderr
        assert run.stderr == "", run.stderr
        assert "Warning" not in run.stdout
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import osgeo_utils.samples.validate_gpkg"], capture_output=True,
                           check=False) if Path(SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        missing_tool("validate_gpkg.py not found (Debian package python3-gdal, a dependency of gdal-bin)")
    check = subprocess.run([SYSTEM_PYTHON, "-m", "osgeo_utils.samples.validate_gpkg", str(path)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert check.returncode == 0 and check.stdout + check.stderr == "", check.stdout + check.stderr


def _styles(path: Path) -> pd.DataFrame:
    from geo.pipeline.gpkg import read_styles

    return read_styles(path)


def _categories(qml: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The attribute and the ``(value, label, #rrggbb)`` categories of a categorised QML renderer."""
    root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "categorizedSymbol"
    colours = {}
    for symbol in renderer.findall("symbols/symbol"):
        opt = symbol.find("layer/Option[@type='Map']/Option[@name='color']")
        assert opt is not None
        r, g, b, a = (int(x) for x in str(opt.get("value")).split(","))
        assert a == round(0.8 * 255)  # the web map's fill opacity
        colours[symbol.get("name")] = f"#{r:02x}{g:02x}{b:02x}"
    cats = [(str(c.get("value")), str(c.get("label")), colours[c.get("symbol")])
            for c in renderer.findall("categories/category")]
    return str(renderer.get("attr")), cats


def _web_legends(frame: pd.DataFrame) -> dict[str, list[tuple[str, str, int]]]:
    """The web map's programme legends of ``frame`` (German): title -> ``(label, colour, count)`` of the classes
    used, then the web map's "keine Daten" colour for districts without a class."""
    from maps import DEFAULT_CONFIG, thematic_layers
    from maps.i18n import t
    from maps.palettes import NO_DATA

    layers = thematic_layers(pd.DataFrame(frame.drop(columns="geometry")), lang="de", config=DEFAULT_CONFIG)
    out = {}
    for lay in layers:
        if lay["id"] in ("categories", "status", "dynamics", "designations"):
            missing = int((np.asarray(lay["classes"]) < 0).sum())
            out[lay["title"]] = [(e["label"], e["color"].lower(), e["count"]) for e in lay["legend"] if e["count"]]
            out[lay["title"]] += [(t("map.no_data", "de"), NO_DATA, missing)] if missing else []
    return out


def _counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    values = frame[column].where(frame[column].notna() & (frame[column] != ""), "")
    return {str(k): int(v) for k, v in values.value_counts().items()}


# --- the snapshot -------------------------------------------------------------------------------------------------

def test_snapshot_geopackage_opens_cleanly_in_gdal(gpkg: Path) -> None:
    assert_desktop_opens(gpkg)
    manifest = json.loads((gpkg.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["geopackage"]["version"] == "1.2"
    assert set(manifest["geopackage"]["styles"]) >= set(MAIN_LAYERS)


def test_layer_styles_follow_the_qgis_convention(gpkg: Path) -> None:
    styles = _styles(gpkg)
    assert list(styles.columns) == QGIS_STYLE_COLUMNS
    with closing(sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)) as con:
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        geometry = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert kinds["layer_styles"] == "attributes"
    for layer in MAIN_LAYERS:
        rows = styles[styles["f_table_name"] == layer]
        assert rows["useAsDefault"].astype(bool).sum() == 1, layer
        assert set(rows["f_geometry_column"]) == {geometry[layer]}
        assert set(rows["f_table_schema"]) == {""} and set(rows["f_table_catalog"]) == {""}
        for qml, sld in zip(rows["styleQML"], rows["styleSLD"], strict=True):
            assert ET.fromstring(qml.split("\n", 1)[1]).tag == "qgis"
            assert ET.fromstring(sld.encode()).tag.endswith("StyledLayerDescriptor")
    outline = styles[styles["f_table_name"] == "ortsteile"].iloc[0]
    assert outline["styleName"] == "Nur Umrisse"  # German words of the web map's layer switch
    assert "singleSymbol" in outline["styleQML"] and 'fieldName="name"' in outline["styleQML"]


def test_classification_styles_are_the_web_map(gpkg: Path) -> None:
    layer = pyogrio.read_dataframe(gpkg, layer="classification")
    styles = _styles(gpkg)
    styles = styles[styles["f_table_name"] == "classification"]
    legends = _web_legends(layer)
    assert list(styles["styleName"]) == [
        "Programmkategorien (Statistik)", "Statusklasse", "Dynamikklasse", "Offizielle Fördergebiete"]
    assert styles.iloc[0]["useAsDefault"]  # QGIS opens the layer coloured by programme category
    for name, qml in zip(styles["styleName"], styles["styleQML"], strict=True):
        column, cats = _categories(qml)
        counts = _counts(layer, column)
        assert [v for v, _, _ in cats] and {v for v, _, _ in cats} == set(counts), name
        # label and colour of each category, and how many Ortsteile it holds, are the web map's legend
        assert [(label, colour, counts[v]) for v, label, colour in cats] == legends[name], name


def test_classification_layer_matches_the_published_classification(gpkg: Path, styled: Path) -> None:
    from geo.classify import load_result
    from geo.pipeline.snapshot import load_snapshot

    snap = load_snapshot(styled)
    layer = pyogrio.read_dataframe(gpkg, layer="classification").set_index("key")
    entry = next(e for e in snap.manifest["products"] if e["kind"] == "classification")
    table = load_result(gpkg.parent / entry["path"]).table.set_index("key")
    table = table[~table["is_extra"]]
    assert sorted(layer.index) == sorted(table.index) == sorted(snap.layers["ortsteile"]["key"])
    assert (layer["status_class"] == table.loc[layer.index, "status_class"]).all()
    assert (layer["categories"] == table.loc[layer.index, "categories"].map(";".join)).all()
    assert layer.crs.to_epsg() == 25832


# --- the downloads ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", ["ortsteile", "designations", "classification"])
def test_download_geopackages_open_cleanly_and_are_styled(downloads: dict[str, Path], layer: str) -> None:
    path = downloads[layer]
    assert_desktop_opens(path)
    assert pyogrio.list_layers(path)[0][0] == layer  # the data comes first (readers open the first layer)
    styles = _styles(path)
    assert set(styles["f_table_name"]) == {layer}
    assert styles["useAsDefault"].astype(bool).sum() == 1


def test_designation_download_style(downloads: dict[str, Path]) -> None:
    from maps import palettes
    from maps.i18n import t

    frame = pyogrio.read_dataframe(downloads["designations"], layer="designations")
    (qml,) = _styles(downloads["designations"])["styleQML"]
    column, cats = _categories(qml)
    assert column == "map_designation"
    assert {v for v, _, _ in cats} == set(_counts(frame, column))
    assert all(label == t(f"des.{v}", "de") and colour == palettes.DESIGNATION_COLOURS[v].lower()
               for v, label, colour in cats)
    # each designated area is WiN, Lebendige Quartiere, both or another programme, as its programmes say
    for programmes, cls in zip(frame["programmes"], frame[column], strict=True):
        progs = set(programmes.split(";"))
        assert cls == ("win_llq" if "win" in progs and any(p.startswith("llq") for p in progs) else
                       "win" if "win" in progs else "llq" if any(p.startswith("llq") for p in progs) else "other")


# --- QGIS itself --------------------------------------------------------------------------------------------------

QGIS_PROBE = r"""
import json, os, sqlite3, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.PyQt.QtXml import QDomDocument
from qgis.core import QgsApplication, QgsRenderContext, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()


def seen(layer):
    renderer = layer.renderer()
    ctx = QgsRenderContext()
    renderer.startRender(ctx, layer.fields())
    colours = {}
    for f in layer.getFeatures():
        symbol = renderer.symbolForFeature(f, ctx)
        colours[f["key"]] = None if symbol is None else symbol.color().name()
    renderer.stopRender(ctx)
    return {"renderer": renderer.type(), "labels": layer.labelsEnabled(), "colours": colours,
            "attr": renderer.classAttribute() if renderer.type() == "categorizedSymbol" else None}


out = {}
con = sqlite3.connect(sys.argv[1])
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    out[name] = {"valid": layer.isValid(), "default": seen(layer), "styles": {}}
    for style, qml in con.execute("SELECT styleName, styleQML FROM layer_styles WHERE f_table_name = ?", (name,)):
        doc = QDomDocument()
        doc.setContent(qml)
        ok, error = layer.importNamedStyle(doc)
        out[name]["styles"][style] = {"ok": ok, "error": error, **seen(layer)}
print(json.dumps(out), flush=True)
os._exit(0)  # QgsApplication.exitQgis() may crash a headless process on the way out; the answer is printed
"""


def test_qgis_opens_the_snapshot_styled(gpkg: Path) -> None:
    """QGIS 3.22 itself: the default styles load on opening, and every style colours each Ortsteil as the web
    map's layer of the same title does (``keine Daten`` grey included)."""
    from maps import DEFAULT_CONFIG, thematic_layers
    from maps.palettes import NO_DATA

    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                           check=False) if Path(SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        missing_tool("QGIS not found (Debian packages python3-qgis, qgis-providers; scripts/install-system-deps.sh)")
    run = subprocess.run([SYSTEM_PYTHON, "-c", QGIS_PROBE, str(gpkg), "classification", "ortsteile"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    ortsteile, cls = seen["ortsteile"], seen["classification"]
    assert ortsteile["valid"] and ortsteile["default"]["renderer"] == "singleSymbol" and ortsteile["default"]["labels"]
    assert cls["valid"] and cls["default"]["renderer"] == "categorizedSymbol"
    assert cls["default"]["attr"] == "map_category" and cls["default"]["labels"]
    frame = pyogrio.read_dataframe(gpkg, layer="classification")
    web = {lay["title"]: lay for lay in thematic_layers(pd.DataFrame(frame.drop(columns="geometry")), lang="de",
                                                        config=DEFAULT_CONFIG)}
    assert len(cls["styles"]) == 4
    for title, got in cls["styles"].items():
        assert got["ok"], got["error"]
        lay = web[title]
        expected = {k: (lay["legend"][c]["color"] if c >= 0 else NO_DATA).lower()
                    for k, c in zip(frame["key"], lay["classes"], strict=True)}
        assert got["colours"] == expected, title
    assert cls["default"]["colours"] == cls["styles"]["Programmkategorien (Statistik)"]["colours"]


# --- the QGIS project ---------------------------------------------------------------------------------------------

PROJECT_PROBE = r"""
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {"read": project.read(sys.argv[1]), "crs": project.crs().authid(), "layers": {}}
for lid, layer in project.mapLayers().items():
    r = layer.renderer()
    out["layers"][layer.name()] = {
        "valid": layer.isValid(), "features": layer.featureCount(), "source": layer.source(),
        "renderer": r.type(), "attr": r.classAttribute() if r.type() == "categorizedSymbol" else None,
        "visible": project.layerTreeRoot().findLayer(lid).isVisible(), "labels": layer.labelsEnabled()}
out["order"] = [layer.name() for layer in project.layerTreeRoot().layerOrder()]
print(json.dumps(out), flush=True)
os._exit(0)
"""


def test_project_names_the_geopackage_relatively(gpkg: Path) -> None:
    import zipfile

    manifest = json.loads((gpkg.parent / "manifest.json").read_text(encoding="utf-8"))
    project = gpkg.parent / manifest["geopackage"]["project"]
    with zipfile.ZipFile(project) as archive:
        (name,) = archive.namelist()
        root = ET.fromstring(archive.read(name).decode("utf-8").split("\n", 1)[1])
    sources = [str(e.text) for e in root.iter("datasource")]
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert sources and all(s.startswith(f"./{gpkg.name}|layername=") for s in sources)
    assert {s.split("layername=")[1] for s in sources} <= layers
    assert "classification" in {s.split("layername=")[1] for s in sources}


def test_qgis_opens_the_project_on_a_copied_version(gpkg: Path, tmp_path: Path) -> None:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                           check=False) if Path(SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        missing_tool("QGIS not found (Debian packages python3-qgis, qgis-providers; scripts/install-system-deps.sh)")
    copy = tmp_path / "elsewhere"
    shutil.copytree(gpkg.parent, copy)
    run = subprocess.run([SYSTEM_PYTHON, "-c", PROJECT_PROBE, str(copy / "districts.qgz")], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["read"] and seen["crs"] == "EPSG:25832"
    assert seen["order"] == ["Stadtbezirke", "Stadtteile", "Ortsteile", "Programmkategorien (Statistik)"]
    published = json.loads((gpkg.parent / "manifest.json").read_text(encoding="utf-8"))["counts"]
    counts = {"Stadtbezirke": published["stadtbezirke"], "Stadtteile": published["stadtteile"],
              "Ortsteile": published["ortsteile"], "Programmkategorien (Statistik)": published["ortsteile"]}
    for name, layer in seen["layers"].items():
        assert layer["valid"] and layer["features"] == counts[name] and layer["labels"], name
        assert layer["source"].startswith(str(copy / "districts.gpkg")), layer["source"]  # the copy, not the original
    cats = seen["layers"]["Programmkategorien (Statistik)"]
    assert cats["renderer"] == "categorizedSymbol" and cats["attr"] == "map_category" and cats["visible"]
    assert seen["layers"]["Stadtbezirke"]["visible"] and not seen["layers"]["Ortsteile"]["visible"]
