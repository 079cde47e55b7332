"""A gunicorn gthread worker whose own error answers are ``application/problem+json`` (RFC 9457), not HTML.

Those are the errors gunicorn answers before the application sees the request: malformed request 400, request
line too long 414, headers too large 431, unsupported transfer coding 501, ...

Behind the nginx front these errors are nginx's (service/web/front.py); this matters for ``quartiere serve
--no-front`` and for gunicorn started by hand. gunicorn writes all of them through ``gunicorn.util.write_error``;
the worker replaces that function in its own process when it starts.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from service.web.front import SECURITY_HEADERS, TYPE_BASE

_SLUGS = {400: "bad-request", 403: "forbidden", 414: "uri-too-long", 417: "expectation-failed",
          431: "headers-too-large", 500: "server-error", 501: "not-implemented"}


def problem_response(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying the problem document (the connection closes after it)."""
    body = json.dumps({"type": TYPE_BASE + _SLUGS.get(status, "bad-request"), "title": reason, "status": status,
                       "detail": message or reason}, ensure_ascii=False).encode("utf-8")
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/problem+json",
            f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in SECURITY_HEADERS)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Send :func:`problem_response` on ``sock``; stands in for ``gunicorn.util.write_error`` (same arguments)."""
    util.write_nonblock(sock, problem_response(int(status_int), str(reason), str(mesg)))


class ProblemThreadWorker(ThreadWorker):
    """The gthread worker that ``quartiere serve`` starts (``worker_class``): its error answers are problems."""

    def init_process(self) -> None:
        """Install :func:`write_problem` as gunicorn's error writer in this process, then start as usual."""
        util.write_error = write_problem  # this worker process only
        super().init_process()
