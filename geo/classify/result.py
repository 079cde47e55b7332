"""The classification result and its JSON form (stored next to a snapshot, reloaded for lookups)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem

FORMAT = "quartiere-classification/1"
MODEL_FORMAT = "quartiere-scoring-model/1"
_FRAMES = ("table", "reasons", "near_misses", "designation_check", "budget", "robustness")


@dataclass(frozen=True)
class ScoringModel:
    """The fitted index model of a classification: enough to score a new area without refitting.

    Everything :func:`geo.classify.engine.score_rows` needs to give a new row (a user-drawn area) the indices,
    classes, categories and reasons the full classification would have given it as an extra row: the
    parameters fitted on the reference areas and the definition's weights and cut-offs, written out.

    Attributes
    ----------
    definition_hash
        sha256 of the definition the model was fitted with (scoring with another definition is refused).
    eb_params
        Empirical-Bayes priors ``{indicator: {group: [m, s2, n_areas]}}`` (group ``"*"`` = all areas).
    indicator_mean, indicator_sd
        Mean and population SD (ddof=0) per ``"<index>:<indicator>"`` over the index's reference areas.
    reference_values
        Each indicator's (shrunk) value for every reference area, in id order (``None`` = missing): the rank
        methods (percentile, exponential) place new values in this reference distribution.
    reference_size
        Number of reference areas per index (areas with every indicator of the index).
    indices
        Per index, for the record and as a check when loading: ``method``, ``weights``, ``cutoffs``,
        ``labels`` and, for z-score indices, ``sum_mean`` and ``sum_sd`` of the weighted sum.
    margin_sd
        SD over the reference areas of every field a numeric rule condition reads (margins in SD).
    notes
        Degenerate cases met when fitting.
    """

    definition_hash: str
    eb_params: dict[str, dict[str, list[float]]]
    indicator_mean: dict[str, float]
    indicator_sd: dict[str, float]
    reference_values: dict[str, list[float | None]]
    reference_size: dict[str, int]
    indices: dict[str, dict[str, Any]]
    margin_sd: dict[str, float]
    notes: list[str] = field(default_factory=list)
    #: per group with its own basis (``group_bases`` of the definition), that basis' model
    bases: dict[str, ScoringModel] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON-ready data, tagged with :data:`MODEL_FORMAT` (non-finite numbers as None)."""
        return {
            "format": MODEL_FORMAT,
            "definition_hash": self.definition_hash,
            "eb_params": _clean(self.eb_params),
            "indicator_mean": _clean(self.indicator_mean),
            "indicator_sd": _clean(self.indicator_sd),
            "reference_values": _clean(self.reference_values),
            "reference_size": _clean(self.reference_size),
            "indices": _clean(self.indices),
            "margin_sd": _clean(self.margin_sd),
            "notes": list(self.notes),
            **({"bases": {g: m.to_dict() for g, m in self.bases.items()}} if self.bases else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringModel:
        """The model stored by :meth:`to_dict`; :class:`InputError` when ``data`` is not one."""
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise InputError(
                f"not a scoring model (format {got!r}, expected {MODEL_FORMAT!r})",
                problems=[Problem(check="format", message=f"model format is {got!r}")],
            )

        def num(v: Any) -> float:
            return float("nan") if v is None else float(v)

        return cls(
            definition_hash=str(data["definition_hash"]),
            eb_params={str(i): {str(g): [num(x) for x in p] for g, p in groups.items()}
                       for i, groups in data["eb_params"].items()},
            indicator_mean={str(k): num(v) for k, v in data["indicator_mean"].items()},
            indicator_sd={str(k): num(v) for k, v in data["indicator_sd"].items()},
            reference_values={str(k): [None if v is None else float(v) for v in vals]
                              for k, vals in data["reference_values"].items()},
            reference_size={str(k): int(v) for k, v in data["reference_size"].items()},
            indices={str(k): dict(v) for k, v in data["indices"].items()},
            margin_sd={str(k): num(v) for k, v in data["margin_sd"].items()},
            notes=[str(n) for n in data.get("notes", [])],
            bases={str(g): cls.from_dict(m) for g, m in (data.get("bases") or {}).items()},
        )


@dataclass
class ClassificationResult:
    """Everything a classification produced.

    Attributes
    ----------
    table : DataFrame
        One row per area: ``key, name, city, classifiable, classifiable_reason, <index>_index,
        <index>_class`` (e.g. ``status_index, status_class, dynamics_index, dynamics_class``), ``matrix_cell``,
        ``categories`` (list of category ids), ``stability``, ``borderline``, ``budget_eur``, ``is_extra``.
    reasons : DataFrame
        Long table, one row per area x category x condition: value, threshold, operator, passed, margin (unit
        and SD), unit; plus rows for spatial rules.
    near_misses : DataFrame
        Areas within the definition's margin of qualifying: ``key, name, category, shortfall_sd, failed_conditions``.
    designation_check : DataFrame
        Official designation versus data, with the verdict and what drives it.
    budget : DataFrame
        Per group: total, allocated, unallocated, number of areas, note.
    robustness : DataFrame
        Per area: probability of every class and category, stability, borderline.
    policy : str
        The written policy for ties, missing values and degenerate data, as applied.
    definition_id, definition_hash : str
        Id and sha256 of the canonical JSON of the validated definition.
    definition : dict
        The definition itself (canonical form), so the result can be reproduced.
    meta : dict
        Run information (draws, seed, snapshot version, notes).
    model : ScoringModel or None
        The fitted index model, for scoring single new areas with :func:`geo.classify.engine.score_rows`
        (``None`` in results written before it was stored).
    """

    table: pd.DataFrame
    reasons: pd.DataFrame
    near_misses: pd.DataFrame
    designation_check: pd.DataFrame
    budget: pd.DataFrame
    robustness: pd.DataFrame
    policy: str
    definition_id: str
    definition_hash: str
    definition: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    model: ScoringModel | None = None

    def to_csv_frame(self) -> pd.DataFrame:
        """The table with ``categories`` joined by ``;`` (the CLI's CSV layout)."""
        out = self.table.copy()
        out["categories"] = out["categories"].map(lambda c: ";".join(c))
        return out

    def to_json(self) -> str:
        """The result as JSON text (:meth:`to_dict`), readable again with :meth:`from_dict`."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False, allow_nan=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, tagged with :data:`FORMAT`: each table as columns, dtypes and data."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "definition_id": self.definition_id,
            "definition_hash": self.definition_hash,
            "policy": self.policy,
            "definition": self.definition,
            "meta": _clean(self.meta),
        }
        for name in _FRAMES:
            out[name] = _frame_to_json(getattr(self, name))
        if self.model is not None:
            out["model"] = self.model.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassificationResult:
        """The result stored by :meth:`to_dict`; :class:`InputError` when ``data`` is not one."""
        if data.get("format") != FORMAT:
            raise InputError(
                f"not a classification result (format {data.get('format')!r}, expected {FORMAT!r})",
                problems=[Problem(check="format", message=f"format field is {data.get('format')!r}")],
            )
        frames = {name: _frame_from_json(data[name]) for name in _FRAMES}
        return cls(
            **frames,
            policy=data["policy"],
            definition_id=data["definition_id"],
            definition_hash=data["definition_hash"],
            definition=data.get("definition", {}),
            meta=data.get("meta", {}),
            model=ScoringModel.from_dict(data["model"]) if data.get("model") is not None else None,
        )


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _frame_to_json(df: pd.DataFrame) -> dict[str, Any]:
    dtypes = {}
    for col in df.columns:
        kind = df[col].dtype.kind
        if col == "categories":
            dtypes[col] = "list"
        elif kind == "O" and any(isinstance(v, dict | list) for v in df[col]):
            dtypes[col] = "json"  # messages (codes with figures) of the designation check
        elif kind == "b":
            dtypes[col] = "bool"
        elif kind in "iu":
            dtypes[col] = "int"
        elif kind == "f":
            dtypes[col] = "float"
        else:
            dtypes[col] = "str"
    data = []
    for col in df.columns:
        vals = df[col].tolist()
        data.append([_clean(list(v) if dtypes[col] == "list" else v) for v in vals])
    return {"columns": [str(c) for c in df.columns], "dtypes": dtypes, "data": data}


def _frame_from_json(obj: dict[str, Any]) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    for col, vals in zip(obj["columns"], obj["data"], strict=True):
        kind = obj["dtypes"][col]
        if kind == "list":
            s = pd.Series([list(v) for v in vals], dtype=object)
        elif kind == "json":
            s = pd.Series(vals, dtype=object)
        elif kind == "bool":
            s = pd.Series(vals, dtype=bool)
        elif kind == "int":
            s = pd.Series(vals, dtype="int64")
        elif kind == "float":
            s = pd.Series([np.nan if v is None else v for v in vals], dtype=float)
        else:
            s = pd.Series(vals, dtype="str")
        cols[col] = s
    return pd.DataFrame(cols, columns=obj["columns"])


def save_result(result: ClassificationResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as JSON (UTF-8) to ``path``, creating parent folders; return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(result.to_json(), encoding="utf-8")
    tmp.replace(p)
    return p


def load_result(path: str | os.PathLike[str]) -> ClassificationResult:
    """Read a result written by :func:`save_result`."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"cannot read classification result {p}",
            problems=[Problem(check="read", message=str(exc), file=str(p))],
        ) from exc
    return ClassificationResult.from_dict(data)
