"""Folium map builders: GeoDataFrame in, ``folium.Map`` out. No file or network access, no Flask.

Public API::

    from maps import overview_map, web_geometry, map_parts

The names are loaded on first use (PEP 562), so importing a light submodule (``maps.palettes``, ``maps.qgis``,
``maps.i18n``) does not import folium.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"clean_coverage": "maps.geometry", "web_geometry": "maps.geometry", "DEFAULT_CONFIG": "maps.overview",
          "overview_map": "maps.overview", "safe_json": "maps._script", "thematic_layers": "maps.overview",
          "MapParts": "maps.render", "add_nonce": "maps.render", "map_parts": "maps.render"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'maps' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
