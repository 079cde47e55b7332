"""The report's words (the catalogue's ``report.*`` keys) and its number formats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from maps.i18n import fmt_number, t

__all__ = ["category_labels", "num", "series", "signed", "split_tags", "tr"]


def tr(key: str, lang: str, **kw: Any) -> str:
    """The report's text ``report.<key>`` in ``lang``, with ``kw`` filled in."""
    text = t(f"report.{key}", lang)
    return text.format(**kw) if kw else text


def has_word(key: str, lang: str = "de") -> bool:
    """Whether the catalogue has ``report.<key>``."""
    return t(f"report.{key}", lang) != f"report.{key}"


def num(v: Any, lang: str, decimals: int = 0) -> str:
    """A number for ``lang`` (``1.234,5`` / ``1,234.5``); ``–`` when missing."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(f):
        return "–"
    return fmt_number(f, lang, decimals=decimals)


def signed(v: Any, lang: str, decimals: int = 2) -> str:
    """A number with its sign: ``+0,60``, ``−0,88`` (typographic minus), ``0,00``; ``–`` when missing."""
    text = num(v, lang, decimals)
    if text == "–":
        return text
    digits = text.lstrip("-")
    if not digits.strip("0,."):
        return digits
    return ("−" + digits) if text.startswith("-") else ("+" + digits)


def split_tags(value: Any) -> list[str]:
    """``"a;b"`` or a list as a list of tags."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v)]
    return [c for c in str(value or "").split(";") if c]


def category_labels(cats: Sequence[str], lang: str) -> str:
    """Category ids as their names, comma-separated (empty without categories)."""
    return ", ".join(t(f"cat.{c}", lang) for c in cats) if len(cats) else ""


def series(frame: pd.DataFrame, column: str) -> list[tuple[int, float]]:
    """(year, value) pairs of ``column`` for a line chart."""
    return [(int(y), float(v)) for y, v in zip(frame["year"], frame[column], strict=True)]
