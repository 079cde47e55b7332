"""Slow clients against the shipped ``quartiere serve`` (nginx front, gunicorn behind it): they must not starve
the service, they are closed after the front's timeouts, and the front's own errors are problem+json.

gunicorn's gthread worker alone gives each connection a thread as soon as it opens; 8 connections that send
headers and then one body byte hold 2 workers x 4 threads. Here 64 such connections stay open while other
requests are answered in well under a second.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.servers import free_port, serve_app

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

QUARTIERE = Path(sys.executable).parent / "quartiere"
#: the front's client_header_timeout and client_body_timeout (service/web/front.py)
FRONT_TIMEOUT = 10.0
SLACK = 5.0


@pytest.fixture(scope="module")
def server(snapshots_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin") or os.environ.get("QUARTIERE_NGINX")):
        missing_tool("nginx not found (Debian package nginx; scripts/install-system-deps.sh)")
    assert QUARTIERE.exists(), f"{QUARTIERE} missing: pip install -e ."
    tmp = tmp_path_factory.mktemp("slow-clients")
    port = free_port()
    command = [str(QUARTIERE), "serve", "--snapshots", str(snapshots_dir), "--instance", str(tmp / "instance"),
               "--port", str(port), "--workers", "2", "--threads", "4"]
    with serve_app(command, port, tmp / "server.log", timeout=180) as base:
        yield base, port


def _slow_connections(port: int) -> list[socket.socket]:
    """32 POSTs that announce 100,000 body bytes and send one; 32 requests that stop in the middle of a header."""
    socks = []
    for _ in range(32):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /api/v1/eligibility/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                  b"Content-Length: 100000\r\n\r\ni")
        socks.append(s)
    for _ in range(32):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nX-Half: ")
        socks.append(s)
    return socks


def _timed_get(url: str) -> tuple[int, float]:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=10) as r:
        r.read()
        return r.status, time.monotonic() - start


def test_slow_clients_do_not_starve_the_service_and_are_closed_after_the_timeout(server: tuple[str, int]) -> None:
    base, port = server
    # warm both workers' first answers so that the latency measured is the service's, not a first computation
    for _ in range(4):
        _timed_get(f"{base}/api/v1/eligibility?lon=8.8&lat=53.07")
    socks = _slow_connections(port)
    opened = time.monotonic()
    try:
        time.sleep(0.5)
        latencies: dict[str, list[float]] = {}
        for _ in range(5):
            for path in ("/api/v1/status", "/api/v1/eligibility?lon=8.8&lat=53.07"):
                status, seconds = _timed_get(base + path)
                assert status == 200, path
                latencies.setdefault(path, []).append(seconds)
        slowest = {path: max(values) for path, values in latencies.items()}
        print(f"with 64 slow connections open: slowest answers {slowest}")
        assert all(v < 1.0 for v in slowest.values()), slowest

        # the slow connections are closed by the front (nothing is answered by the app: it never saw them)
        for s in socks:
            s.settimeout(0.05)
        closed: dict[int, float] = {}
        deadline = opened + FRONT_TIMEOUT + SLACK
        while len(closed) < len(socks) and time.monotonic() < deadline:
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                try:
                    data = s.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    data = b""
                if data:  # a server that answers the timeout must say 408 in problem+json
                    assert data.startswith(b"HTTP/1.1 408") and b"application/problem+json" in data, data[:200]
                closed[i] = time.monotonic() - opened
        assert len(closed) == len(socks), f"{len(socks) - len(closed)} slow connections still open after " \
                                          f"{FRONT_TIMEOUT + SLACK:g} s"
        print(f"slow connections closed after {min(closed.values()):.1f}-{max(closed.values()):.1f} s")
        assert min(closed.values()) > FRONT_TIMEOUT / 2, "closed long before the stated timeout: by what?"
    finally:
        for s in socks:
            s.close()


def _raw(port: int, data: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        response = http.client.HTTPResponse(s)
        response.begin()
        headers: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return response.status, headers, response.read()


def _assert_problem(status: int, headers: dict[str, list[str]], body: bytes, expected: int) -> None:
    assert status == expected, (status, body[:300])
    assert headers["content-type"] == ["application/problem+json"], headers
    problem = json.loads(body)
    assert problem["status"] == expected
    assert problem["type"].startswith("https://") and problem["title"] and len(problem["detail"]) > 20, problem
    for name in ("x-content-type-options", "x-frame-options", "referrer-policy"):
        assert len(headers.get(name, [])) == 1, (name, headers)


def test_the_front_answers_its_own_errors_in_problem_json(server: tuple[str, int]) -> None:
    _, port = server
    long_path = "/api/v1/places?q=" + "a" * 10_000
    _assert_problem(*_raw(port, f"GET {long_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()), 414)
    big_header = "X-Big: " + "b" * 10_000
    _assert_problem(*_raw(port, f"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n{big_header}\r\n\r\n".encode()),
                    431)
    _assert_problem(*_raw(port, b"THIS IS NOT HTTP\r\n\r\n"), 400)
    _assert_problem(*_raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"), 400)
    # a body announced far above the limit is refused before it is sent
    _assert_problem(*_raw(port, b"POST /api/v1/eligibility/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Content-Type: text/csv\r\nContent-Length: 1000000000\r\n\r\n"), 413)


def test_security_headers_are_set_once(server: tuple[str, int]) -> None:
    _, port = server
    for path in ("/", "/api/v1/status", "/api/v1/eligibility?lon=8.8&lat=53.07"):
        status, headers, _ = _raw(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                  .encode())
        assert status == 200, path
        for name in ("x-content-type-options", "x-frame-options", "referrer-policy"):
            assert len(headers.get(name, [])) == 1, f"{path}: {name} appears {headers.get(name)}"
        assert headers["x-snapshot-version"], path


def test_gunicorn_own_errors_are_problem_json_without_the_front() -> None:
    """``--no-front``: gunicorn's worker answers a too-long request line itself, in problem+json."""
    import io

    from service.gunicorn_worker import problem_response

    class _Sock(io.BytesIO):
        def makefile(self, *_: object, **__: object) -> io.BytesIO:
            return self

    raw = problem_response(414, "URI Too Long", "Request Line is too large (8192 > 4094)")
    response = http.client.HTTPResponse(_Sock(raw))  # type: ignore[arg-type]
    response.begin()
    headers: dict[str, list[str]] = {}
    for name, value in response.getheaders():
        headers.setdefault(name.lower(), []).append(value)
    _assert_problem(response.status, headers, response.read(), 414)
