"""Programme definitions: loading, validation and hash; the frozen :class:`Definition` the engine reads.

A programme definition says which indicators enter which index, how each index is computed and cut into
classes, which rule makes an area qualify for each category, which spatial rules apply, how robustness is
tested and how the budget is split. :func:`load_definition` reads it, validates it with the pydantic models of
:mod:`geo.classify.schema` and raises one :class:`~geo.errors.DefinitionError` listing *every* wrong field
(one :class:`~geo.errors.Problem` each, ``detail["field"]`` holding the path such as
``indices.status.components[2].weight``).

Nothing in this module is specific to Bremen: the Bremen choices live in ``programmes/*.yml``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import yaml

from geo.classify import schema
from geo.classify.index_methods import IndexMethod, get_method
from geo.classify.schema import DIRECTIONS, LIMITS, MAX_ECHO, NUMERIC_OPS, OPS  # noqa: F401 (re-exported)
from geo.classify.schema_errors import MAX_PROBLEMS, field_path, invalid, problem_of  # noqa: F401 (MAX_PROBLEMS)
from geo.classify.yamlread import MAX_YAML_DEPTH, MAX_YAML_NODES, DefinitionYAMLError, read_yaml  # noqa: F401
from geo.errors import DefinitionError, Problem

FIXED_CATEGORY_IDS = (
    "win",
    "kleinstquartier",
    "sonderquartier",
    "quartier_im_werden",
    "watch_list",
    "phase_out_candidate",
)


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
    #: which side of a cut-off is inclusive: "left" (a value at a cut-off goes up), "right" (it stays below)
    closed: str = "left"

    @property
    def index_method(self) -> IndexMethod:
        """The registered :class:`~geo.classify.index_methods.IndexMethod` named by ``method``."""
        return get_method(self.method)

    @property
    def field(self) -> str:
        """The result column holding this index's value (``<name>_index``)."""
        return f"{self.name}_index"

    @property
    def class_field(self) -> str:
        """The result column holding this index's class (``<name>_class``)."""
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
        """Whether the condition refers to earlier categories rather than comparing a field."""
        return bool(self.categories)

    def describe(self) -> str:
        """The condition in plain English, e.g. ``share_foreign_pct >= 30``."""
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
    """An area all of whose (at least ``min_neighbours``) neighbours qualify for ``categories`` qualifies too."""

    categories: tuple[str, ...]
    min_neighbours: int = 2


@dataclass(frozen=True)
class PopulationCap:
    """At most ``share`` of a group's residents in ``categories``, filled in decreasing ``order_by``."""

    categories: tuple[str, ...]
    share: float
    order_by: str = "status_index"


@dataclass(frozen=True)
class SpatialSpec:
    """The spatial rules: the neighbourhood (queen or rook contiguity), enclave rule and population cap."""

    contiguity: str = "queen"
    enclave: EnclaveRule | None = None
    population_cap: PopulationCap | None = None


@dataclass(frozen=True)
class RobustnessSpec:
    """The Monte Carlo test of how stable each area's result is under jittered weights and thresholds."""

    draws: int = 1000
    seed: int = 0
    weight_concentration: float = 20.0
    threshold_jitter_sd: float = 0.1
    stability_threshold: float = 0.8
    jitter_fields: tuple[str, ...] | None = None  # None: the index fields (<index>_index)


@dataclass(frozen=True)
class BudgetSpec:
    """How each group's budget (``totals``, EUR) is split across the areas in ``categories``."""

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
        """The indicator with id ``ind_id``."""
        for ind in self.indicators:
            if ind.id == ind_id:
                return ind
        raise KeyError(ind_id)  # pragma: no cover - validated on load

    def index(self, name: str) -> IndexSpec:
        """The index named ``name``."""
        for idx in self.indices:
            if idx.name == name:
                return idx
        raise KeyError(name)  # pragma: no cover

    @property
    def category_ids(self) -> tuple[str, ...]:
        """The category ids in rule order."""
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



def canonical_json(data: Any) -> str:
    """Canonical JSON (sorted keys, no whitespace, UTF-8) used for the definition hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def parse_definition(data: Any, *, source_name: str | None = None) -> Definition:
    """Validate a parsed definition mapping with :class:`geo.classify.schema.Programme`; see :func:`load_definition`.

    The hash is sha256 of the canonical JSON of ``data`` as written (defaults are not filled in), so a
    definition keeps its hash whatever this module's defaults become.
    """
    if not isinstance(data, Mapping):
        problem = Problem(check="type", message=f"(definition): must be a mapping, got {type(data).__name__}",
                          file=source_name, detail={"field": "(definition)"})
        raise DefinitionError("programme definition is not a mapping", problems=[problem])
    problems: list[Problem] = []
    model: schema.Programme | None = None
    try:
        model = schema.Programme.model_validate(data, context=schema.validation_context(data))
    except pydantic.ValidationError as exc:
        problems = [problem_of(e, source_name) for e in exc.errors(include_url=False)]
    wrong = {str(p.detail.get("field")) for p in problems}
    bases, more = _group_bases(data, wrong, source_name)
    problems += more
    if problems or model is None:
        raise invalid(problems, len(problems), source_name)
    canonical = canonical_json(data)
    return _definition(model, raw=json.loads(canonical), hash_=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
                       bases=bases)


def _group_bases(top: Mapping[str, Any], wrong: set[str], source_name: str | None,
                 ) -> tuple[dict[str, Definition], list[Problem]]:
    """Each group's own basis, validated as the whole definition it makes (problems named by their path).

    A group whose entry is already wrong in itself (``wrong`` holds a path below it) is not merged.
    """
    raw = top.get("group_bases")
    if not isinstance(raw, Mapping):
        return {}, []
    out: dict[str, Definition] = {}
    problems: list[Problem] = []
    for group, entry in raw.items():
        path = field_path(("group_bases", str(group)))
        if not isinstance(entry, Mapping) or any(w == path or w.startswith(path + ".") for w in wrong):
            continue
        sub = {k: v for k, v in top.items() if k != "group_bases"}
        sub["basis"] = {k: entry[k] for k in ("label", "confidence", "description") if k in entry}
        own = entry.get("indicators") or []
        own_ids = {i.get("id") for i in own if isinstance(i, Mapping)}
        sub["indicators"] = [i for i in (top.get("indicators") or [])
                             if not (isinstance(i, Mapping) and i.get("id") in own_ids)] + list(own)
        indices = {k: dict(v) if isinstance(v, Mapping) else v for k, v in (top.get("indices") or {}).items()}
        for name, spec in (entry.get("indices") or {}).items():
            indices[name]["components"] = spec.get("components")
        sub["indices"] = indices
        for key in ("population_column", "classifiable_when"):
            if key in entry:
                sub[key] = entry[key]
        try:
            out[str(group)] = parse_definition(sub, source_name=source_name)
        except DefinitionError as exc:
            for p in exc.problems:
                if p.detail.get("field") in wrong:  # the programme's own problem, reported once
                    continue
                field_ = f"{path}: {p.detail.get('field', '')}"
                problems.append(Problem(check=p.check, message=f"{field_}: {p.message.split(': ', 1)[-1]}",
                                        file=source_name, detail={"field": field_}))
    return out, problems


# ---------------------------------------------------------------------------------------------------------
# validated model -> the engine's frozen definition
# ---------------------------------------------------------------------------------------------------------
def _indicator(m: schema.Indicator) -> Indicator:
    sh = m.shrinkage
    shrink = None if sh is None else Shrinkage(sh.numerator, sh.denominator, sh.scale, sh.group_by, sh.model)
    return Indicator(m.id, m.column or m.id, m.direction, m.unit, m.id if m.label is None else m.label, shrink)


def _index(name: str, m: schema.IndexSpec) -> IndexSpec:
    comps = tuple(Component(c.indicator, c.weight, c.domain, c.optional) for c in m.components)
    domain_weights: dict[str, float] = {}
    if get_method(m.method).needs_domains:
        domains = sorted({c.domain for c in comps if c.domain})
        given = m.domain_weights
        domain_weights = {d: 1.0 / len(domains) for d in domains} if given is None else dict(given)
    return IndexSpec(name=name, method=m.method, components=comps, cutoffs=tuple(m.cutoffs),
                     labels=tuple(m.labels), domain_weights=domain_weights, flag_percentile=m.flag_percentile,
                     label=name if m.label is None else m.label, closed=m.closed)


def _conditions(items: list[Any] | None) -> tuple[Condition, ...]:
    out = []
    for c in items or ():
        if isinstance(c, schema.CategoryCondition):
            out.append(Condition(categories=tuple(c.category), is_=c.is_, label=c.label))
        else:
            out.append(Condition(field=c.field, op=c.op, value=c.value, label=c.label))
    return tuple(out)


def _spatial(m: schema.Spatial) -> SpatialSpec:
    enclave = None if m.enclave is None else EnclaveRule(tuple(m.enclave.categories), m.enclave.min_neighbours)
    pc = m.population_cap
    cap = None if pc is None else PopulationCap(tuple(pc.categories), pc.share, pc.order_by)
    return SpatialSpec(m.contiguity, enclave, cap)


def _budget(m: schema.Budget | None) -> BudgetSpec | None:
    if m is None:
        return None
    return BudgetSpec(categories=tuple(m.categories), totals=dict(m.totals), need_field=m.need_field,
                      need_offset=m.need_offset, need_minimum=m.need_minimum,
                      population_exponent=m.population_exponent, floor_eur=m.floor_eur, cap_eur=m.cap_eur)


def _robustness(m: schema.Robustness | None) -> RobustnessSpec:
    if m is None:  # the Monte Carlo run happens only when the definition asks for it
        return RobustnessSpec(draws=0)
    return RobustnessSpec(m.draws, m.seed, m.weight_concentration, m.threshold_jitter_sd, m.stability_threshold)


def _definition(m: schema.Programme, *, raw: Mapping[str, Any], hash_: str,
                bases: Mapping[str, Definition]) -> Definition:
    categories = tuple(Category(id=c.id, label=c.id if c.label is None else c.label, all=_conditions(c.all),
                                any=_conditions(c.any), statistical=c.statistical, description=c.description)
                       for c in m.categories)
    cat_ids = [c.id for c in categories]
    indicating = (tuple(x for x in cat_ids if x in FIXED_CATEGORY_IDS[:4])
                  if m.designation_check.indicating_categories is None
                  else tuple(m.designation_check.indicating_categories))
    return Definition(
        id=m.id, version=m.version, title=m.id if m.title is None else m.title, id_column=m.id_column,
        name_column=m.name_column, group_column=m.group_column, population_column=m.population_column,
        min_population=m.min_population,
        classifiable_when=tuple(ClassifiableCheck(c.field, c.op, c.value, c.reason, c.optional)
                                for c in m.classifiable_when),
        indicators=tuple(_indicator(i) for i in m.indicators),
        indices=tuple(_index(name, spec) for name, spec in m.indices.items()),
        matrix=None if m.matrix is None else (m.matrix.rows, m.matrix.columns),
        categories=categories, spatial=_spatial(m.spatial), near_miss_margin_sd=m.near_miss.margin_sd,
        indicating_categories=indicating, robustness=_robustness(m.robustness), budget=_budget(m.budget),
        raw=raw, hash=hash_, basis=m.basis.model_dump(), bases=dict(bases),
    )
