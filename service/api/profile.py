"""What the district profile (``/districts/<key>``) adds to the published figures for its readers.

Social workers read the profile on a phone and on paper; every figure there names its year, a change names the
two years it compares ("2020→2023", from the snapshot's ``base_year``), counts are whole numbers, and a district
for which the statistics publish nothing gets one sentence and the figures that do exist instead of empty tables.
Pure helpers: the route in :mod:`service.web.district_page` passes the loaded snapshot and the district's row.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from geo.pipeline.indicators import REGISTRY
from maps.i18n import fmt_number, indicator_label, t

#: "(5 Jahre)", "in 2 Jahren", "(2 years)", "over 2 years": the nominal window a change label names
_WINDOW = re.compile(r"\s*(?:\((\d+) (?:Jahre|years)\)|\b(?:in|over) (\d+) (?:Jahren|years)\b)")


def is_change(name: str) -> bool:
    """True when ``name`` is an indicator of kind ``change`` (a difference between two years)."""
    ind = REGISTRY.get(name)
    return ind is not None and ind.kind == "change"


def decimals_of(name: str, default: int = 2) -> int:
    """Decimals to show for a value of ``name``.

    Zero for counts (residents, dwellings) and densities, one for shares, rates and means, ``default`` for names
    that are no indicator (indices, margins in SD).
    """
    ind = REGISTRY.get(name)
    if ind is None:
        return default
    return 0 if ind.kind == "count" or ind.unit == "persons/km²" else 1


def change_period(indicators: pd.DataFrame, key: str, name: str, year: Any = None) -> tuple[int, int] | None:
    """``(base year, year)`` of the change ``name`` of district ``key``, from the snapshot's long table.

    ``year`` picks the value (default: the latest published one). None when ``name`` is not a change or has no
    base year.
    """
    if not is_change(name):
        return None
    sub = indicators[(indicators["key"] == key) & (indicators["indicator"] == name)].dropna(subset=["value"])
    if year is not None and not pd.isna(year):
        sub = sub[sub["year"] == int(year)]
    sub = sub.dropna(subset=["base_year"]).sort_values("year")
    if sub.empty:
        return None
    last = sub.iloc[-1]
    return int(last["base_year"]), int(last["year"])


def period_text(period: tuple[int, int] | None) -> str:
    """The two years of a change as ``"2020→2023"``, or the empty string."""
    return f"{period[0]}→{period[1]}" if period else ""


def with_period(label: str, period: tuple[int, int] | None) -> str:
    """A change's label with the years it really compares instead of its nominal window.

    "Bevölkerungsentwicklung (5 Jahre) (%)" -> "Bevölkerungsentwicklung 2020→2023 (%)".
    """
    if not period:
        return label
    text = period_text(period)
    out, n = _WINDOW.subn(f" {text}", label, count=1)
    return out if n else f"{label} ({text})"


def count_text(value: Any, lang: str) -> str:
    """A count as a whole number ("10.130"), or the empty string."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return fmt_number(x, lang, decimals=0) if math.isfinite(x) else ""


def designation_text(row: Any, lang: str) -> str:
    """The designation of an Ortsteil in words, including designations of a whole Stadtbezirk that reach it.

    Those are Bremerhaven's two WiN districts Nord and Süd (``designation_confidence`` ``district-wide``).
    """
    areas = [a for a in str(row.get("designation_areas") or "").split(";") if a and a not in ("nan", "None")]
    programmes = [p for p in str(row.get("designation_programmes") or "").split(";") if p and p not in ("nan",
                                                                                                        "None")]
    words = ", ".join(_word(f"programme.{p}", p, lang) for p in programmes)
    if bool(row.get("designated")):
        return f"{t('profile.designated', lang)}: {words}" + (f" ({'; '.join(areas)})" if areas else "")
    if areas and str(row.get("designation_confidence")) == "district-wide":
        return t("profile.district_wide", lang).format(areas="; ".join(areas), programmes=words)
    return t("profile.not_designated", lang)


def _word(key: str, fallback: str, lang: str) -> str:
    word = t(key, lang)
    return fallback if word == key else word


def no_statistics_text(row: Any, lang: str) -> str:
    """One sentence for a district without population statistics of its own, or empty when it has them.

    Such districts are Bremerhaven's Ortsteile and the port areas.
    """
    has = row.get("has_statistics")
    if has is None or pd.isna(has) or bool(has):
        return ""
    return t("profile.no_statistics", lang).format(name=row.get("name", ""), city=row.get("city", ""))


def context_rows(indicators: pd.DataFrame, key: str, city_key: str, names: list[str], lang: str,
                 latest_year: int) -> list[dict[str, Any]]:
    """Context figures published for ``key`` itself at any level of detail (census, elections).

    One row per indicator with its latest value and year, beside the city's value of that year.
    """
    own = indicators[(indicators["key"] == key) & (indicators["year"] <= latest_year)].dropna(subset=["value"])
    city = indicators[indicators["key"] == city_key].dropna(subset=["value"])
    out = []
    for name, part in own.sort_values("year").groupby("indicator", sort=False):
        if name not in REGISTRY or name in names:
            continue
        last = part.iloc[-1]
        c = city[(city["indicator"] == name) & (city["year"] == last["year"])]
        period = change_period(indicators, key, str(name), last["year"])
        out.append({"name": name, "label": with_period(indicator_label(str(name), lang), period),
                    "value": float(last["value"]), "city": float(c["value"].iloc[0]) if len(c) else math.nan,
                    "decimals": decimals_of(str(name), 1), "year": period_text(period) or int(last["year"]),
                    "unit": REGISTRY[name].unit, "delta": None})
    return out
