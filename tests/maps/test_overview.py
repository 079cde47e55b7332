"""The overview map builder: layers, legends, escaping, assets, and the boundaries of the maps package."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from maps import map_parts, overview_map, safe_json
from maps.charts import line_chart
from maps.classes import classify_values
from maps.i18n import fmt_number, t
from tests.maps.conftest import grid_districts, tiny_classification

MAPS = Path(__file__).resolve().parents[2] / "maps"


def _data(m) -> dict:  # type: ignore[no-untyped-def]
    """The JSON handed to the map's script."""
    script = str(map_parts(m).script)
    start = script.index(", {\"geo\"") + 2
    end = script.rindex(");")
    return json.loads(script[start:end])


def test_one_geometry_many_layers() -> None:
    frame = grid_districts(3)
    m = overview_map(frame, classification=tiny_classification(frame))
    data = _data(m)
    assert len(data["geo"]["features"]) == 9
    ids = [lay["id"] for lay in data["layers"]]
    for expected in ("categories", "designations", "status", "dynamics", "share_foreign_pct", "population"):
        assert expected in ids
    for lay in data["layers"]:
        assert len(lay["classes"]) == 9
        if not lay.get("outline"):
            counted = sum(item["count"] for item in lay["legend"]) + lay["missing"]
            assert counted == 9, lay["id"]
    # geometry appears once in the whole page script
    script = str(map_parts(m).script)
    assert script.count('"FeatureCollection"') == 1


def test_indicator_legend_has_bounds_and_counts() -> None:
    frame = grid_districts(3)
    _classes, legend, note = classify_values(frame["share_foreign_pct"], scheme="Quantiles", k=3, lang="de", unit="%")
    assert [item["count"] for item in legend] == [3, 3, 3]
    assert legend[0]["label"].startswith("5,0 – ")
    assert legend[-1]["label"].endswith("40,0 %")
    assert "Quantile" in note
    _, legend_en, note_en = classify_values(frame["population"], scheme="EqualInterval", k=2, lang="en")
    assert "equal intervals" in note_en and sum(i["count"] for i in legend_en) == 9
    with pytest.raises(ValueError, match="unknown classification scheme"):
        classify_values(frame["population"], scheme="Bogus", k=3, lang="de")


def test_scheme_and_k_come_from_config() -> None:
    frame = grid_districts(3)
    m = overview_map(frame, config={"scheme": "EqualInterval", "k": 3, "indicator_overrides": {}})
    lay = next(x for x in _data(m)["layers"] if x["id"] == "share_foreign_pct")
    assert len(lay["legend"]) == 3
    assert "gleiche Intervalle" in lay["note"]


def test_english_labels() -> None:
    frame = grid_districts(2)
    data = _data(overview_map(frame, classification=tiny_classification(frame), lang="en"))
    titles = {lay["id"]: lay["title"] for lay in data["layers"]}
    assert titles["categories"] == "Programme categories (statistics)"
    assert titles["share_foreign_pct"].startswith("Share of foreign nationals")
    assert data["t"]["profile"] == "Open profile"
    with pytest.raises(ValueError, match="lang"):
        overview_map(frame, lang="fr")


def test_hot_spots_and_types_when_present() -> None:
    frame = grid_districts(2)
    frame["hotspot"] = ["HH", "ns", "LL", "HL"]
    frame["district_type"] = ["A", "B", "A", None]
    ids = [lay["id"] for lay in _data(overview_map(frame))["layers"]]
    assert "hotspots" in ids and "district_type" in ids
    ids_plain = [lay["id"] for lay in _data(overview_map(grid_districts(2)))["layers"]]
    assert "hotspots" not in ids_plain


def test_names_are_escaped_in_the_script() -> None:
    names = ["<script>alert(1)</script>", 'Am "Deich" \'s Eck', "Überseestadt & Häfen", "</script><b>x</b>"]
    frame = grid_districts(2, names=names)
    parts = map_parts(overview_map(frame))
    html = str(parts.head) + str(parts.body) + str(parts.script)
    assert "<script>alert(1)</script>" not in html
    assert "</script><b>" not in html
    assert html.count("</script>") == html.count("<script")  # no script element closed early
    data = _data(overview_map(frame))
    assert [r[1] for r in data["rows"]] == names  # the text itself arrives unchanged, as data
    assert "\\u003cscript\\u003e" in safe_json("<script>")
    # the script builds text nodes only
    assert "innerHTML" not in str(parts.script)


def test_no_cdn_and_assets_under_the_given_base() -> None:
    parts = map_parts(overview_map(grid_districts(2), asset_base="/static/vendor"))
    html = str(parts.head) + str(parts.body) + str(parts.script)
    assert re.findall(r"(?:src|href)=\"(https?://[^\"]+)\"", html) == []
    assert 'src="/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/static/vendor/leaflet/leaflet.css"' in html
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_tiles_only_when_configured() -> None:
    frame = grid_districts(2)
    plain = str(map_parts(overview_map(frame)).script)
    assert "tileLayer" not in plain
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    with_tiles = str(map_parts(overview_map(frame, config={"tiles": tiles, "attribution": "Example"})).script)
    assert "tiles.example.org" in with_tiles
    with pytest.raises(ValueError, match="attribution"):
        overview_map(frame, config={"tiles": tiles})


def test_nonce_on_every_inline_element() -> None:
    parts = map_parts(overview_map(grid_districts(2)), nonce="n0nce")
    html = str(parts.head) + str(parts.script)
    tags = re.findall(r"<(?:script|style)\b[^>]*>", html)
    assert tags and all('nonce="n0nce"' in tag for tag in tags)
    assert 'user-scalable=no' not in html


def test_input_guards_name_the_problem() -> None:
    frame = grid_districts(2)
    with pytest.raises(ValueError, match="lack the column 'name'"):
        overview_map(frame.drop(columns="name"))
    dup = frame.copy()
    dup.loc[1, "key"] = dup.loc[0, "key"]
    with pytest.raises(ValueError, match="duplicate keys"):
        overview_map(dup)
    with pytest.raises(TypeError, match="GeoDataFrame"):
        overview_map(frame.drop(columns="geometry"))  # type: ignore[arg-type]


def test_chart_escapes_and_has_values() -> None:
    svg = str(line_chart({"<b>Q</b>": [(1980, 1.0), (2023, 2.5)], "Stadt": [(1980, 1.5), (2023, float("nan"))]},
                         title="Anteil & <x>", unit="%"))
    assert svg.startswith("<svg") and "<b>Q</b>" not in svg and "&lt;b&gt;Q&lt;/b&gt;" in svg
    assert "Anteil &amp; &lt;x&gt;" in svg
    assert "1980 1,0 %" in svg  # values in the description, German format
    assert "style=" not in svg


def test_number_format() -> None:
    assert fmt_number(1234.5, "de") == "1.234,5"
    assert fmt_number(1234.5, "en") == "1,234.5"
    assert fmt_number(float("nan"), "de") == "–"
    assert t("nav.map", "en") == "Map" and t("nav.map") == "Karte"


def test_maps_package_opens_no_files_and_no_network() -> None:
    forbidden_calls = {"open"}
    forbidden_modules = {"requests", "urllib", "http", "socket", "flask", "pathlib", "io", "os", "shutil",
                         "httpx", "aiohttp", "pyogrio", "fiona"}
    forbidden_attrs = {"read_file", "to_file", "read_text", "write_text", "read_bytes", "write_bytes",
                       "urlopen", "save", "read_parquet", "to_parquet", "read_csv", "to_csv"}
    problems = []
    for path in sorted(MAPS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [f"{path.name}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in forbidden_modules]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in forbidden_modules:
                    problems.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id in forbidden_calls:
                    problems.append(f"{path.name}:{node.lineno}: {node.func.id}()")
                if isinstance(node.func, ast.Attribute) and node.func.attr in forbidden_attrs:
                    problems.append(f"{path.name}:{node.lineno}: .{node.func.attr}()")
    assert problems == []
