"""Eligibility of a drawn or uploaded area (framework-free).

The polygon's counts are estimated by areal interpolation (:func:`geo.analysis.interpolate.estimate_custom_area`) and
the estimate is scored with the stored index model of the official classification
(:func:`geo.classify.engine.score_rows`): the means, SDs, priors, weights and cut-offs fitted on the
snapshot's Ortsteile, which a drawn area never changes. Nothing is refitted per request; the answer is the one
the full classification gives the area as an *extra row*. Monte Carlo robustness is not run for a single drawn
area (``stability`` is null); the answer says so.

Everything a request needs is prepared once per snapshot by :func:`service.api.area_setup.prepare_area` (the
districts' own geometries and spatial index, the restored model); see :mod:`geo.analysis.interpolate` for why
request threads must never prepare shared geometries themselves.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.analysis.interpolate import AreaIndex, estimate_custom_area
from geo.classify import ClassificationResult, Definition
from geo.errors import GeometryError
from service.api.answers import classification_parts
from service.api.area_setup import AreaPrep, prepare_area
from service.api.eligibility import clean, decision_id
from service.api.state import ServiceState

AREA_KEY = "custom-area"
_PREPARE_LOCK = threading.Lock()


def area_prep(state: ServiceState) -> AreaPrep:
    """The :class:`AreaPrep` of ``state``: ``state.area`` when ``load_state`` prepared it.

    Otherwise it is built once per snapshot, by the first request, under a lock, into private objects that no
    other thread sees before they are complete, and kept in ``state.cache``. Request threads never prepare or
    index the shared snapshot geometries themselves (see :mod:`geo.analysis.interpolate` on threads).
    """
    ready = getattr(state, "area", None)
    if isinstance(ready, AreaPrep):
        return ready
    found = state.cache.get("area_prep")
    if found is None:
        with _PREPARE_LOCK:
            found = state.cache.get("area_prep")
            if found is None:
                found = prepare_area(state.wide, state.definition, state.result)
                state.cache["area_prep"] = found
    return found


def area_index(state: ServiceState) -> AreaIndex:
    """The districts prepared for drawn areas (:func:`geo.analysis.interpolate.prepare_area_index`) of ``state``."""
    return area_prep(state).index


def complete_estimate(frame: pd.DataFrame, sources: pd.DataFrame, wide: pd.DataFrame,
                      needed: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Fill the columns the definition needs that areal interpolation of one year's counts cannot give.

    * a rate ``X`` with ``X__numerator``/``X__denominator`` in the wide table (e.g. the 2013 migration share):
      both counts are shared out by area like the other counts and ``X`` recomputed (percent);
    * anything else (changes over years): the mean of the overlapped districts' values weighted by their share
      of the estimated residents (an approximation, named in the answer's notes).
    """
    out = frame.copy()
    notes: list[str] = []
    todo = [c for c in needed if c not in out.columns and c in wide.columns]
    if not todo:
        return out, notes
    cols = ["key", *(x for c in todo for x in (c, f"{c}__numerator", f"{c}__denominator") if x in wide.columns)]
    with_stats = sources[sources["has_statistics"]]
    attrs = pd.DataFrame(wide.loc[wide["key"].astype(str).isin(with_stats["key"]), cols])
    src = with_stats.merge(attrs, on="key", how="left", suffixes=("", "_w"))
    share = src["district_share"].to_numpy(dtype=float)
    weight = src["weight_in_estimate"].to_numpy(dtype=float)
    for col in todo:
        num, den = f"{col}__numerator", f"{col}__denominator"
        if num in src.columns and den in src.columns:
            n = np.nansum(src[num].to_numpy(dtype=float) * share)
            d = np.nansum(src[den].to_numpy(dtype=float) * share)
            out[col] = 100.0 * n / d if d > 0 else np.nan
            notes.append(f"{col}: recomputed from area-weighted counts of its own year")
        else:
            vals = pd.to_numeric(src[col], errors="coerce").to_numpy(dtype=float)
            ok = ~np.isnan(vals) & ~np.isnan(weight)
            total = float(np.sum(weight[ok])) if ok.any() else 0.0
            out[col] = float(np.sum(vals[ok] * weight[ok]) / total) if total > 0 else np.nan
            notes.append(f"{col}: mean of the overlapped districts weighted by estimated residents")
    return out, notes


def area_parts(scored: ClassificationResult, definition: Definition) -> dict[str, Any]:
    """Classification, categories with reasons and strands of the one scored area.

    Built by the district answers' own builder, :func:`service.api.answers.classification_parts`.
    """
    parts = next(iter(classification_parts(scored, definition, extra=None).values()))
    return {k: parts[k] for k in ("classification", "categories", "strands")}


def area_question(geom: Any) -> dict[str, Any]:
    """Normalised question for an area: sha256 of its outline in EPSG:25832 rounded to 1 cm."""
    normal = shapely.normalize(shapely.set_precision(geom, 0.01))
    digest = hashlib.sha256(shapely.to_wkb(normal, hex=False)).hexdigest()
    return {"kind": "area", "crs": "EPSG:25832", "geometry_sha256": digest}


def area_eligibility(state: ServiceState, body: Any, *, crs: str | None, max_vertices: int) -> dict[str, Any]:
    """The eligibility answer for a GeoJSON polygon (Geometry, Feature or one-feature FeatureCollection)."""
    if not isinstance(body, Mapping):
        raise GeometryError("the body must be a GeoJSON object (Polygon, MultiPolygon, Feature or "
                            "FeatureCollection with one feature)")
    use_crs = crs if crs else (None if "crs" in body else "EPSG:4326")
    prep = area_prep(state)
    est = estimate_custom_area(body, prep.index, crs=use_crs, key=AREA_KEY, name="Drawn area",
                               max_vertices=max_vertices)
    frame, notes = complete_estimate(est.frame, est.sources, prep.index.frame, state.definition.input_columns())
    sub = prep.scorer.score(frame)
    parts = area_parts(sub, state.definition)
    geom = est.frame.geometry.iloc[0]
    question = area_question(geom)
    row = est.frame.iloc[0]
    sources = clean(est.sources.to_dict("records"))
    common = state.answers[next(iter(state.answers))]
    answer = {
        "decision_id": decision_id(question, state.version, state.definition.hash),
        "question": question,
        "district": {"level": "area", "key": None, "name": "Drawn area", "city": clean(row.get("city"))},
        "districts": [{"level": "ortsteil", "key": s["key"], "name": s["name"],
                       "share_of_area": s["custom_area_share"]} for s in sources],
        "designation": {"designated": False, "programmes": [], "areas": [], "confidence": None,
                        "note": "official designations are recorded per district; see the overlapped districts"},
        "classification": parts["classification"] | {"stability_note": "robustness is not computed for a "
                                                     "single drawn area"},
        "categories": parts["categories"],
        "funding_strands": parts["strands"],
        "budget_eur": None,
        "eligible": bool(parts["strands"]),
        "estimate": clean({
            "method": row.get("estimate_method"),
            "area_km2": row.get("area_km2"),
            "population": row.get("population"),
            "uncertainty": bool(row.get("uncertainty")),
            "uncertainty_reason": row.get("uncertainty_reason") or None,
            "notes": notes,
            "sources": sources,
        }),
        "snapshot_version": state.version,
        "programme": common["programme"],
        "data_vintage": common["data_vintage"],
    }
    return clean(answer)
