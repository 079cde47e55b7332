"""HTML pages: the map, district profiles, the eligibility check, scenarios and the table.

Registered by the app factory with ``from service.web.pages import bp``; the pages have no URL prefix.

Content-Security-Policy and the nonce
-------------------------------------
folium renders its map as inline ``<script>``/``<style>`` elements. Every page therefore gets a per-response
nonce: :func:`_nonce` puts it in ``flask.g.csp_nonce`` (reusing one the app set before), every inline
``<script>``/``<style>`` of our templates and maps carries ``nonce="{{ g.csp_nonce }}"``, and the pages
satisfy::

    default-src 'self'; script-src 'self' 'nonce-<g.csp_nonce>'; style-src 'self' 'nonce-<g.csp_nonce>';
    img-src 'self' data: [tile host]; connect-src 'self'; font-src 'self'; object-src 'none';
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'

:func:`csp_header` builds that text. ``after_request`` of this blueprint sets it on page responses that have
no ``Content-Security-Policy`` yet; an app-wide CSP must include ``'nonce-' + g.csp_nonce`` in ``script-src``
and ``style-src`` for these pages. No page has inline event handlers or ``style`` attributes.

Configuration read from ``current_app.config`` (declared, with their defaults, in :mod:`service.settings`):

``SCENARIOS_DIR``
    Folder of draft definitions ``<id>.yml`` for ``/scenarios/<id>`` (default: ``programmes/``).
``MAP_CONFIG``
    Overrides of :data:`maps.DEFAULT_CONFIG` (classification scheme and classes, ``tiles`` and
    ``attribution`` for a basemap).

The pages show the service's loaded state (:func:`service.app.state`): the snapshot version, and the
classification and monitoring that ``quartiere build`` published in it, so pages and API always agree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import secrets
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
from babel.dates import format_date
from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from markupsafe import Markup

from geo.errors import Problem, UnknownKeyError
from geo.pipeline.indicators import REGISTRY
from maps import map_parts, overview_map, web_geometry
from maps.charts import line_chart
from maps.i18n import (
    LANGS,
    class_label,
    fmt_number,
    indicator_label,
    messages_text,
    operator_label,
    reason_text,
    rule_label,
    rule_value,
    t,
    unit_label,
)
from maps.overview import category_text
from maps.render import add_nonce

_ASSET_TAGS = re.compile(r"<script[^>]*\bsrc=[^>]*></script>|<link rel=\"stylesheet\"[^>]*>")
_HERE = Path(__file__).resolve().parents[1]

bp = Blueprint(
    "pages",
    __name__,
    template_folder=str(_HERE / "templates"),
    static_folder=str(_HERE / "static"),
    static_url_path="/static",
)

#: demographic context on the profile (descriptive; never a need indicator)
PROFILE_INDICATORS = [
    "population", "share_foreign_pct", "share_under_18_pct", "share_under_6_pct", "share_aged_65_plus_pct",
    "share_aged_80_plus_pct", "share_foreign_under_18_pct", "share_migration_background_pct", "share_male_pct",
    "density_per_km2", "population_change_2y_pct", "population_change_5y_pct", "mean_age_years",
]
SERIES_INDICATORS = ["population", "share_under_18_pct", "share_aged_65_plus_pct", "share_foreign_pct"]
#: context columns of the table page after the need indicators (descriptive)
TABLE_CONTEXT = ["population", "share_under_18_pct", "share_aged_65_plus_pct", "population_change_5y_pct"]


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


bp.before_request(page_setup)
bp.after_request(page_headers)


@bp.app_template_global("lang_url")
def lang_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the current language (``?lang=en``)."""
    if getattr(g, "lang", "de") == "en":
        values.setdefault("lang", "en")
    return url_for(endpoint, **values)


@bp.app_template_global("switch_lang_url")
def switch_lang_url(target: str) -> str:
    args = {k: v for k, v in request.args.items() if k != "lang"}
    if target == "en":
        args["lang"] = "en"
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


@bp.app_template_global("tr")
def tr(key: str) -> str:
    return t(key, getattr(g, "lang", "de"))


@bp.app_template_global("unit_word")
def unit_word(unit: str) -> str:
    """A unit code in words (``pp`` -> "Prozentpunkte")."""
    return unit_label(unit, getattr(g, "lang", "de"))


@bp.app_template_global("reason_word")
def reason_word(reason: Any) -> str:
    """Why an area is not classifiable, in the page's language."""
    return reason_text(str(reason or ""), getattr(g, "lang", "de"))


@bp.app_template_global("class_word")
def class_word(field: str, value: Any) -> str:
    """A status or dynamics class id (``very_low``) in words."""
    return class_label(field, str(value), getattr(g, "lang", "de"))


@bp.app_template_filter("conditions")
def conditions_filter(text: Any) -> str:
    """The engine's ``"status_index >= 1.0; population >= 2000"`` with labels and words, in the page's language."""
    lang = getattr(g, "lang", "de")
    out = []
    for part in ("" if text is None else str(text)).split(";"):
        bits = part.strip().split(" ", 2)
        if len(bits) != 3:
            out.append(part.strip())
            continue
        fld, op, val = bits
        label = indicator_label(fld, lang) if fld in REGISTRY else (rule_label(fld, lang) or fld)
        try:
            shown = fmt_number(float(val), lang, decimals=2)
        except ValueError:
            shown = rule_value(fld, val, lang)
        out.append(f"{label} {operator_label(op, lang)} {shown}")
    return "; ".join(p for p in out if p)


@bp.app_template_filter("tags")
def tags_filter(text: Any, prefix: str) -> str:
    """``"llq_quartier_im_werden;win"`` -> the translated labels of those tags, joined."""
    lang = getattr(g, "lang", "de")
    tags = [x for x in ("" if text is None else str(text)).split(";") if x and x != "nan"]
    return ", ".join(t(f"{prefix}.{x}", lang) if t(f"{prefix}.{x}", lang) != f"{prefix}.{x}" else x for x in tags)


@bp.app_template_filter("verdict")
def verdict_filter(message: Any) -> str:
    """The engine's designation-versus-data verdict (a message code) in the page's language."""
    return messages_text(message, getattr(g, "lang", "de"))


@bp.app_template_filter("driver")
def driver_filter(messages: Any) -> str:
    """What drives the verdict (the engine's messages: conditions, index drivers) in the page's language."""
    return messages_text(messages, getattr(g, "lang", "de"))


@bp.app_template_filter("num")
def num_filter(value: Any, decimals: int = 1) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return fmt_number(x, getattr(g, "lang", "de"), decimals=decimals)


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
        """The footer's "Datenstand": ``summary`` (residents' year, the span of the need indicators' years, the
        day the snapshot was built, as Babel's long date in ``lang``) and ``items`` (each need indicator of the
        programme with its latest year)."""
        def latest(name: str) -> int | None:
            col = f"{name}__year"
            years = pd.to_numeric(self.wide[col], errors="coerce").dropna() if col in self.wide else pd.Series([])
            return int(years.max()) if not years.empty else None

        population = latest("population") or max(self.snapshot.manifest.get("years") or [0]) or None
        items = [(indicator_label(n, lang, unit=False), y) for n in _need_columns(self.definition)
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
    """The service state of this request (snapshot, published classification and monitoring) with the pages'
    caches (maps rendered once per language and snapshot version)."""
    from service.app import state

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


def _map(data: PageData, variant: str, **kwargs: Any) -> Markup:
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


def _with_nonce(parts: Any) -> dict[str, Any]:
    n = g.csp_nonce
    return {"head": Markup(add_nonce(str(parts.head), n)), "body": parts.body,
            "script": Markup(add_nonce(str(parts.script), n)), "name": parts.name}


# ------------------------------------------------------------------------------------------ pages


@bp.route("/")
def index() -> str:
    data = page_data()
    parts = _map(data, "overview")
    return render_template("pages/index.html", map=_with_nonce(parts), data=data,
                           version=data.snapshot.version)


def _value(frame: pd.DataFrame, key: str, col: str) -> float:
    if col not in frame.columns or key not in frame.index:
        return math.nan
    v = pd.to_numeric(pd.Series([frame.at[key, col]]), errors="coerce").iloc[0]
    return float(v)


def _year(frame: pd.DataFrame, key: str, col: str) -> int | None:
    """The year the value of ``col`` comes from for district ``key`` (the snapshot's ``X__year``)."""
    y = _value(frame, key, f"{col}__year")
    return int(y) if math.isfinite(y) else None


def _series(snapshot: Any, key: str, indicator: str) -> list[tuple[int, float]]:
    ind = snapshot.indicators
    sub = ind[(ind["key"] == key) & (ind["indicator"] == indicator) & (ind["year"] <= snapshot.latest_year)]
    sub = sub.dropna(subset=["value"]).sort_values("year")
    return [(int(y), float(v)) for y, v in zip(sub["year"], sub["value"], strict=True)]


def _unit(name: str) -> str:
    ind = REGISTRY.get(name)
    return "" if ind is None or ind.unit == "persons" else ind.unit


def _city_value(city_rows: pd.DataFrame, name: str, year: Any = None) -> float:
    """The city's value of ``name`` (of ``year`` when given and published, else its latest)."""
    c = city_rows[city_rows["indicator"] == name].dropna(subset=["value"]).sort_values("year")
    if year is not None and (c["year"] == year).any():
        c = c[c["year"] == year]
    return float(c["value"].iloc[-1]) if len(c) else math.nan


def _need_rows(data: PageData, key: str, city_rows: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The area's index indicators (its basis') from the published answer: value, year, z, contribution."""
    from service.api.profile import change_period, period_text, with_period
    from service.app import state

    answer = state().answers.get(key) or {}
    out = []
    for item in answer.get("indicators") or []:
        name, unit = item["indicator"], item.get("unit") or ""
        v = item.get("value")
        v = math.nan if v is None else float(v)
        cv = _city_value(city_rows, name, item.get("year"))
        period = change_period(data.snapshot.indicators, key, name, item.get("year"))
        label = indicator_label(name, lang) if name in REGISTRY else item.get("label", name)
        out.append({
            "name": name, "index": t(f"index.{item['index']}", lang), "label": with_period(label, period),
            "value": v, "city": cv, "unit": unit,
            "unit_text": unit_label(unit, lang), "decimals": _decimals(name),
            "year": period_text(period) or item.get("year"),
            "z": item.get("z"), "contribution": item.get("contribution"),
            "delta": v - cv if math.isfinite(v) and math.isfinite(cv) and unit == "%" else None,
        })
    return out


def _decimals(name: str) -> int:
    """Decimals of a value of ``name`` on the pages: none for counts (and unknown names), one otherwise."""
    from service.api.profile import decimals_of

    return decimals_of(name, 0)


def _fmt_rule_value(value: Any, text: Any, lang: str, decimals: int | None = None) -> str:
    """A rule's value or threshold: numbers in the language's format (``decimals`` of the field, counts whole),
    other values as their text."""
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        x = float(value)
        if math.isfinite(x):
            if decimals is None:
                decimals = 0 if x == round(x) and abs(x) >= 100 else 2
            return fmt_number(x, lang, decimals=decimals)
    txt = str(text)
    return t("map.no_data", lang) if txt in ("", "nan", "None") else txt


def _reasons(data: PageData, key: str, lang: str) -> list[dict[str, Any]]:
    """Per category of the definition: applies or not, with its conditions, values, thresholds, margins."""
    from service.api.profile import change_period, decimals_of, with_period

    reasons = data.result.reasons
    rows = reasons[reasons["key"].astype(str) == key]
    out = []
    for cat in data.definition.categories:
        sub = rows[rows["category"] == cat.id]
        applies = bool(sub["category_applies"].any()) if len(sub) else False
        conditions = []
        for r in sub.itertuples():
            fld = str(r.field)
            label = indicator_label(fld, lang) if fld in REGISTRY else (rule_label(fld, lang) or fld)
            dec = decimals_of(fld, 2) if fld in REGISTRY else None
            conditions.append({
                "label": with_period(label, change_period(data.snapshot.indicators, key, fld)), "field": fld,
                "operator": operator_label(str(r.operator), lang),
                "value": _fmt_rule_value(r.value, rule_value(fld, str(r.value_text), lang), lang, dec),
                "threshold": _fmt_rule_value(r.threshold, rule_value(fld, str(r.threshold_text), lang), lang,
                                             dec),
                "passed": bool(r.passed), "decimals": 2 if dec is None else dec,
                "margin": r.margin if isinstance(r.margin, float) and math.isfinite(r.margin) else None,
                "margin_sd": r.margin_sd if isinstance(r.margin_sd, float) and math.isfinite(r.margin_sd) else None,
                "unit": unit_label(str(r.unit), lang) if str(r.unit) not in ("nan", "None") else "",
                "description": str(r.description),
            })
        out.append({"id": cat.id, "label": t(f"cat.{cat.id}", lang), "applies": applies, "conditions": conditions})
    return out


def _district_context(data: PageData, key: str) -> dict[str, Any]:
    from service.api.profile import designation_text

    lang = g.lang
    table = data.table
    if key not in table.index:
        raise UnknownKeyError(f"there is no district {key!r}",
                              problems=[Problem("unknown_district", f"no district has the key {key!r}", key=key)])
    row = table.loc[key]
    snapshot = data.snapshot
    city_key = str(row.get("city_key", ""))
    ind = snapshot.indicators
    city_rows = ind[(ind["key"] == city_key) & (ind["level"] == "stadt")]
    need = _need_rows(data, key, city_rows, lang)
    need_names = {n["name"] for n in need}
    from service.api.profile import change_period, context_rows, no_statistics_text, period_text, with_period

    indicators: list[dict[str, Any]] = []
    for name in PROFILE_INDICATORS:
        if name not in table.columns or name in need_names:
            continue
        v = _value(table, key, name)
        year = _year(table, key, name) or data.wide.attrs.get("indicator_years", {}).get(name)
        period = change_period(ind, key, name, year)
        cv = _city_value(city_rows, name, year)
        indicators.append({"label": with_period(indicator_label(name, lang), period), "value": v, "city": cv,
                           "unit": _unit(name), "decimals": _decimals(name), "year": period_text(period) or year,
                           "delta": v - cv if math.isfinite(v) and math.isfinite(cv) and _unit(name) == "%" else None})
    no_statistics = no_statistics_text(row, lang)
    if no_statistics:  # only the city's figures are published; the district's own (census, elections) follow
        indicators = [i for i in indicators if math.isfinite(float(i["city"]))]
        own_context = context_rows(ind, key, city_key, sorted(need_names), lang, snapshot.latest_year)
    else:
        own_context = []
    city_name = str(row.get("city", ""))

    def chart(name: str) -> Any:
        own = _series(snapshot, key, name)
        if not own:
            return None
        series = {str(row["name"]): own}
        if _unit(name) == "%":
            series[city_name] = _series(snapshot, city_key, name)
        return line_chart(series, title=indicator_label(name, lang, unit=False), unit=unit_label(_unit(name), lang),
                          lang=lang, decimals=_decimals(name))

    # need series: the status index's indicators (levels, not the change indicators of the dynamics index)
    need_charts = [c for c in (chart(n["name"]) for n in need if n["unit"] != "pp") if c is not None]
    charts = [c for c in (chart(n) for n in SERIES_INDICATORS) if c is not None]
    from service.app import state

    basis = (state().answers.get(key) or {}).get("basis")
    cats = row.get("categories")
    cats = list(cats) if isinstance(cats, list | tuple | np.ndarray) else []
    checks = data.result.designation_check
    check = checks[checks["key"].astype(str) == key]
    explanation = _designation_explanation(data, key, row, lang)
    near = data.result.near_misses
    near = near[near["key"].astype(str) == key]
    parents = []
    for col in ("stadtteil_key", "stadtbezirk_key"):
        k = row.get(col)
        if isinstance(k, str) and k:
            try:
                parents.append((k, str(snapshot.district(k)["name"])))
            except Exception:
                parents.append((k, k))
    return {
        "row": row, "key": key, "categories": cats, "category_text": category_text(cats, lang),
        "no_statistics": no_statistics, "own_context": own_context,
        "designation": designation_text(row, lang),
        "reasons": _reasons(data, key, lang), "indicators": indicators, "charts": charts,
        "need": need, "need_charts": need_charts, "basis": basis,
        "check": check.iloc[0].to_dict() if len(check) else None, "explanation": explanation,
        "near": [r._asdict() for r in near.itertuples()], "parents": parents,
        "status": row.get("status_class") if isinstance(row.get("status_class"), str) else "",
        "dynamics": row.get("dynamics_class") if isinstance(row.get("dynamics_class"), str) else "",
    }


def _designation_explanation(data: PageData, key: str, row: Any, lang: str) -> str:
    """Why this designated or indicated Ortsteil stands where it does: the published designated-versus-data row
    in words (the report's sentence, :func:`maps.report.designation_explanation`); empty when not listed."""
    from maps.report import designation_explanation

    published = data.result.meta.get("designations_versus_data") or {}
    for item in published.get("rows") or []:
        if str(item.get("key")) == key:
            return designation_explanation(item, lang, reason=row.get("classifiable_reason"))
    return ""


@bp.route("/districts/<key>")
def district(key: str) -> str:
    data = page_data()
    ctx = _district_context(data, key)
    from service.api.monitoring import profile_analysis

    ctx["analysis"] = (profile_analysis(data.monitoring, key, g.lang) if data.monitoring else
                       {"hotspot": None, "district_type": None})
    return render_template("pages/district.html", data=data, **ctx)


# ------------------------------------------------------------------------------------------ table


def _need_columns(definition: Any) -> list[str]:
    """The status index indicators of the programme and of every city basis, in the definition's order."""
    out: list[str] = []
    for d in (definition, *definition.bases.values()):
        for spec in d.indices:
            if spec.name == "status":
                out += [d.indicator(c.indicator).column for c in spec.components]
    return list(dict.fromkeys(out))


def _table_frame(data: PageData, lang: str) -> pd.DataFrame:
    """The table page and its CSV: need indicators with their years, classes, basis and confidence, then the
    demographic context. ``attrs["decimals"]``: the decimals of each numeric column (by its unit)."""
    from service.api.eligibility import basis_answer

    tab = data.table
    decimals: dict[str, int] = {}
    out = pd.DataFrame({
        t("map.key", lang): tab["key"],
        "Name": tab["name"],
        t("map.city", lang): tab.get("city"),
    })
    for name in _need_columns(data.definition):
        if name not in tab.columns:
            continue
        label = indicator_label(name, lang)
        out[label] = pd.to_numeric(tab[name], errors="coerce").round(_decimals(name))
        decimals[label] = _decimals(name)
        years = pd.to_numeric(tab[f"{name}__year"], errors="coerce") if f"{name}__year" in tab else None
        out[t("table.year_of", lang).format(label=indicator_label(name, lang, unit=False))] = (
            [str(int(y)) if pd.notna(y) and pd.notna(v) else "" for y, v in zip(years, out[label], strict=True)]
            if years is not None else "")
    if "status_class" in tab:
        out[t("layer.status", lang)] = [class_label("status_class", s, lang) if isinstance(s, str) and s else ""
                                        for s in tab["status_class"]]
    if "dynamics_class" in tab:
        out[t("layer.dynamics", lang)] = [class_label("dynamics_class", s, lang) if isinstance(s, str) and s else ""
                                          for s in tab["dynamics_class"]]
    cities = [str(c) for c in tab.get("city", pd.Series([""] * len(tab)))]
    bases = {c: basis_answer(data.definition, c) for c in set(cities)}
    out[t("table.basis", lang)] = [_basis_short(bases[c], lang) for c in cities]
    out[t("table.confidence", lang)] = [t(f"confidence_level.{bases[c]['confidence']}", lang)
                                        if bases[c]["confidence"] else "" for c in cities]
    if "categories" in tab:
        out[t("map.category", lang)] = [category_text(c, lang) if isinstance(c, list | tuple) and len(c) else ""
                                        for c in tab["categories"]]
    if "designated" in tab:
        out[t("layer.designations", lang)] = [
            _programmes_text(p, lang) if bool(d) and isinstance(p, str) else ""
            for d, p in zip(tab["designated"], tab.get("designation_programmes"), strict=True)]
    if "budget_eur" in tab:
        out["Budget EUR"] = pd.to_numeric(tab["budget_eur"], errors="coerce").round(2)
        decimals["Budget EUR"] = 0
    for name in TABLE_CONTEXT:
        if name in tab.columns:
            label = _table_change_label(data, name, lang)
            if name != "population":
                label = f"{label} – {t('layer.context_suffix', lang)}"
            out[label] = pd.to_numeric(tab[name], errors="coerce").round(_decimals(name))
            decimals[label] = _decimals(name)
    out = out.reset_index(drop=True)
    out.attrs["decimals"] = decimals
    return out


def _table_change_label(data: PageData, name: str, lang: str) -> str:
    """A column's label; a change names the two years it compares when every Ortsteil compares the same."""
    from service.api.profile import is_change, with_period

    label = indicator_label(name, lang)
    if not is_change(name):
        return label
    ind = data.snapshot.indicators
    rows = ind[(ind["indicator"] == name) & (ind["level"] == "ortsteil") & ind["value"].notna()
               & (ind["year"] <= data.snapshot.latest_year)].dropna(subset=["base_year"])
    last = rows[rows["year"] == rows["year"].max()] if len(rows) else rows
    periods = {(int(b), int(y)) for b, y in zip(last["base_year"], last["year"], strict=True)}
    return with_period(label, periods.pop()) if len(periods) == 1 else label


def _basis_short(basis: dict[str, Any], lang: str) -> str:
    """``"Programmgrundlage"`` or ``"eigene Grundlage: Wahlbeteiligung Bürgerschaftswahl"``."""
    from service.api.eligibility import _plain_label

    if not basis.get("own_basis"):
        return t("basis.programme", lang)
    names = ", ".join(_plain_label(indicator_label(i, lang)) for i in basis.get("status_indicators", []))
    return f"{t('basis.own', lang)}: {names}"


def _programmes_text(text: str, lang: str) -> str:
    """``"win;llq_quartier_im_werden"`` -> the programmes' names in ``lang`` (unknown ids unchanged)."""
    out = []
    for p in (x for x in text.split(";") if x and x != "nan"):
        word = t(f"programme.{p}", lang)
        out.append(p if word == f"programme.{p}" else word)
    return ", ".join(out)


@bp.route("/table")
def table() -> str:
    data = page_data()
    frame = _table_frame(data, g.lang)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    cities = sorted(str(c) for c in data.table["city"].dropna().unique()) if "city" in data.table else []
    return render_template("pages/table.html", data=data, frame=frame, numeric=set(numeric), cities=cities,
                           city_col=t("map.city", g.lang), decimals=frame.attrs.get("decimals", {}))


@bp.route("/table.csv")
def table_csv() -> Response:
    data = page_data()
    frame = _table_frame(data, g.lang)
    from service.api.exports import to_csv

    # the service's one CSV writer: formula-like cells neutralised, CR/LF inside cells quoted; with a BOM for Excel
    name = f"quartiere-{data.snapshot.version}.csv"
    return Response("\ufeff".encode() + to_csv(frame), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class _StoredDefinition:
    """Title and hash of a scenario stored through the API (``POST /api/v1/scenarios``)."""

    title: str
    hash: str


def _scenarios_dir() -> Path:
    return Path(current_app.config["SCENARIOS_DIR"])


def scenario_ids() -> list[str]:
    folder = _scenarios_dir()
    if not folder.is_dir():
        return []
    official = Path(current_app.config["PROGRAMME"])
    return sorted(p.stem for p in folder.glob("*.yml") if p.is_file() and p.resolve() != official.resolve())


def _unknown_scenario(scenario_id: str) -> UnknownKeyError:
    return UnknownKeyError(f"there is no scenario {scenario_id!r}",
                           problems=[Problem("unknown_scenario", f"no scenario has the id {scenario_id!r}",
                                             key=scenario_id)])


def _scenario_result(data: PageData, scenario_id: str) -> tuple[Any, Any]:
    from geo.classify import load_definition

    services = current_app.extensions.get("quartiere")
    if services is not None and scenario_id not in scenario_ids():
        try:
            draft = services.store.result(scenario_id)
        except UnknownKeyError:
            raise _unknown_scenario(scenario_id) from None
        return _StoredDefinition(draft.definition.get("title") or draft.definition_id, draft.definition_hash), draft
    if scenario_id not in scenario_ids():
        raise _unknown_scenario(scenario_id)
    store = current_app.extensions.setdefault("quartiere_scenarios", {})
    definition = load_definition(_scenarios_dir() / f"{scenario_id}.yml")
    cache_key = (data.snapshot.version, definition.hash)
    if definition.hash == data.definition.hash:
        return definition, data.result
    result = store.get(cache_key)
    if result is None:
        # published by ``quartiere build --programme FILE``; a draft file added since is classified once here
        # (outside any shared lock: two first requests may both compute it, neither blocks other pages)
        from geo.classify import classify
        from geo.errors import ProductMissingError
        from geo.pipeline.products import read_classification

        try:
            result = read_classification(Path(data.snapshot.path), data.snapshot.manifest, definition)
        except ProductMissingError:
            result = classify(data.wide, definition, meta={"snapshot_version": data.snapshot.version})
        store[cache_key] = result
    return definition, result


@bp.route("/scenarios")
def scenarios() -> str:
    data = page_data()
    services = current_app.extensions.get("quartiere")
    stored = services.store.recent() if services is not None else []
    files = [i for i in scenario_ids() if _classifies_this_table(data, i)]
    return render_template("pages/scenarios.html", data=data, ids=files, stored=stored)


def _classifies_this_table(data: PageData, scenario_id: str) -> bool:
    """A draft file is listed only if its indicators are columns of this snapshot's table (a definition for the
    national dataset, such as germany-screening, would answer 422)."""
    from geo.classify import load_definition
    from geo.errors import QuartiereError

    try:
        definition = load_definition(_scenarios_dir() / f"{scenario_id}.yml")
    except QuartiereError:
        return False
    return set(definition.input_columns()) <= set(data.wide.columns)


@bp.route("/scenarios/<scenario_id>")
def scenario(scenario_id: str) -> str:
    from geo.classify import compare_results

    data = page_data()
    definition, draft = _scenario_result(data, scenario_id)
    comparison = compare_results(data.result, draft)
    lang = g.lang
    asset_base = url_for("pages.static", filename="vendor").rstrip("/")
    profile = lang_url("pages.district", key="__KEY__")

    def build(result: Any) -> Any:
        return overview_map(data.wide, classification=result.table, lang=lang, config=data.map_config,
                            web=data.web, asset_base=asset_base, profile_url=profile, layers=["categories"],
                            use_hash=False)

    base_parts = data.map_html("scenario-base", lang, lambda: build(data.result))
    draft_parts = data.map_html(f"scenario-{scenario_id}-{definition.hash[:12]}", lang, lambda: build(draft))
    areas = comparison.areas.copy()
    for col in ("gained", "lost", "base_categories", "draft_categories"):
        if col in areas:
            areas[col] = [category_text([c for c in str(v).replace(",", ";").split(";") if c.strip()], lang)
                          if isinstance(v, str) and v else (category_text(v, lang) if isinstance(v, list) and v
                                                            else "–") for v in areas[col]]
    draft_ctx = _with_nonce(draft_parts)
    draft_ctx["head"] = Markup(_ASSET_TAGS.sub("", str(draft_ctx["head"])))  # Leaflet is loaded once
    from service.api.scenario_designer import budget_summary, explain

    stored = scenario_id not in scenario_ids()
    return render_template("pages/scenario.html", data=data, scenario_id=scenario_id, definition=definition,
                           comparison=comparison, areas=areas, base=_with_nonce(base_parts), draft=draft_ctx,
                           blocked=explain(draft), budget=budget_summary(draft), stored=stored)


# the check page (/check, /check/area) lives in its own module and registers its routes here
from service.web.check import register as _register_check  # noqa: E402 (needs the helpers above)

_register_check(bp)
