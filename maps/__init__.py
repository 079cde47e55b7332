"""Folium map builders: GeoDataFrame in, ``folium.Map`` out. No file or network access, no Flask.

Public API::

    from maps import overview_map, web_geometry, map_parts
"""

from maps.geometry import clean_coverage, web_geometry
from maps.overview import DEFAULT_CONFIG, overview_map, safe_json, thematic_layers
from maps.render import MapParts, add_nonce, map_parts

__all__ = ["DEFAULT_CONFIG", "MapParts", "add_nonce", "clean_coverage", "map_parts", "overview_map",
           "safe_json", "thematic_layers", "web_geometry"]
