"""``/ogcapi/processes``: OGC API - Processes - Part 1: Core 1.0, synchronous only (:mod:`service.processes`)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from service import processes
from service.app import services, state
from service.eligibility import dumps
from service.problems import from_domain
from service.routes.ogcapi import _base

# route variables are named as in the OGC API Processes OpenAPI fragments (processID)

bp = Blueprint("ogcapi_processes", __name__, url_prefix="/ogcapi/processes")


@bp.errorhandler(processes.NoSuchProcessError)
def no_such_process(exc: processes.NoSuchProcessError) -> Response:
    """The domain 404, with the exception type the standard names (/req/core/process-exception/no-such-process)."""
    resp = from_domain(exc)
    body = json.loads(resp.get_data())
    body["type"] = processes.NO_SUCH_PROCESS
    resp.set_data(json.dumps(body, ensure_ascii=False))
    return resp


@bp.get("")
def process_list() -> Response:
    return Response(dumps(processes.process_list(_base())), mimetype=processes.JSON)


@bp.get("/<processID>")
def process_description(processID: str) -> Response:
    process = processes.get_process(processID)
    return Response(dumps(process.description_doc(_base())), mimetype=processes.JSON)


@bp.post("/<processID>/execution")
def execute(processID: str) -> Response:
    settings = services().settings
    result = processes.execute(state(), processID, request.get_data(cache=False),
                               prefer=request.headers.get("Prefer"),
                               max_vertices=int(settings["POLYGON_MAX_VERTICES"]),
                               max_rows=int(settings["BATCH_MAX_ROWS"]))
    return Response(result.body, mimetype=result.media_type, headers=result.headers)
