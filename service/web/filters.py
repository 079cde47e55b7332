"""The pages' Jinja template globals and filters: the engine's words and numbers in the page's language.

The globals (``tr``, ``lang_url``, ...) and filters (``verdict``, ``driver``, ``num``, ...) are registered for
every template of the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g

from geo.pipeline.indicators import REGISTRY
from maps.i18n import (
    class_label,
    fmt_number,
    indicator_label,
    messages_text,
    operator_label,
    reason_text,
    rule_label,
    rule_value,
    t,
    unit_label,
)
from service.web.page_common import lang_url, switch_lang_url


def tr(key: str) -> str:
    """The catalogue text of ``key`` in the page's language."""
    return t(key, getattr(g, "lang", "de"))


def unit_word(unit: str) -> str:
    """A unit code in words (``pp`` -> "Prozentpunkte")."""
    return unit_label(unit, getattr(g, "lang", "de"))


def reason_word(reason: Any) -> str:
    """Why an area is not classifiable, in the page's language."""
    return reason_text(str(reason or ""), getattr(g, "lang", "de"))


def class_word(field: str, value: Any) -> str:
    """A status or dynamics class id (``very_low``) in words."""
    return class_label(field, str(value), getattr(g, "lang", "de"))


def conditions_filter(text: Any) -> str:
    """The engine's ``"status_index >= 1.0; population >= 2000"`` with labels and words, in the page's language."""
    lang = getattr(g, "lang", "de")
    out = []
    for part in ("" if text is None else str(text)).split(";"):
        bits = part.strip().split(" ", 2)
        if len(bits) != 3:
            out.append(part.strip())
            continue
        fld, op, val = bits
        label = indicator_label(fld, lang) if fld in REGISTRY else (rule_label(fld, lang) or fld)
        try:
            shown = fmt_number(float(val), lang, decimals=2)
        except ValueError:
            shown = rule_value(fld, val, lang)
        out.append(f"{label} {operator_label(op, lang)} {shown}")
    return "; ".join(p for p in out if p)


def tags_filter(text: Any, prefix: str) -> str:
    """``"llq_quartier_im_werden;win"`` -> the translated labels of those tags, joined."""
    lang = getattr(g, "lang", "de")
    tags = [x for x in ("" if text is None else str(text)).split(";") if x and x != "nan"]
    return ", ".join(t(f"{prefix}.{x}", lang) if t(f"{prefix}.{x}", lang) != f"{prefix}.{x}" else x for x in tags)


def verdict_filter(message: Any) -> str:
    """The engine's designation-versus-data verdict (a message code) in the page's language."""
    return messages_text(message, getattr(g, "lang", "de"))


def driver_filter(messages: Any) -> str:
    """What drives the verdict (the engine's messages: conditions, index drivers) in the page's language."""
    return messages_text(messages, getattr(g, "lang", "de"))


def num_filter(value: Any, decimals: int = 1) -> str:
    """A number in the page's language with ``decimals`` decimals; "–" for what is not a number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return fmt_number(x, getattr(g, "lang", "de"), decimals=decimals)



def register(bp: Blueprint) -> None:
    """The template globals and filters of the pages (for every template of the app)."""
    template_globals: dict[str, Callable[..., str]] = {
        "lang_url": lang_url, "switch_lang_url": switch_lang_url, "tr": tr, "unit_word": unit_word,
        "reason_word": reason_word, "class_word": class_word}
    template_filters: dict[str, Callable[..., str]] = {
        "conditions": conditions_filter, "tags": tags_filter, "verdict": verdict_filter, "driver": driver_filter,
        "num": num_filter}
    for name, function in template_globals.items():
        bp.add_app_template_global(function, name)
    for name, function in template_filters.items():
        bp.add_app_template_filter(function, name)
