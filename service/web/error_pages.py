"""Error pages for people: a browser asking for a page gets HTML in the page's language.

API clients keep ``application/problem+json`` (:mod:`service.web.problems` decides, this module renders).

A request wants HTML when it is a GET or HEAD outside ``/api/`` and ``/ogcapi``, and its ``Accept`` header
prefers ``text/html`` to JSON (browsers send ``text/html,...,*/*;q=0.8``; scripts and ``curl`` send ``*/*`` or a
JSON type and get JSON). The page names what is missing in words ("Ortsteil 99999999 gibt es nicht.") from the
problem's code, with the technical detail below and links back.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, render_template, request

from maps.i18n import t
from service.web.page_common import page_headers, page_setup

API_PREFIXES = ("/api/", "/ogcapi")
JSON_TYPES = ("application/problem+json", "application/json", "application/geo+json")
LEVEL_BY_KEY_LENGTH = {8: "ortsteil", 7: "stadtteil", 6: "stadtbezirk"}


def wants_html() -> bool:
    """Whether the current request is a browser asking for a page (see the module docstring)."""
    if request.method not in ("GET", "HEAD") or request.path.startswith(API_PREFIXES):
        return False
    if "pages" not in current_app.blueprints:
        return False
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", *JSON_TYPES]) == "text/html" and \
        accept["text/html"] > max(accept[m] for m in JSON_TYPES)


def _sentence(status: int, problems: list[dict[str, Any]], lang: str) -> str:
    """What went wrong, in words: from the first problem code this page knows, else by status."""
    for p in problems:
        check, key = p.get("check"), str(p.get("key") or "")
        if check == "unknown_district":
            level = t(f"level.{LEVEL_BY_KEY_LENGTH.get(len(key), 'area')}", lang)
            return t("error.unknown_district", lang).format(level=level, key=key)
        if check == "unknown_scenario":
            return t("error.unknown_scenario", lang).format(key=key)
        if check == "not_configured":
            return t("error.not_configured", lang)
    group = str(status) if status in (404, 422, 503) else "other"
    return t(f"error.text.{group}", lang).format(path=request.path)


def error_page(status: int, title: str, detail: str, problems: list[dict[str, Any]]) -> Response:
    """The HTML page for a problem (status, title and detail as in the problem+json body)."""
    page_setup()
    lang = g.lang
    group = str(status) if status in (404, 422, 503) else "other"
    links = [("pages.index", "error.back"), ("pages.table", "error.table")]
    if any(p.get("check") == "unknown_scenario" for p in problems):
        links.append(("pages.scenarios", "error.scenarios"))
    html = render_template("pages/error.html", status=status, heading=t(f"error.title.{group}", lang),
                           sentence=_sentence(status, problems, lang), detail=detail, title=title, links=links)
    response = Response(html, status=status, mimetype="text/html")
    return page_headers(response)


__all__ = ["error_page", "wants_html"]
