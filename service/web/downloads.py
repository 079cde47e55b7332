"""``/api/v1/downloads``: the snapshot, its layers and classifications (see :mod:`service.api.exports`)."""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file

from geo.pipeline.snapshot import GPKG
from service.api import exports
from service.web.context import services, state

bp = Blueprint("downloads", __name__, url_prefix="/api/v1/downloads")


@bp.get("/snapshot.gpkg")
def snapshot_gpkg() -> Response:
    """``GET /api/v1/downloads/snapshot.gpkg``: the snapshot's GeoPackage (``districts.gpkg``, every layer)."""
    st = state()
    resp = send_file(st.snapshot.path / GPKG, mimetype=exports.FORMATS["gpkg"], as_attachment=True,
                     download_name=f"quartiere-{st.version}.gpkg")
    return resp


@bp.get("/districts.xlsx")
def districts_xlsx() -> Response:
    """``GET /api/v1/downloads/districts.xlsx``: the districts and their classification as an Excel workbook."""
    from service.api.workbook import MEDIA_TYPE, districts_workbook

    st = state()
    data = exports.cached(st.cache, "districts.xlsx",
                          lambda: districts_workbook(st.snapshot, st.result, st.definition, st.wide))
    return Response(data, mimetype=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="districts-{st.version}.xlsx"'})


@bp.get("/<layer>.<fmt>")
def layer_download(layer: str, fmt: str) -> Response:
    """``GET /api/v1/downloads/<layer>.<fmt>``: a layer or the classification (``?scenario=``: a scenario's) as a file.

    ``fmt`` is ``gpkg``, ``geojson`` or ``csv`` (``?dialect=excel-de`` for German Excel).
    """
    st = state()
    dialect = exports.check_format(fmt, request.args.get("dialect"))
    scenario = request.args.get("scenario")
    name = layer
    if name == "classification":
        if scenario:
            result = services().store.result(scenario)
            make = lambda: exports.render(exports.classification_frame(st.snapshot, result, st.wide), fmt,  # noqa: E731
                                          layer="classification", dialect=dialect)
            data = make()
            stem = f"classification-{scenario}"
        else:
            data = exports.cached(st.cache, f"classification.{fmt}.{dialect}", lambda: exports.render(
                exports.classification_frame(st.snapshot, st.result, st.wide), fmt, layer="classification",
                dialect=dialect))
            stem = f"classification-{st.result.definition_id}"
    else:
        frame = exports.layer_frame(st.snapshot, name)
        data = exports.cached(st.cache, f"{name}.{fmt}.{dialect}",
                              lambda: exports.render(frame, fmt, layer=name, dialect=dialect))
        stem = name
    suffix = "-excel-de" if dialect == "excel-de" else ""
    return Response(data, mimetype=exports.FORMATS[fmt].split(";")[0],
                    headers={"Content-Disposition": f'attachment; filename="{stem}-{st.version}{suffix}.{fmt}"',
                             **({"Content-Type": exports.FORMATS[fmt]} if fmt == "csv" else {})})
