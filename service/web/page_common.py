"""What every page shares: request setup, language-keeping URLs and the snapshot's page data with its maps.

The request setup sets the CSP nonce, the language and the headers; :class:`PageData` holds the page data and the
rendered maps, one per snapshot version and app.

Content-Security-Policy and the nonce: see :mod:`service.web.pages`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import geopandas as gpd
import pandas as pd
from babel.dates import format_date
from flask import Response, current_app, g, request, url_for
from markupsafe import Markup

from maps import map_parts, overview_map, web_geometry
from maps.i18n import (
    LANGS,
    indicator_label,
    t,
)
from maps.render import add_nonce
from service.web.context import state

#: the pages' template folder and static files (service/templates, service/static)
HERE = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ request setup


def csp_header(nonce: str, *, tiles: str | None = None) -> str:
    """The Content-Security-Policy the pages satisfy (``tiles``: a configured tile URL template)."""
    img = "'self' data:"
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "*"))
        if parts.scheme in ("http", "https") and parts.netloc:
            img += f" {parts.scheme}://{parts.netloc}"
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def page_setup() -> None:
    """Before every page request (any blueprint serving pages): the CSP nonce and the language."""
    if not getattr(g, "csp_nonce", None):
        g.csp_nonce = secrets.token_urlsafe(16)
    lang = request.args.get("lang", "de")
    g.lang = lang if lang in LANGS else "de"


def page_headers(response: Response) -> Response:
    """After every page request (any blueprint serving pages): the strict CSP with the nonce, and friends."""
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        tiles = current_app.config["MAP_CONFIG"].get("tiles")
        response.headers["Content-Security-Policy"] = csp_header(g.csp_nonce, tiles=tiles)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response



def lang_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the current language (``?lang=en``)."""
    if getattr(g, "lang", "de") == "en":
        values.setdefault("lang", "en")
    return url_for(endpoint, **values)


def switch_lang_url(target: str) -> str:
    """The current page's URL in the ``target`` language (``?lang=en`` or none), other arguments kept."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    if target == "en":
        args["lang"] = "en"
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")



# ------------------------------------------------------------------------------------------ data per app


@dataclass
class PageData:
    """What the pages show for one snapshot version, kept per app (maps rendered once per language)."""

    snapshot: Any
    definition: Any
    result: Any
    wide: gpd.GeoDataFrame
    monitoring: Any  # service.api.monitoring.Monitoring, or None for a version built without it
    map_config: dict[str, Any]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _maps: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    @cached_property
    def web(self) -> gpd.GeoDataFrame:
        """The districts' geometry for the map: cleaned, simplified and rounded, in EPSG:4326."""
        cfg = self.map_config
        kwargs = {k: cfg[k] for k in ("tolerance_m", "decimals") if k in cfg}
        return web_geometry(self.wide, **kwargs)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Districts with their indicators and classification, one row per Ortsteil, indexed by ``key``."""
        cls = self.result.table.copy()
        cls["key"] = cls["key"].astype(str)
        base = pd.DataFrame(self.wide.drop(columns="geometry"))
        base["key"] = base["key"].astype(str)
        keep = [c for c in cls.columns if c not in base.columns or c == "key"]
        return base.merge(cls[keep], on="key", how="left").set_index("key", drop=False)

    def data_dates(self, lang: str) -> dict[str, Any]:
        """The footer's "Datenstand" in ``lang``, as ``summary`` and ``items``.

        ``summary``: the residents' year, the span of the need indicators' years and the day the snapshot was
        built (Babel's long date); ``items``: each need indicator of the programme with its latest year.
        """
        def latest(name: str) -> int | None:
            col = f"{name}__year"
            years = pd.to_numeric(self.wide[col], errors="coerce").dropna() if col in self.wide else pd.Series([])
            return int(years.max()) if not years.empty else None

        population = latest("population") or max(self.snapshot.manifest.get("years") or [0]) or None
        items = [(indicator_label(n, lang, unit=False), y) for n in need_columns(self.definition)
                 if (y := latest(n)) is not None]
        parts = [f"{indicator_label('population', lang, unit=False)} {population}"] if population else []
        if items:
            low, high = min(y for _, y in items), max(y for _, y in items)
            parts.append(f"{t('page.need_data', lang)} {low}–{high}" if low != high
                         else f"{t('page.need_data', lang)} {low}")
        created = str(self.snapshot.manifest.get("created") or "")
        with contextlib.suppress(ValueError):
            day = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).date()
            parts.append(t("page.built_on", lang).format(date=format_date(day, format="long", locale=lang)))
        return {"summary": " · ".join(parts), "items": [f"{label} {year}" for label, year in items]}

    @cached_property
    def names(self) -> list[tuple[str, str]]:
        """``(key, name)`` of every Ortsteil, sorted by name (the search field's list)."""
        frame = self.wide.sort_values("name")
        return [(str(k), str(n)) for k, n in zip(frame["key"], frame["name"], strict=True)]

    def map_html(self, variant: str, lang: str, build: Any) -> Any:
        """Cached rendered map parts (without nonce) for ``variant`` and ``lang``."""
        key = (variant, lang)
        with self._lock:
            if key not in self._maps:
                self._maps[key] = map_parts(build())
            return self._maps[key]


_LOAD_LOCK = threading.Lock()


def page_data() -> PageData:
    """The page data of this request's snapshot version, made once per version and app.

    It holds the service state (snapshot, published classification and monitoring) with the pages' caches (maps
    rendered once per language and snapshot version).
    """
    st = state()
    store = current_app.extensions.setdefault("quartiere_pages", {})
    with _LOAD_LOCK:
        data = store.get(st.version)
        if data is None:
            data = PageData(snapshot=st.snapshot, definition=st.definition, result=st.result, wide=st.wide,
                            monitoring=st.monitoring_product,
                            map_config=dict(current_app.config["MAP_CONFIG"]))
            store.clear()
            store[st.version] = data
    return data


def page_map(data: PageData, variant: str, **kwargs: Any) -> Markup:
    """The rendered overview map ``variant`` in this request's language, cached per variant and language."""
    lang = g.lang
    asset_base = url_for("pages.static", filename="vendor").rstrip("/")
    profile = lang_url("pages.district", key="__KEY__")

    def build() -> Any:
        from service.api.monitoring import analysis_columns

        # hot spots and district types (published by the build) as map layers
        districts = analysis_columns(data.monitoring, data.wide, lang) if data.monitoring else data.wide
        return overview_map(districts, classification=data.result.table, lang=lang, config=data.map_config,
                            web=data.web, asset_base=asset_base, profile_url=profile, **kwargs)

    return data.map_html(variant, lang, build)


def with_nonce(parts: Any) -> dict[str, Any]:
    """Rendered map parts with this response's CSP nonce on their inline scripts and styles."""
    n = g.csp_nonce
    return {"head": Markup(add_nonce(str(parts.head), n)), "body": parts.body,
            "script": Markup(add_nonce(str(parts.script), n)), "name": parts.name}



def need_columns(definition: Any) -> list[str]:
    """The status index indicators of the programme and of every city basis, in the definition's order."""
    out: list[str] = []
    for d in (definition, *definition.bases.values()):
        for spec in d.indices:
            if spec.name == "status":
                out += [d.indicator(c.indicator).column for c in spec.components]
    return list(dict.fromkeys(out))


def page_decimals(name: str) -> int:
    """Decimals of a value of ``name`` on the pages: none for counts (and unknown names), one otherwise."""
    from service.api.profile import decimals_of

    return decimals_of(name, 0)
