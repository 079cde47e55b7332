"""``quartiere serve``: run the HTTP service under gunicorn (or Flask's development server with ``--dev``).

The gunicorn master never builds the app: ``create_app`` starts threads (snapshot reload, monitoring warm-up)
and imports numpy, whose thread pool starts with it; a worker forked from a master holding such threads inherits
their locks without the threads that would release them, and its requests hang. The master therefore only checks
the snapshots folder cheaply (:func:`check_snapshots`: ``CURRENT`` and the version's ``manifest.json``, plain file
reads, no thread, no heavy import) and each worker builds its own app after the fork (``preload_app`` off).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from geo.errors import QuartiereError, SnapshotError, UsageError
from service.settings import default_text, load_settings

#: the names geo.pipeline.snapshot uses (not imported from there: it imports numpy and geopandas, which start threads)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
GEOPACKAGE = "districts.gpkg"
#: gunicorn's exit status when a worker cannot boot (the master stops with it)
WORKER_BOOT_ERROR = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("serve", help="serve eligibility lookups, OGC API Features, downloads and scenarios")
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``serve`` to ``p`` (shared by ``quartiere serve`` and :func:`main`)."""
    p.add_argument("--snapshots", help="snapshots folder with CURRENT (default: $QUARTIERE_SNAPSHOTS, else "
                                       f"{default_text('SNAPSHOTS')})")
    p.add_argument("--programme", help="official programme definition (default: $QUARTIERE_PROGRAMME, else "
                                       f"{default_text('PROGRAMME')})")
    p.add_argument("--instance", help="instance folder (scenario database, caches; default: $QUARTIERE_INSTANCE)")
    p.add_argument("--national-snapshots", metavar="DIR",
                   help="national snapshots folder (quartiere build --dataset germany): adds the OGC API "
                        "collections gemeinden, gemeindeverbaende, kreise, laender and the page /national "
                        "(default: $QUARTIERE_NATIONAL_SNAPSHOTS)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default: %(default)s)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (gthread; default: %(default)s)")
    p.add_argument("--no-front", action="store_true",
                   help="gunicorn directly on the public port, without the nginx front that buffers requests "
                        "(then slow clients can hold all worker threads)")
    p.add_argument("--dev", action="store_true", help="Flask's development server (reloader off, debug off)")
    p.add_argument("--backend", default=None, help=argparse.SUPPRESS)  # internal: gunicorn's unix socket


#: options passed on to the clean master process, as (flag, attribute)
_VALUE_OPTIONS = (("--snapshots", "snapshots"), ("--programme", "programme"), ("--instance", "instance"),
                  ("--national-snapshots", "national_snapshots"), ("--host", "host"), ("--port", "port"),
                  ("--workers", "workers"), ("--threads", "threads"), ("--backend", "backend"))


def master_argv(args: argparse.Namespace, **override: Any) -> list[str]:
    """The command line of the clean master process for ``args`` (``python -m service.commands.serve ...``)."""
    values = {**vars(args), **override}
    argv = [sys.executable, "-m", "service.commands.serve"]
    for flag, attr in _VALUE_OPTIONS:
        if values.get(attr) is not None:
            argv += [flag, str(values[attr])]
    if values.get("no_front"):
        argv.append("--no-front")
    return argv


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (the rest come from the environment or the defaults)."""
    given = {"SNAPSHOTS": args.snapshots, "PROGRAMME": args.programme, "INSTANCE": args.instance,
             "NATIONAL_SNAPSHOTS": getattr(args, "national_snapshots", None)}
    return {key: value for key, value in given.items() if value is not None}


def check_snapshots(root: str | os.PathLike[str], *, what: str = "snapshots") -> str:
    """Return the current version of ``root``, checked cheaply.

    CURRENT must name a folder with a readable manifest.json and the GeoPackage. Raises
    :class:`SnapshotError` with the path and the problem; starts no thread.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise SnapshotError(f"{what} folder {folder} does not exist; run 'quartiere build --out {folder}'")
    current = folder / CURRENT
    if not current.is_file():
        raise SnapshotError(f"{folder}: no snapshot published yet (no {CURRENT} file); "
                            f"run 'quartiere build --out {folder}'")
    try:
        version = current.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{current}: cannot be read ({exc})") from exc
    if not version or "/" in version or version.startswith("."):
        raise SnapshotError(f"{current}: does not name a snapshot version (content {version!r})")
    manifest = folder / version / MANIFEST
    if not manifest.is_file():
        raise SnapshotError(f"{current} names version {version}, but {manifest} does not exist")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SnapshotError(f"{manifest}: not a readable JSON manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise SnapshotError(f"{manifest}: not a snapshot manifest (a JSON object was expected)")
    if what == "snapshots" and not (folder / version / GEOPACKAGE).is_file():
        raise SnapshotError(f"{folder / version}: {GEOPACKAGE} is missing (incomplete snapshot)")
    return version


def ready_line(host: str, port: int, *, environ: Any = None) -> str:
    """Return the line ``serve`` prints once it accepts requests.

    It is German, or English when the locale is English (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with
    ``en``). The URL is one a browser can open (a wildcard host is shown as a loopback address).
    """
    env = os.environ if environ is None else environ
    locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else (
        f"[{host}]" if ":" in host else host)
    url = f"http://{shown}:{port}"
    if locale.startswith("en"):
        return f"Lebendige Quartiere is running at {url} (listening on {host}:{port}; stop with Ctrl+C)"
    return f"Lebendige Quartiere läuft auf {url} (lauscht auf {host}:{port}; beenden mit Strg+C)"


def check_config(args: argparse.Namespace) -> None:
    """What the master checks before any worker starts (the settings, then files only; no app, no thread)."""
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: not a TCP port (1-65535)")
    if args.workers < 1 or args.threads < 1:
        raise UsageError("--workers and --threads must be at least 1")
    settings = load_settings(app_config(args))  # every QUARTIERE_* value parsed: a bad one is an error here
    check_snapshots(settings.snapshots)
    if settings.national_snapshots is not None:
        check_snapshots(settings.national_snapshots, what="national snapshots")
    if not settings.programme.is_file():
        raise UsageError(f"--programme {settings.programme}: file not found")
    if getattr(args, "backend", None) is None:
        check_port_free(args.host, args.port)
        if not getattr(args, "dev", False) and not getattr(args, "no_front", False):
            from service.web.front import nginx_binary

            nginx_binary()


def check_port_free(host: str, port: int) -> None:
    """:class:`UsageError` naming the address when something else listens there already."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (--host, --port)") from exc


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the gunicorn settings for ``args``: bind address, workers, no preloaded app, limits behind nginx."""
    options: dict[str, Any] = {
        "bind": f"{args.host}:{args.port}", "workers": args.workers, "threads": args.threads,
        # gthread, with gunicorn's own errors (400, 414, 431, ...) in problem+json
        "worker_class": "service.gunicorn_worker.ProblemThreadWorker",
        "keepalive": 5, "timeout": 60, "graceful_timeout": 30,
        # no app in the master; no control-socket thread in it either (gunicorn's default socket path is
        # shared by every gunicorn of the user)
        "preload_app": False, "control_socket_disable": True,
        "accesslog": None, "errorlog": "-", "loglevel": "warning"}
    backend = getattr(args, "backend", None)
    if backend:
        # behind the front: nginx has checked the request's size (its 414/431 are problem+json), so gunicorn's
        # own limits (smaller, answered in HTML) must never be the ones that refuse a request
        options.update({"bind": f"unix:{backend}", "limit_request_line": 8190, "limit_request_fields": 32768,
                        "limit_request_field_size": 0, "forwarded_allow_ips": "*"})
    return options


def run_gunicorn(app_factory: Any, options: dict[str, Any], *, announce: str | None = None) -> None:
    """Run ``app_factory()`` in gunicorn workers with ``options`` (programmatic BaseApplication).

    ``preload_app`` stays off, so gunicorn calls :meth:`load` in each worker after the fork, never in the master.
    ``announce`` is printed to stderr once the master listens.
    """
    from gunicorn.app.base import BaseApplication

    options = {**options, "preload_app": False}

    def when_ready(server: Any) -> None:
        if announce:
            print(announce, file=sys.stderr, flush=True)

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)
            self.cfg.set("when_ready", when_ready)

        def load(self) -> Any:
            try:
                return app_factory()
            except QuartiereError as exc:  # a deliberate error (e.g. a snapshot without its products): no traceback
                print(f"error: {exc}", file=sys.stderr, flush=True)
                sys.exit(WORKER_BOOT_ERROR)

    _App().run()


def _create(config: dict[str, Any]) -> Any:
    from service.app import create_app

    return create_app(config)


def run(args: argparse.Namespace) -> int:
    """``quartiere serve``: check the folders, then become the gunicorn master (or run Flask's server)."""
    check_config(args)
    if args.dev:
        app = _create(app_config(args))
        print(ready_line(args.host, args.port), file=sys.stderr, flush=True)
        app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)
        return 0
    # The command line has imported pandas for the other subcommands' parsers (numpy's thread pool runs now):
    # the master replaces this process by a fresh interpreter that imports only this module and gunicorn.
    sys.stdout.flush()
    sys.stderr.flush()
    argv = master_argv(args)
    os.execv(argv[0], argv)
    return 0  # not reached


def serve_master(args: argparse.Namespace) -> int:
    """Run the gunicorn master, or the supervisor of nginx and that master; return the exit code.

    The master has one thread and no app; workers build theirs after the fork.
    """
    check_config(args)
    if not args.backend and not args.no_front:
        return supervise(args)
    config = app_config(args)
    try:
        run_gunicorn(lambda: _create(config), gunicorn_options(args),
                     announce=None if args.backend else ready_line(args.host, args.port))
    except SystemExit as exc:
        if exc.code == WORKER_BOOT_ERROR:
            print("error: the service could not start (the workers' message is above)", file=sys.stderr)
            return 2
        raise
    return 0


def _die_with_parent() -> None:
    """In a child before exec: receive SIGTERM when the supervisor dies (even by SIGKILL), not linger."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> int:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def supervise(args: argparse.Namespace) -> int:
    """Nginx on the public port, gunicorn on a unix socket behind it; both stop when either stops.

    SIGTERM and SIGINT stop both gracefully, SIGHUP is passed on (gunicorn starts fresh workers, nginx rereads
    its configuration). Exit status 2 when either cannot start.
    """
    from service.web.front import Front

    front = Front.prepare(args.host, args.port)
    stopping: list[int] = []
    gunicorn: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, _frame: Any) -> None:
        if signum == signal.SIGHUP:
            for proc in (gunicorn, front.process):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGHUP)
            return
        stopping.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        gunicorn = subprocess.Popen(master_argv(args, backend=str(front.upstream), no_front=False),
                                    stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 60
        while not front.upstream.exists():
            if gunicorn.poll() is not None or stopping:
                return 2 if gunicorn.poll() == 2 else (0 if stopping else 1)
            if time.monotonic() > deadline:
                print("error: gunicorn did not bind its socket within 60 s", file=sys.stderr)
                return 1
            time.sleep(0.05)
        front.start(preexec_fn=_die_with_parent)
        if not front.wait_listening():
            print(f"error: the front (nginx) could not listen on {args.host}:{args.port} (its message is above)",
                  file=sys.stderr)
            return 2
        print(ready_line(args.host, args.port), file=sys.stderr, flush=True)
        assert front.process is not None
        while not stopping:
            if gunicorn.poll() is not None:
                print(f"error: gunicorn stopped (exit status {gunicorn.returncode}); stopping the front",
                      file=sys.stderr)
                return 2 if gunicorn.returncode == 2 else 1
            if front.process.poll() is not None:
                print(f"error: the front (nginx) stopped (exit status {front.process.returncode}); stopping "
                      "gunicorn", file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    finally:
        quick = bool(stopping) and stopping[0] in (signal.SIGINT, signal.SIGQUIT)
        if front.process is not None:  # nginx first: no new requests reach a stopping gunicorn
            _stop(front.process, signal.SIGTERM if quick else signal.SIGQUIT, 30)
        if gunicorn is not None:
            _stop(gunicorn, signal.SIGINT if quick else signal.SIGTERM, 40)
        front.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Run ``serve`` from its own command line; return the exit code (2 on an error, 130 on Ctrl-C)."""
    parser = argparse.ArgumentParser(prog="quartiere serve", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return serve_master(args)
    except QuartiereError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
