"""The report's basis and designation sections.

They say what each city's status index rests on, and why a designated or indicated Ortsteil stands where it
does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from maps.i18n import indicator_label, message_text, reason_text, t
from maps.report.data import ReportData
from maps.report.words import category_labels, has_word, num, signed, split_tags, tr

__all__ = ["basis_context", "designation_context", "designation_explanation"]

#: the designation check's verdicts as sentences (older products) -> their codes (``report.check.<code>``)
_CHECK = {"designated and indicated": "designated_and_indicated",
          "designated, not indicated (phase-out candidate)": "phase_out_candidate",
          "indicated, not designated (new candidate)": "new_candidate"}


def _check_verdict(verdict: Any, lang: str) -> str:
    """A verdict of the designation check (a message with a ``code``, or an older product's sentence) in words."""
    code = str(verdict.get("code", "")) if isinstance(verdict, Mapping) else _CHECK.get(str(verdict), "")
    if code and has_word(f"check.{code}"):
        return tr(f"check.{code}", lang)
    return message_text(verdict, lang) if isinstance(verdict, Mapping) else str(verdict)


def designation_explanation(row: Mapping[str, Any], lang: str = "de", *, reason: str | None = None) -> str:
    """Why a designated or indicated Ortsteil stands where it does, in words (report and profile page).

    Built from one row of the published ``designations_versus_data`` (:mod:`geo.classify.designations`): the
    ``explanation`` code with ``status_index``, ``shortfall_sd``, ``designation_areas`` and
    ``indicated_categories``, never from the English ``detail``. ``reason`` is the engine's
    not-classifiable reason for ``no_data`` rows. An empty string when there is nothing to explain.
    """
    code = str(row.get("explanation") or "")
    cats = category_labels(split_tags(row.get("indicated_categories")), lang) or t("cat.none", lang)
    areas = str(row.get("designation_areas") or "").strip() or str(row.get("name") or "")
    values = {"cats": cats, "areas": areas, "status": signed(row.get("status_index"), lang, 2),
              "gap": num(row.get("shortfall_sd"), lang, 2)}
    if code == "no_data":
        why = reason_text(reason, lang) if reason else ""
        return t("explain.no_data", lang) + (f": {why}" if why else "")
    if code in ("agree", "near_miss", "sub_ortsteil_estate", "outdated_designation", "new_candidate"):
        return t(f"explain.{code}", lang).format(**values)
    if not code and row.get("indicated_alternative"):
        return t("explain.alternative_only", lang)
    return ""


def _explanation_code(row: Mapping[str, Any]) -> str:
    code = str(row.get("explanation") or "")
    return code or ("alternative_only" if row.get("indicated_alternative") else "")


def _status_components(definition: Any) -> list[Any]:
    """The components of ``definition``'s status index (its first index when none is called status)."""
    specs = [spec for spec in definition.indices if spec.name == "status"] or list(definition.indices[:1])
    return list(specs[0].components) if specs else []


def basis_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Per city the basis of its classification, and the published evidence for a basis of its own."""
    res, defn = data.result, data.definition
    published = res.meta.get("bases") or {}
    table = res.table[~res.table["is_extra"]] if "is_extra" in res.table else res.table
    rows = []
    for city in dict.fromkeys(str(c) for c in table["city"]):
        sub = defn.basis_for(city)
        own = sub is not defn
        info = published.get(city) if own else published.get("default")
        info = dict(info or sub.basis or {})
        conf = str(info.get("confidence") or "")
        comps = [f"{indicator_label(c.indicator, lang)} – {tr('basis.weight', lang)} {num(c.weight, lang, 1)}"
                 for c in _status_components(sub)]
        uses = {c.indicator for c in _status_components(sub)}
        missing = [indicator_label(c.indicator, lang) for c in _status_components(defn) if c.indicator not in uses]
        rows.append({"city": city, "kind": tr("basis.own" if own else "basis.programme", lang),
                     "label": str(info.get("label") or ""), "description": str(info.get("description") or ""),
                     "confidence": t(f"confidence_level.{conf}", lang) if conf else "–", "components": comps,
                     "not_published": t("basis.not_published", lang).format(city=city, names=", ".join(missing))
                     if own and missing else ""})
    ev = res.meta.get("basis_evidence") or None
    evidence: dict[str, Any] | None = None
    if ev:
        apply_city = str(ev.get("apply_city", ""))
        ev_rows = []
        for r in ev.get("rows") or []:
            verdict = str(r.get("verdict") or "")
            n_other = r.get("n_other_city")
            ev_rows.append({
                "indicator": str(r.get("label_en" if lang == "en" else "label_de") or r.get("indicator")),
                "years": f"{r.get('year') or '–'} / {r.get('target_year') or '–'}", "n": r.get("n") or "–",
                "rho": f"{signed(r.get('rho'), lang)} [{signed(r.get('ci_low'), lang)}; "
                       f"{signed(r.get('ci_high'), lang)}]",
                "coverage": tr("basis.coverage", lang, n=r.get("coverage_other_city") or 0, m=n_other)
                if n_other else "–",
                "verdict": tr(f"proxy.{verdict}", lang) if has_word(f"proxy.{verdict}") else verdict,
                "verdict_id": verdict})
        evidence = {
            "title": tr("basis.evidence", lang, city=apply_city),
            "coverage_col": tr("col.coverage", lang, city=apply_city), "rows": ev_rows,
            "rule": tr("basis.rule", lang, apply=apply_city, fit=ev.get("fit_city", ""),
                       target=indicator_label(str(ev.get("target", "")), lang),
                       boot=num(ev.get("bootstrap"), lang), strong=num(ev.get("strong"), lang, 1),
                       weak=num(ev.get("weak"), lang, 1)),
            "note": str(ev.get("note") or "")}
    return {"basis_rows": rows, "basis_evidence": evidence,
            "needs_evidence": evidence is None and any(defn.bases)}


def designation_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Build the designations table of the report.

    It shows the published designated-versus-data rows with their explanations, or (older products) the
    engine's designation check.
    """
    res = data.result
    dc = res.designation_check
    def programme_words(text: Any) -> str:
        words = [t(f"programme.{p}", lang) for p in split_tags(text)]
        return ", ".join(w.removeprefix("programme.") for w in words)

    programmes = {str(r.key): programme_words(r.designation_programmes) for r in dc.itertuples()} \
        if len(dc) and "designation_programmes" in dc else {}

    def confidence(code: Any) -> str:
        code = str(code or "")
        word = t(f"confidence.{code}", lang)
        return code if word == f"confidence.{code}" else word

    dvd = res.meta.get("designations_versus_data") or None
    if dvd and dvd.get("rows") is not None:
        reasons = res.table.set_index("key")["classifiable_reason"] if "classifiable_reason" in res.table \
            else pd.Series(dtype=object)
        alt = dvd.get("alternative")
        rows: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for r in dvd["rows"]:
            key = str(r.get("key"))
            code = _explanation_code(r)
            counts[code] = counts.get(code, 0) + 1
            alt_text = "–"
            if alt:
                change = str(r.get("change_from_alternative") or "")
                word = t(f"change.{change}", lang)
                alt_cats = category_labels(split_tags(r.get("alternative_categories")), lang) or t("cat.none", lang)
                alt_text = f"{alt_cats} ({word})" if change else alt_cats
            rows.append({
                "key": key, "name": r.get("name", ""), "designated": tr("yes" if r.get("designated") else "no", lang),
                "programmes": programmes.get(key, ""), "confidence": confidence(r.get("designation_confidence")),
                "indicated": category_labels(split_tags(r.get("indicated_categories")), lang) or "–",
                "explanation": designation_explanation(r, lang, reason=reasons.get(key)) or "–",
                "explanation_id": code, "alternative": alt_text,
                "agree": bool(r.get("designated")) == bool(r.get("indicated"))})
        order = ("agree", "near_miss", "sub_ortsteil_estate", "outdated_designation", "new_candidate", "no_data",
                 "alternative_only")
        parts = [f"{counts[c]} {t(f'explain_short.{c}', lang)}" for c in order if counts.get(c)]
        return {"des_rows": rows, "has_designations": bool(rows), "has_explanations": True,
                "has_alternative": bool(alt), "des_alt_note": tr("designations.alt_note", lang, alt=alt) if alt
                else "", "des_summary": tr("designations.summary", lang, parts=", ".join(parts)) if parts else ""}
    rows = [{"key": r.key, "name": r.name, "city": r.city, "designated": tr("yes" if r.designated else "no", lang),
             "programmes": programmes.get(str(r.key), ""), "confidence": confidence(r.designation_confidence),
             "indicated": category_labels([c for c in str(r.indicated_categories or "").split(";") if c], lang)
             or "–",
             "verdict": _check_verdict(r.verdict, lang),
             "agree": bool(r.designated) == bool(r.indicated)} for r in dc.itertuples()]
    return {"des_rows": rows, "has_designations": len(dc) > 0, "has_explanations": False, "has_alternative": False,
            "des_alt_note": "", "des_summary": ""}
