"""The rule sections of the programme schema: classifiable checks, categories, spatial rules, robustness, budget.

Part of :mod:`geo.classify.schema` (the whole document); the value types are in :mod:`geo.classify.schema_types`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from geo.classify.schema_types import (
    ID_RE,
    LIMITS,
    NUMERIC_OPS,
    OPS,
    Bool,
    Model,
    Name,
    Text,
    choice,
    clip,
    context_of,
    fail,
    finite,
    id_list,
    number,
    sized,
    whole,
)


# ---------------------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------------------
def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= LIMITS["text_chars"]
    return value is not None and not isinstance(value, list | dict | Mapping)


def _check_value(op: str | None, value: Any) -> Any:
    """The value of ``field op value``, checked for the operator: a number, a non-empty list or one scalar."""
    if op is None:
        return value
    if op in NUMERIC_OPS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
            raise fail("type", f"must be a finite number, got {clip(value)}")
        return float(value)
    scalar = f"a number or a text of at most {LIMITS['text_chars']:,} characters"
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise fail("type", f"operator {op!r} needs a non-empty list, got {clip(value)}")
        if len(value) > LIMITS["values"]:
            raise fail("limit", f"has {len(value):,} items; at most {LIMITS['values']:,} are accepted")
        bad = [k for k, v in enumerate(value) if not _scalar(v)]
        if bad:
            raise fail("type", f"must be {scalar}, got {clip(value[bad[0]])}", item=bad[0])
        return tuple(value)
    if not _scalar(value):
        raise fail("type", f"operator {op!r} needs a single value ({scalar}), got {clip(value)}")
    return value


_VALUE_SCHEMA = {"anyOf": [{"type": ["number", "string", "boolean"]},
                           {"type": "array", "items": {"type": ["number", "string", "boolean"]}, "minItems": 1}]}


class ClassifiableCheck(Model):
    """An area is classifiable only if every check passes; otherwise ``reason`` is shown."""

    field: Name
    op: choice(OPS)  # type: ignore[valid-type]
    value: Annotated[Any, WithJsonSchema(_VALUE_SCHEMA)]
    reason: Text
    optional: Bool = False

    @field_validator("value")
    @classmethod
    def _for_op(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_value(info.data.get("op"), value)


class FieldCondition(Model):
    """``field op value``; a class field (``<index>_class``) is compared with its labels only."""

    field: Name
    op: choice(OPS)  # type: ignore[valid-type]
    value: Annotated[Any, WithJsonSchema(_VALUE_SCHEMA)]
    label: Text = ""

    @field_validator("op")
    @classmethod
    def _labels_not_ordered(cls, value: str, info: ValidationInfo) -> str:
        fld = info.data.get("field")
        if value in NUMERIC_OPS and fld in context_of(info).get("class_labels", {}):
            raise fail("definition", f"field {clip(fld)} holds class labels; use ==, !=, in or not_in")
        return value

    @field_validator("value")
    @classmethod
    def _for_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        out = _check_value(op, value)
        labels = context_of(info).get("class_labels", {}).get(info.data.get("field"))
        if labels is not None and op not in NUMERIC_OPS:
            for k, v in enumerate(out if isinstance(out, tuple) else (out,)):
                if v not in labels:
                    raise fail("definition", f"unknown class label {clip(v)} of {info.data.get('field')} "
                               f"(labels: {', '.join(labels)})", item=k if isinstance(out, tuple) else None)
        return out


class CategoryCondition(Model):
    """``category: [ids]`` (``is: false`` for "does not apply"): refers to categories defined earlier."""

    model_config = ConfigDict(populate_by_name=False)
    category: id_list("earlier category", "earlier")  # type: ignore[valid-type]
    is_: Bool = Field(default=True, alias="is")
    label: Text = ""


#: tags of the condition union (pydantic puts them into error locations; they are no part of a field path)
CONDITION_TAGS: Mapping[str, type[BaseModel]] = {"category_ref": CategoryCondition, "field_condition": FieldCondition}


def _condition_kind(value: Any) -> str:
    return "category_ref" if isinstance(value, Mapping) and "category" in value else "field_condition"


Condition = Annotated[
    Annotated[CategoryCondition, Tag("category_ref")] | Annotated[FieldCondition, Tag("field_condition")],
    Discriminator(_condition_kind),
]
Conditions = Annotated[list[Condition], sized("conditions")]


def _category_scope(data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Validate one category; afterwards its id counts as an *earlier* category for the ones below it."""
    try:
        return handler(data)
    finally:
        if isinstance(data, Mapping) and isinstance(data.get("id"), str):
            context_of(info).setdefault("earlier", []).append(data["id"])


def _category_id(value: str, info: ValidationInfo) -> str:
    if not ID_RE.match(value):
        raise fail("definition", f"category ids must be lower-case identifiers, got {clip(value)}")
    if value in context_of(info).get("earlier", []):
        raise fail("definition", f"duplicate category id {clip(value)}")
    return value


class Category(Model):
    """A category with its rule: every ``all`` condition and (if given) at least one ``any`` condition."""

    id: Annotated[Name, AfterValidator(_category_id)]
    label: Text | None = None
    description: Text = ""
    statistical: Bool = True
    all: Conditions | None = None
    any: Conditions | None = None

    _scope = model_validator(mode="wrap")(_category_scope)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _has_rule(self) -> Category:
        if self.all is None and self.any is None:
            raise fail("missing", "needs at least one of 'all' or 'any' (the rule's conditions)")
        return self


CategoryIds = id_list("category", "categories")


class Enclave(Model):
    """An area all of whose (at least ``min_neighbours``) neighbours qualify for ``categories`` qualifies too."""

    categories: CategoryIds  # type: ignore[valid-type]
    min_neighbours: whole(ge=1, le=LIMITS["min_neighbours"]) = 2  # type: ignore[valid-type]


class PopulationCap(Model):
    """At most ``share`` of a group's residents in ``categories``, filled in decreasing ``order_by``."""

    categories: CategoryIds  # type: ignore[valid-type]
    share: number(gt=0, le=1)  # type: ignore[valid-type]
    order_by: Name = "status_index"


class Spatial(Model):
    """The spatial rules: the neighbourhood (queen or rook contiguity), enclave rule and population cap."""

    contiguity: choice(("queen", "rook")) = "queen"  # type: ignore[valid-type]
    enclave: Enclave | None = None
    population_cap: PopulationCap | None = None


class NearMiss(Model):
    """Areas within ``margin_sd`` SDs of qualifying for a category are listed as near misses."""

    margin_sd: number(ge=0) = 0.25  # type: ignore[valid-type]


class DesignationCheck(Model):
    """Which categories count as "indicated" when compared with official designations."""

    indicating_categories: CategoryIds | None = None  # type: ignore[valid-type]


class Robustness(Model):
    """The Monte Carlo test of how stable each area's result is under jittered weights and thresholds."""

    draws: whole(ge=0, le=LIMITS["draws"]) = 1000  # type: ignore[valid-type]
    seed: whole(ge=0, le=LIMITS["seed"]) = 0  # type: ignore[valid-type]
    weight_concentration: number(gt=0) = 20.0  # type: ignore[valid-type]
    threshold_jitter_sd: number(ge=0) = 0.1  # type: ignore[valid-type]
    stability_threshold: number(ge=0, le=1) = 0.8  # type: ignore[valid-type]


def _cents(value: float) -> float:
    if round(value * 100) != value * 100:
        raise fail("definition", f"must be a whole number of cents, got {clip(value)}")
    return value


class Budget(Model):
    """How each group's budget (``totals``, EUR to the cent) is split across the areas in ``categories``."""

    categories: CategoryIds  # type: ignore[valid-type]
    totals: Annotated[dict[str, Annotated[number(ge=0), AfterValidator(_cents)]],  # type: ignore[valid-type]
                      sized("groups")]
    need_field: Name = "status_index"
    need_offset: number() = 1.0  # type: ignore[valid-type]
    need_minimum: number(ge=0) = 0.5  # type: ignore[valid-type]
    population_exponent: number(ge=0) = 1.0  # type: ignore[valid-type]
    cap_eur: number(gt=0) | None = None  # type: ignore[valid-type]
    floor_eur: number(ge=0) = 0.0  # type: ignore[valid-type]

    @field_validator("floor_eur")
    @classmethod
    def _below_cap(cls, value: float, info: ValidationInfo) -> float:
        cap = info.data.get("cap_eur")
        if cap is not None and value > cap:
            raise fail("order", f"floor ({value}) must not exceed cap_eur ({cap})")
        return value
