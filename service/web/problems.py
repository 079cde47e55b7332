"""The one place where errors become HTTP: ``application/problem+json`` (RFC 9457).

Domain errors (:mod:`geo.errors`) carry no status code; :data:`STATUS` maps each class to one, checked in
method-resolution order so the most specific class wins. Werkzeug's HTTP exceptions (404, 405, 413, ...) and
unexpected exceptions are rendered the same way; a traceback never reaches the client. A browser asking for a
page gets the same answer as an HTML page in its language (:mod:`service.web.error_pages`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from geo.analysis.interpolate import NoStatisticsError
from geo.errors import (
    CRSError,
    DataNotFoundError,
    DefinitionError,
    GeometryError,
    InputError,
    LimitError,
    OutOfAreaError,
    QuartiereError,
    SnapshotError,
    StorageError,
    StorageFullError,
    UnknownKeyError,
    ValidationError,
)
from service.web.error_pages import error_page, wants_html

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://lebendige-quartiere.bremen.invalid/problems/"


class AuthError(Exception):
    """Missing or wrong API token (service-level, not a domain error)."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


#: domain error class -> (HTTP status, title, problem type slug); most specific first by MRO lookup
STATUS: dict[type[QuartiereError], tuple[int, str, str]] = {
    NoStatisticsError: (422, "No statistics for this area", "no-statistics"),
    OutOfAreaError: (404, "Outside Bremen and Bremerhaven", "out-of-area"),
    UnknownKeyError: (404, "Not found", "not-found"),
    InputError: (400, "Bad request", "bad-request"),
    CRSError: (400, "Bad coordinate reference system", "crs"),
    GeometryError: (400, "Bad geometry", "geometry"),
    LimitError: (413, "Request too large", "limit"),
    ValidationError: (422, "Invalid input", "validation"),
    DefinitionError: (422, "Invalid programme definition", "definition"),
    SnapshotError: (503, "Snapshot not available", "snapshot"),
    DataNotFoundError: (503, "Data not available", "data"),
    StorageFullError: (507, "Insufficient Storage", "storage-full"),
    StorageError: (503, "Storage not available", "storage"),
    QuartiereError: (400, "Bad request", "bad-request"),
}


def status_of(exc: QuartiereError) -> tuple[int, str, str]:
    """HTTP status, title and problem type slug of a domain error: its most specific class in :data:`STATUS`."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return STATUS[QuartiereError]


def problem_object(exc: QuartiereError) -> dict[str, Any]:
    """The short RFC 9457 object of a domain error inside an answer (one location of a batch)."""
    status, title, slug = status_of(exc)
    return {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": exc.message}


def problem_response(status: int, title: str, detail: str, *, slug: str = "about:blank",
                     problems: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    """An ``application/problem+json`` answer, or the HTML error page when the request wants one.

    ``slug`` names the problem type under :data:`TYPE_BASE`; ``problems`` lists the single problems (each a
    :meth:`geo.errors.Problem.to_dict`); ``headers`` are added to the response.
    """
    if request and wants_html():
        resp = error_page(status, title, detail, problems or [])
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp
    body = {
        "type": TYPE_BASE + slug if slug != "about:blank" else slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
        "problems": problems or [],
    }
    resp = Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def from_domain(exc: QuartiereError) -> Response:
    """The problem answer of a domain error, with its status from :data:`STATUS` and its problems."""
    status, title, slug = status_of(exc)
    return problem_response(status, title, exc.message, slug=slug, problems=[p.to_dict() for p in exc.problems])


def from_http(exc: HTTPException) -> Response:
    """The problem answer of a Werkzeug HTTP exception, with a detail naming the route, method or size limit."""
    status = exc.code or 500
    detail = exc.description or exc.name
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length if request else None
        detail = (f"the request body is larger than the limit of {limit:,} bytes" if limit
                  else "the request body is too large")
    elif status == 404:
        detail = f"no route for {request.method} {request.path}; see /api/v1/openapi.json"
    elif status == 405:
        allowed = exc.valid_methods if hasattr(exc, "valid_methods") and exc.valid_methods else []
        detail = f"method {request.method} is not allowed for {request.path}" + (
            f"; allowed: {', '.join(sorted(allowed))}" if allowed else "")
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    slug = {404: "not-found", 405: "method-not-allowed", 413: "limit", 415: "unsupported-media-type",
            406: "not-acceptable"}.get(status, "http")
    return problem_response(status, exc.name, detail, slug=slug, headers=headers)


def from_auth(exc: AuthError) -> Response:
    """401 (with ``WWW-Authenticate: Bearer``) or 403 for a missing or wrong API token."""
    headers = {"WWW-Authenticate": 'Bearer realm="quartiere"'} if exc.status == 401 else {}
    title = "Unauthorized" if exc.status == 401 else "Forbidden"
    return problem_response(exc.status, title, exc.message, slug="auth", headers=headers)


def from_recursion(exc: RecursionError) -> Response:
    """Safety net: nesting is bounded where bodies are parsed, so this only answers what slipped through."""
    log.warning("RecursionError on %s %s (input nested too deeply?)", request.method, request.path, exc_info=exc)
    return problem_response(400, "Bad request", "the request is nested too deeply to be processed",
                            slug="bad-request")


def from_unexpected(exc: Exception) -> Response:
    """500 for any other exception: logged with its traceback, which the client never sees."""
    log.exception("unexpected error on %s %s", request.method, request.path)
    return problem_response(500, "Internal Server Error",
                            "the server failed to answer this request; the error has been logged",
                            slug="internal")


def register(app: Flask) -> None:
    """Install the handlers: every 4xx/5xx becomes ``application/problem+json``."""
    app.register_error_handler(QuartiereError, from_domain)
    app.register_error_handler(HTTPException, from_http)
    app.register_error_handler(AuthError, from_auth)
    app.register_error_handler(RecursionError, from_recursion)
    app.register_error_handler(Exception, from_unexpected)
