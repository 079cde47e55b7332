"""Colour-blind-safe palettes, hard-coded (no network, no colour library at run time).

Sequential: viridis (matplotlib, CC0) sampled at 9 stops. Qualitative: Okabe & Ito (2008), safe for the three
common colour-vision deficiencies. Ordered classes: ColorBrewer OrRd and PuOr (Cynthia Brewer, Apache 2.0),
both marked colour-blind safe by ColorBrewer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

VIRIDIS_9 = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"]
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
NO_DATA = "#d9d9d9"
NOTHING = "#f7f7f7"

#: programme categories, in order of precedence on the map (a district with several shows the first)
CATEGORY_COLOURS = {
    "win": "#D55E00",
    "kleinstquartier": "#E69F00",
    "sonderquartier": "#CC79A7",
    "quartier_im_werden": "#009E73",
    "watch_list": "#F0E442",
    "phase_out_candidate": "#56B4E9",
    "none": NOTHING,
    "not_classifiable": NO_DATA,
}
#: status classes from the best to the worst (ColorBrewer OrRd 4)
STATUS_COLOURS = {"high": "#fef0d9", "medium": "#fdcc8a", "low": "#fc8d59", "very_low": "#d7301f"}
#: dynamics classes (ColorBrewer PuOr 3: purple good, orange bad)
DYNAMICS_COLOURS = {"positive": "#998ec3", "stable": "#f7f7f7", "negative": "#f1a340"}
DESIGNATION_COLOURS = {"win": "#0072B2", "llq": "#E69F00", "win_llq": "#D55E00", "other": "#CC79A7",
                       "none": NOTHING}
#: Local Moran's I cluster types (ColorBrewer RdYlBu 4 end colours)
HOTSPOT_COLOURS = {"HH": "#d7191c", "HL": "#fdae61", "LH": "#abd9e9", "LL": "#2c7bb6", "ns": NOTHING}


def sequential(k: int) -> list[str]:
    """``k`` colours (2..9) spread evenly over viridis, light to dark reversed so that dark = high."""
    if not 2 <= k <= 9:
        raise ValueError(f"sequential: k must be between 2 and 9, got {k!r}")
    idx = [round(i * 8 / (k - 1)) for i in range(k)]
    return [VIRIDIS_9[8 - i] for i in idx]


def qualitative(k: int) -> list[str]:
    """``k`` Okabe-Ito colours (cycled beyond 8)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(k)]


#: district outlines on the web map and in the QGIS styles
OUTLINE = "#444444"

#: programme categories in the order that decides a district's colour
CATEGORY_ORDER = tuple(k for k in CATEGORY_COLOURS if k not in ("none", "not_classifiable"))


def primary_category(cats: Any, classifiable: Any) -> str:
    """The one category a district is coloured by (the web map and the QGIS styles use the same rule).

    The first of :data:`CATEGORY_ORDER` among ``cats`` (a list or a ``;``-separated text), else
    ``not_classifiable`` (when ``classifiable`` is ``False``) or ``none``.
    """
    if isinstance(cats, str):
        cats = [c for c in cats.split(";") if c]
    cats = list(cats) if cats is not None and not (isinstance(cats, float) and math.isnan(cats)) else []
    for c in CATEGORY_ORDER:
        if c in cats:
            return c
    if isinstance(classifiable, bool | np.bool_) and not classifiable:
        return "not_classifiable"
    return "none"


def designation_group(programmes: Any, designated: Any) -> str:
    """The designation colour group of a district (``win``, ``llq``, ``win_llq``, ``other`` or ``none``)."""
    if not (designated is True or designated == 1) or not isinstance(programmes, str):
        return "none"
    progs = {p.strip() for p in programmes.split(";") if p.strip()}
    win = "win" in progs
    llq = any(p.startswith("llq") for p in progs)
    if win and llq:
        return "win_llq"
    if win:
        return "win"
    if llq:
        return "llq"
    return "other"
