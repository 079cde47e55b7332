"""Eligibility answers (framework-free): per-district answer parts, questions, decision ids, batches.

Every answer of ``/api/v1/eligibility`` is assembled from parts computed once per snapshot
(:func:`district_answers`), so the request path is a lookup plus a JSON dump. The fields of an answer:

``decision_id``
    sha256 (first 32 hex digits) of the canonical JSON of the normalised question, the snapshot version and
    the programme definition hash: the same question asked of the same snapshot and definition always gets
    the same id.
``question``
    The normalised question (``kind`` = ``point`` | ``district`` | ``area``; coordinates rounded to 1e-7
    degrees or 1 cm).
``district`` / ``districts``
    The district answered (``level``, ``key``, ``name``, ``city``) and the chain of districts at every level
    (Ortsteil, Stadtteil, Stadtbezirk, city).
``designation``
    The official designation recorded in the snapshot (``designated``, ``programmes``, ``areas``,
    ``confidence``): an input, shown next to the statistical result, never derived from it.
``classification``
    ``classifiable`` (and why not), the index values and classes (e.g. ``status_class``, ``dynamics_class``),
    ``matrix_cell``, ``stability`` (share of Monte Carlo draws with the same result) and ``borderline``.
``categories``
    Every category of the definition with ``applies`` and its ``reasons``: one per condition with
    ``indicator``, ``label``, ``value``, ``operator``, ``threshold``, ``margin`` (in the indicator's unit),
    ``margin_sd``, ``unit`` and ``passed``.
``funding_strands``
    The strands that apply: categories that carry a budget in the definition and apply (``basis``:
    ``indicated``), and official designations (``basis``: ``designated``); ``budget_eur`` is the data-driven
    share of the budget.
``basis``
    What the area's city is classified on (:meth:`geo.classify.Definition.basis_for`): ``group`` (the city with
    a basis of its own, else None), ``own_basis``, the definition's ``label``, ``confidence`` (high | medium |
    low) and ``description``, ``not_published`` (indicators of the programme's status index that the city's
    basis lacks, e.g. SGB II in Bremerhaven) and ``text`` (``de``, ``en``: the same in words).
``indicators``
    Ortsteile: every component of every index of the area's basis with ``index``, ``indicator``, ``label``
    (``label_de``, ``label_en``), ``value`` (as published), ``value_used`` (after shrinkage, where the
    definition shrinks), ``unit``, ``year`` (the year that value is from), ``direction``, ``weight``, ``z``
    (oriented z-score: higher = more need) and ``contribution`` (``weight * z / SD`` of the weighted sum: the
    components' contributions add up to the index up to its centring; None for an area without an index).
``data_vintage``, ``programme``, ``snapshot_version``
    Statistics year (and the year of each indicator), snapshot creation time, definition id, version, hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.classify import ClassificationResult, Definition
from geo.errors import (
    GeometryError,
    InputError,
    LimitError,
    OutOfAreaError,
    Problem,
    UnknownKeyError,
    ValidationError,
)
from geo.pipeline.indicators import REGISTRY
from geo.pipeline.snapshot import Snapshot

LEVELS = ("ortsteil", "stadtteil", "stadtbezirk")
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)
SUPPORTED_CRS = {"EPSG:4326": "EPSG:4326", "CRS84": "EPSG:4326", "OGC:CRS84": "EPSG:4326",
                 "EPSG:25832": "EPSG:25832", "EPSG:3857": "EPSG:3857", "EPSG:4258": "EPSG:4258",
                 "EPSG:31467": "EPSG:31467"}
#: deepest nesting accepted in a JSON body (GeoJSON needs 7, a programme definition about 6)
MAX_JSON_DEPTH = 64
BATCH_COLUMNS = ["id", "status", "level", "key", "name", "city", "ortsteil_key", "stadtteil_key",
                 "stadtbezirk_key", "designated", "designation_programmes", "categories", "funding_strands",
                 "status_class", "dynamics_class", "stability"]


def clean(value: Any) -> Any:
    """JSON-safe value: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dumps(obj: Any) -> str:
    """Compact JSON (UTF-8 text, no NaN)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decision_id(question: Mapping[str, Any] | str, snapshot_version: str, definition_hash: str) -> str:
    """The deterministic id of a decision (see module docstring); ``question`` as a mapping or its JSON."""
    q = question if isinstance(question, str) else dumps(question)
    payload = f'{{"question":{q},"snapshot_version":{dumps(snapshot_version)},"definition_hash":"{definition_hash}"}}'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------------- bodies


def read_json(raw: bytes | str, what: str = "the body") -> Any:
    """Parse a JSON request body; every way it can fail is an :class:`InputError` (400), never a 500.

    Besides syntax: bytes that are not UTF-8, nesting deeper than :data:`MAX_JSON_DEPTH` (Python's parser
    raises RecursionError at about 1,000 levels; below that every recursive consumer of the value would be at
    risk) and integers of more than 4,300 digits (Python's int-string limit raises ValueError).
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                         problems=[Problem(check="json", message=str(exc)[:200])]) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                         f"{exc.start:,}); send JSON as UTF-8", problems=[Problem(check="encoding",
                                                                                  message="not UTF-8")]) from None
    except RecursionError:
        raise _too_deep(what) from None
    except ValueError as exc:  # int-string conversion limit (JSONDecodeError is handled above)
        raise InputError(f"{what} has a number that cannot be read: {str(exc)[:120]}",
                         problems=[Problem(check="number", message="number too long")]) from None
    check_depth(data, what)
    return data


def _too_deep(what: str) -> InputError:
    return InputError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep",
                      problems=[Problem(check="nesting", message=f"at most {MAX_JSON_DEPTH} levels")])


def check_depth(data: Any, what: str = "the body", limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`InputError` when lists/objects in ``data`` nest deeper than ``limit`` (iterative walk)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, dict | list):
            if depth > limit:
                raise _too_deep(what)
            stack.extend((v, depth + 1) for v in (obj.values() if isinstance(obj, dict) else obj)
                         if isinstance(v, dict | list))


def check_area_geojson(body: Any) -> None:
    """The outline of a GeoJSON area body, checked before it is read as a geometry (:mod:`service.api.area`).

    A Feature's ``geometry`` and every member of a FeatureCollection's ``features`` must be objects; anything
    else is a :class:`GeometryError` naming the member (the geometry reader expects mappings there).
    """
    if not isinstance(body, Mapping):
        return  # answered by area_eligibility
    kind = body.get("type")
    if kind == "FeatureCollection":
        feats = body.get("features")
        if not isinstance(feats, list):
            raise GeometryError(f"the FeatureCollection's 'features' must be a list, got {_kind(feats)}")
        for i, f in enumerate(feats):
            if not isinstance(f, Mapping):
                raise GeometryError(f"features[{i}] must be a GeoJSON Feature object, got {_kind(f)}")
        if len(feats) == 1:
            _check_feature(feats[0], "features[0]")
    elif kind == "Feature":
        _check_feature(body, "the Feature")


def _check_feature(f: Mapping[str, Any], where: str) -> None:
    g = f.get("geometry")
    if f.get("type") == "Feature" and g is not None and not isinstance(g, Mapping):
        raise GeometryError(f"the geometry of {where} must be a GeoJSON geometry object, got {_kind(g)}")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if value is None or isinstance(value, bool | int | float):
        return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class PointQuestion:
    x: float
    y: float
    crs: str

    def normalised(self) -> dict[str, Any]:
        digits = 7 if self.crs in ("EPSG:4326", "EPSG:4258") else 2
        return {"kind": "point", "crs": self.crs, "x": round(self.x, digits), "y": round(self.y, digits)}

    def normalised_json(self) -> str:
        """``dumps(self.normalised())`` without the JSON encoder (Python's float repr is valid JSON)."""
        digits = 7 if self.crs in ("EPSG:4326", "EPSG:4258") else 2
        return f'{{"kind":"point","crs":"{self.crs}","x":{round(self.x, digits)!r},"y":{round(self.y, digits)!r}}}'


def _float(args: Mapping[str, str], name: str) -> float:
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        raise InputError(f"query parameter {name!r} is missing",
                         problems=[Problem(check="missing_parameter", message=f"{name} is required")])
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"query parameter {name!r} is not a number: {raw!r}",
                         problems=[Problem(check="not_a_number", message=f"{name}={raw!r}")]) from None
    if not math.isfinite(value):
        raise InputError(f"query parameter {name!r} must be finite, got {raw!r}",
                         problems=[Problem(check="not_finite", message=f"{name}={raw!r}")])
    return value


def normalise_crs(raw: str | None, default: str = "EPSG:25832") -> str:
    """Canonical name of a supported CRS (``EPSG:25832``, ``EPSG:4326``, ...)."""
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().upper()
    for prefix in ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/", "HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/"):
        if text.startswith(prefix):
            text = "EPSG:" + text[len(prefix):]
    if text.endswith("/OGC/1.3/CRS84"):
        text = "CRS84"
    if text.isdigit():
        text = "EPSG:" + text
    if text not in SUPPORTED_CRS:
        raise InputError(f"unsupported crs {raw!r}; use one of {', '.join(sorted(SUPPORTED_CRS))}",
                         problems=[Problem(check="crs", message=f"crs={raw!r}")])
    return SUPPORTED_CRS[text]


def parse_point_question(args: Mapping[str, str]) -> PointQuestion | str:
    """Validate the query of ``GET /eligibility``: a :class:`PointQuestion` or a district key (str)."""
    if len(args) == 2 and "lon" in args and "lat" in args:  # fast path of the common question
        try:
            lon, lat = float(args["lon"]), float(args["lat"])
        except ValueError:
            pass
        else:
            if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
                return PointQuestion(lon, lat, "EPSG:4326")
    given = {k for k in ("lon", "lat", "x", "y", "district") if args.get(k) not in (None, "")}
    modes = [m for m, need in (("lonlat", {"lon", "lat"}), ("xy", {"x", "y"}), ("district", {"district"}))
             if need & given]
    if len(modes) != 1:
        detail = ("give exactly one of: lon and lat (WGS84), x and y with crs (default EPSG:25832), or district "
                  f"(8-digit key); got {', '.join(sorted(given)) or 'none of them'}")
        raise InputError(detail, problems=[Problem(check="parameters", message=detail)])
    mode = modes[0]
    if mode == "district":
        key = str(args["district"]).strip()
        if not (len(key) == 8 and key.isdigit()):
            raise InputError(f"district must be an 8-digit key such as 04011373, got {key!r}",
                             problems=[Problem(check="key_format", message=f"district={key!r}")])
        return key
    if mode == "lonlat":
        if args.get("crs") not in (None, "") and normalise_crs(args.get("crs")) != "EPSG:4326":
            raise InputError("lon/lat are always WGS84 (EPSG:4326); use x and y for other CRS")
        lon, lat = _float(args, "lon"), _float(args, "lat")
        problems = []
        if not LON_RANGE[0] <= lon <= LON_RANGE[1]:
            problems.append(Problem(check="range", message=f"lon={lon} is outside -180..180"))
        if not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
            problems.append(Problem(check="range", message=f"lat={lat} is outside -90..90"))
        if problems:
            raise InputError("; ".join(p.message for p in problems) + " (lon/lat in WGS84 degrees)",
                             problems=problems)
        return PointQuestion(lon, lat, "EPSG:4326")
    crs = normalise_crs(args.get("crs"))
    x, y = _float(args, "x"), _float(args, "y")
    if crs in ("EPSG:4326", "EPSG:4258"):
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(f"x={x}, y={y} are not longitude/latitude in degrees for {crs}")
    elif abs(x) > 1e8 or abs(y) > 1e8:
        raise InputError(f"x={x}, y={y} are outside the valid range of {crs} (|value| <= 1e8 m)")
    return PointQuestion(x, y, crs)


# ------------------------------------------------------------------------------------- answer parts


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


def _classification_parts(result: ClassificationResult, definition: Definition, *,
                          extra: bool | None = False) -> dict[str, dict[str, Any]]:
    """Per area key: classification, categories with reasons, strands, budget (``extra``: the extra rows;
    None: every row)."""
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
            "not_classifiable_reason": row["classifiable_reason"] or None,
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
            uses=t("basis.uses", lang) + " " + ", ".join(_plain_label(indicator_label(i, lang)) for i in uses),
            confidence=conf)
        if group and missing:
            sentence += " " + t("basis.not_published", lang).format(
                city=str(city), names=", ".join(_plain_label(indicator_label(i, lang)) for i in missing))
        text[lang] = sentence
    return {"group": group, "own_basis": group is not None, "label": str(own.basis.get("label", "") or ""),
            "confidence": confidence or None, "description": str(own.basis.get("description", "") or "") or None,
            "status_indicators": uses, "not_published": missing, "text": text}


def _plain_label(label: str) -> str:
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
    classified = _classification_parts(result, definition)
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


def answer_tails(answers: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each answer as JSON text without its opening brace, ready to follow ``question`` and ``decision_id``."""
    return {k: dumps(v)[1:] for k, v in answers.items()}


def render_answer(tail: str, question: Mapping[str, Any] | str, snapshot_version: str, definition_hash: str) -> str:
    """Splice question (mapping or its JSON) and decision id in front of a precomputed answer tail."""
    q = question if isinstance(question, str) else dumps(question)
    did = decision_id(q, snapshot_version, definition_hash)
    return f'{{"decision_id":"{did}","question":{q},{tail}'


def district_answer_tail(tails: Mapping[str, str], key: str, snapshot_version: str) -> str:
    if key not in tails:
        raise UnknownKeyError(f"no district with key {key!r} in snapshot {snapshot_version}")
    return tails[key]


def outside_error(question: PointQuestion) -> OutOfAreaError:
    return OutOfAreaError(
        f"the point ({question.x}, {question.y}) in {question.crs} lies outside both cities (Bremen and "
        "Bremerhaven); no district contains it",
        problems=[Problem(check="outside", message="point outside Bremen and Bremerhaven")])


# ------------------------------------------------------------------------------------------- batch


@dataclass(frozen=True)
class BatchPoints:
    ids: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    crs: str
    invalid: np.ndarray  # bool: row could not be read as finite coordinates


def parse_batch_csv(data: bytes, *, crs: str | None, max_rows: int) -> BatchPoints:
    """Read ``id,lon,lat`` (WGS84) or ``id,x,y`` (``crs``, default EPSG:25832) from CSV bytes."""
    try:
        text = data.decode("utf-8-sig", errors="strict") if data else ""
    except UnicodeDecodeError as exc:
        raise InputError(f"the CSV body is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"position {exc.start:,}); save the file as UTF-8 (CSV UTF-8 in Excel)",
                         problems=[Problem(check="encoding", message="not UTF-8")]) from None
    if not text.strip():
        raise InputError("the CSV body is empty; send a header 'id,lon,lat' or 'id,x,y' and one row per point")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={"id": str}, sep=None if ";" in text.split("\n", 1)[0]
                            else ",", engine="python" if ";" in text.split("\n", 1)[0] else "c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"the CSV body cannot be read: {exc}") from exc
    cols = [str(c).strip().lower() for c in frame.columns]
    frame.columns = cols
    if "id" not in cols:
        raise InputError(f"the CSV has no 'id' column (columns: {', '.join(cols)})")
    if {"lon", "lat"} <= set(cols):
        xcol, ycol = "lon", "lat"
        crs_name = "EPSG:4326"
        if crs not in (None, "") and normalise_crs(crs) != "EPSG:4326":
            raise InputError("columns lon/lat are WGS84 (EPSG:4326); name them x/y for another crs")
    elif {"x", "y"} <= set(cols):
        xcol, ycol = "x", "y"
        crs_name = normalise_crs(crs)
    else:
        raise InputError(f"the CSV needs columns id,lon,lat or id,x,y (got {', '.join(cols)})")
    _check_rows(len(frame), max_rows)
    xs = pd.to_numeric(frame[xcol], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[ycol], errors="coerce").to_numpy(dtype=float)
    ids = frame["id"].fillna("").astype(str).to_numpy(dtype=object)
    return BatchPoints(ids=ids, xs=xs, ys=ys, crs=crs_name, invalid=_invalid(xs, ys, crs_name))


def _check_rows(n: int, max_rows: int) -> None:
    if n > max_rows:
        raise LimitError(f"the batch has {n:,} rows; at most {max_rows:,} are accepted per request "
                         "(split the file)")
    if n == 0:
        raise InputError("the batch has no rows")


def _invalid(xs: np.ndarray, ys: np.ndarray, crs: str) -> np.ndarray:
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if crs in ("EPSG:4326", "EPSG:4258"):
        with np.errstate(invalid="ignore"):
            bad |= ~((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
    return bad


def parse_batch_geojson(obj: Any, *, crs: str | None, max_rows: int) -> BatchPoints:
    """Read a GeoJSON FeatureCollection of Points (id from ``id`` or ``properties.id``; WGS84 unless ``crs``)."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InputError("the GeoJSON body must be a FeatureCollection of Point features")
    feats = obj.get("features")
    if not isinstance(feats, list):
        raise InputError("the FeatureCollection has no 'features' list")
    _check_rows(len(feats), max_rows)
    crs_name = normalise_crs(crs, default="EPSG:4326")
    n = len(feats)
    ids = np.empty(n, dtype=object)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    for i, f in enumerate(feats):
        if not isinstance(f, Mapping):
            ids[i] = str(i)
            continue
        raw_props = f.get("properties")
        props: Mapping[str, Any] = raw_props if isinstance(raw_props, Mapping) else {}
        fid = f.get("id", props.get("id", i))
        ids[i] = str(fid)
        g = f.get("geometry")
        if isinstance(g, Mapping) and g.get("type") == "Point":
            c = g.get("coordinates")
            if isinstance(c, list) and len(c) >= 2 and all(isinstance(v, int | float) for v in c[:2]):
                xs[i], ys[i] = float(c[0]), float(c[1])
    return BatchPoints(ids=ids, xs=xs, ys=ys, crs=crs_name, invalid=_invalid(xs, ys, crs_name))


def leaf_table(answers: Mapping[str, Mapping[str, Any]], leaf_keys: np.ndarray) -> pd.DataFrame:
    """One row per locator leaf with the batch output columns (without id and status)."""
    rows = []
    for key in leaf_keys:
        a = answers[str(key)]
        chain = {d["level"]: d["key"] for d in a["districts"]}
        cls = a.get("classification") or {}
        rows.append({
            "level": a["district"]["level"],
            "key": str(key),
            "name": a["district"]["name"],
            "city": a["district"]["city"],
            "ortsteil_key": chain.get("ortsteil", ""),
            "stadtteil_key": chain.get("stadtteil", ""),
            "stadtbezirk_key": chain.get("stadtbezirk", ""),
            "designated": bool(a["designation"]["designated"]),
            "designation_programmes": ";".join(a["designation"]["programmes"]),
            "categories": ";".join(c["id"] for c in a.get("categories", []) if c["applies"]),
            "funding_strands": ";".join(dict.fromkeys(s["id"] for s in a["funding_strands"])),
            "status_class": cls.get("status_class") or "",
            "dynamics_class": cls.get("dynamics_class") or "",
            "stability": cls.get("stability"),
        })
    out = pd.DataFrame(rows)
    out["stability"] = out["stability"].astype(float)
    return out


def batch_frame(ids: np.ndarray, leaves: np.ndarray, invalid: np.ndarray, table: pd.DataFrame) -> pd.DataFrame:
    """Assemble the batch answer: one row per input point, vectorised (``table`` from :func:`leaf_table`)."""
    found = leaves >= 0
    take = np.where(found, leaves, 0)
    out = table.iloc[take].reset_index(drop=True)
    status = np.where(invalid, "invalid", np.where(found, "ok", "outside"))
    empty = ~found
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].astype(object)
        out.loc[empty, col] = None
    out.insert(0, "status", status)
    out.insert(0, "id", ids)
    return out[BATCH_COLUMNS]


def check_batch_question(points: BatchPoints) -> None:
    if len(points.ids) and points.invalid.all():
        raise ValidationError(f"none of the {len(points.ids)} rows has valid coordinates in {points.crs}")
