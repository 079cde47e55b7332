"""Drafting a funding strand in the browser (framework-free; the routes are in :mod:`service.web.scenario_designer`).

The parameters a programme designer changes, a draft from them, and why a change did or did not happen.

The form starts from the official definition (the mapping a :class:`~geo.classify.ClassificationResult` keeps):
the status index weights of each basis, every numeric threshold of a category rule, the population cap and the
budget per city. :func:`apply_values` writes the chosen values into a copy of that mapping, checking each path and
value; the copy is an ordinary definition (validated by the same code as a YAML file) that can be previewed
without storing it, saved with the API token, and downloaded as YAML.

:func:`explain` answers "why did nothing change?": for each capped category, the areas that meet its rules but lost
it to the population cap, and the areas that meet every rule except a minimum number of residents; areas gained by
the enclave rule are named too. Budget left unallocated is reported per city.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from geo.classify import ClassificationResult
from geo.errors import InputError, Problem

#: numeric rule operators a threshold field can have
THRESHOLD_OPS = (">=", ">", "<=", "<")
#: fields of category rules whose threshold is a count of residents (the "minimum population" rules)
POPULATION_FIELDS = ("population",)


@dataclass(frozen=True)
class Parameter:
    """One form field of the designer, with its current value and the bounds the form enforces.

    ``path`` points into the definition mapping (dotted, list positions as numbers); ``kind`` says what kind of
    number it is.
    """

    path: str
    section: str  # "weights", "thresholds", "cap", "budget"
    value: float
    kind: str  # "weight", "threshold", "share", "eur"
    minimum: float | None
    maximum: float | None
    # for the label: the indicator (weights), the category and rule (thresholds), the city (budget)
    indicator: str | None = None
    category: str | None = None
    field: str | None = None
    operator: str | None = None
    basis: str | None = None
    city: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The field as a JSON-ready mapping, without the attributes that are None."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _weights(index: Mapping[str, Any], prefix: str, basis: str) -> list[Parameter]:
    out = []
    for i, comp in enumerate(index.get("components") or []):
        if isinstance(comp, Mapping) and isinstance(comp.get("weight"), int | float):
            out.append(Parameter(f"{prefix}.components.{i}.weight", "weights", float(comp["weight"]), "weight",
                                 0.0, 10.0, indicator=str(comp.get("indicator")), basis=basis))
    return out


def parameters(definition: Mapping[str, Any], *, main_group: str = "Bremen") -> list[Parameter]:
    """The form's fields for ``definition`` (a definition mapping), in form order."""
    out: list[Parameter] = []
    status = (definition.get("indices") or {}).get("status")
    if isinstance(status, Mapping):
        out += _weights(status, "indices.status", main_group)
    for name, basis in (definition.get("group_bases") or {}).items():
        b_status = ((basis or {}).get("indices") or {}).get("status")
        if isinstance(b_status, Mapping):
            out += _weights(b_status, f"group_bases.{name}.indices.status", str(name))
    for j, cat in enumerate(definition.get("categories") or []):
        for part in ("all", "any"):
            for k, cond in enumerate(cat.get(part) or []):
                if (isinstance(cond, Mapping) and cond.get("op") in THRESHOLD_OPS
                        and isinstance(cond.get("value"), int | float) and not isinstance(cond.get("value"), bool)):
                    minimum = 0.0 if cond.get("field") in POPULATION_FIELDS else None
                    out.append(Parameter(f"categories.{j}.{part}.{k}.value", "thresholds", float(cond["value"]),
                                         "threshold", minimum, None, category=str(cat.get("id")),
                                         field=str(cond.get("field")), operator=str(cond.get("op"))))
    cap = (definition.get("spatial") or {}).get("population_cap")
    if isinstance(cap, Mapping) and isinstance(cap.get("share"), int | float):
        out.append(Parameter("spatial.population_cap.share", "cap", float(cap["share"]), "share", 0.0, 1.0,
                             category=",".join(map(str, cap.get("categories") or []))))
    for city, total in ((definition.get("budget") or {}).get("totals") or {}).items():
        if isinstance(total, int | float):
            out.append(Parameter(f"budget.totals.{city}", "budget", float(total), "eur", 0.0, None, city=str(city)))
    return out


def _set(target: Any, path: str, value: float) -> None:
    *parents, last = path.split(".")
    node = target
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def apply_values(definition: Mapping[str, Any], values: Mapping[str, Any], *, title: str | None = None,
                 draft_id: str | None = None) -> dict[str, Any]:
    """A copy of ``definition`` with ``values`` (path -> number) written in.

    Every unknown path, non-number and value outside its field's bounds is reported at once
    (:class:`InputError`, one problem per field).
    """
    if not isinstance(values, Mapping):
        raise InputError("'values' must be an object of field path -> number")
    fields = {p.path: p for p in parameters(definition)}
    problems = []
    clean: dict[str, float] = {}
    for path, raw in values.items():
        p = fields.get(str(path))
        if p is None:
            problems.append(Problem("unknown_field", f"{path}: not a field of the form (known: weights, thresholds, "
                                    "population cap, budget)", detail={"field": str(path)}))
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(raw, bool) or not math.isfinite(number):
            problems.append(Problem("not_a_number", f"{path}: {raw!r} is not a number", detail={"field": path}))
            continue
        if (p.minimum is not None and number < p.minimum) or (p.maximum is not None and number > p.maximum):
            problems.append(Problem("out_of_range", f"{path}: {number:g} lies outside {p.minimum:g} to "
                                    f"{'no limit' if p.maximum is None else format(p.maximum, 'g')}",
                                    detail={"field": path, "value": number}))
            continue
        clean[str(path)] = number
    if problems:
        raise InputError(f"{len(problems)} field(s) of the draft are invalid: {problems[0].message}",
                         problems=problems)
    out = copy.deepcopy(dict(definition))
    for path, number in clean.items():
        _set(out, path, int(number) if fields[path].kind == "eur" and number.is_integer() else number)
    out["id"] = draft_id or f"{definition.get('id', 'programme')}-draft"
    if title:
        out["title"] = str(title)[:200]
    return out


def to_yaml(definition: Mapping[str, Any]) -> str:
    """The definition as YAML a designer can keep, edit and load again (``quartiere classify --programme``)."""
    return yaml.safe_dump(dict(definition), allow_unicode=True, sort_keys=False, width=110)


def _names(table: pd.DataFrame, keys: Sequence[str]) -> list[dict[str, Any]]:
    rows = table.set_index("key").reindex(list(keys))
    return [{"key": str(k), "name": str(r.get("name", "")), "city": str(r.get("city", "")),
             "population": float(r["population"]) if pd.notna(r.get("population")) else None}
            for k, r in rows.iterrows()]


def _short_of_residents(reasons: pd.DataFrame) -> list[str]:
    """Keys whose rule fails only on a minimum of residents (``population >= N``).

    Every other condition of the ``all`` part holds and, where the rule has an ``any`` part, one of its
    conditions holds.
    """
    out = []
    for key, rows in reasons[reasons["part"] != "spatial"].groupby("key"):
        conds = rows[rows["part"] == "all"]
        failed = conds[~conds["passed"].astype(bool)]
        minimum = failed["field"].isin(POPULATION_FIELDS) & failed["operator"].isin((">=", ">"))
        anys = rows[rows["part"] == "any"]
        if len(failed) and minimum.all() and (anys.empty or anys["passed"].astype(bool).any()):
            out.append(str(key))
    return out


def explain(draft: ClassificationResult) -> list[dict[str, Any]]:
    """Which rules decided the draft beyond the thresholds, per category.

    ``capped``: areas that meet the rules but lost the category to the population cap; ``too_few_residents``:
    areas that meet every rule except a minimum of residents; ``enclave``: areas gained because every neighbour
    qualifies.
    """
    reasons = draft.reasons
    if reasons is None or reasons.empty:
        return []
    table = draft.table[~draft.table["is_extra"]] if "is_extra" in draft.table else draft.table
    out = []
    for cat, part in reasons.groupby("category", sort=False):
        capped = sorted(set(part.loc[part["field"] == "population_cap", "key"].astype(str)))
        enclave = sorted(set(part.loc[part["field"] == "enclave", "key"].astype(str)))
        only_pop = sorted(set(_short_of_residents(part)) - set(table.loc[table["categories"].map(
            lambda c, cat=cat: cat in (c or [])), "key"].astype(str)))
        entry = {"category": str(cat), "capped": _names(table, capped), "too_few_residents": _names(table, only_pop),
                 "enclave": _names(table, enclave)}
        if any(entry[k] for k in ("capped", "too_few_residents", "enclave")):
            out.append(entry)
    return out


def budget_summary(result: ClassificationResult) -> list[dict[str, Any]]:
    """Per city: total, allocated and unallocated EUR and the number of funded areas (with the engine's note)."""
    b = result.budget
    if b is None or b.empty:
        return []
    cols = [c for c in ("group", "total_eur", "allocated_eur", "unallocated_eur", "n_areas", "note") if c in b]
    return [{k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in r.items()}
            for r in b[cols].to_dict("records")]


__all__ = ["Parameter", "apply_values", "budget_summary", "explain", "parameters", "to_yaml"]
