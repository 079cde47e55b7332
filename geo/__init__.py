"""Lebendige Quartiere: pipeline and classification for Bremen's social-development districts.

This package never imports flask or folium (checked by ``tests/test_boundaries.py``).
"""

__version__ = "0.1.0"
