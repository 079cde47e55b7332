"""``quartiere serve``: run the HTTP service under gunicorn (or Flask's development server with ``--dev``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve eligibility lookups, OGC API Features, downloads and scenarios")
    p.add_argument("--snapshots", default=os.environ.get("QUARTIERE_SNAPSHOTS", str(DEFAULT_SNAPSHOTS)),
                   help="snapshots folder with CURRENT (default: %(default)s)")
    p.add_argument("--programme", default=str(DEFAULT_PROGRAMME), help="official programme definition")
    p.add_argument("--instance", default=None, help="instance folder (scenario database, caches)")
    p.add_argument("--national-snapshots", default=os.environ.get("QUARTIERE_NATIONAL_SNAPSHOTS"), metavar="DIR",
                   help="national snapshots folder (quartiere build --dataset germany): adds the OGC API "
                        "collections gemeinden, gemeindeverbaende, kreise, laender and the page /national")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default: %(default)s)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (gthread; default: %(default)s)")
    p.add_argument("--dev", action="store_true", help="Flask's development server (reloader off, debug off)")
    p.set_defaults(func=run)


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {"SNAPSHOTS": args.snapshots, "PROGRAMME": args.programme}
    if args.instance:
        config["INSTANCE"] = args.instance
    if getattr(args, "national_snapshots", None):
        config["NATIONAL_SNAPSHOTS"] = args.national_snapshots
    return config


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"bind": f"{args.host}:{args.port}", "workers": args.workers, "threads": args.threads,
            "worker_class": "gthread", "keepalive": 5, "timeout": 60, "graceful_timeout": 30,
            "accesslog": None, "errorlog": "-", "loglevel": "warning"}


def run_gunicorn(app_factory: Any, options: dict[str, Any]) -> None:
    """Run ``app_factory()`` in gunicorn workers with ``options`` (programmatic BaseApplication)."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app_factory()

    _App().run()


def run(args: argparse.Namespace) -> int:
    from service.app import create_app

    config = app_config(args)
    if args.dev:
        app = create_app(config)
        app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)
        return 0
    create_app(config)  # fail fast in the master (bad folder, no CURRENT) before forking workers
    run_gunicorn(lambda: create_app(config), gunicorn_options(args))
    return 0
