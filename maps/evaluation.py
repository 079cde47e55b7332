"""The evaluation in words, for the programme report and the monitoring page.

The engine's message codes (:mod:`geo.analysis.monitoring.messages`) become German or English text.

The engine returns codes with figures (``few_pre_years`` with ``n``, ``start``, ``years``, ``min``); the words are
the catalogue's ``evaluation.reason.<code>``, ``evaluation.caveat.<code>`` and ``evaluation.verdict.*``, the
figures formatted for the language here (decimal comma in German, typographic minus, signs on changes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from maps.i18n import fmt_number, indicator_label, t

__all__ = ["caveat_text", "reasons_text", "signed", "verdict_words"]

#: parameters of the messages that are signed changes (one sign, two decimals)
_SIGNED = ("estimate", "low", "high")


def signed(value: Any, lang: str, decimals: int = 2) -> str:
    """A change with its sign: ``+0,60``, ``−0,88`` (typographic minus); ``–`` when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    text = fmt_number(abs(v), lang, decimals=decimals)
    if not text.strip("0,."):
        return text
    return ("−" if v < 0 else "+") + text


def _code(message: Any) -> tuple[str, Mapping[str, Any]]:
    """A :class:`~geo.analysis.monitoring.messages.Message` or its published record as (code, params)."""
    if isinstance(message, Mapping):
        return str(message.get("code", "")), message.get("params") or {}
    return str(message.code), message.params


def _programme_years(years: Mapping[str, Any], lang: str) -> str:
    parts = []
    for tag, year in years.items():
        word = t(f"programme.{tag}", lang)
        parts.append(f"{tag if word == f'programme.{tag}' else word} {year}")
    return ", ".join(parts)


def _params(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in _SIGNED:
            out[name] = signed(value, lang)
        elif name == "years" and isinstance(value, Mapping):
            out[name] = _programme_years(value, lang)
        elif name == "years":
            out[name] = ", ".join(map(str, value)) or t("evaluation.none", lang)
        elif name == "outcomes":
            out[name] = ", ".join(indicator_label(str(o), lang, unit=False) for o in value)
        elif name == "share":
            out[name] = fmt_number(100 * float(value), lang, decimals=0) + " %"
        else:
            out[name] = "–" if value is None else value
    return out


def message_text(kind: str, message: Any, lang: str) -> str:
    """One reason (``kind="reason"``) or caveat (``"caveat"``) in ``lang``; an unknown code as the code."""
    code, params = _code(message)
    key = f"evaluation.{kind}.{code}"
    text = t(key, lang)
    return code if text == key else text.format(**_params(params, lang))


def reasons_text(reasons: Iterable[Any] | None, lang: str) -> str:
    """The reasons of one result row, ``;``-joined (empty when there are none)."""
    return "; ".join(message_text("reason", m, lang) for m in reasons or ())


def caveat_text(caveat: Any, lang: str) -> str:
    """One caveat of an evaluation as a sentence."""
    return message_text("caveat", caveat, lang)


def _outcome_sentence(message: Any, lang: str) -> str:
    code, p = _code(message)
    name = indicator_label(str(p.get("outcome", "")), lang, unit=False)
    if code != "compared":
        return t("evaluation.verdict.too_few_comparable", lang).format(name=name)

    def s(name: str) -> str:
        return signed(p.get(name), lang, 1)

    return t("evaluation.verdict.compared", lang).format(
        name=name, y0=int(p["base_year"]), y1=int(p["end_year"]), n=p["n_treated"], treated=s("treated_change"),
        nc=p["n_controls_matched"], controls=s("control_change"), estimate=s("estimate"),
        ci=f"[{s('ci_low')}; {s('ci_high')}]", groups=f"[{s('placebo_groups_low')}; {s('placebo_groups_high')}]",
        py=p.get("placebo_year"), placebo=f"{s('placebo_estimate')} [{s('placebo_ci_low')}; {s('placebo_ci_high')}]",
        outside=p["n_outside_support"])


def verdict_words(verdict: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Put the plain verdict of the matched change comparison into words in ``lang``.

    The words are a headline, one sentence per outcome with its numbers and intervals, and the limits
    (``verdict`` comes from :func:`geo.analysis.monitoring.comparison_verdict`).
    """
    why = t("evaluation.verdict.no_pre_years" if verdict.get("no_pre_years") else "evaluation.verdict.few_pre_years",
            lang)
    headline = t("evaluation.verdict.headline", lang).format(
        why=why, pattern=t(f"evaluation.pattern.{verdict.get('pattern', 'mixed')}", lang))
    outcomes: Sequence[Any] = verdict.get("outcomes") or ()
    limits = [t(f"evaluation.limit.{k}", lang) for k in ("list", "smaller", "counterfactual", "matching", "placebo")]
    return {"headline": headline, "outcomes": [_outcome_sentence(m, lang) for m in outcomes], "limits": limits}
