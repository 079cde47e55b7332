"""Eligibility of a drawn or uploaded area (framework-free).

The polygon's counts are estimated by areal interpolation (:func:`geo.interpolate.estimate_custom_area`) and
the estimate is scored by the classification engine as an *extra row*: against the reference distribution
of the official definition fitted on the snapshot's Ortsteile, which it never changes. Monte Carlo robustness
is not run for a single drawn area (``stability`` is null); the answer says so.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.classify import classify
from geo.errors import GeometryError
from geo.interpolate import AreaIndex, estimate_custom_area, prepare_area_index
from service.eligibility import _classification_parts, clean, decision_id
from service.state import ServiceState

AREA_KEY = "custom-area"
_PREPARE_LOCK = threading.Lock()


def area_index(state: ServiceState) -> AreaIndex:
    """The districts prepared for drawn areas (:func:`geo.interpolate.prepare_area_index`) of ``state``.

    Prepared at load time when the state carries it (``state.area_index``). Otherwise it is built once per
    snapshot, by the first request, under a lock, into private objects that no other thread sees before they
    are complete, and kept in ``state.cache``; request threads never prepare or index the shared snapshot
    geometries themselves (see :mod:`geo.interpolate` on threads).
    """
    ready = getattr(state, "area_index", None)
    if isinstance(ready, AreaIndex):
        return ready
    found = state.cache.get("area_index")
    if found is None:
        with _PREPARE_LOCK:
            found = state.cache.get("area_index")
            if found is None:
                found = prepare_area_index(state.wide)
                state.cache["area_index"] = found
    return found


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
    src = sources[sources["has_statistics"]].merge(pd.DataFrame(wide.drop(columns="geometry")), on="key",
                                                    how="left", suffixes=("", "_w"))
    share = src["district_share"].to_numpy(dtype=float)
    weight = src["weight_in_estimate"].to_numpy(dtype=float)
    for col in needed:
        if col in out.columns or col not in wide.columns:
            continue
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
    est = estimate_custom_area(body, area_index(state), crs=use_crs, key=AREA_KEY, name="Drawn area",
                               max_vertices=max_vertices)
    frame, notes = complete_estimate(est.frame, est.sources, state.wide, state.definition.input_columns())
    result = classify(state.wide, state.definition, extra_rows=frame, draws=0,
                      meta={"snapshot_version": state.version})
    extra = result.table[result.table["is_extra"]]
    reasons = result.reasons[result.reasons["key"] == AREA_KEY] if len(result.reasons) else result.reasons
    sub = type(result)(table=extra, reasons=reasons, near_misses=result.near_misses.iloc[0:0],
                       designation_check=result.designation_check.iloc[0:0], budget=result.budget,
                       robustness=result.robustness.iloc[0:0], policy=result.policy,
                       definition_id=result.definition_id, definition_hash=result.definition_hash)
    parts = _classification_parts(sub, state.definition, extra=True)[AREA_KEY]
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
