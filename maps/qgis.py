"""QGIS styles for the GeoPackages: the web map's colours and German words as QML (and SLD) documents.

:func:`style_layer` is a :data:`geo.pipeline.gpkg.Styler`: given a layer about to be written, it returns the frame with
the columns its styles read and the styles. The documents are made here because the colours
(:mod:`maps.palettes`) and words (:mod:`maps.i18n`) live here, and the classes a district is coloured by are
the web map's own (:func:`maps.overview.thematic_layers`: the first category by precedence, the designation
class); they are materialised as columns (``map_category``, ``map_designation``) so that any GIS can filter and
style by them without re-implementing the rule. This module only returns strings; :mod:`geo.pipeline.gpkg` writes them
(``geo`` never imports ``maps``, so the adapters pass this function in: the ``quartiere`` command line for the
snapshot, :func:`service.api.exports.to_gpkg` for downloads).

Styles, each with the web map's fill opacity (0.8) and outline (``#444444``, 0.8 px) and the district names as
labels:

* ``classification`` (Ortsteile with a classification): programme categories (default), status classes,
  dynamics classes and, where the layer has them, designations;
* ``designations`` (with geometry): the designations;
* every other polygon layer: outlines only (no column is added to them, so ``ortsteile`` is the same in every
  format and in the snapshot's readers).

A category holds exactly the values present in the layer, in the web map's legend order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import geopandas as gpd
import pandas as pd

from geo.pipeline.gpkg import LayerStyle
from maps import palettes
from maps.i18n import class_label, t

#: the fill opacity and outline of the web map (maps/_script.py)
FILL_OPACITY = 0.8
OUTLINE_WIDTH_PX = 0.8
QGIS_VERSION = "3.22.16-Białowieża"
#: the empty value: "keine Daten" (QGIS also uses a category with an empty value for NULL and other values)
NO_VALUE = ""


def style_layer(name: str, frame: pd.DataFrame, *, lang: str = "de") -> tuple[pd.DataFrame, list[LayerStyle]]:
    """The frame to write for layer ``name`` (with the columns its styles read) and its styles.

    Frames without geometry get no style. See the module docstring for which layer gets which styles.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
        return frame, []
    out = frame.copy()
    thematic: list[tuple[str, str, str, list[tuple[str, str, str]]]] = []  # (id, title, column, categories)
    if "categories" in out:
        classifiable = out["classifiable"] if "classifiable" in out else [None] * len(out)
        out["map_category"] = [palettes.primary_category(c, k)
                               for c, k in zip(out["categories"], classifiable, strict=True)]
        order = [*palettes.CATEGORY_ORDER, "none", "not_classifiable"]
        thematic.append(("categories", t("layer.categories", lang), "map_category",
                         _present(out["map_category"], order, palettes.CATEGORY_COLOURS,
                                  {c: t(f"cat.{c}", lang) for c in order}, lang)))
    for col, colours, lid in (("status_class", palettes.STATUS_COLOURS, "status"),
                              ("dynamics_class", palettes.DYNAMICS_COLOURS, "dynamics")):
        if col in out:
            thematic.append((lid, t(f"layer.{lid}", lang), col,
                             _present(out[col], list(colours), colours,
                                      {c: class_label(col, c, lang) for c in colours}, lang)))
    designation = _designation_classes(name, out)
    if designation is not None:
        out["map_designation"] = designation
        order = list(palettes.DESIGNATION_COLOURS)
        thematic.append(("designations", t("layer.designations", lang), "map_designation",
                         _present(out["map_designation"], order, palettes.DESIGNATION_COLOURS,
                                  {c: t(f"des.{c}", lang) for c in order}, lang)))
    label = "name" if "name" in out else ("key_name" if "key_name" in out else None)
    styles = [LayerStyle(name=title, qml=categorized_qml(column, cats, label=label), sld=categorized_sld(
        title, column, cats), default=i == 0, description=_description(title, lid, lang))
        for i, (lid, title, column, cats) in enumerate(thematic)]
    if not styles:
        title = t("layer.outline", lang)
        styles = [LayerStyle(name=title, qml=outline_qml(label=label), sld=outline_sld(title), default=True,
                             description=_description(title, "outline", lang))]
    return out, styles


def _designation_classes(name: str, frame: pd.DataFrame) -> list[str] | None:
    """The web map's designation class per row, or None when the layer has no designation columns."""
    if name == "classification" and "designated" in frame and "designation_programmes" in frame:
        return [palettes.designation_group(p, bool(d) if d == d else False)
                for p, d in zip(frame["designation_programmes"], frame["designated"], strict=True)]
    if name == "designations" and "programmes" in frame:  # one row per designated area
        return [palettes.designation_group(p, True) for p in frame["programmes"]]
    return None


def _present(values: pd.Series, order: Sequence[str], colours: Mapping[str, str], labels: Mapping[str, str],
             lang: str) -> list[tuple[str, str, str]]:
    """The legend entries ``(value, label, colour)`` for each value of ``order`` present in ``values``.

    Then the empty value ("keine Daten" in ``lang``) when some value is missing or not in ``order``.
    """
    seen = {v for v in values if isinstance(v, str) and v}
    cats = [(v, labels[v], colours[v]) for v in order if v in seen]
    if len(seen - set(order)) or any(not (isinstance(v, str) and v) for v in values):
        cats.append((NO_VALUE, t("map.no_data", lang), palettes.NO_DATA))
    return cats


def _description(title: str, lid: str, lang: str) -> str:
    other = "en" if lang == "de" else "de"
    words = {"de": "Farben und Beschriftungen wie auf der Webkarte", "en": "colours and labels as on the web map"}
    other_title = t(f"layer.{lid}", other)
    return f"{title} ({other_title}): {words[lang]}"


# --- QML --------------------------------------------------------------------------------------------------------

def _rgba(colour: str, alpha: float) -> str:
    c = colour.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(parent: ET.Element, values: Mapping[str, str]) -> None:
    box = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(box, "Option", name=key, type="QString", value=value)


def _fill_symbol(parent: ET.Element, name: str, colour: str | None) -> None:
    symbol = ET.SubElement(parent, "symbol", type="fill", name=name, alpha="1", clip_to_extent="1",
                           force_rhr="0")
    layer = ET.SubElement(symbol, "layer", attrib={"class": "SimpleFill", "enabled": "1", "locked": "0",
                                                   "pass": "0"})
    _options(layer, {"color": _rgba(colour or "#ffffff", FILL_OPACITY if colour else 0.0),
                     "style": "solid" if colour else "no", "outline_color": _rgba(palettes.OUTLINE, 1),
                     "outline_style": "solid", "outline_width": f"{OUTLINE_WIDTH_PX:g}",
                     "outline_width_unit": "Pixel", "joinstyle": "bevel"})


def _document() -> ET.Element:
    return ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling")


def _labeling(root: ET.Element, field: str | None) -> None:
    if field is None:
        return
    labeling = ET.SubElement(root, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    ET.SubElement(settings, "text-style", fieldName=field, isExpression="0", fontFamily="Sans Serif",
                  fontSize="8", fontSizeUnit="Point", textColor="34,34,34,255", textOpacity="1", namedStyle="Normal")
    buffer = ET.SubElement(settings, "text-buffer")
    buffer.attrib.update({"bufferDraw": "1", "bufferSize": "0.7", "bufferSizeUnits": "MM",
                          "bufferColor": "255,255,255,255", "bufferOpacity": "0.8"})
    ET.SubElement(settings, "placement", placement="1", fitInPolygonOnly="0", centroidInside="1")
    ET.SubElement(settings, "rendering", obstacle="1", fontLimitPixelSize="0", upsidedownLabels="0",
                  scaleVisibility="0", drawLabels="1")
    ET.SubElement(root, "layerGeometryType").text = "2"


def _serialise(root: ET.Element) -> str:
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def categorized_qml(column: str, categories: Sequence[tuple[str, str, str]], *, label: str | None) -> str:
    """A QML document: a categorised renderer on ``column`` with ``(value, label, colour)`` categories."""
    root = _document()
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=column, symbollevels="0",
                             enableorderby="0", forceraster="0", referencescale="-1")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, text, colour) in enumerate(categories):
        ET.SubElement(cats, "category", render="true", symbol=str(i), value=value, label=text,
                      type="string")
        _fill_symbol(symbols, str(i), colour)
    source = ET.SubElement(renderer, "source-symbol")
    _fill_symbol(source, "0", palettes.NO_DATA)
    _labeling(root, label)
    return _serialise(root)


def outline_qml(*, label: str | None) -> str:
    """A QML document: outlines only (no fill), the web map's outline colour, names as labels."""
    root = _document()
    renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                             forceraster="0", referencescale="-1")
    symbols = ET.SubElement(renderer, "symbols")
    _fill_symbol(symbols, "0", None)
    _labeling(root, label)
    return _serialise(root)


# --- SLD (OGC Symbology Encoding 1.1, for clients other than QGIS) ---------------------------------------------

SLD_NS = {"": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se", "ogc": "http://www.opengis.net/ogc"}
#: ElementTree's ``{namespace}`` prefixes
SLD, SE, OGC = (f"{{{SLD_NS[k]}}}" for k in ("", "se", "ogc"))


def _sld_root(title: str) -> tuple[ET.Element, ET.Element]:
    for prefix, uri in SLD_NS.items():
        ET.register_namespace(prefix, uri)
    sld, se = SLD, SE
    root = ET.Element(f"{sld}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{sld}NamedLayer")
    ET.SubElement(named, f"{se}Name").text = title
    user = ET.SubElement(named, f"{sld}UserStyle")
    ET.SubElement(user, f"{se}Name").text = title
    return root, ET.SubElement(user, f"{se}FeatureTypeStyle")


def _sld_rule(parent: ET.Element, title: str, colour: str | None, condition: tuple[str, str] | None) -> None:
    se, ogc = SE, OGC
    rule = ET.SubElement(parent, f"{se}Rule")
    ET.SubElement(rule, f"{se}Name").text = title
    if condition is not None:
        column, value = condition
        filt = ET.SubElement(ET.SubElement(rule, f"{ogc}Filter"), f"{ogc}PropertyIsEqualTo")
        ET.SubElement(filt, f"{ogc}PropertyName").text = column
        ET.SubElement(filt, f"{ogc}Literal").text = value
    poly = ET.SubElement(rule, f"{se}PolygonSymbolizer")
    if colour is not None:
        fill = ET.SubElement(poly, f"{se}Fill")
        ET.SubElement(fill, f"{se}SvgParameter", name="fill").text = colour
        ET.SubElement(fill, f"{se}SvgParameter", name="fill-opacity").text = f"{FILL_OPACITY:g}"
    stroke = ET.SubElement(poly, f"{se}Stroke")
    ET.SubElement(stroke, f"{se}SvgParameter", name="stroke").text = palettes.OUTLINE
    ET.SubElement(stroke, f"{se}SvgParameter", name="stroke-width").text = f"{OUTLINE_WIDTH_PX:g}"


def categorized_sld(title: str, column: str, categories: Sequence[tuple[str, str, str]]) -> str:
    """The same categories as an SLD 1.1 document (one rule per value)."""
    root, fts = _sld_root(title)
    for value, text, colour in categories:
        _sld_rule(fts, text, colour, (column, value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def outline_sld(title: str) -> str:
    """Outlines only as an SLD 1.1 document."""
    root, fts = _sld_root(title)
    _sld_rule(fts, title, None, None)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
