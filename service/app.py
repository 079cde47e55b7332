"""The Flask application factory.

``create_app(config)`` builds a fresh app (nothing is created at import time). Configuration keys (each also
read from the environment variable ``QUARTIERE_<KEY>`` when not given):

``SNAPSHOTS``           snapshots folder with CURRENT (default ``snapshots``)
``PROGRAMME``           official programme definition (default ``programmes/lebendige-quartiere.yml``)
``API_TOKEN``           bearer token for writing endpoints (none: writing is disabled)
``INSTANCE``            instance folder: scenario database, classification cache (default Flask's)
``MAX_CONTENT_LENGTH``  request body limit in bytes (default 32 MiB)
``BATCH_MAX_ROWS``      rows per batch request (default 100,000)
``POLYGON_MAX_VERTICES`` vertices per drawn area (default 10,000)
``CORS_ORIGINS``        list (or comma-separated string) of allowed origins, ``*`` for any (default none)
``RELOAD_INTERVAL``     seconds between looks at CURRENT (default 1)
``PAGES``               register the HTML pages blueprint (default true; false for an API-only server)
``CONTENT_SECURITY_POLICY`` the CSP header for responses that do not set their own
``ADDRESS_FILE``        address file for offline street search: official house coordinates (``;`` CSV) or OSM
                        address points (``.geojson``) (default none)
``GEOCODER_URL``        Nominatim- or Photon-compatible geocoding server for address search (default none)
``GEOCODER_KIND``       ``nominatim`` (default) or ``photon``
``GEOCODER_TIMEOUT``    seconds before the geocoding server counts as failed (default 2)
``NATIONAL_SNAPSHOTS``  folder of national snapshots with CURRENT (``quartiere build --dataset germany``): adds the
                        OGC API collections gemeinden, gemeindeverbaende, kreise, laender and the page /national
                        (default none: Bremen only)
``NATIONAL_PROGRAMME``  national screening definition (default ``programmes/germany-screening.yml``)
``PUBLIC_URL``          the server's public base URL, e.g. ``https://quartiere.example.org`` (with a path prefix if
                        it is served under one): every absolute link (the OGC API documents) is built from it.
                        Default none: the URL the request was sent to (``request.url_root``, from the Host header;
                        ``X-Forwarded-Host`` is never trusted) — set it in production behind a proxy
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS
from geo.errors import Problem, UnknownKeyError
from service import problems
from service.scenarios import ScenarioStore
from service.state import ServiceState, StateHolder, load_state

DEFAULTS: dict[str, Any] = {
    "SNAPSHOTS": str(DEFAULT_SNAPSHOTS),
    "PROGRAMME": str(DEFAULT_PROGRAMME),
    "API_TOKEN": None,
    "INSTANCE": None,
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    "BATCH_MAX_ROWS": 100_000,
    "POLYGON_MAX_VERTICES": 10_000,
    "CORS_ORIGINS": [],
    "RELOAD_INTERVAL": 1.0,
    "PAGES": True,
    "CONTENT_SECURITY_POLICY": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "ADDRESS_FILE": None,
    "GEOCODER_URL": None,
    "GEOCODER_KIND": "nominatim",
    "GEOCODER_TIMEOUT": 2.0,
    "NATIONAL_SNAPSHOTS": None,
    "NATIONAL_PROGRAMME": None,
    "PUBLIC_URL": None,
}
_INT_KEYS = ("MAX_CONTENT_LENGTH", "BATCH_MAX_ROWS", "POLYGON_MAX_VERTICES")


def _settings(config: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(DEFAULTS)
    for key in DEFAULTS:
        env = os.environ.get(f"QUARTIERE_{key}")
        if env is not None:
            out[key] = int(env) if key in _INT_KEYS else (float(env) if key == "RELOAD_INTERVAL" else env)
    out.update(config or {})
    origins = out["CORS_ORIGINS"]
    if isinstance(origins, str):
        out["CORS_ORIGINS"] = [o.strip() for o in origins.split(",") if o.strip()]
    out["PUBLIC_URL"] = _public_url(out["PUBLIC_URL"])
    return out


def _public_url(value: Any) -> str | None:
    """``PUBLIC_URL`` checked: an absolute http(s) URL without query or fragment, no trailing slash."""
    from urllib.parse import urlsplit

    if value is None or not str(value).strip():
        return None
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_URL must be an absolute http(s) URL without query, e.g. "
                         f"https://quartiere.example.org, got {text[:80]!r}")
    return text


class Services:
    """What the routes need besides Flask: the snapshot holder and the scenario store."""

    def __init__(self, holder: StateHolder, store: ScenarioStore, settings: Mapping[str, Any]) -> None:
        self.holder = holder
        self.store = store
        self.settings = dict(settings)


def services() -> Services:
    return current_app.extensions["quartiere"]


def state() -> ServiceState:
    """The snapshot state of this request (fixed for the whole request; its version goes in the header)."""
    env = request.environ
    st = env.get("quartiere.state")
    if st is None:
        st = env["quartiere.state"] = current_app.extensions["quartiere"].holder.state
    return st


class HeaderMiddleware:
    """The one header policy: X-Snapshot-Version, security headers and CORS on every response (raw WSGI).

    ``X-Snapshot-Version`` names the snapshot the request was answered from (the state fixed by :func:`state`),
    else the current one. Each header of the policy is set exactly once: a value a view or blueprint already set
    (e.g. the pages' ``Referrer-Policy``) is replaced, never answered twice. The CSP is the one exception: it is
    added only when the response has none of its own (pages set theirs, with a nonce). ``Vary`` values are merged
    into one header.
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
    settings = _settings(config)
    app = Flask(__name__, instance_path=str(Path(settings["INSTANCE"]).resolve()) if settings["INSTANCE"] else None)
    app.config.update(settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    snapshots = Path(settings["SNAPSHOTS"])
    programme = settings["PROGRAMME"]

    def loader(version: str) -> ServiceState:
        return load_state(snapshots, programme, version=version)

    holder = StateHolder(snapshots, loader, check_interval=float(settings["RELOAD_INTERVAL"]))
    store = ScenarioStore(instance / "scenarios.sqlite3")
    app.extensions["quartiere"] = Services(holder, store, settings)

    problems.register(app)
    from service.routes.api import bp as api_bp
    from service.routes.downloads import bp as downloads_bp
    from service.routes.ogcapi import bp as ogc_bp
    from service.routes.processes import bp as processes_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(downloads_bp)
    app.register_blueprint(ogc_bp)
    app.register_blueprint(processes_bp)
    if settings["PAGES"]:
        from service.pages import bp as pages_bp

        app.register_blueprint(pages_bp)
    from service.routes import monitoring as monitoring_routes

    monitoring_routes.init_app(app, pages=bool(settings["PAGES"]))
    from service.routes import places as places_routes

    places_routes.init_app(app, settings)
    app.register_blueprint(places_routes.bp)
    if settings["NATIONAL_SNAPSHOTS"]:
        from service.routes import national as national_routes

        national_routes.init_app(app, settings)
    else:
        app.add_url_rule("/national", "national.page", _national_not_configured)  # the endpoint the real page has

    app.wsgi_app = HeaderMiddleware(app.wsgi_app, holder, csp=settings["CONTENT_SECURITY_POLICY"],  # type: ignore[method-assign]
                                    origins=list(settings["CORS_ORIGINS"]))

    if threading.current_thread() is threading.main_thread():
        # dev server / in-process: SIGHUP asks for an immediate look at CURRENT (under gunicorn the master
        # handles HUP itself by starting fresh workers, which load CURRENT)
        with contextlib.suppress(ValueError, OSError, AttributeError):
            signal.signal(signal.SIGHUP, lambda *_: holder.check())
    return app
