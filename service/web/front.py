"""The buffering front of ``quartiere serve``: Debian's nginx on the public port, gunicorn on a unix socket.

gunicorn's gthread worker gives a connection to one of its few threads as soon as the request starts, and the
thread then reads headers and body at the client's pace: a handful of clients sending slowly holds every thread.
nginx reads each request completely (``proxy_request_buffering on``) within ``client_header_timeout`` and
``client_body_timeout`` before passing it on, and buffers the response, so a gunicorn thread is only ever busy
computing. nginx's own errors (request line or headers too large, malformed request, body timeout or too large,
service unreachable) are static RFC 9457 documents served as ``application/problem+json``.

Everything nginx needs lives in a runtime folder made per start (configuration, pid file, temporary files, the
error documents, gunicorn's socket) and removed afterwards. Started as root, nginx's workers run as ``nobody``:
the folder is world-searchable and nginx creates its temporary folders itself (owned by that user).

This module imports nothing heavy (it runs in the supervising process, which must start no thread).
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from geo.errors import UsageError
from service.settings import load_settings

#: same base as service.web.problems.TYPE_BASE (not imported: that module imports flask and the geo stack)
TYPE_BASE = "https://lebendige-quartiere.bremen.invalid/problems/"
#: nginx's limit is a little above the app's, so that the app answers with its own precise 413 for bodies just
#: above its limit, and nginx refuses (without buffering them) bodies far above it
BODY_SLACK = 1024 * 1024
HEADER_TIMEOUT = 10
BODY_TIMEOUT = 10
#: one request line or header line at most (larger: 414 or 431); all headers together at most 4 of them
HEADER_BUFFER = 8192
#: how long nginx waits for the service's answer (the batch and scenario requests can compute for a while)
READ_TIMEOUT = 300
ERRORS_LOCATION = "/_quartiere_errors/"
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "no-referrer"))


def nginx_binary() -> str:
    """The nginx executable (``QUARTIERE_NGINX``, PATH, /usr/sbin); :class:`UsageError` naming the fix if none."""
    configured = load_settings().nginx
    if configured is not None:
        if not os.access(configured, os.X_OK):
            raise UsageError(f"QUARTIERE_NGINX={configured}: not an executable file")
        return str(configured)
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise UsageError("nginx (the buffering front of 'quartiere serve') is not installed: install it with "
                         "scripts/install-system-deps.sh (Debian package nginx), or serve without it with "
                         "--no-front (then slow clients can hold all worker threads)")
    return found


def body_limit() -> int:
    """The app's request body limit as configured (``QUARTIERE_MAX_CONTENT_LENGTH``) plus :data:`BODY_SLACK`."""
    return load_settings().max_content_length + BODY_SLACK


def problems(max_body: int) -> dict[int, dict[str, object]]:
    """The error documents nginx serves itself, by the status the client sees."""
    def doc(status: int, slug: str, title: str, detail: str) -> dict[str, object]:
        return {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}

    return {
        400: doc(400, "bad-request", "Bad request",
                 "The request is not valid HTTP/1.x: malformed request line, header or framing."),
        408: doc(408, "request-timeout", "Request timeout",
                 f"The request was not received in time: the headers must arrive within {HEADER_TIMEOUT} s, and "
                 f"the body may pause for at most {BODY_TIMEOUT} s."),
        411: doc(411, "length-required", "Length required", "A request body needs a Content-Length header."),
        413: doc(413, "body-too-large", "Request too large",
                 f"The request body is larger than {max_body} bytes, the most this service accepts."),
        414: doc(414, "uri-too-long", "Request line too long",
                 f"The request line (method, path and query) is longer than {HEADER_BUFFER} bytes; "
                 "send long inputs in a POST body."),
        431: doc(431, "headers-too-large", "Request header fields too large",
                 f"A request header is longer than {HEADER_BUFFER} bytes, or the headers together are longer "
                 f"than {4 * HEADER_BUFFER} bytes."),
        500: doc(500, "front-error", "Internal server error", "The front of the service failed on this request."),
        501: doc(501, "not-implemented", "Not implemented",
                 "The request uses a transfer encoding or method the service does not implement."),
        502: doc(502, "service-unavailable", "Service not reachable",
                 "The service behind the front is not reachable (starting or restarting); try again shortly."),
        503: doc(503, "service-unavailable", "Service unavailable", "The service is not available; try again shortly."),
        504: doc(504, "service-timeout", "Service timeout",
                 f"The service did not answer within {READ_TIMEOUT} s."),
    }


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _worker_user() -> str:
    """The ``user`` directive: only meaningful (and only written) when nginx starts as root."""
    if os.geteuid() != 0:
        return ""
    for group in ("nogroup", "nobody"):
        try:
            grp.getgrnam(group)
        except KeyError:
            continue
        return f"user nobody {group};\n"
    return "user nobody;\n"


def nginx_conf(runtime: Path, host: str, port: int, upstream: str, max_body: int) -> str:
    """The nginx configuration: public ``host:port``, requests buffered and passed to the unix socket ``upstream``."""
    error_pages = "\n".join(
        f"        error_page {494 if status == 431 else status} {'=431 ' if status == 431 else ''}"
        f"{ERRORS_LOCATION}{status}.json;" for status in problems(max_body))
    headers = "\n".join(f"            add_header {name} {value} always;" for name, value in SECURITY_HEADERS)
    temp = "\n".join(f"    {kind}_temp_path {runtime / 'tmp' / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# generated by quartiere serve (service/web/front.py) for this run only
{_worker_user()}worker_processes 1;
daemon off;
master_process on;
pid {runtime / 'nginx.pid'};
error_log stderr error;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
    types {{ }}
    default_type application/octet-stream;
{temp}
    client_header_timeout {HEADER_TIMEOUT}s;
    client_body_timeout {BODY_TIMEOUT}s;
    send_timeout 60s;
    keepalive_timeout 15s;
    client_header_buffer_size 1k;
    large_client_header_buffers 4 {HEADER_BUFFER};
    client_max_body_size {max_body};
    client_body_buffer_size 128k;
    map $http_host $quartiere_host {{
        "" $host:$server_port;
        default $http_host;
    }}
    upstream quartiere {{
        server unix:{upstream};
    }}
    server {{
        listen {_listen(host, port)} default_server;
        server_name _;
{error_pages}
        location / {{
            proxy_pass http://quartiere;
            proxy_http_version 1.1;
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_intercept_errors off;
            proxy_set_header Host $quartiere_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $quartiere_host;
            proxy_set_header Connection "";
            proxy_connect_timeout 10s;
            proxy_send_timeout 60s;
            proxy_read_timeout {READ_TIMEOUT}s;
            proxy_next_upstream off;
        }}
        location ^~ {ERRORS_LOCATION} {{
            internal;
            root {runtime};
            default_type application/problem+json;
{headers}
            add_header Cache-Control no-store always;
        }}
    }}
}}
"""


def _searchable_by_all(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def remove_stale(base: Path) -> None:
    """Remove runtime folders of earlier fronts of this user that were killed (SIGKILL) before cleaning up.

    Such a folder's nginx is gone and nothing listens on its gunicorn socket any more.
    """
    for folder in base.glob("quartiere-front-*"):
        try:
            if folder.stat().st_uid != os.geteuid():
                continue
            pid = int((folder / "nginx.pid").read_text().strip() or 0)
            if pid and Path(f"/proc/{pid}").exists():
                continue
        except (OSError, ValueError):
            continue  # starting right now (no pid file yet), or not ours to judge
        sock = folder / "gunicorn.sock"
        if sock.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(sock))
                    continue  # a gunicorn still serves there
                except OSError:
                    pass
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Front:
    """One nginx front: its runtime folder, the socket gunicorn binds, the running process."""

    runtime: Path
    host: str
    port: int
    binary: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def upstream(self) -> Path:
        """The unix socket gunicorn binds and nginx passes requests to."""
        return self.runtime / "gunicorn.sock"

    @property
    def conf(self) -> Path:
        """The generated nginx configuration file."""
        return self.runtime / "nginx.conf"

    @classmethod
    def prepare(cls, host: str, port: int) -> Front:
        """Make the runtime folder with the configuration and error documents; check the configuration."""
        binary = nginx_binary()
        max_body = body_limit()
        base = Path(tempfile.gettempdir())
        if os.geteuid() == 0 and not _searchable_by_all(base):
            base = Path("/tmp")  # nginx's workers (nobody) must reach the socket and the error documents
        remove_stale(base)
        runtime = Path(tempfile.mkdtemp(prefix=f"quartiere-front-{port}-", dir=base))
        front = cls(runtime=runtime, host=host, port=port, binary=binary)
        try:
            runtime.chmod(0o755)
            (runtime / "tmp").mkdir(mode=0o755)
            errors = runtime / ERRORS_LOCATION.strip("/")
            errors.mkdir(mode=0o755)
            for status, body in problems(max_body).items():
                path = errors / f"{status}.json"
                path.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
                path.chmod(0o644)
            front.conf.write_text(nginx_conf(runtime, host, port, str(front.upstream), max_body), encoding="utf-8")
            test = subprocess.run([binary, "-t", "-q", "-p", str(runtime), "-e", "stderr", "-c", str(front.conf)],
                                  capture_output=True, text=True, timeout=30)
            if test.returncode != 0:
                raise UsageError(f"nginx refuses the generated configuration {front.conf}: "
                                 f"{test.stderr.strip() or test.stdout.strip()}")
        except BaseException:
            front.cleanup()
            raise
        return front

    def start(self, preexec_fn: Callable[[], object] | None = None) -> None:
        """Start nginx in the foreground on the prepared configuration (``preexec_fn`` runs in the child first)."""
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.runtime), "-e", "stderr", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)

    def wait_listening(self, timeout: float = 15) -> bool:
        """True once nginx accepts connections on the public port; False if it exited or the time ran out."""
        deadline = time.monotonic() + timeout
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else ("::1" if self.host == "::" else self.host)
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection((host, self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def cleanup(self) -> None:
        """Remove the runtime folder (configuration, error documents, socket)."""
        shutil.rmtree(self.runtime, ignore_errors=True)
