"""The Flask application factory.

``create_app(config)`` builds a fresh app (nothing is created at import time). The configuration keys, their
types and defaults are declared in :mod:`service.settings` (each also read from the environment variable
``QUARTIERE_<KEY>`` when not given; the README's configuration table lists them). Keys of ``config`` that are
not declared there (Flask's own, e.g. ``TESTING``) go to ``app.config`` unchanged.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response

from geo.errors import Problem, UnknownKeyError
from service.api.scenarios import ScenarioStore
from service.api.state import ServiceState, StateHolder, load_state
from service.settings import load_settings
from service.web import problems
from service.web.context import Services


class HeaderMiddleware:
    """The one header policy: X-Snapshot-Version, security headers and CORS on every response (raw WSGI).

    ``X-Snapshot-Version`` names the snapshot the request was answered from (the state fixed by
    :func:`service.web.context.state`), else the current one. Each header of the policy is set exactly once: a value
    a view or blueprint already set (e.g. the pages' ``Referrer-Policy``) is replaced, never answered twice. The CSP
    is the one exception: it is added only when the response has none of its own (pages set theirs, with a nonce).
    ``Vary`` values are merged into one header.
    """

    def __init__(self, app: Any, holder: StateHolder, *, csp: str, origins: list[str]) -> None:
        self.app = app
        self.holder = holder
        self.fixed = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                      ("Referrer-Policy", "no-referrer")]
        self.csp = csp
        self.origins = origins
        self.any_origin = "*" in origins

    def policy(self, environ: dict[str, Any]) -> tuple[list[tuple[str, str]], bool]:
        """The headers this response gets from the policy, and whether it varies by Origin."""
        st = environ.get("quartiere.state")
        out = [("X-Snapshot-Version", st.version if st is not None else self.holder.state.version), *self.fixed]
        origin = environ.get("HTTP_ORIGIN") if self.origins else None
        if origin and (self.any_origin or origin in self.origins):
            out += [
                ("Access-Control-Allow-Origin", "*" if self.any_origin else origin),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Expose-Headers", "X-Snapshot-Version"),
            ]
            return out, not self.any_origin
        return out, False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Answer with the wrapped app, its response headers passed through :meth:`policy`."""
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            policy, vary_origin = self.policy(environ)
            replaced = {k.lower() for k, _ in policy} | {"vary"}
            vary: list[str] = []
            for k, v in headers:
                if k.lower() == "vary":
                    vary += [x.strip() for x in v.split(",") if x.strip()]
            out = [(k, v) for k, v in headers if k.lower() not in replaced]
            out += policy
            if not any(k.lower() == "content-security-policy" for k, _ in out):
                out.append(("Content-Security-Policy", self.csp))
            if vary_origin:
                vary.append("Origin")
            if vary:
                unique: dict[str, str] = {}
                for x in vary:
                    unique.setdefault(x.lower(), x)
                out.append(("Vary", ", ".join(unique.values())))
            return start_response(status, out, exc_info)

        return self.app(environ, start)


def import_libraries_before_threads() -> None:
    """Import the spatial-statistics libraries now, in the thread that builds the app.

    ``geo`` imports libpysal, esda, tobler and scikit-learn lazily (the command line stays quick). In the service
    the first import must not happen in two threads at once: libpysal's package imports itself in a circle and
    fails with "partially initialized module 'libpysal.common'" when two threads import it together (two
    scenario classifications, or one beside a reload), leaving a request hanging. Importing here, before any
    request or reload thread exists, settles the modules once.
    """
    import esda.moran  # noqa: F401
    import libpysal.weights  # noqa: F401
    import sklearn.cluster  # noqa: F401
    import tobler.area_weighted  # noqa: F401


def _national_not_configured() -> Response:
    """``/national`` on a server without national snapshots: say so (a 404 naming the setting)."""
    raise UnknownKeyError("the Germany view is not configured on this server (set NATIONAL_SNAPSHOTS)",
                          problems=[Problem("not_configured", "NATIONAL_SNAPSHOTS is not set",
                                            detail={"setting": "NATIONAL_SNAPSHOTS"})])


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service. See the module docstring for the configuration keys."""
    import_libraries_before_threads()
    typed = load_settings(config)
    settings = typed.as_mapping()
    app = Flask(__name__, instance_path=str(typed.instance.resolve()) if typed.instance else None)
    app.config.update({k: v for k, v in (config or {}).items() if k not in settings})  # Flask's own keys
    app.config.update(settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    snapshots = typed.snapshots
    programme = typed.programme

    def loader(version: str) -> ServiceState:
        return load_state(snapshots, programme, version=version)

    holder = StateHolder(snapshots, loader, check_interval=typed.reload_interval)
    store = ScenarioStore(instance / "scenarios.sqlite3")
    app.extensions["quartiere"] = Services(holder, store, typed)

    problems.register(app)
    from service.web.api import bp as api_bp
    from service.web.downloads import bp as downloads_bp
    from service.web.ogcapi import bp as ogc_bp
    from service.web.processes import bp as processes_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(downloads_bp)
    app.register_blueprint(ogc_bp)
    app.register_blueprint(processes_bp)
    if typed.pages:
        from service.web.pages import bp as pages_bp

        app.register_blueprint(pages_bp)
    from service.web import monitoring as monitoring_routes

    monitoring_routes.init_app(app, pages=typed.pages)
    from service.web import scenario_designer

    scenario_designer.init_app(app, pages=typed.pages)
    from service.web import places as places_routes

    places_routes.init_app(app, settings)
    app.register_blueprint(places_routes.bp)
    if typed.national_snapshots:
        from service.web import national as national_routes

        national_routes.init_app(app, settings)
    else:
        app.add_url_rule("/national", "national.page", _national_not_configured)  # the endpoint the real page has

    app.wsgi_app = HeaderMiddleware(app.wsgi_app, holder, csp=typed.content_security_policy,  # type: ignore[method-assign]
                                    origins=list(typed.cors_origins))

    if threading.current_thread() is threading.main_thread():
        # dev server / in-process: SIGHUP asks for an immediate look at CURRENT (under gunicorn the master
        # handles HUP itself by starting fresh workers, which load CURRENT)
        with contextlib.suppress(ValueError, OSError, AttributeError):
            signal.signal(signal.SIGHUP, lambda *_: holder.check())
    return app
