"""``/ogcapi/processes``: OGC API - Processes - Part 1: Core 1.0, synchronous only (:mod:`service.api.processes`)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from service.api import processes
from service.api.eligibility import dumps
from service.web.context import services, state
from service.web.ogcapi import _base
from service.web.problems import from_domain, problem_object

# route variables are named as in the OGC API Processes OpenAPI fragments (processID)

bp = Blueprint("ogcapi_processes", __name__, url_prefix="/ogcapi")


@bp.errorhandler(processes.NoSuchProcessError)
@bp.errorhandler(processes.NoSuchJobError)
def no_such(exc: processes.NoSuchProcessError | processes.NoSuchJobError) -> Response:
    """The domain 404 with the exception type the standard names (no-such-process, no-such-job)."""
    resp = from_domain(exc)
    body = json.loads(resp.get_data())
    body["type"] = processes.EXCEPTION_TYPES[type(exc)]
    resp.set_data(json.dumps(body, ensure_ascii=False))
    return resp


@bp.get("/processes")
def process_list() -> Response:
    """``GET /ogcapi/processes``: the list of processes."""
    return Response(dumps(processes.process_list(_base(), request.args)), mimetype=processes.JSON)


@bp.get("/processes/<processID>")
def process_description(processID: str) -> Response:
    """``GET /ogcapi/processes/<processID>``: one process's description (inputs and outputs)."""
    process = processes.get_process(processID)
    return Response(dumps(process.description_doc(_base())), mimetype=processes.JSON)


@bp.get("/jobs/<jobID>")
@bp.get("/jobs/<jobID>/results")
def job(jobID: str) -> Response:
    """``GET /ogcapi/jobs/<jobID>[/results]``: always 404 no-such-job, since execution is synchronous."""
    processes.get_job(jobID)


@bp.post("/processes/<processID>/execution")
def execute(processID: str) -> Response:
    """``POST /ogcapi/processes/<processID>/execution``: run the process synchronously and answer its result."""
    settings = services().settings
    result = processes.execute(state(), processID, request.get_data(cache=False),
                               prefer=request.headers.get("Prefer"),
                               max_vertices=int(settings["POLYGON_MAX_VERTICES"]),
                               max_rows=int(settings["BATCH_MAX_ROWS"]), problem=problem_object)
    return Response(result.body, mimetype=result.media_type, headers=result.headers)
