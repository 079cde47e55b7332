"""The programme definition's schema as pydantic v2 models, and the JSON Schema published from them.

:class:`Programme` is the whole YAML document. Validation runs in pydantic's strict mode (a ``"1.5"`` is no
number, ``true`` is no weight) and forbids unknown keys; the checks that need the rest of the document (an
index component naming a defined indicator, a rule referring to an *earlier* category, a class label of the
index it reads, ...) are field validators reading a validation context built from the raw document
(:func:`validation_context`), so pydantic reports every wrong field at once, each at its own path.
:func:`geo.classify.definition.parse_definition` turns pydantic's errors into
:class:`~geo.errors.Problem` s and the validated model into the engine's frozen
:class:`~geo.classify.definition.Definition`.

:func:`json_schema` is what ``quartiere schema`` prints and ``GET /api/v1/programme-schema`` serves: editors
with a YAML language server validate a definition as it is typed (see ``programmes/README.md``).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from geo.classify.index_methods import REGISTRY
from geo.classify.schema_rules import (  # noqa: F401 (CategoryCondition, FieldCondition: re-exported)
    CONDITION_TAGS,
    Budget,
    Category,
    CategoryCondition,
    ClassifiableCheck,
    DesignationCheck,
    FieldCondition,
    NearMiss,
    Robustness,
    Spatial,
)
from geo.classify.schema_types import (  # noqa: F401 (re-exported: the schema's constants)
    DIRECTIONS,
    ID_RE,
    LIMITS,
    MAX_ECHO,
    NUMERIC_OPS,
    OPS,
    SCHEMA_DIALECT,
    Bool,
    IndexName,
    Method,
    Model,
    Name,
    Text,
    Version,
    choice,
    clip,
    context_of,
    fail,
    known,
    name_value,
    number,
    sized,
)


# ---------------------------------------------------------------------------------------------------------
# indicators and indices
# ---------------------------------------------------------------------------------------------------------
class Shrinkage(Model):
    """Empirical-Bayes shrinkage of a rate towards the rate of its wider area."""

    numerator: Name
    denominator: Name
    scale: number(gt=0) = 100.0  # type: ignore[valid-type]
    group_by: Name | None = None
    model: choice(("binomial", "poisson")) = "binomial"  # type: ignore[valid-type]


class Indicator(Model):
    """One indicator: a table column (default: its id), its direction and unit."""

    id: Name
    column: Name | None = None
    direction: choice(DIRECTIONS)  # type: ignore[valid-type]
    unit: Text = ""
    label: Text | None = None
    shrinkage: Shrinkage | None = None
    note: Text = ""

    @field_validator("id")
    @classmethod
    def _unique(cls, value: str, info: ValidationInfo) -> str:
        seen = context_of(info).setdefault("seen_indicators", set())
        if value in seen and not context_of(info).get("in_basis"):
            raise fail("definition", f"duplicate indicator id {clip(value)}")
        seen.add(value)
        return value


def _index_raw(info: ValidationInfo) -> Mapping[str, Any]:
    raw = context_of(info).get("index")
    return raw if isinstance(raw, Mapping) else {}


class Component(Model):
    """An indicator's place in an index: its weight and (methods with domains) its domain."""

    indicator: Annotated[Name, AfterValidator(known("indicator", "indicators"))]
    weight: number(ge=0) = 1.0  # type: ignore[valid-type]
    domain: Name | None = Field(default=None, validate_default=True)
    optional: Bool = False

    @field_validator("indicator")
    @classmethod
    def _once(cls, value: str, info: ValidationInfo) -> str:
        used = context_of(info).get("index_used")
        if used is None:
            used = context_of(info)["index_used"] = set()
        if value in used:
            raise fail("definition", f"indicator {clip(value)} used twice in this index")
        used.add(value)
        return value

    @field_validator("domain")
    @classmethod
    def _domain_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        method = _index_raw(info).get("method")
        if value is None and method in REGISTRY and REGISTRY[method].needs_domains \
                and not context_of(info).get("in_basis"):
            raise fail("missing", f"is required for method {method} (its components are grouped in domains)")
        return value

    @field_validator("optional")
    @classmethod
    def _zscore_only(cls, value: bool, info: ValidationInfo) -> bool:
        method = _index_raw(info).get("method")
        if value and method in REGISTRY and not REGISTRY[method].allows_optional \
                and not context_of(info).get("in_basis"):
            able = " or ".join(name for name, m in REGISTRY.items() if m.allows_optional)
            raise fail("definition", f"is only possible with method {able}")
        return value


def _index_scope(data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Validate one index with its raw mapping in the context (its method and domains, its used indicators)."""
    ctx = context_of(info)
    saved = ctx.get("index"), ctx.get("index_used")
    ctx["index"], ctx["index_used"] = (data if isinstance(data, Mapping) else {}), set()
    try:
        return handler(data)
    finally:
        ctx["index"], ctx["index_used"] = saved


def _domain_key(value: Any, info: ValidationInfo) -> str:
    value = name_value(value)
    comps = _index_raw(info).get("components")
    domains = {c.get("domain") for c in comps if isinstance(c, Mapping)} if isinstance(comps, list) else set()
    if value not in domains:
        raise fail("definition", f"no component has domain {clip(value)}")
    return value


class IndexSpec(Model):
    """One composite index, oriented so that higher means more need, cut into classes."""

    method: Method
    label: Text | None = None
    components: Annotated[list[Component], sized("components")]
    cutoffs: Annotated[list[number()], sized("cutoffs")]  # type: ignore[valid-type]
    labels: Annotated[list[Name], Field(min_length=1, max_length=LIMITS["cutoffs"] + 1)]
    closed: choice(("left", "right")) = Field(  # type: ignore[valid-type]
        default="left", description="which side of a cut-off is inclusive: left = a value at a cut-off goes to "
        "the class above it (cut-offs are lower bounds), right = to the class below it")
    domain_weights: Annotated[dict[Annotated[str, PlainValidator(_domain_key)], number(ge=0)],  # type: ignore
                              sized("groups", min_length=0)] | None = Field(default=None, validate_default=True)
    flag_percentile: number(ge=0, le=1) = 0.9  # type: ignore[valid-type]

    _scope = model_validator(mode="wrap")(_index_scope)  # type: ignore[arg-type]

    @field_validator("components")
    @classmethod
    def _some_weight(cls, value: list[Component]) -> list[Component]:
        if sum(c.weight for c in value) <= 0:
            raise fail("definition", "the weights must not all be zero")
        return value

    @field_validator("cutoffs")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        for k in range(1, len(value)):
            if not value[k] > value[k - 1]:
                raise fail("order", f"cut-offs must be strictly increasing; cutoffs[{k}]={value[k]} is not above "
                           f"cutoffs[{k - 1}]={value[k - 1]}")
        return value

    @field_validator("labels")
    @classmethod
    def _one_more_than_cutoffs(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(set(value)) != len(value):
            raise fail("definition", "class labels must be unique")
        cuts = info.data.get("cutoffs")
        if cuts and len(value) != len(cuts) + 1:
            raise fail("definition", f"needs exactly one label more than there are cut-offs ({len(cuts) + 1}), "
                       f"got {len(value)}")
        return value

    @field_validator("domain_weights")
    @classmethod
    def _every_domain(cls, value: dict[str, float] | None, info: ValidationInfo) -> dict[str, float] | None:
        method = REGISTRY.get(info.data.get("method", ""))
        if value is None or method is None or not method.needs_domains or "components" not in info.data:
            return value
        for d in sorted({str(c.domain) for c in info.data["components"] if c.domain}):
            if d not in value:
                raise fail("definition", f"weight for domain {clip(d)} is missing")
        return value


class Matrix(Model):
    """Which two indices span the status/dynamics matrix."""

    rows: Annotated[Name, AfterValidator(known("index", "index_names"))]
    columns: Annotated[Name, AfterValidator(known("index", "index_names"))]


# ---------------------------------------------------------------------------------------------------------
# the document
# ---------------------------------------------------------------------------------------------------------
class Basis(Model):
    """What the indices rest on."""

    label: Text = ""
    confidence: choice(("high", "medium", "low")) = "high"  # type: ignore[valid-type]
    description: Text = ""


class BasisIndex(Model):
    """A programme index's components in a group's own basis (``group_bases.<group>.indices.<name>``)."""

    components: Annotated[list[Component], sized("components")]

    _scope = model_validator(mode="wrap")(_index_scope)  # type: ignore[arg-type]


def _basis_scope(data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A group's basis: its cross-references are checked when it is parsed as the definition it makes."""
    ctx = context_of(info)
    saved = ctx.get("in_basis")
    ctx["in_basis"] = True
    try:
        return handler(data)
    finally:
        ctx["in_basis"] = saved


def _programme_index(value: Any, info: ValidationInfo) -> str:
    value = name_value(value)
    names = context_of(info).get("index_names", [value])
    if value not in names:
        raise fail("definition", f"must name an index of the definition ({', '.join(names)}) and map it to its "
                   "components")
    return value


class GroupBasis(Basis):
    """A group's (city's) own indicators and index components; classes, rules and budgets stay the programme's."""

    indicators: Annotated[list[Indicator], sized("indicators", min_length=0)] | None = None
    indices: dict[Annotated[str, PlainValidator(_programme_index)], BasisIndex] | None = None
    population_column: Name | None = None
    classifiable_when: Annotated[list[ClassifiableCheck], sized("conditions", min_length=0)] | None = None

    _scope = model_validator(mode="wrap")(_basis_scope)  # type: ignore[arg-type]


def _programme_id(value: str) -> str:
    if not ID_RE.match(value.replace("-", "_")):
        raise fail("definition", f"must be lower-case letters, digits, '-' or '_', got {clip(value)}")
    return value


class Programme(Model):
    """A programme definition (``programmes/*.yml``)."""

    model_config = ConfigDict(title="Programme definition (Lebendige Quartiere)")

    id: Annotated[Name, AfterValidator(_programme_id)]
    version: Version = "1"
    title: Text | None = None
    description: Text = ""
    id_column: Name = "key"
    name_column: Name = "name"
    group_column: Name = "city"
    population_column: Name = "population"
    min_population: number(ge=0) = 0.0  # type: ignore[valid-type]
    basis: Basis = Basis()
    classifiable_when: Annotated[list[ClassifiableCheck], sized("conditions", min_length=0)] = Field(
        default_factory=list)
    indicators: Annotated[list[Indicator], sized("indicators")]
    indices: Annotated[dict[IndexName, IndexSpec], sized("indices")]
    matrix: Matrix | None = None
    categories: Annotated[list[Category], sized("categories", min_length=0)] = Field(
        default_factory=list, description="the programme's categories with their rules; none: an index-only "
        "definition (indices and classes)")
    spatial: Spatial = Spatial()
    near_miss: NearMiss = NearMiss()
    designation_check: DesignationCheck = DesignationCheck()
    robustness: Robustness | None = Field(
        default=None, description="the Monte Carlo test of each result's stability; runs only when given")
    budget: Budget | None = None
    group_bases: dict[str, GroupBasis] | None = None


# ---------------------------------------------------------------------------------------------------------
# validation context, error paths, the published schema
# ---------------------------------------------------------------------------------------------------------
def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [i["id"] for i in items if isinstance(i, Mapping) and isinstance(i.get("id"), str)]


def validation_context(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the cross-reference validators compare with, read from the raw document before validation."""
    given = raw.get("indices")
    indices: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    labels = {f"{name}_class": tuple(spec["labels"]) for name, spec in indices.items()
              if isinstance(spec, Mapping) and isinstance(spec.get("labels"), list)
              and all(isinstance(x, str) for x in spec["labels"])}
    return {"indicators": _ids(raw.get("indicators")), "index_names": [str(n) for n in indices],
            "class_labels": labels, "categories": _ids(raw.get("categories")), "earlier": []}


def _candidates(tp: Any) -> list[Any]:
    """The concrete types a (possibly annotated or optional) annotation stands for."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _candidates(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [c for arg in get_args(tp) for c in _candidates(arg)]
    return [] if tp is type(None) else [tp]


def _step(tp: Any, part: str | int) -> list[Any]:
    out: list[Any] = []
    for cand in _candidates(tp):
        if isinstance(part, str) and part in CONDITION_TAGS:
            out += [cand] if cand is CONDITION_TAGS[part] else []
        elif isinstance(cand, type) and issubclass(cand, BaseModel) and isinstance(part, str):
            fields = {f.alias or name: f for name, f in cand.model_fields.items()}
            out += [fields[part].annotation] if part in fields else []
        elif get_origin(cand) is list and isinstance(part, int):
            out.append(get_args(cand)[0])
        elif get_origin(cand) is dict and isinstance(part, str):
            out.append(get_args(cand)[1])
    return out


def allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the mapping at ``loc`` (a pydantic error location, without the key itself) accepts."""
    level: list[Any] = [Programme]
    for part in loc:
        level = [nxt for tp in level for nxt in _step(tp, part)]
    for tp in level:
        for cand in _candidates(tp):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                return [f.alias or name for name, f in cand.model_fields.items()]
    return []


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a programme definition, generated from :class:`Programme`."""
    schema = Programme.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **schema}
