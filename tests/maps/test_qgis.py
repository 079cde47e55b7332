"""maps.qgis on small frames: which layer gets which style, the no-data category, English words, and the guards
of geo.pipeline.gpkg (one default style per layer). The real snapshot is tested in tests/test_geopackage_interop.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.pipeline.gpkg import LayerStyle, read_styles, write_layers, write_styles
from maps import palettes
from maps.i18n import class_label, t
from maps.qgis import style_layer


def _frame(**columns: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame({"key": [f"0401{i:04d}" for i in range(n)], "name": [f"O{i}" for i in range(n)],
                             **columns}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)], crs=25832)


def _cats(qml: str) -> list[tuple[str, str]]:
    root = ET.fromstring(qml.split("\n", 1)[1])
    return [(str(c.get("value")), str(c.get("label"))) for c in root.iter("category")]


def test_status_values_outside_the_palette_fall_into_no_data() -> None:
    frame = _frame(status_class=["very_low", "", None, "unheard_of"], categories=["win", "", "", ""],
                   classifiable=[True, False, True, True])
    out, styles = style_layer("classification", frame)
    status = next(s for s in styles if s.name == t("layer.status", "de"))
    assert _cats(status.qml) == [("very_low", class_label("status_class", "very_low", "de")),
                                 ("", t("map.no_data", "de"))]
    assert list(out["map_category"]) == ["win", "not_classifiable", "none", "none"]
    assert [s.default for s in styles] == [True, False]  # categories first; no dynamics column, no style


def test_english_words_and_outline_layers() -> None:
    frame = _frame(dynamics_class=["negative", "stable"])
    _, styles = style_layer("classification", frame, lang="en")
    assert styles[0].name == "Dynamics class" and _cats(styles[0].qml) == [("stable", "stable"),
                                                                          ("negative", "negative")]
    out, (outline,) = style_layer("stadtteile", _frame(area_km2=[1.0, 2.0]))
    assert outline.default and "singleSymbol" in outline.qml and list(out.columns) == ["key", "name", "area_km2",
                                                                                      "geometry"]
    assert style_layer("indicators", pd.DataFrame({"key": ["04011111"]}))[1] == []


def test_designation_colours_are_the_palettes() -> None:
    frame = _frame(programmes=["win", "llq_kleinst_sonder;win", "efre_stadtumbau"])
    out, (style,) = style_layer("designations", frame)
    assert list(out["map_designation"]) == ["win", "win_llq", "other"]
    root = ET.fromstring(style.qml.split("\n", 1)[1])
    fills = [o.get("value") for o in root.iter("Option") if o.get("name") == "color"]
    expected = [palettes.DESIGNATION_COLOURS[v] for v in ("win", "win_llq", "other")]
    assert [f"#{int(r):02x}{int(g):02x}{int(b):02x}" for r, g, b, _ in (v.split(",") for v in fills if v)][:3] == \
        [c.lower() for c in expected]


def test_write_styles_wants_one_default_per_layer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.gpkg"
    styles = write_layers(path, {"ortsteile": _frame(area_km2=[1.0])}, styler=style_layer)
    with pytest.raises(ValueError, match="2 default styles"):
        write_styles(path, {"ortsteile": [LayerStyle("a", "<qgis/>", default=True),
                                          LayerStyle("b", "<qgis/>", default=True)]})
    write_styles(path, styles)
    table = read_styles(path)
    assert list(table["f_table_name"]) == ["ortsteile"] and list(table["f_geometry_column"]) == ["geom"]
