"""Class numbers and legends for one map layer: categories by a fixed order, indicator values by a mapclassify scheme.

Class ``-1`` means no value; a legend entry is ``{"label", "color", "count"}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from maps import palettes
from maps.i18n import fmt_number, scheme_label, t, unit_label

SCHEMES = {"Quantiles", "NaturalBreaks", "FisherJenks", "EqualInterval", "BoxPlot", "StdMean"}


def legend_entries(labels: Sequence[str], colours: Sequence[str], classes: np.ndarray) -> list[dict[str, Any]]:
    """One legend entry per class: its label, colour and how many districts it holds."""
    return [{"label": lab, "color": col, "count": int((classes == i).sum())}
            for i, (lab, col) in enumerate(zip(labels, colours, strict=True))]


def categorical_classes(values: Sequence[Any], order: Sequence[str], colours: Mapping[str, str],
                        labels: Mapping[str, str], *,
                        keep_empty: bool = True) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Class numbers of categorical values by their place in ``order`` (-1: not in it), and the legend."""
    index = {v: i for i, v in enumerate(order)}
    classes = np.array([index.get(v, -1) if isinstance(v, str) else -1 for v in values], dtype=int)
    legend = legend_entries([labels[v] for v in order], [colours[v] for v in order], classes)
    if not keep_empty:
        legend = [item for item in legend if item["count"]]  # pragma: no cover - indices would shift
    return classes, legend


def classify_values(values: pd.Series, *, scheme: str, k: int, lang: str, unit: str = "",
                    decimals: int = 1) -> tuple[np.ndarray, list[dict[str, Any]], str]:
    """Class numbers (-1 = no value) and legend entries for one indicator, with mapclassify.

    Returns the classes, the legend (label with class bounds, colour, count) and a note naming the scheme.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown classification scheme {scheme!r}; one of {sorted(SCHEMES)}")
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    classes = np.full(len(v), -1, dtype=int)
    distinct = np.unique(v[ok])
    if len(distinct) == 0:
        return classes, [], scheme_label(scheme, lang)
    k_eff = int(max(1, min(k, len(distinct))))
    if k_eff == 1:
        bins = np.array([distinct[0]])
        classes[ok] = 0
    else:
        kwargs = {} if scheme in ("BoxPlot", "StdMean") else {"k": k_eff}
        with warnings.catch_warnings():  # FisherJenks without numba: pure Python, fine for a few hundred areas
            warnings.simplefilter("ignore", UserWarning)
            import mapclassify  # here, not at the top: matplotlib with it costs 0.3 s to every importer of maps

            fitted = getattr(mapclassify, scheme)(v[ok], **kwargs)
        bins = np.asarray(fitted.bins, dtype=float)
        classes[ok] = np.asarray(fitted.yb, dtype=int)
    n = len(bins)
    colours = palettes.sequential(max(n, 2))[:n] if n > 1 else [palettes.sequential(2)[1]]
    lows = np.concatenate([[np.nanmin(v[ok])], bins[:-1]])
    suffix = f" {unit_label(unit, lang)}" if unit and unit not in ("persons",) else ""
    labels = []
    for i, (lo, hi) in enumerate(zip(lows, bins, strict=True)):
        lo_txt = fmt_number(lo, lang, decimals=decimals)
        hi_txt = fmt_number(hi, lang, decimals=decimals)
        labels.append(f"{lo_txt} – {hi_txt}{suffix}" if i == 0 else f"> {lo_txt} – {hi_txt}{suffix}")
    legend = legend_entries(labels, colours, classes)
    return classes, legend, f"{scheme_label(scheme, lang)}, {n} {t('map.classes', lang)}"
