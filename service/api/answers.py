"""The published answer of every district, computed once per snapshot (framework-free).

:func:`district_answers` builds the parts of every answer of ``/api/v1/eligibility`` (designation,
classification, categories with their reasons, funding strands, basis, indicators); the fields are described
in :mod:`service.api.eligibility`, which splices them into answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.classify import ClassificationResult, Definition
from geo.pipeline.indicators import REGISTRY
from geo.pipeline.snapshot import Snapshot
from maps.i18n import reason_message, reason_text
from service.api.eligibility import LEVELS, clean


def _text(value: Any) -> str:
    """A text cell; missing (None, NaN, pd.NA: pandas 3 reads empty strings of a GeoPackage as NaN) -> ""."""
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _designation(row: Mapping[str, Any]) -> dict[str, Any]:
    progs = _text(row.get("designation_programmes"))
    areas = _text(row.get("designation_areas"))
    designated = row.get("designated")
    return {
        "designated": bool(designated) if _text(designated) else False,
        "programmes": [p for p in progs.split(";") if p],
        "areas": [a for a in areas.split(";") if a],
        "confidence": _text(row.get("designation_confidence")) or None,
    }


def _unit(field: str, unit: Any, definition: Definition) -> str:
    if isinstance(unit, str) and unit:
        return unit
    for ind in definition.indicators:
        if field in (ind.id, ind.column):
            return ind.unit
    if field in REGISTRY:
        return REGISTRY[field].unit
    return ""


def _label(field: str, definition: Definition) -> str:
    for ind in definition.indicators:
        if field in (ind.id, ind.column):
            return ind.label
    for spec in definition.indices:
        if field in (spec.field, spec.class_field):
            return str(spec.label) if getattr(spec, "label", "") else spec.name
    if field in REGISTRY:
        return REGISTRY[field].label_en
    return field


def _reason(r: Any, definition: Definition) -> dict[str, Any]:
    value = r.value if isinstance(r.value, float) and math.isfinite(r.value) else (r.value_text or None)
    threshold = (r.threshold if isinstance(r.threshold, float) and math.isfinite(r.threshold)
                 else (r.threshold_text or None))
    return clean({
        "indicator": r.field,
        "label": _label(str(r.field), definition),
        "condition": r.description,
        "value": value,
        "operator": r.operator,
        "threshold": threshold,
        "margin": r.margin,
        "margin_sd": r.margin_sd,
        "unit": _unit(str(r.field), r.unit, definition),
        "passed": bool(r.passed),
        "part": r.part,
    })


def classification_parts(result: ClassificationResult, definition: Definition, *,
                          extra: bool | None = False) -> dict[str, dict[str, Any]]:
    """Per area key: classification, categories with reasons, strands and budget.

    ``extra``: False for the regular rows, True for the extra rows, None for every row.
    """
    table = result.table if extra is None else result.table[result.table["is_extra"] == extra]
    # reasons bucketed once per (key, category), in the result's order
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in result.reasons.itertuples(index=False):
        by_pair.setdefault((str(r.key), str(r.category)), []).append(_reason(r, definition))
    budget_cats = set(definition.budget.categories) if definition.budget else set()
    labels = {c.id: c.label for c in definition.categories}
    out: dict[str, dict[str, Any]] = {}
    index_cols = [c for spec in definition.indices for c in (spec.field, spec.class_field)]
    for row in table.to_dict("records"):
        key = str(row["key"])
        cats = [{"id": cat.id, "label": cat.label, "description": cat.description,
                 "applies": cat.id in row["categories"], "reasons": by_pair.get((key, cat.id), [])}
                for cat in definition.categories]
        classification = {
            "classifiable": bool(row["classifiable"]),
            "not_classifiable_reason": reason_text(row["classifiable_reason"], "en") or None,
            "not_classifiable_code": reason_message(row["classifiable_reason"]),
            **{c: row.get(c) if row.get(c) != "" else None for c in index_cols},
            "matrix_cell": row.get("matrix_cell") or None,
            "stability": row.get("stability"),
            "borderline": bool(row.get("borderline", False)),
            "population": row.get("population"),
        }
        strands = [{"id": c, "label": labels.get(c, c), "basis": "indicated"}
                   for c in row["categories"] if c in budget_cats]
        out[key] = clean({
            "classification": classification,
            "categories": cats,
            "categories_applying": list(row["categories"]),
            "strands": strands,
            "budget_eur": row.get("budget_eur"),
        })
    return out


def basis_answer(definition: Definition, city: Any) -> dict[str, Any]:
    """The basis areas of ``city`` are classified on, with German and English text (module docstring)."""
    from maps.i18n import indicator_label, t

    own = definition.basis_for(city)
    group = str(city) if own is not definition else None
    main = _status_components(definition)
    uses = _status_components(own)
    missing = [i for i in main if i not in uses]
    confidence = str(own.basis.get("confidence", "") or "")
    text = {}
    for lang in ("de", "en"):
        conf = t(f"confidence_level.{confidence}", lang) if confidence else t("map.no_data", lang)
        sentence = t("basis.sentence", lang).format(
            city=str(city), kind=t("basis.kind_own" if group else "basis.kind_programme", lang),
            uses=t("basis.uses", lang) + " " + ", ".join(plain_label(indicator_label(i, lang)) for i in uses),
            confidence=conf)
        if group and missing:
            sentence += " " + t("basis.not_published", lang).format(
                city=str(city), names=", ".join(plain_label(indicator_label(i, lang)) for i in missing))
        text[lang] = sentence
    return {"group": group, "own_basis": group is not None, "label": str(own.basis.get("label", "") or ""),
            "confidence": confidence or None, "description": str(own.basis.get("description", "") or "") or None,
            "status_indicators": uses, "not_published": missing, "text": text}


def plain_label(label: str) -> str:
    """An indicator label without its trailing unit (``"SGB-II-Quote (%)"`` -> ``"SGB-II-Quote"``)."""
    return label[: -len(label.rsplit(" (", 1)[-1]) - 2] if label.endswith(")") and " (" in label else label


def _status_components(definition: Definition) -> list[str]:
    names = [spec for spec in definition.indices if spec.name == "status"] or list(definition.indices[:1])
    return [c.indicator for spec in names for c in spec.components]


def index_indicators(definition: Definition, result: ClassificationResult, frame: pd.DataFrame
                     ) -> dict[str, list[dict[str, Any]]]:
    """Per Ortsteil key: the components of every index of its basis (value, unit, year, z, contribution).

    The z-scores and contributions come from the index model stored with the published classification
    (``result.model``, restored once); without a stored model (an older build) they are None.
    """
    from geo.classify.engine import make_scorer

    scorer = None
    if result.model is not None and result.model.definition_hash == definition.hash:
        scorer = make_scorer(result.model, definition)
    table = result.table[~result.table["is_extra"].astype(bool)] if "is_extra" in result.table else result.table
    classifiable = dict(zip(table["key"].astype(str), table["classifiable"].astype(bool), strict=True))
    rows = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])).reset_index(drop=True)
    rows["key"] = rows["key"].astype(str)
    gcol = definition.group_column
    groups = rows[gcol].astype(str) if gcol in rows.columns else pd.Series(["*"] * len(rows))
    out: dict[str, list[dict[str, Any]]] = {}
    for group in groups.unique():
        part = rows[(groups == group).to_numpy()].reset_index(drop=True)
        own = definition.basis_for(group)
        model = None
        if scorer is not None:
            sub = scorer if own is definition else (scorer.bases or {}).get(str(group))
            model = sub.index_model if sub is not None else None
        comps: dict[str, np.ndarray] = {}
        contrib: dict[str, np.ndarray | None] = {}
        used: dict[str, np.ndarray] = {}
        if model is not None:
            try:
                comps = model.components(part)
                used = model.indicator_values(part)
                contrib = {name: model.contributions(name, c) for name, c in comps.items()}
            except (KeyError, ValueError):  # a column the model reads is missing: values without z
                comps, contrib, used = {}, {}, {}
        fitted = {spec.name: int(getattr(model, "reference_size_", {}).get(spec.name, 0)) > 0
                  for spec in own.indices}
        for i, key in enumerate(part["key"]):
            items = []
            for spec in own.indices:
                for k, comp in enumerate(spec.components):
                    ind = own.indicator(comp.indicator)
                    reg = REGISTRY.get(ind.column)
                    value = _num(part.at[i, ind.column]) if ind.column in part.columns else None
                    year = part.at[i, f"{ind.column}__year"] if f"{ind.column}__year" in part.columns else None
                    z = _num(comps[spec.name][i, k]) if spec.name in comps and fitted[spec.name] else None
                    c = contrib.get(spec.name)
                    shrunk = _num(used[ind.id][i]) if ind.shrinkage is not None and ind.id in used else None
                    items.append({
                        "index": spec.name, "indicator": ind.id, "label": ind.label or ind.id,
                        "label_de": reg.label_de if reg else ind.label, "label_en": reg.label_en if reg else ind.label,
                        "value": value, "value_used": shrunk, "unit": ind.unit,
                        "year": int(year) if year is not None and _text(year) and value is not None else None,
                        "direction": ind.direction, "weight": comp.weight,
                        "optional": comp.optional, "z": z,
                        "contribution": (_num(c[i, k]) if c is not None and z is not None
                                         and classifiable.get(key, False) else None),
                    })
            out[str(key)] = clean(items)
    return out


def _num(value: Any) -> float | None:
    x = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(x) if pd.notna(x) and math.isfinite(float(x)) else None


def district_answers(snapshot: Snapshot, result: ClassificationResult, definition: Definition,
                     *, indicator_years: Mapping[str, int] | None = None,
                     wide: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
    """Answer parts (everything but ``question`` and ``decision_id``) for every district key of every level.

    ``wide``: the snapshot's Ortsteil table of the latest year (read from ``snapshot`` when omitted), for the
    index indicators of every Ortsteil with the year of each value.
    """
    layers = {lvl: snapshot.layer(lvl) for lvl in LEVELS}
    rows = {lvl: {str(r["key"]): r for r in frame.drop(columns="geometry").to_dict("records")}
            for lvl, frame in layers.items()}
    city_names = {}
    for frame in layers.values():
        for key, city in zip(frame["city_key"].astype(str), frame["city"].astype(str), strict=True):
            city_names[key] = city
    classified = classification_parts(result, definition)
    indicators = index_indicators(definition, result, snapshot.wide("ortsteil") if wide is None else wide)
    bases: dict[str, dict[str, Any]] = {}
    used = set(definition.input_columns()) | {ind.column for d in (definition, *definition.bases.values())
                                              for ind in d.indicators}
    years = {k: int(v) for k, v in (indicator_years or {}).items() if k in used}
    common = {
        "snapshot_version": snapshot.version,
        "programme": {"id": definition.id, "version": definition.version, "title": definition.title,
                      "hash": definition.hash},
        "data_vintage": {"statistics_year": snapshot.latest_year, "indicator_years": years,
                         "snapshot_created": snapshot.manifest.get("created")},
    }
    children: dict[str, list[dict[str, Any]]] = {}
    for key, r in rows["ortsteil"].items():
        entry = {"key": key, "name": r["name"],
                 "categories": classified.get(key, {}).get("categories_applying", [])}
        children.setdefault(str(r["stadtteil_key"]), []).append(entry)
        children.setdefault(str(r["stadtbezirk_key"]), []).append(entry)
    answers: dict[str, dict[str, Any]] = {}
    for lvl in LEVELS:
        for key, r in rows[lvl].items():
            chain = []
            if lvl == "ortsteil":
                chain.append({"level": "ortsteil", "key": key, "name": r["name"]})
            if lvl in ("ortsteil", "stadtteil"):
                sk = key if lvl == "stadtteil" else str(r["stadtteil_key"])
                chain.append({"level": "stadtteil", "key": sk, "name": rows["stadtteil"].get(sk, {}).get("name")})
            bk = key if lvl == "stadtbezirk" else str(r["stadtbezirk_key"])
            chain.append({"level": "stadtbezirk", "key": bk, "name": rows["stadtbezirk"].get(bk, {}).get("name")})
            ck = str(r["city_key"])
            chain.append({"level": "city", "key": ck, "name": city_names.get(ck, r["city"])})
            designation = _designation(r)
            parts = classified.get(key)
            answer: dict[str, Any] = {
                "district": {"level": lvl, "key": key, "name": r["name"], "city": r["city"]},
                "districts": chain,
                "designation": designation,
            }
            strands = [{"id": p, "label": p, "basis": "designated"} for p in designation["programmes"]]
            if parts is not None:
                answer["classification"] = parts["classification"]
                answer["categories"] = parts["categories"]
                answer["funding_strands"] = parts["strands"] + strands
                answer["budget_eur"] = parts["budget_eur"]
            else:
                answer["classification"] = None
                answer["categories"] = []
                answer["funding_strands"] = strands
                answer["budget_eur"] = None
                answer["note"] = (f"the programme classifies Ortsteile; the {lvl} is answered with its "
                                  "Ortsteile and their categories")
                answer["ortsteile"] = sorted(children.get(key, []), key=lambda e: e["key"])
            city = str(r["city"])
            if city not in bases:
                bases[city] = basis_answer(definition, city)
            answer["basis"] = bases[city]
            if lvl == "ortsteil":
                answer["indicators"] = indicators.get(key, [])
            answer["eligible"] = bool(answer["funding_strands"])
            answer.update(common)
            answers[key] = clean(answer)
    return answers
