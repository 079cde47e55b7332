"""Render a folium map into the three parts a page template needs, with a CSP nonce on every inline element."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import folium
from branca.element import Figure
from markupsafe import Markup

_VIEWPORT = re.compile(r"<meta name=\"viewport\"[^>]*>", re.DOTALL)
_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


@dataclass(frozen=True)
class MapParts:
    """``head`` (links, styles), ``body`` (the map's ``<div>``) and ``script`` (the inline ``<script>``)."""

    head: Markup
    body: Markup
    script: Markup
    name: str


def add_nonce(html: str, nonce: str | None) -> str:
    """Add ``nonce="..."`` to every ``<script>`` and ``<style>`` start tag of generated ``html``."""
    if not nonce:
        return html
    if not re.fullmatch(r"[A-Za-z0-9+/=_-]+", nonce):
        raise ValueError("nonce must be base64 or URL-safe base64 text")
    return _TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


def map_parts(m: folium.Map, *, nonce: str | None = None) -> MapParts:
    """Render ``m`` and split it into head, body and script (each already safe HTML we generated)."""
    root = cast(Figure, m.get_root())
    for child in root._children.values():
        child.render()
    head = _VIEWPORT.sub("", root.header.render())  # the page sets its own (zoomable) viewport
    body = root.html.render()
    script = root.script.render()
    return MapParts(head=Markup(add_nonce(head, nonce)), body=Markup(add_nonce(body, nonce)),
                    script=Markup(add_nonce(f"<script>{script}</script>", nonce)), name=m.get_name())
