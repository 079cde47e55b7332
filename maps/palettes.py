"""Colour-blind-safe palettes, hard-coded (no network, no colour library at run time).

Sequential: viridis (matplotlib, CC0) sampled at 9 stops. Qualitative: Okabe & Ito (2008), safe for the three
common colour-vision deficiencies. Ordered classes: ColorBrewer OrRd and PuOr (Cynthia Brewer, Apache 2.0),
both marked colour-blind safe by ColorBrewer.
"""

from __future__ import annotations

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
