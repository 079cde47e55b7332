"""A ready QGIS project (``.qgz``) beside a styled GeoPackage: open it and the map of the web page is there.

The project names the GeoPackage by a relative path (``./districts.gpkg``), so the version folder can be copied or
downloaded as a whole. Each layer carries its default style (the renderer and labels of the QML document in
``layer_styles``, see :mod:`geo.pipeline.gpkg`): the XML is taken from the style documents, nothing is drawn here, so
the colours and words stay those of :mod:`maps.qgis`. A ``.qgz`` is a zip archive holding one ``.qgs`` document.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyproj import CRS

from geo.pipeline.gpkg import LayerStyle

QGIS_VERSION = "3.22.16-Białowieża"
#: the parts of a QML document a project's map layer holds
STYLE_PARTS = ("renderer-v2", "labeling", "blendMode", "featureBlendMode", "layerOpacity")


def _srs(parent: ET.Element, authid: str) -> None:
    ref = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(ref, "wkt").text = CRS.from_user_input(authid).to_wkt()  # QGIS reads an authid only with an srsid
    ET.SubElement(ref, "authid").text = authid


def _map_layer(parent: ET.Element, *, layer_id: str, source: str, title: str, authid: str,
               style: LayerStyle) -> None:
    qml = ET.fromstring(style.qml.split("\n", 1)[1] if style.qml.startswith("<!DOCTYPE") else style.qml)
    node = ET.SubElement(parent, "maplayer", type="vector", geometry="Polygon", wkbType="MultiPolygon",
                         labelsEnabled="1" if qml.find("labeling") is not None else "0")
    ET.SubElement(node, "id").text = layer_id
    ET.SubElement(node, "datasource").text = source
    ET.SubElement(node, "layername").text = title
    _srs(ET.SubElement(node, "srs"), authid)
    ET.SubElement(node, "provider", encoding="UTF-8").text = "ogr"
    for part in STYLE_PARTS:
        found = qml.find(part)
        if found is not None:
            node.append(found)


def project_document(gpkg_name: str, layers: Sequence[tuple[str, str, bool]],
                     styles: Mapping[str, Sequence[LayerStyle]], *, authid: str, title: str) -> str:
    """The ``.qgs`` XML of a QGIS project that shows the layers of the GeoPackage ``gpkg_name``.

    Parameters
    ----------
    gpkg_name
        File name of the GeoPackage beside the project (the project refers to it by a relative path).
    layers
        ``(layer name, title, visible)`` from the top of the layer list down.
    styles
        The styles of each layer; a layer is drawn with its default one.
    authid
        The project's CRS, e.g. ``EPSG:25832``.
    title
        The project's title.
    """
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), authid)
    tree = ET.SubElement(root, "layer-tree-group")
    project_layers = ET.SubElement(root, "projectlayers")
    for name, layer_title, visible in layers:
        default = next(s for s in styles[name] if s.default)
        layer_id = f"{name}_layer"
        source = f"./{gpkg_name}|layername={name}"
        ET.SubElement(tree, "layer-tree-layer", id=layer_id, name=layer_title, source=source, providerKey="ogr",
                      checked="Qt::Checked" if visible else "Qt::Unchecked", expanded="1")
        _map_layer(project_layers, layer_id=layer_id, source=source, title=layer_title, authid=authid,
                   style=default)
    properties = ET.SubElement(root, "properties")
    srs = ET.SubElement(properties, "SpatialRefSys")  # QGIS reads projectCrs only when this is set
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def write_project(path: str | os.PathLike[str], gpkg_name: str, layers: Sequence[tuple[str, str, bool]],
                  styles: Mapping[str, Sequence[LayerStyle]], *, authid: str, title: str) -> Path:
    """Write :func:`project_document` as the ``.qgz`` archive ``path``; return the path."""
    out = Path(path)
    missing = [name for name, _, _ in layers if not any(s.default for s in styles.get(name, ()))]
    if missing:
        raise ValueError(f"write_project: no default style for the layers {missing}")
    document = project_document(gpkg_name, layers, styles, authid=authid, title=title)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(out.with_suffix(".qgs").name, document)
    return out
