"""The value types of the programme schema (:mod:`geo.classify.schema`): one error per wrong value, in our words.

Every validator here raises :func:`fail` with the :class:`~geo.errors.Problem` check as the error type and
the message as the project writes it (``must be a finite number, got 'heavy'``), so
:func:`geo.classify.definition.parse_definition` turns pydantic's errors into problems without rewording.
Each type carries its JSON Schema (``WithJsonSchema``), so the published schema says what the validator checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError

from geo.classify.index_methods import method_names

DIRECTIONS = ("higher_is_worse", "lower_is_worse")
NUMERIC_OPS = (">=", ">", "<=", "<")
OPS = (*NUMERIC_OPS, "==", "!=", "in", "not_in")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

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
#: longest echo of a wrong value in a problem message
MAX_ECHO = 80


def clip(value: Any, limit: int = MAX_ECHO) -> str:
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


def fail(check: str, message: str, *, item: int | None = None) -> PydanticCustomError:
    """A validation error whose type is the :class:`~geo.errors.Problem` check and whose text is ``message``.

    ``item``: the position in the (list) value that is wrong; the problem's path then ends with ``[item]``.
    """
    ctx: dict[str, Any] = {"text": message} if item is None else {"text": message, "item": item}
    return PydanticCustomError(check, "{text}", ctx)


def context_of(info: ValidationInfo) -> dict[str, Any]:
    """The validation context (a dict the validators share; empty when validated without one)."""
    return info.context if isinstance(info.context, dict) else {}


# ---------------------------------------------------------------------------------------------------------
# value types: one error per wrong value, with the project's wording
# ---------------------------------------------------------------------------------------------------------
def finite(value: int | float) -> bool:
    """True for a number that is neither NaN nor infinite nor beyond the float range."""
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def number(*, ge: float | None = None, gt: float | None = None, le: float | None = None) -> Any:
    """A finite number (not a boolean) within the given bounds, as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
            raise fail("type", f"must be a finite number, got {clip(value)}")
        if ge is not None and value < ge:
            raise fail("range", f"must be >= {ge}, got {clip(value)}")
        if gt is not None and value <= gt:
            raise fail("range", f"must be > {gt}, got {clip(value)}")
        if le is not None and value > le:
            raise fail("range", f"must be <= {le:,}, got {clip(value)}")
        return float(value)

    bounds = {"minimum": ge, "exclusiveMinimum": gt, "maximum": le}
    schema = {"type": "number", **{k: v for k, v in bounds.items() if v is not None}}
    return Annotated[float, PlainValidator(check), WithJsonSchema(schema)]


def whole(*, ge: int, le: int) -> Any:
    """A whole number within bounds (``2`` or ``2.0``), as an int."""
    inner = number(ge=ge, le=le)

    def check(value: float) -> int:
        if value != int(value):
            raise fail("definition", f"must be a whole number, got {value}")
        return int(value)

    return Annotated[inner, AfterValidator(check), WithJsonSchema({"type": "integer", "minimum": ge, "maximum": le})]


def name_value(value: Any) -> str:
    """A non-empty string of at most ``LIMITS["name_chars"]`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise fail("type", f"must be a non-empty string, got {clip(value)}")
    if len(value) > LIMITS["name_chars"]:
        raise fail("limit", f"has {len(value):,} characters; at most {LIMITS['name_chars']:,} are accepted, "
                   f"got {clip(value)}")
    return value


def _text(value: Any, limit: int = LIMITS["text_chars"]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail("type", f"must be a text, got {clip(value)}")
    out = value if isinstance(value, str) else clip(value)
    if len(out) > limit:
        raise fail("limit", f"has {len(out):,} characters; at most {limit:,} are accepted")
    return out


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("type", f"must be true or false, got {clip(value)}")
    return value


def choice(choices: tuple[str, ...]) -> Any:
    """One of ``choices`` (a string enum in the JSON Schema)."""
    def check(value: Any) -> str:
        if value not in choices:
            raise fail("definition", f"must be one of {', '.join(choices)}, got {clip(value)}")
        return str(value)

    return Annotated[str, PlainValidator(check), WithJsonSchema({"type": "string", "enum": list(choices)})]


#: a non-empty string of at most 200 characters (ids, column names, fields)
Name = Annotated[str, PlainValidator(name_value),
                 WithJsonSchema({"type": "string", "minLength": 1, "maxLength": LIMITS["name_chars"]})]
#: a free text (title, label, description, unit): a string or number of at most 2,000 characters
Text = Annotated[str, PlainValidator(_text),
                 WithJsonSchema({"type": ["string", "number"], "maxLength": LIMITS["text_chars"]})]
Version = Annotated[str, PlainValidator(lambda v: _text(v, LIMITS["name_chars"])),
                    WithJsonSchema({"type": ["string", "number"], "maxLength": LIMITS["name_chars"]})]
Bool = Annotated[bool, PlainValidator(_bool), WithJsonSchema({"type": "boolean"})]


def _method(value: Any) -> str:
    names = method_names()
    if value not in names:
        raise fail("definition", f"unknown index method {clip(value)} (registered: {', '.join(names)})")
    return str(value)


class _MethodNames:
    """JSON Schema of ``method``: the names registered when the schema is generated."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "enum": list(method_names())}


#: the name of a registered index method (:mod:`geo.classify.index_methods`)
Method = Annotated[str, PlainValidator(_method), _MethodNames()]


def _lower_id(value: str) -> str:
    if not ID_RE.match(value):
        raise fail("definition", f"must be a lower-case identifier, got {clip(value)}")
    return value


IndexName = Annotated[Name, AfterValidator(_lower_id),
                      WithJsonSchema({"type": "string", "pattern": ID_RE.pattern, "maxLength": LIMITS["name_chars"]})]


def sized(limit: str, *, min_length: int = 1) -> Any:
    """List/mapping length bounds (``LIMITS[limit]``)."""
    return Field(min_length=min_length, max_length=LIMITS[limit])


def known(kind: str, key: str) -> Callable[[str, ValidationInfo], str]:
    """A validator: the value is one of the ids the context holds under ``key`` (a no-op without context)."""

    def check(value: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if key in ctx and not ctx.get("in_basis") and value not in ctx[key]:
            known = ", ".join(ctx[key]) or "none"
            raise fail("definition", f"unknown {kind} {clip(value)} (known: {known})")
        return value

    return check


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def id_list(kind: str, key: str) -> Any:
    """A category id or a non-empty list of them, each one the context lists under ``key``."""
    item = Annotated[str, PlainValidator(name_value), AfterValidator(known(kind, key)),
                     WithJsonSchema({"type": "string"})]
    return Annotated[list[item], BeforeValidator(_one_or_many), sized("ids"),
                     WithJsonSchema({"anyOf": [{"type": "string"},
                                               {"type": "array", "items": {"type": "string"}, "minItems": 1}]})]


class Model(BaseModel):
    """Base of every schema model: strict types, no unknown keys, ``key: null`` read as "not given"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        """``key: null`` means "not given" (the default), as in every definition written so far."""
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data
