"""German words with English as the switch: one gettext catalogue per language, read with Babel.

The words live in ``maps/locale/{de,en}/LC_MESSAGES/messages.po`` (msgid: the key, msgstr: the text; both
catalogues carry the same msgids, tests/maps/test_words.py). ``t(key, lang)`` returns the German text for
``lang="de"`` (the default) and the English one for ``"en"``; an unknown key is returned unchanged, so a missing
translation shows up as the key instead of failing. Units are ``unit.<code>``, legend schemes ``scheme.<name>``.
Indicator labels come from :data:`geo.pipeline.indicators.REGISTRY`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from geo.pipeline.indicators import REGISTRY

LANGS = ("de", "en")
#: the Babel locale of each language (numbers, dates)
LOCALES = {"de": "de_DE", "en": "en_GB"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The words of ``lang`` (msgid -> msgstr of ``maps/locale/<lang>/LC_MESSAGES/messages.po``), read once."""
    with (resources.files("maps") / "locale" / check_lang(lang) / "LC_MESSAGES" / "messages.po").open("rb") as f:
        messages = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in messages if m.id}


def check_lang(lang: str) -> str:
    """``lang`` if supported, else raise ``ValueError`` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def t(key: str, lang: str = "de") -> str:
    """The text of ``key`` in ``lang`` (``"de"`` or ``"en"``)."""
    return catalogue("en" if lang == "en" else "de").get(key, key)


def unit_label(unit: str | None, lang: str = "de") -> str:
    """A unit code (``persons/km²``, ``pp``, ``%``) as words in ``lang``; unknown codes unchanged."""
    if not unit:
        return ""
    text = t(f"unit.{unit}", lang)
    return unit if text == f"unit.{unit}" else text


def indicator_label(name: str, lang: str = "de", *, unit: bool = True) -> str:
    """German or English label of an indicator column, with its unit in words; an unknown column as it is.

    ``unit=False`` gives the label alone, e.g. for a chart title whose axis names the unit; qualifiers such as
    "(unter 65)" stay.
    """
    ind = REGISTRY.get(name)
    if ind is None:
        return name
    label = ind.label_en if lang == "en" else ind.label_de
    return f"{label} ({unit_label(ind.unit, lang)})" if unit and ind.unit not in ("persons", "") else label


def reason_message(text: Any) -> dict[str, Any] | None:
    """The message of a :func:`geo.classify.rows.reason_code` text; None for an empty one or an older sentence.

    Read here rather than in geo.classify so that the words need not import the classification engine.
    """
    text = str(text or "").strip()
    return json.loads(text) if text.startswith("{") else None


def reason_text(reason: str | Mapping[str, Any] | None, lang: str = "de") -> str:
    """Why an area is not classifiable, in words.

    ``reason`` is the engine's message code with its figures (:func:`geo.classify.rows.reason_code`, as JSON
    text or as the message): ``too_few_residents`` (``min``) or ``check_failed`` (``field``, the definition's own
    ``reason``, used when the catalogue has no words ``reason.check.<field>``). An older product's plain sentence
    is shown as it is.
    """
    message = reason if isinstance(reason, Mapping) else reason_message(reason)
    if message is None:
        return str(reason or "").strip().removeprefix("not classifiable: ")
    code = str(message.get("code", ""))
    if code == "too_few_residents":
        return t("reason.too_few_residents", lang).format(min=fmt_number(message.get("min"), lang, decimals=0))
    if code == "check_failed":
        key = f"reason.check.{message.get('field')}"
        words = t(key, lang)
        return str(message.get("reason") or message.get("field")) if words == key else words
    return code


def class_label(field: str, value: str, lang: str = "de") -> str:
    """A class value of ``status_class``/``dynamics_class`` (``very_low``, ``stable``) as a word."""
    prefix = {"status_class": "status", "dynamics_class": "dynamics"}.get(field, field.removesuffix("_class"))
    text = t(f"{prefix}.{value}", lang)
    return value if text == f"{prefix}.{value}" else text


def rule_value(field: str, text: str, lang: str = "de") -> str:
    """A rule condition's non-numeric value or threshold in words.

    Classes (``high;medium`` -> "hoch, mittel"), booleans (``true`` -> "ja"), category ids.
    """
    parts = [p for p in str(text).split(";") if p]
    out = []
    for p in parts:
        if p.lower() in ("true", "false"):
            out.append(t(f"value.{p.lower()}", lang))
        elif field.endswith("_class"):
            out.append(class_label(field, p, lang))
        elif t(f"cat.{p}", lang) != f"cat.{p}":
            out.append(t(f"cat.{p}", lang))
        else:
            out.append(p)
    return ", ".join(out)


def rule_label(field: str, lang: str = "de") -> str | None:
    """Words for a rule field that is not an indicator; None when unknown.

    Category references (``category:win|kleinstquartier`` -> "Kategorie WiN-Gebiet (indiziert) / Kleinstquartier
    trifft zu"), index and class fields.
    """
    if field.startswith("category:"):
        names = " / ".join(t(f"cat.{c}", lang) for c in field.split(":", 1)[1].split("|") if c)
        return t("rule.category", lang).format(names=names)
    text = t(f"field.{field}", lang)
    return None if text == f"field.{field}" else text


def operator_label(op: str, lang: str = "de") -> str:
    """A rule operator as shown to people (``>=`` -> "≥", ``in`` -> "eine von")."""
    text = t(f"op.{op}", lang)
    return op if text == f"op.{op}" else text


def scheme_label(scheme: str, lang: str = "de") -> str:
    """A mapclassify scheme name (``Quantiles``) in words for the legend; an unknown one as it is."""
    text = t(f"scheme.{scheme}", lang)
    return scheme if text == f"scheme.{scheme}" else text


@cache
def _number_symbols(lang: str) -> dict[int, str]:
    """The locale's decimal, group and minus symbols from Babel (CLDR), as a table for ``str.translate``."""
    locale = LOCALES["de" if lang == "de" else "en"]
    return {ord("."): get_decimal_symbol(locale), ord(","): get_group_symbol(locale),
            ord("-"): get_minus_sign_symbol(locale)}


def fmt_number(value: float | None, lang: str = "de", *, decimals: int = 1) -> str:
    """A number with the locale's symbols (Babel, CLDR): German 1.234,5, English 1,234.5; ``None``/NaN -> ``"–"``.

    Python rounds (on the binary value); Babel gives the symbols, looked up once per language, so a table of
    thousands of figures stays as fast as plain formatting.
    """
    if value is None or value != value:
        return "–"
    return f"{value:,.{decimals}f}".translate(_number_symbols(lang))


def _decimals(field: str) -> int:
    """Decimals for a value of ``field``: none for counts and densities, one for other indicators, else two."""
    ind = REGISTRY.get(field)
    if ind is None:
        return 2
    return 0 if ind.kind == "count" or ind.unit == "persons/km²" else 1


def _field_label(field: str, lang: str) -> str:
    return indicator_label(field, lang) if field in REGISTRY else (rule_label(field, lang) or field)


def _signed(value: Any, lang: str) -> str:
    """``+0,84`` / ``-0,12`` (two decimals, with the sign)."""
    if value is None:
        return "–"
    return ("+" if float(value) >= 0 else "-") + fmt_number(abs(float(value)), lang, decimals=2)


def message_text(message: Mapping[str, Any], lang: str = "de") -> str:
    """One message of a designation check (a ``code`` with its figures) in words; an unknown code as the code.

    The messages (:mod:`geo.classify.designation_check`) are a verdict, a condition passed or missed, or what
    drives the index.
    """
    code = str(message.get("code", ""))
    if code == "qualifies_as":
        what = ", ".join(t(f"cat.{c}", lang) for c in message.get("categories") or ())
        return t("verdict.qualifies_as", lang).format(what=what)
    if code in ("condition", "condition_failed"):
        field = str(message.get("field", ""))
        dec = _decimals(field)
        return t(f"driver.{code}", lang).format(
            label=_field_label(field, lang), op=operator_label(str(message.get("op", "")), lang),
            value=fmt_number(message.get("value"), lang, decimals=dec),
            threshold=fmt_number(message.get("threshold"), lang, decimals=dec),
            category=t(f"cat.{message.get('category')}", lang),
            short=fmt_number(message.get("short_sd"), lang, decimals=2))
    if code == "driven_by":
        index = str(message.get("index", ""))
        word = t(f"index.{index}", lang)
        parts = [f"{indicator_label(str(c.get('indicator')), lang)} {_signed(c.get('value'), lang)}"
                 for c in message.get("contributions") or ()]
        return t("verdict.driven_by", lang).format(index=index if word == f"index.{index}" else word) + ": " + \
            "; ".join(parts)
    if code == "not_classifiable":
        why = reason_text(str(message.get("reason") or ""), lang)
        return f"{t('verdict.designated', lang)}; {why}" if message.get("designated") else why
    key = f"verdict.{code}" if code in ("designated_and_indicated", "phase_out_candidate", "new_candidate") \
        else f"driver.{code}"
    text = t(key, lang)
    return code if text == key else text


def messages_text(messages: Any, lang: str = "de") -> str:
    """A verdict or a list of messages in words, ``"; "``-joined; a plain text (an older product) unchanged."""
    if messages is None or (isinstance(messages, float) and messages != messages):
        return ""
    if isinstance(messages, str):
        return messages
    if isinstance(messages, Mapping):
        return message_text(messages, lang)
    return "; ".join(message_text(m, lang) for m in messages)
