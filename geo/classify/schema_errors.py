"""pydantic's validation errors as the project's :class:`~geo.errors.Problem` s, named by their field path.

:func:`problem_of` turns one error of :class:`geo.classify.schema.Programme` into a problem whose
``detail["field"]`` is the path (``indices.status.components[2].weight``) and whose message says the value
and what was expected; :func:`invalid` makes the one :class:`~geo.errors.DefinitionError` listing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geo.classify import schema
from geo.classify.schema import MAX_ECHO
from geo.errors import DefinitionError, Problem

#: most problems listed one by one (the message still counts all of them)
MAX_PROBLEMS = 100


# pydantic's own error types -> (Problem check, message); the project's validators name their check themselves
_PYDANTIC_ERRORS: Mapping[str, tuple[str, str]] = {
    "missing": ("missing", "is required"),
    "model_type": ("type", "must be a mapping, got {kind}"),
    "model_attributes_type": ("type", "must be a mapping, got {kind}"),
    "dict_type": ("type", "must be a mapping, got {kind}"),
    "list_type": ("type", "must be a list, got {got}"),
    "too_short": ("missing", "must not be empty (at least {min_length} item(s))"),
    "too_long": ("limit", "has {actual_length:,} items; at most {max_length:,} are accepted"),
}


def field_path(loc: tuple[str | int, ...]) -> str:
    """``("indices", "status", "components", 0, "weight")`` -> ``indices.status.components[0].weight``."""
    out = ""
    for part in loc:
        if part == "[key]" or part in schema.CONDITION_TAGS:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if len(part) <= MAX_ECHO else schema.clip(part)
            out += f".{name}" if out else name
    return out if len(out) <= 2 * MAX_ECHO else schema.clip(out, 2 * MAX_ECHO)


def problem_of(error: Any, source_name: str | None) -> Problem:
    """The :class:`Problem` of one pydantic error (``ValidationError.errors()`` item) of ``source_name``."""
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        check, message = "unknown_field", f"unknown field (allowed: {', '.join(schema.allowed_keys(loc[:-1]))})"
    elif kind in _PYDANTIC_ERRORS:
        check, template = _PYDANTIC_ERRORS[kind]
        got = error.get("input")
        message = template.format(kind=type(got).__name__, got=schema.clip(got), **ctx)
    elif "text" in ctx:  # raised by the schema's validators (schema.fail): the type is the check
        check, message = kind, str(ctx["text"])
        loc = (*loc, int(ctx["item"])) if "item" in ctx else loc
    else:
        check, message = "definition", f"{error['msg']}, got {schema.clip(error.get('input'))}"
    path = field_path(loc) or "(definition)"
    return Problem(check=check, message=f"{path}: {message}", file=source_name, detail={"field": path})


def invalid(problems: list[Problem], count: int, source_name: str | None) -> DefinitionError:
    """The one error of an invalid definition: ``count`` problems, the first five fields named in its message."""
    fields = ", ".join(str(p.detail.get("field")) for p in problems[:5])
    more = f" and {count - 5} more" if count > 5 else ""
    where = f" in {source_name}" if source_name else ""
    return DefinitionError(f"programme definition{where} is invalid: {count} wrong field(s) ({fields}{more})",
                           problems=problems[:MAX_PROBLEMS])
