"""Programme definitions: the YAML schema, its validation and its hash.

A programme definition says which indicators enter which index, how each index is computed and cut into
classes, which rule makes an area qualify for each category, which spatial rules apply, how robustness is
tested and how the budget is split. :func:`load_definition` reads it, checks every field and raises one
:class:`~geo.errors.DefinitionError` listing *every* wrong field (one :class:`~geo.errors.Problem` each,
``detail["field"]`` holding the path such as ``indices.status.components[2].weight``).

Nothing in this module is specific to Bremen: the Bremen choices live in ``programmes/*.yml``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo.errors import DefinitionError, Problem

METHODS = ("zscore", "percentile", "exponential")
DIRECTIONS = ("higher_is_worse", "lower_is_worse")
NUMERIC_OPS = (">=", ">", "<=", "<")
OPS = (*NUMERIC_OPS, "==", "!=", "in", "not_in")
CONTIGUITY = ("queen", "rook")
SHRINK_MODELS = ("binomial", "poisson")
FIXED_CATEGORY_IDS = (
    "win",
    "kleinstquartier",
    "sonderquartier",
    "quartier_im_werden",
    "watch_list",
    "phase_out_candidate",
)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

#: upper bounds of every count in a definition (a definition is written by people: these are generous)
LIMITS: Mapping[str, int] = {
    "draws": 10_000,  # Monte Carlo draws of the robustness test
    "seed": 2**32 - 1,  # numpy seeds are 32-bit
    "min_neighbours": 100,
    "indicators": 200,
    "indices": 20,
    "components": 200,
    "cutoffs": 50,
    "categories": 100,
    "conditions": 100,  # per ``all`` / ``any`` list and in ``classifiable_when``
    "values": 1_000,  # items of an ``in`` / ``not_in`` list
    "ids": 100,  # items of a list of category ids
    "groups": 100,  # budget totals, domain weights
    "name_chars": 200,  # ids, column names, fields, versions
    "text_chars": 2_000,  # titles, labels, descriptions, reasons, units
}
#: limits of the YAML reader (:func:`read_yaml`), checked while composing, before anything is expanded
MAX_YAML_DEPTH = 32
MAX_YAML_NODES = 50_000
#: longest echo of a wrong value in a problem message
MAX_ECHO = 80
#: most problems listed one by one (the message still counts all of them)
MAX_PROBLEMS = 100


def _clip(value: Any, limit: int = MAX_ECHO) -> str:
    """A short printable form of ``value`` for a message: never the whole of a long string or a large list."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, Mapping):
        return f"a mapping with {len(value)} key(s)"
    elif isinstance(value, list | tuple) and len(value) > 10:
        return f"a list of {len(value)} items"
    else:
        try:
            text = repr(value)
        except ValueError:  # an int too long for str() (Python's int-string limit)
            return "a number too long to show"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DefinitionYAMLError(yaml.MarkedYAMLError):
    """YAML that is refused before it is expanded: aliases or anchors, too deep, too many nodes, bad values.

    A :class:`yaml.YAMLError`, so every reader of definitions reports it like any other YAML error; ``check``
    names the problem for :class:`~geo.errors.Problem`.
    """

    def __init__(self, problem: str, mark: Any = None, *, check: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.check = check


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader refusing aliases and anchors and limiting nesting and node count while composing.

    An alias bomb ("billion laughs") expands a few kilobytes into gigabytes only when aliases are resolved;
    refusing the alias event stops it before any expansion. The depth limit keeps the recursive composer far
    from Python's recursion limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
            raise DefinitionYAMLError(f"YAML anchors and aliases are not accepted in a programme definition "
                                      f"(found {kind}{_clip(event.anchor, 40).strip(chr(39))}); write the "
                                      "values out", event.start_mark, check="yaml_alias")
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise DefinitionYAMLError(f"the YAML document has more than {MAX_YAML_NODES:,} nodes",
                                      event.start_mark, check="yaml_size")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise DefinitionYAMLError(f"the YAML document is nested more than {MAX_YAML_DEPTH} levels deep",
                                          event.start_mark, check="yaml_depth")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader, refusing aliases/anchors and bounding depth and size.

    The one YAML reader of programme definitions (files, the CLI and the service's scenario bodies).

    Raises
    ------
    yaml.YAMLError
        Syntax errors, and :class:`DefinitionYAMLError` for what is refused (``check`` says which).
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except (ValueError, OverflowError) as exc:  # e.g. an int of more than 4,300 digits, a date like 2024-13-45
        raise DefinitionYAMLError(f"a value cannot be read: {str(exc)[:200]}", check="yaml_value") from None
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------------------
# validated definition objects
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shrinkage:
    """Empirical-Bayes shrinkage of a rate towards the rate of its wider area."""

    numerator: str
    denominator: str
    scale: float = 100.0
    group_by: str | None = None
    model: str = "binomial"


@dataclass(frozen=True)
class Indicator:
    """One indicator: a table column, its direction (which end means more need) and unit."""

    id: str
    column: str
    direction: str
    unit: str = ""
    label: str = ""
    shrinkage: Shrinkage | None = None

    @property
    def sign(self) -> float:
        """+1 when higher values mean more need, -1 otherwise."""
        return 1.0 if self.direction == "higher_is_worse" else -1.0


@dataclass(frozen=True)
class Component:
    """An indicator's place in an index: its weight and (exponential method) its domain."""

    indicator: str
    weight: float = 1.0
    domain: str | None = None
    #: z-score method: an area missing this indicator gets the index from its other components (their
    #: weighted sum scaled to the full weight), provided at least half of the weight is present
    optional: bool = False


@dataclass(frozen=True)
class IndexSpec:
    """One composite index (e.g. ``status`` or ``dynamics``), oriented so that higher means more need."""

    name: str
    method: str
    components: tuple[Component, ...]
    cutoffs: tuple[float, ...]
    labels: tuple[str, ...]
    domain_weights: Mapping[str, float] = field(default_factory=dict)
    flag_percentile: float = 0.9
    label: str = ""

    @property
    def field(self) -> str:
        return f"{self.name}_index"

    @property
    def class_field(self) -> str:
        return f"{self.name}_class"


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: ``field op value`` or a reference to earlier categories."""

    field: str | None = None
    op: str | None = None
    value: Any = None
    categories: tuple[str, ...] = ()
    is_: bool = True
    label: str = ""

    @property
    def is_category_ref(self) -> bool:
        return bool(self.categories)

    def describe(self) -> str:
        if self.is_category_ref:
            what = " or ".join(self.categories)
            return f"category {what} {'applies' if self.is_ else 'does not apply'}"
        return f"{self.field} {self.op} {self.value}"


@dataclass(frozen=True)
class Category:
    """A category with its rule: every ``all`` condition and (if given) at least one ``any`` condition."""

    id: str
    label: str
    all: tuple[Condition, ...]
    any: tuple[Condition, ...] = ()
    statistical: bool = True
    description: str = ""


@dataclass(frozen=True)
class ClassifiableCheck:
    """An area is classifiable only if every check passes; otherwise ``reason`` is shown."""

    field: str
    op: str
    value: Any
    reason: str
    optional: bool = False


@dataclass(frozen=True)
class EnclaveRule:
    categories: tuple[str, ...]
    min_neighbours: int = 2


@dataclass(frozen=True)
class PopulationCap:
    categories: tuple[str, ...]
    share: float
    order_by: str = "status_index"


@dataclass(frozen=True)
class SpatialSpec:
    contiguity: str = "queen"
    enclave: EnclaveRule | None = None
    population_cap: PopulationCap | None = None


@dataclass(frozen=True)
class RobustnessSpec:
    draws: int = 1000
    seed: int = 0
    weight_concentration: float = 20.0
    threshold_jitter_sd: float = 0.1
    stability_threshold: float = 0.8
    jitter_fields: tuple[str, ...] | None = None  # None: the index fields (<index>_index)


@dataclass(frozen=True)
class BudgetSpec:
    categories: tuple[str, ...]
    totals: Mapping[str, float]
    need_field: str = "status_index"
    need_offset: float = 1.0
    need_minimum: float = 0.5
    population_exponent: float = 1.0
    floor_eur: float = 0.0
    cap_eur: float | None = None


@dataclass(frozen=True)
class Definition:
    """A validated programme definition. Build it with :func:`load_definition` or :func:`parse_definition`."""

    id: str
    version: str
    title: str
    id_column: str
    name_column: str
    group_column: str
    population_column: str
    min_population: float
    classifiable_when: tuple[ClassifiableCheck, ...]
    indicators: tuple[Indicator, ...]
    indices: tuple[IndexSpec, ...]
    matrix: tuple[str, str] | None
    categories: tuple[Category, ...]
    spatial: SpatialSpec
    near_miss_margin_sd: float
    indicating_categories: tuple[str, ...]
    robustness: RobustnessSpec
    budget: BudgetSpec | None
    raw: Mapping[str, Any]
    hash: str
    #: what the indices rest on (``label``, ``confidence``: high | medium | low, ``description``)
    basis: Mapping[str, str] = field(default_factory=dict)
    #: per group (city) with its own index components: the definition that group is classified with
    bases: Mapping[str, Definition] = field(default_factory=dict)

    def basis_for(self, group: object) -> Definition:
        """The definition areas of ``group`` are classified with (itself unless the group has its own basis)."""
        return self.bases.get(str(group), self)

    def indicator(self, ind_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == ind_id:
                return ind
        raise KeyError(ind_id)  # pragma: no cover - validated on load

    def index(self, name: str) -> IndexSpec:
        for idx in self.indices:
            if idx.name == name:
                return idx
        raise KeyError(name)  # pragma: no cover

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    def computed_fields(self) -> set[str]:
        """Fields the engine computes (usable in rules but not expected in the input table)."""
        out: set[str] = set()
        for idx in self.indices:
            out |= {idx.field, idx.class_field, f"{idx.name}_flags"}
            for comp in idx.components:
                out |= {f"{comp.indicator}__z", f"{comp.indicator}__pr", f"{comp.indicator}__flag"}
        out |= {ind.id for ind in self.indicators}
        return out

    def input_columns(self) -> dict[str, str]:
        """Table columns the definition needs, mapped to the definition field that names them."""
        need: dict[str, str] = {self.id_column: "id_column"}
        need.setdefault(self.population_column, "population_column")
        for i, ind in enumerate(self.indicators):
            if ind.shrinkage is not None:
                need.setdefault(ind.shrinkage.numerator, f"indicators[{i}].shrinkage.numerator")
                need.setdefault(ind.shrinkage.denominator, f"indicators[{i}].shrinkage.denominator")
            else:
                need.setdefault(ind.column, f"indicators[{i}].column")
        computed = self.computed_fields()
        for ci, cat in enumerate(self.categories):
            for part in ("all", "any"):
                for k, cond in enumerate(getattr(cat, part)):
                    if cond.field is not None and cond.field not in computed:
                        need.setdefault(cond.field, f"categories[{ci}].{part}[{k}].field")
        return need


# ---------------------------------------------------------------------------------------------------------
# loading and validation
# ---------------------------------------------------------------------------------------------------------
def load_definition(source: str | os.PathLike[str] | Mapping[str, Any]) -> Definition:
    """Read and validate a programme definition.

    Parameters
    ----------
    source
        Path of a YAML file, or an already parsed mapping.

    Returns
    -------
    Definition
        The validated definition, with ``hash`` = sha256 of its canonical JSON.

    Raises
    ------
    DefinitionError
        With one :class:`Problem` per wrong field (all collected before raising), or when the file is not
        readable YAML.
    """
    if isinstance(source, Mapping):
        return parse_definition(source)
    path = Path(source)
    if not path.is_file():
        raise DefinitionError(
            f"programme definition {path} not found",
            problems=[Problem(check="definition_file", message=f"file {path} does not exist", file=str(path))],
        )
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(
            f"programme definition {path} is not valid YAML",
            problems=[Problem(check=getattr(exc, "check", "yaml"), message=str(exc), file=str(path))],
        ) from exc
    return parse_definition(data, source_name=str(path))


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


class _Collector:
    def __init__(self, source_name: str | None) -> None:
        self.problems: list[Problem] = []
        self.count = 0  # every problem found (only the first MAX_PROBLEMS are kept)
        self.source_name = source_name

    def add(self, path: str, message: str, check: str = "definition") -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            path = _clip(path, 2 * MAX_ECHO) if len(path) > 2 * MAX_ECHO else path
            self.problems.append(
                Problem(check=check, message=f"{path}: {message}", file=self.source_name, detail={"field": path})
            )

    def sized(self, value: Any, path: str, limit_key: str) -> bool:
        """False (and a problem) when the list or mapping ``value`` has more items than ``LIMITS[limit_key]``."""
        limit = LIMITS[limit_key]
        if isinstance(value, list | Mapping) and len(value) > limit:
            self.add(path, f"has {len(value):,} items; at most {limit:,} are accepted", "limit")
            return False
        return True

    def text(self, obj: Mapping[str, Any], key: str, path: str, default: str) -> str:
        """An optional free text (label, description, unit): a string or number of bounded length."""
        value = obj.get(key)
        if value is None:
            return default
        full = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(full, f"must be a text, got {_clip(value)}", "type")
            return default
        out = value if isinstance(value, str) else _clip(value)
        if len(out) > LIMITS["text_chars"]:
            self.add(full, f"has {len(out):,} characters; at most {LIMITS['text_chars']:,} are accepted", "limit")
            return default
        return out

    # typed getters ------------------------------------------------------------------------------------
    def mapping(self, obj: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(obj, Mapping):
            self.add(path, f"must be a mapping, got {type(obj).__name__}", "type")
            return None
        return obj

    def unknown_keys(self, obj: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                name = key if isinstance(key, str) and len(key) <= MAX_ECHO else _clip(key)
                self.add(
                    f"{path}.{name}" if path else str(name),
                    f"unknown field (allowed: {', '.join(allowed)})",
                    "unknown_field",
                )

    def number(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: Any = ...,
        minimum: float | None = None,
        maximum: float | None = None,
        strict_min: bool = False,
    ) -> float | None:
        full = f"{path}.{key}" if path else key
        if key not in obj or obj[key] is None:
            if default is ...:
                self.add(full, "is required (a number)", "missing")
                return None
            return default
        value = obj[key]
        return self.as_number(value, full, minimum=minimum, maximum=maximum, strict_min=strict_min)

    def as_number(
        self,
        value: Any,
        full: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        strict_min: bool = False,
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            self.add(full, f"must be a finite number, got {_clip(value)}", "type")
            return None
        if minimum is not None and (value <= minimum if strict_min else value < minimum):
            self.add(full, f"must be {'>' if strict_min else '>='} {minimum}, got {_clip(value)}", "range")
            return None
        if maximum is not None and value > maximum:
            self.add(full, f"must be <= {maximum:,}, got {_clip(value)}", "range")
            return None
        return float(value)

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, default: Any = ...,
               limit: str = "name_chars") -> str | None:
        full = f"{path}.{key}" if path else key
        if key not in obj or obj[key] is None:
            if default is ...:
                self.add(full, "is required (a string)", "missing")
                return None
            return default
        value = obj[key]
        if not isinstance(value, str) or not value.strip():
            self.add(full, f"must be a non-empty string, got {_clip(value)}", "type")
            return None
        if len(value) > LIMITS[limit]:
            self.add(full, f"has {len(value):,} characters; at most {LIMITS[limit]:,} are accepted, got "
                     f"{_clip(value)}", "limit")
            return None
        return value

    def choice(
        self, obj: Mapping[str, Any], key: str, path: str, choices: Sequence[str], *, default: Any = ...
    ) -> str | None:
        value = self.string(obj, key, path, default=default)
        if value is not None and value not in choices:
            self.add(f"{path}.{key}" if path else key, f"must be one of {', '.join(choices)}, got {_clip(value)}")
            return None
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
        if key not in obj or obj[key] is None:
            return default
        if not isinstance(obj[key], bool):
            self.add(f"{path}.{key}", f"must be true or false, got {_clip(obj[key])}", "type")
            return default
        return bool(obj[key])

    def id_list(self, value: Any, full: str, known: Sequence[str], what: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.add(full, f"must be a non-empty list of {what} ids, got {_clip(value)}", "type")
            return ()
        if not self.sized(value, full, "ids"):
            return ()
        out = []
        for k, item in enumerate(value):
            if item not in known:
                self.add(f"{full}[{k}]", f"unknown {what} {_clip(item)} (known: {', '.join(known) or 'none'})")
            else:
                out.append(item)
        return tuple(out)


_TOP_KEYS = (
    "id",
    "version",
    "title",
    "description",
    "id_column",
    "name_column",
    "group_column",
    "population_column",
    "min_population",
    "classifiable_when",
    "indicators",
    "indices",
    "matrix",
    "categories",
    "spatial",
    "near_miss",
    "designation_check",
    "robustness",
    "budget",
    "basis",
    "group_bases",
)

#: what a group's basis may change: its own indicators, the components of the indices, where its residents
#: come from and when an area is classifiable (classes, rules, cut-offs and budgets stay the programme's, so
#: a class means the same in every group; rules on the programme's population column read the basis' one)
_BASIS_KEYS = ("label", "confidence", "description", "indicators", "indices", "population_column",
               "classifiable_when")
CONFIDENCE_LEVELS = ("high", "medium", "low")


def parse_definition(data: Any, *, source_name: str | None = None) -> Definition:
    """Validate a parsed definition mapping; see :func:`load_definition`."""
    c = _Collector(source_name)
    top = c.mapping(data, "(definition)")
    if top is None:
        raise DefinitionError("programme definition is not a mapping", problems=c.problems)
    c.unknown_keys(top, _TOP_KEYS, "")

    def_id = c.string(top, "id", "")
    if def_id is not None and not _ID_RE.match(def_id.replace("-", "_")):
        c.add("id", f"must be lower-case letters, digits, '-' or '_', got {_clip(def_id)}")
    version = top.get("version", "1")
    if isinstance(version, bool) or not isinstance(version, str | int | float):
        c.add("version", f"must be a text or number, got {_clip(version)}", "type")
    elif len(str(version)) > LIMITS["name_chars"]:
        c.add("version", f"has {len(str(version)):,} characters; at most {LIMITS['name_chars']} are accepted, "
              f"got {_clip(version)}", "limit")
    title = c.string(top, "title", "", default=def_id or "", limit="text_chars")
    c.text(top, "description", "", default="")
    id_column = c.string(top, "id_column", "", default="key")
    name_column = c.string(top, "name_column", "", default="name")
    group_column = c.string(top, "group_column", "", default="city")
    population_column = c.string(top, "population_column", "", default="population")
    min_population = c.number(top, "min_population", "", default=0.0, minimum=0)

    indicators = _parse_indicators(c, top.get("indicators"))
    ind_ids = [i.id for i in indicators]
    indices = _parse_indices(c, top.get("indices"), ind_ids)
    index_names = [i.name for i in indices]
    matrix = _parse_matrix(c, top.get("matrix"), index_names)
    classifiable = _parse_classifiable(c, top.get("classifiable_when", []))
    categories = _parse_categories(c, top.get("categories"), indices)
    cat_ids = [cat.id for cat in categories]
    spatial = _parse_spatial(c, top.get("spatial", {}), cat_ids)
    near = top.get("near_miss", {}) or {}
    near_margin = 0.25
    if c.mapping(near, "near_miss") is not None:
        c.unknown_keys(near, ("margin_sd",), "near_miss")
        near_margin = c.number(near, "margin_sd", "near_miss", default=0.25, minimum=0) or 0.0
    dcheck = top.get("designation_check", {}) or {}
    indicating: tuple[str, ...] = tuple(x for x in cat_ids if x in FIXED_CATEGORY_IDS[:4])
    if c.mapping(dcheck, "designation_check") is not None:
        c.unknown_keys(dcheck, ("indicating_categories",), "designation_check")
        if "indicating_categories" in dcheck:
            indicating = c.id_list(
                dcheck["indicating_categories"], "designation_check.indicating_categories", cat_ids, "category"
            )
    robustness = _parse_robustness(c, top.get("robustness", {}) or {})
    budget = _parse_budget(c, top.get("budget"), cat_ids)
    basis = _parse_basis(c, top.get("basis", {}) or {}, "basis")
    bases = _parse_group_bases(c, top, source_name) if "group_bases" in top else {}

    if c.problems:
        n = c.count
        fields = ", ".join(str(p.detail.get("field")) for p in c.problems[:5])
        more = f" and {n - 5} more" if n > 5 else ""
        where = f" in {source_name}" if source_name else ""
        raise DefinitionError(
            f"programme definition{where} is invalid: {n} wrong field(s) ({fields}{more})", problems=c.problems
        )
    canonical = canonical_json(top)
    return Definition(
        id=str(def_id),
        version=str(version),
        title=str(title),
        id_column=str(id_column),
        name_column=str(name_column),
        group_column=str(group_column),
        population_column=str(population_column),
        min_population=float(min_population or 0.0),
        classifiable_when=tuple(classifiable),
        indicators=tuple(indicators),
        indices=tuple(indices),
        matrix=matrix,
        categories=tuple(categories),
        spatial=spatial,
        near_miss_margin_sd=float(near_margin),
        indicating_categories=indicating,
        robustness=robustness,
        budget=budget,
        raw=json.loads(canonical),
        hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        basis=basis,
        bases=bases,
    )


def _parse_basis(c: _Collector, raw: Any, path: str) -> dict[str, str]:
    m = c.mapping(raw, path)
    if m is None:
        return {}
    c.unknown_keys(m, ("label", "confidence", "description") if path == "basis" else _BASIS_KEYS, path)
    out = {"label": c.text(m, "label", path, default=""), "description": c.text(m, "description", path, default=""),
           "confidence": c.text(m, "confidence", path, default="high")}
    if out["confidence"] not in CONFIDENCE_LEVELS:
        c.add(f"{path}.confidence", f"must be one of {', '.join(CONFIDENCE_LEVELS)}, got {_clip(out['confidence'])}")
    return out


def _plain(name: Any) -> str:
    return name if isinstance(name, str) and len(name) <= MAX_ECHO else _clip(name)


def _parse_group_bases(c: _Collector, top: Mapping[str, Any], source_name: str | None) -> dict[str, Definition]:
    """Each group's own basis, validated as the whole definition it makes (problems named by their path)."""
    raw = c.mapping(top["group_bases"], "group_bases")
    if raw is None:
        return {}
    out: dict[str, Definition] = {}
    for group, entry in raw.items():
        path = f"group_bases.{_plain(group)}"
        if _parse_basis(c, entry, path) == {}:
            continue
        sub = {k: v for k, v in top.items() if k != "group_bases"}
        sub["basis"] = {k: entry[k] for k in ("label", "confidence", "description") if k in entry}
        own = entry.get("indicators") or []
        if not isinstance(own, list):
            c.add(f"{path}.indicators", f"must be a list, got {type(own).__name__}", "type")
            continue
        own_ids = {i.get("id") for i in own if isinstance(i, Mapping)}
        sub["indicators"] = [i for i in (top.get("indicators") or []) if not (isinstance(i, Mapping)
                                                                                 and i.get("id") in own_ids)] + own
        indices = {k: dict(v) if isinstance(v, Mapping) else v for k, v in (top.get("indices") or {}).items()}
        for name, spec in (entry.get("indices") or {}).items():
            spath = f"{path}.indices.{_plain(name)}"
            if name not in indices or not isinstance(spec, Mapping):
                c.add(spath, f"must name an index of the definition ({', '.join(map(str, indices))}) and map it "
                      "to its components")
                continue
            c.unknown_keys(spec, ("components",), spath)
            indices[name]["components"] = spec.get("components")
        sub["indices"] = indices
        for key in ("population_column", "classifiable_when"):
            if key in entry:
                sub[key] = entry[key]
        try:
            out[str(group)] = parse_definition(sub, source_name=source_name)
        except DefinitionError as exc:
            for p in exc.problems:
                c.add(f"{path}: {p.detail.get('field', '')}", p.message.split(": ", 1)[-1])
    return out


def canonical_json(data: Any) -> str:
    """Canonical JSON (sorted keys, no whitespace, UTF-8) used for the definition hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _parse_indicators(c: _Collector, raw: Any) -> list[Indicator]:
    out: list[Indicator] = []
    if not isinstance(raw, list) or not raw:
        c.add("indicators", "is required: a non-empty list of indicators", "missing")
        return out
    if not c.sized(raw, "indicators", "indicators"):
        return out
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = f"indicators[{i}]"
        m = c.mapping(item, path)
        if m is None:
            continue
        c.unknown_keys(m, ("id", "column", "direction", "unit", "label", "shrinkage", "note"), path)
        ind_id = c.string(m, "id", path)
        if ind_id is not None:
            if ind_id in seen:
                c.add(f"{path}.id", f"duplicate indicator id {_clip(ind_id)}")
            seen.add(ind_id)
        column = c.string(m, "column", path, default=ind_id)
        direction = c.choice(m, "direction", path, DIRECTIONS)
        unit = c.text(m, "unit", path, default="")
        label = c.text(m, "label", path, default=ind_id or "")
        c.text(m, "note", path, default="")
        shrink = None
        if m.get("shrinkage") is not None:
            sm = c.mapping(m["shrinkage"], f"{path}.shrinkage")
            if sm is not None:
                sp = f"{path}.shrinkage"
                c.unknown_keys(sm, ("numerator", "denominator", "scale", "group_by", "model"), sp)
                num = c.string(sm, "numerator", sp)
                den = c.string(sm, "denominator", sp)
                scale = c.number(sm, "scale", sp, default=100.0, minimum=0, strict_min=True)
                group_by = c.string(sm, "group_by", sp, default=None)
                model = c.choice(sm, "model", sp, SHRINK_MODELS, default="binomial")
                if num and den and scale and model:
                    shrink = Shrinkage(num, den, scale, group_by, model)
        if ind_id and column and direction:
            out.append(Indicator(ind_id, column, direction, unit, label, shrink))
    return out


def _parse_cutoffs(c: _Collector, m: Mapping[str, Any], path: str) -> tuple[tuple[float, ...], tuple[str, ...]]:
    cut_raw = m.get("cutoffs")
    lab_raw = m.get("labels")
    cutoffs: list[float] = []
    ok = True
    if not isinstance(cut_raw, list) or not cut_raw:
        c.add(f"{path}.cutoffs", "is required: a non-empty list of numbers in increasing order", "missing")
        ok = False
    elif not c.sized(cut_raw, f"{path}.cutoffs", "cutoffs"):
        ok = False
    else:
        for k, v in enumerate(cut_raw):
            num = c.as_number(v, f"{path}.cutoffs[{k}]")
            if num is None:
                ok = False
            else:
                cutoffs.append(num)
        if ok:
            for k in range(1, len(cutoffs)):
                if not cutoffs[k] > cutoffs[k - 1]:
                    c.add(
                        f"{path}.cutoffs",
                        f"cut-offs must be strictly increasing; cutoffs[{k}]={cutoffs[k]} is not above "
                        f"cutoffs[{k - 1}]={cutoffs[k - 1]}",
                        "order",
                    )
                    ok = False
    labels: list[str] = []
    if not isinstance(lab_raw, list) or not all(isinstance(x, str) and x for x in lab_raw):
        c.add(f"{path}.labels", "is required: a list of class labels (strings), best class first", "missing")
        ok = False
    elif len(lab_raw) > LIMITS["cutoffs"] + 1 or any(len(x) > LIMITS["name_chars"] for x in lab_raw):
        c.add(f"{path}.labels", f"at most {LIMITS['cutoffs'] + 1} labels of at most {LIMITS['name_chars']} "
              "characters each are accepted", "limit")
        ok = False
    else:
        labels = list(lab_raw)
        if len(set(labels)) != len(labels):
            c.add(f"{path}.labels", "class labels must be unique")
            ok = False
        if cutoffs and len(labels) != len(cutoffs) + 1:
            c.add(
                f"{path}.labels",
                f"needs exactly one label more than there are cut-offs ({len(cutoffs) + 1}), got {len(labels)}",
            )
            ok = False
    return (tuple(cutoffs), tuple(labels)) if ok else ((), ())


def _parse_indices(c: _Collector, raw: Any, ind_ids: list[str]) -> list[IndexSpec]:
    out: list[IndexSpec] = []
    m = c.mapping(raw, "indices")
    if m is None:
        return out
    if not m:
        c.add("indices", "at least one index is required")
    if not c.sized(m, "indices", "indices"):
        return out
    for name, spec in m.items():
        path = f"indices.{name}"
        if not isinstance(name, str) or not _ID_RE.match(name) or len(name) > LIMITS["name_chars"]:
            c.add(f"indices.{_clip(name)}", "index names must be lower-case identifiers (at most "
                  f"{LIMITS['name_chars']} characters)")
            continue
        sm = c.mapping(spec, path)
        if sm is None:
            continue
        c.unknown_keys(
            sm, ("method", "label", "components", "cutoffs", "labels", "domain_weights", "flag_percentile"), path
        )
        method = c.choice(sm, "method", path, METHODS)
        comps: list[Component] = []
        craw = sm.get("components")
        if not isinstance(craw, list) or not craw:
            c.add(f"{path}.components", "is required: a non-empty list of {indicator, weight}", "missing")
        elif not c.sized(craw, f"{path}.components", "components"):
            pass
        else:
            used: set[str] = set()
            for k, item in enumerate(craw):
                cp = f"{path}.components[{k}]"
                cm = c.mapping(item, cp)
                if cm is None:
                    continue
                c.unknown_keys(cm, ("indicator", "weight", "domain", "optional"), cp)
                ind = c.string(cm, "indicator", cp)
                if ind is not None and ind not in ind_ids:
                    c.add(f"{cp}.indicator", f"unknown indicator {_clip(ind)} (defined: {', '.join(ind_ids)})")
                    ind = None
                if ind is not None and ind in used:
                    c.add(f"{cp}.indicator", f"indicator {_clip(ind)} used twice in this index")
                weight = c.number(cm, "weight", cp, default=1.0, minimum=0)
                domain = c.string(cm, "domain", cp, default=None)
                if method == "exponential" and domain is None:
                    c.add(f"{cp}.domain", "is required for method exponential", "missing")
                optional = cm.get("optional", False)
                if not isinstance(optional, bool):
                    c.add(f"{cp}.optional", f"must be true or false, got {_clip(optional)}", "type")
                    optional = False
                if optional and method != "zscore":
                    c.add(f"{cp}.optional", "is only possible with method zscore")
                if ind is not None and weight is not None:
                    used.add(ind)
                    comps.append(Component(ind, weight, domain, bool(optional)))
            if comps and len(comps) == len(craw) and sum(x.weight for x in comps) <= 0:
                c.add(f"{path}.components", "the weights must not all be zero")
        cutoffs, labels = _parse_cutoffs(c, sm, path)
        domain_weights: dict[str, float] = {}
        if method == "exponential":
            domains = sorted({x.domain for x in comps if x.domain})
            dw = sm.get("domain_weights")
            if dw is None:
                domain_weights = {d: 1.0 / len(domains) for d in domains} if domains else {}
            elif c.mapping(dw, f"{path}.domain_weights") is not None and c.sized(dw, f"{path}.domain_weights",
                                                                                    "groups"):
                for d, w in dw.items():
                    num = c.as_number(w, f"{path}.domain_weights.{d}", minimum=0)
                    if d not in domains:
                        c.add(f"{path}.domain_weights.{d}", f"no component has domain {_clip(d)}")
                    elif num is not None:
                        domain_weights[d] = num
                for d in domains:
                    if d not in dw:
                        c.add(f"{path}.domain_weights", f"weight for domain {_clip(d)} is missing")
        flag_pct = c.number(sm, "flag_percentile", path, default=0.9, minimum=0, maximum=1) or 0.9
        if method and comps and cutoffs:
            out.append(
                IndexSpec(
                    name=name,
                    method=method,
                    components=tuple(comps),
                    cutoffs=cutoffs,
                    labels=labels,
                    domain_weights=domain_weights,
                    flag_percentile=flag_pct,
                    label=c.text(sm, "label", path, default=name),
                )
            )
    return out


def _parse_matrix(c: _Collector, raw: Any, index_names: list[str]) -> tuple[str, str] | None:
    if raw is None:
        return None
    m = c.mapping(raw, "matrix")
    if m is None:
        return None
    c.unknown_keys(m, ("rows", "columns"), "matrix")
    rows = c.string(m, "rows", "matrix")
    cols = c.string(m, "columns", "matrix")
    for key, val in (("rows", rows), ("columns", cols)):
        if val is not None and val not in index_names:
            c.add(f"matrix.{key}", f"unknown index {_clip(val)} (defined: {', '.join(index_names)})")
            return None
    if rows and cols:
        return (rows, cols)
    return None


def _parse_condition_value(c: _Collector, op: str | None, value: Any, path: str) -> Any:
    if op in NUMERIC_OPS:
        return c.as_number(value, f"{path}.value")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            c.add(f"{path}.value", f"operator {op!r} needs a non-empty list, got {_clip(value)}", "type")
            return None
        if not c.sized(value, f"{path}.value", "values"):
            return None
        bad = [k for k, v in enumerate(value) if not _scalar_ok(v)]
        if bad:
            c.add(f"{path}.value[{bad[0]}]", f"must be a number or a text of at most {LIMITS['text_chars']:,} "
                  f"characters, got {_clip(value[bad[0]])}", "type")
            return None
        return tuple(value)
    if not _scalar_ok(value):
        c.add(f"{path}.value", f"operator {op!r} needs a single value (a number or a text of at most "
              f"{LIMITS['text_chars']:,} characters), got {_clip(value)}", "type")
        return None
    return value


def _scalar_ok(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= LIMITS["text_chars"]
    return value is not None and not isinstance(value, list | dict | Mapping)


def _parse_classifiable(c: _Collector, raw: Any) -> list[ClassifiableCheck]:
    out: list[ClassifiableCheck] = []
    if not isinstance(raw, list):
        c.add("classifiable_when", "must be a list of checks", "type")
        return out
    if not c.sized(raw, "classifiable_when", "conditions"):
        return out
    for i, item in enumerate(raw):
        path = f"classifiable_when[{i}]"
        m = c.mapping(item, path)
        if m is None:
            continue
        c.unknown_keys(m, ("field", "op", "value", "reason", "optional"), path)
        fld = c.string(m, "field", path)
        op = c.choice(m, "op", path, OPS)
        value = _parse_condition_value(c, op, m.get("value"), path) if op else None
        reason = c.string(m, "reason", path, limit="text_chars")
        optional = c.boolean(m, "optional", path, default=False)
        if fld and op and reason and value is not None:
            out.append(ClassifiableCheck(fld, op, value, reason, optional))
    return out


def _parse_conditions(
    c: _Collector, raw: Any, path: str, earlier: list[str], class_labels: Mapping[str, tuple[str, ...]]
) -> list[Condition]:
    out: list[Condition] = []
    if not isinstance(raw, list) or not raw:
        c.add(path, "must be a non-empty list of conditions", "type")
        return out
    if not c.sized(raw, path, "conditions"):
        return out
    for k, item in enumerate(raw):
        cp = f"{path}[{k}]"
        m = c.mapping(item, cp)
        if m is None:
            continue
        if "category" in m:
            c.unknown_keys(m, ("category", "is", "label"), cp)
            cats = c.id_list(m["category"], f"{cp}.category", earlier, "earlier category")
            is_ = c.boolean(m, "is", cp, default=True)
            if cats:
                out.append(Condition(categories=cats, is_=is_, label=c.text(m, "label", cp, default="")))
            continue
        c.unknown_keys(m, ("field", "op", "value", "label"), cp)
        fld = c.string(m, "field", cp)
        op = c.choice(m, "op", cp, OPS)
        value = _parse_condition_value(c, op, m.get("value"), cp) if op else None
        if fld is not None and fld in class_labels and op is not None and value is not None:
            labels = class_labels[fld]
            vals = value if isinstance(value, tuple) else (value,)
            if op in NUMERIC_OPS:
                c.add(f"{cp}.op", f"field {_clip(fld)} holds class labels; use ==, !=, in or not_in")
                value = None
            for v in vals:
                if op not in NUMERIC_OPS and v not in labels:
                    c.add(f"{cp}.value", f"unknown class label {_clip(v)} of {fld} (labels: {', '.join(labels)})")
                    value = None
        if fld and op and value is not None:
            out.append(Condition(field=fld, op=op, value=value, label=c.text(m, "label", cp, default="")))
    return out


def _parse_categories(c: _Collector, raw: Any, indices: list[IndexSpec]) -> list[Category]:
    out: list[Category] = []
    if not isinstance(raw, list) or not raw:
        c.add("categories", "is required: a non-empty list of categories", "missing")
        return out
    if not c.sized(raw, "categories", "categories"):
        return out
    class_labels = {idx.class_field: idx.labels for idx in indices}
    earlier: list[str] = []
    for i, item in enumerate(raw):
        path = f"categories[{i}]"
        m = c.mapping(item, path)
        if m is None:
            continue
        c.unknown_keys(m, ("id", "label", "description", "statistical", "all", "any"), path)
        cid = c.string(m, "id", path)
        if cid is not None:
            if not _ID_RE.match(cid):
                c.add(f"{path}.id", f"category ids must be lower-case identifiers, got {_clip(cid)}")
            if cid in earlier:
                c.add(f"{path}.id", f"duplicate category id {_clip(cid)}")
        if "all" not in m and "any" not in m:
            c.add(path, "needs at least one of 'all' or 'any' (the rule's conditions)", "missing")
        conds_all = _parse_conditions(c, m["all"], f"{path}.all", earlier, class_labels) if "all" in m else []
        conds_any = _parse_conditions(c, m["any"], f"{path}.any", earlier, class_labels) if "any" in m else []
        statistical = c.boolean(m, "statistical", path, default=True)
        label = c.text(m, "label", path, default=cid or "")
        description = c.text(m, "description", path, default="")
        if cid is not None:
            out.append(
                Category(
                    id=cid,
                    label=label,
                    all=tuple(conds_all),
                    any=tuple(conds_any),
                    statistical=statistical,
                    description=description,
                )
            )
            earlier.append(cid)
    return out


def _parse_spatial(c: _Collector, raw: Any, cat_ids: list[str]) -> SpatialSpec:
    m = c.mapping(raw or {}, "spatial")
    if m is None:
        return SpatialSpec()
    c.unknown_keys(m, ("contiguity", "enclave", "population_cap"), "spatial")
    contiguity = c.choice(m, "contiguity", "spatial", CONTIGUITY, default="queen") or "queen"
    enclave = None
    if m.get("enclave") is not None:
        em = c.mapping(m["enclave"], "spatial.enclave")
        if em is not None:
            c.unknown_keys(em, ("categories", "min_neighbours"), "spatial.enclave")
            cats = c.id_list(em.get("categories"), "spatial.enclave.categories", cat_ids, "category")
            mn = c.number(em, "min_neighbours", "spatial.enclave", default=2, minimum=1,
                          maximum=LIMITS["min_neighbours"])
            if mn is not None and mn != int(mn):
                c.add("spatial.enclave.min_neighbours", f"must be a whole number, got {mn}")
            if cats and mn is not None:
                enclave = EnclaveRule(cats, int(mn))
    cap = None
    if m.get("population_cap") is not None:
        pm = c.mapping(m["population_cap"], "spatial.population_cap")
        if pm is not None:
            pp = "spatial.population_cap"
            c.unknown_keys(pm, ("categories", "share", "order_by"), pp)
            cats = c.id_list(pm.get("categories"), f"{pp}.categories", cat_ids, "category")
            share = c.number(pm, "share", pp, minimum=0, maximum=1, strict_min=True)
            order_by = c.string(pm, "order_by", pp, default="status_index")
            if cats and share is not None and order_by:
                cap = PopulationCap(cats, share, order_by)
    return SpatialSpec(contiguity, enclave, cap)


def _parse_robustness(c: _Collector, raw: Any) -> RobustnessSpec:
    m = c.mapping(raw, "robustness")
    if m is None:
        return RobustnessSpec()
    p = "robustness"
    c.unknown_keys(m, ("draws", "seed", "weight_concentration", "threshold_jitter_sd", "stability_threshold"), p)
    draws = c.number(m, "draws", p, default=1000, minimum=0, maximum=LIMITS["draws"])
    seed = c.number(m, "seed", p, default=0, minimum=0, maximum=LIMITS["seed"])
    for key, val in (("draws", draws), ("seed", seed)):
        if val is not None and val != int(val):
            c.add(f"{p}.{key}", f"must be a whole number, got {val}")
    conc = c.number(m, "weight_concentration", p, default=20.0, minimum=0, strict_min=True)
    jit = c.number(m, "threshold_jitter_sd", p, default=0.1, minimum=0)
    stab = c.number(m, "stability_threshold", p, default=0.8, minimum=0, maximum=1)
    return RobustnessSpec(int(draws or 0), int(seed or 0), float(conc or 20.0), float(jit or 0.0), float(stab or 0.8))


def _parse_budget(c: _Collector, raw: Any, cat_ids: list[str]) -> BudgetSpec | None:
    if raw is None:
        return None
    m = c.mapping(raw, "budget")
    if m is None:
        return None
    p = "budget"
    c.unknown_keys(
        m,
        (
            "categories",
            "totals",
            "need_field",
            "need_offset",
            "need_minimum",
            "population_exponent",
            "floor_eur",
            "cap_eur",
        ),
        p,
    )
    cats = c.id_list(m.get("categories"), f"{p}.categories", cat_ids, "category")
    totals: dict[str, float] = {}
    tm = c.mapping(m.get("totals"), f"{p}.totals")
    if tm is not None:
        if not tm:
            c.add(f"{p}.totals", "needs at least one group with its annual budget in EUR")
        for group, amount in (tm.items() if c.sized(tm, f"{p}.totals", "groups") else ()):
            num = c.as_number(amount, f"{p}.totals.{group}", minimum=0)
            if num is not None:
                if round(num * 100) != num * 100:
                    c.add(f"{p}.totals.{group}", f"must be a whole number of cents, got {_clip(amount)}")
                totals[str(group)] = num
    need_field = c.string(m, "need_field", p, default="status_index")
    need_offset = c.number(m, "need_offset", p, default=1.0)
    need_minimum = c.number(m, "need_minimum", p, default=0.5, minimum=0)
    pop_exp = c.number(m, "population_exponent", p, default=1.0, minimum=0)
    floor = c.number(m, "floor_eur", p, default=0.0, minimum=0)
    cap = c.number(m, "cap_eur", p, default=None, minimum=0, strict_min=True)
    if floor is not None and cap is not None and floor > cap:
        c.add(f"{p}.floor_eur", f"floor ({floor}) must not exceed cap_eur ({cap})", "order")
    if not cats or not totals or need_field is None:
        return None
    return BudgetSpec(
        categories=cats,
        totals=totals,
        need_field=need_field,
        need_offset=float(need_offset if need_offset is not None else 1.0),
        need_minimum=float(need_minimum if need_minimum is not None else 0.5),
        population_exponent=float(pop_exp if pop_exp is not None else 1.0),
        floor_eur=float(floor or 0.0),
        cap_eur=cap,
    )
