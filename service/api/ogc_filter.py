"""CQL2 filters (OGC API Features Part 3) over a collection's attribute table, and its queryables.

Parsing is pygeofilter's (``cql2-text`` and ``cql2-json``); this module only evaluates the syntax tree with
pandas over the attribute table (nullable dtypes, so a comparison with a missing value is unknown and three-valued
logic holds: ``NOT (population > 2000)`` does not select a district without a population) and with shapely over
the storage geometries. Two places where pygeofilter 0.4 departs from CQL2 1.0 are normalised before its JSON
parser runs: ``between`` with three arguments and ``{"bbox": [...]}`` literals. Every error (syntax, unknown
property, wrong type, unsupported function) is an :class:`~geo.errors.InputError` naming what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from lark.exceptions import LarkError, UnexpectedInput
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from geo.errors import InputError, Problem
from service.api.eligibility import read_json

LANGS = ("cql2-text", "cql2-json")
MAX_FILTER = 20_000  # characters
GEOMETRY = "geometry"
SCHEMA_TYPES = {"Int64": "integer", "Float64": "number", "boolean": "boolean", "string": "string"}


def _bad(message: str, what: str = "filter") -> InputError:
    return InputError(message, problems=[Problem(check="parameter", message=what)])


def _normalise_json(node: Any) -> Any:
    """CQL2 JSON as pygeofilter 0.4 reads it (see module docstring)."""
    if isinstance(node, list):
        return [_normalise_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
        b = node["bbox"]
        x0, y0, x1, y1 = (b[0], b[1], b[2], b[3]) if len(b) == 4 else (b[0], b[1], b[3], b[4])
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    out = {k: _normalise_json(v) for k, v in node.items()}
    if out.get("op") == "between" and isinstance(out.get("args"), list) and len(out["args"]) == 3:
        out["args"] = [out["args"][0], out["args"][1:]]
    return out


def check_lang(lang: str | None) -> str:
    """``filter-lang`` (default ``cql2-text``), or a 400 naming it."""
    lang = lang or "cql2-text"
    if lang not in LANGS:
        raise _bad(f"filter-lang {lang!r} is not supported; use cql2-text or cql2-json", "filter-lang")
    return lang


def parse(text: str, lang: str | None) -> ast.Node:
    """The syntax tree of ``filter`` in ``filter-lang`` (default ``cql2-text``)."""
    lang = check_lang(lang)
    if len(text) > MAX_FILTER:
        raise _bad(f"filter is longer than {MAX_FILTER:,} characters")
    try:
        if lang == "cql2-json":
            return parse_json(_normalise_json(read_json(text, "filter (cql2-json)")))
        return parse_text(text)
    except UnexpectedInput as exc:
        near = text[max(0, exc.pos_in_stream or 0):][:30] if exc.pos_in_stream is not None else ""
        raise _bad(f"filter: CQL2 syntax error at position {(exc.pos_in_stream or 0) + 1} (line {exc.line}, "
                   f"column {exc.column})" + (f" near {near!r}" if near else "")) from None
    except InputError:
        raise
    except (LarkError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise _bad(f"filter: not a valid {lang} expression ({type(exc).__name__}: {str(exc)[:200]})") from None


def properties(node: Any) -> set[str]:
    """Names of the properties a syntax tree refers to."""
    if isinstance(node, ast.Attribute):
        return {node.name}
    found: set[str] = set()
    subs = node.get_sub_nodes() if hasattr(node, "get_sub_nodes") else None
    for sub in subs if isinstance(subs, list) else ([subs] if subs is not None else []):
        found |= properties(sub)
    return found


def table(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """The attribute table a filter is evaluated over (nullable dtypes)."""
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return frame.convert_dtypes()


def _label(name: str) -> dict[str, str]:
    """German title and English description of a property, where the indicator registry or the page texts know it."""
    from maps.i18n import indicator_label, rule_label

    de = indicator_label(name, "de")
    de = de if de != name else (rule_label(name, "de") or "")
    en = indicator_label(name, "en")
    en = en if en != name else (rule_label(name, "en") or "")
    return {k: v for k, v in (("title", de), ("description", en)) if v}


def queryables(attrs: pd.DataFrame, *, url: str, title: str, geometry: str) -> dict[str, Any]:
    """The JSON Schema of what a filter may refer to (``/queryables``)."""
    from maps.i18n import class_label

    props: dict[str, Any] = {}
    for name in attrs.columns:
        col = attrs[name]
        kind = SCHEMA_TYPES.get(str(col.dtype), "string")
        prop: dict[str, Any] = {"title": name, "type": kind, **_label(name)}
        if kind == "string" and not name.endswith("key") and name not in ("name", "key"):
            vals = sorted({str(v) for v in col.dropna()})
            if 0 < len(vals) <= 12:
                prop["enum"] = vals
                if name.endswith("_class"):
                    words = "; ".join(f"{v} = {class_label(name, v, 'de')} ({class_label(name, v, 'en')})"
                                      for v in vals)
                    prop["description"] = f"{prop['description']}: {words}" if "description" in prop else words
        props[name] = prop
    props[GEOMETRY] = {"title": "geometry", "format": f"geometry-{geometry}",
                       "x-ogc-role": "primary-geometry"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url, "type": "object",
            "title": title, "properties": props, "additionalProperties": False}


# ----------------------------------------------------------------------------------------------- evaluation


class _Geoms:
    """The collection's geometry column (storage CRS) as an operand."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms


def _like_regex(pattern: str) -> str:
    """CQL2 LIKE: ``%`` any characters, ``_`` one, backslash escapes."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)


_SPATIAL: dict[str, Callable[[Any, Any], np.ndarray]] = {  # literal first (request-local, prepared)
    "INTERSECTS": lambda lit, g: shapely.intersects(lit, g),
    "DISJOINT": lambda lit, g: shapely.disjoint(lit, g),
    "CONTAINS": lambda lit, g: shapely.within(lit, g),  # S_CONTAINS(geometry, lit): geometry contains lit
    "WITHIN": lambda lit, g: shapely.contains(lit, g),
    "TOUCHES": lambda lit, g: shapely.touches(lit, g),
    "CROSSES": lambda lit, g: shapely.crosses(lit, g),
    "OVERLAPS": lambda lit, g: shapely.overlaps(lit, g),
    "EQUALS": lambda lit, g: shapely.equals(lit, g),
}


class _Evaluator(Evaluator):
    def __init__(self, attrs: pd.DataFrame, geoms: np.ndarray,
                 to_storage: Callable[[shapely.Geometry], shapely.Geometry]) -> None:
        self.attrs, self.geoms, self.to_storage = attrs, geoms, to_storage

    def _kind(self, value: Any) -> str:
        if isinstance(value, pd.Series):
            return SCHEMA_TYPES.get(str(value.dtype), "string")
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "number"
        return "string" if isinstance(value, str) else type(value).__name__

    def _check(self, node: Any, lhs: Any, rhs: Any) -> None:
        kinds = {self._kind(lhs), self._kind(rhs)}
        kinds = {"number" if k == "integer" else k for k in kinds}
        if len(kinds) > 1:
            sides = (getattr(node, "lhs", None), getattr(node, "rhs", None))
            names = [n for n in (getattr(s, "name", None) for s in sides) if isinstance(n, str)]
            raise _bad(f"filter: cannot compare {' and '.join(sorted(kinds))}"
                       + (f" (property {', '.join(names)})" if names else ""))

    @handle(ast.Not)
    def not_(self, node: Any, sub: Any) -> Any:
        return (not sub) if isinstance(sub, bool | np.bool_) else ~sub

    @handle(ast.And)
    def and_(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return lhs & rhs

    @handle(ast.Or)
    def or_(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return lhs | rhs

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: Any, lhs: Any, rhs: Any) -> Any:
        self._check(node, lhs, rhs)
        op = node.op.value
        return {"=": lambda: lhs == rhs, "<>": lambda: lhs != rhs, "<": lambda: lhs < rhs,
                "<=": lambda: lhs <= rhs, ">": lambda: lhs > rhs, ">=": lambda: lhs >= rhs}[op]()

    @handle(ast.Between)
    def between(self, node: Any, lhs: Any, low: Any, high: Any) -> Any:
        for bound in (low, high):
            if self._kind(bound) != "number" or self._kind(lhs) not in ("number", "integer"):
                raise _bad("filter: BETWEEN needs a numeric property and numeric bounds")
        out = (lhs >= low) & (lhs <= high)
        return ~out if node.not_ else out

    @handle(ast.Like)
    def like(self, node: Any, lhs: Any) -> Any:
        pattern = node.pattern
        if isinstance(pattern, ast.Function) and pattern.name == "lower":  # CASEI('...')
            pattern = str(pattern.arguments[0]).lower()
        if not isinstance(lhs, pd.Series) or self._kind(lhs) != "string" or not isinstance(pattern, str):
            raise _bad("filter: LIKE needs a text property and a text pattern")
        out = lhs.str.fullmatch(_like_regex(pattern), flags=re.DOTALL)
        return ~out if node.not_ else out

    @handle(ast.In)
    def in_(self, node: Any, lhs: Any, *options: Any) -> Any:
        if not isinstance(lhs, pd.Series):
            raise _bad("filter: IN needs a property on its left")
        for opt in options:
            self._check(node, lhs, opt)
        out = lhs.isin(list(options)).astype("boolean")
        out[lhs.isna()] = pd.NA
        return ~out if node.not_ else out

    @handle(ast.IsNull)
    def null(self, node: Any, lhs: Any) -> Any:
        out = lhs.isna() if isinstance(lhs, pd.Series) else pd.Series(lhs is None, index=self.attrs.index)
        return (~out if node.not_ else out).astype("boolean")

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node: Any, lhs: Any, rhs: Any) -> Any:
        if self._kind(lhs) not in ("number", "integer") or self._kind(rhs) not in ("number", "integer"):
            raise _bad("filter: arithmetic needs numbers")
        return {"+": lambda: lhs + rhs, "-": lambda: lhs - rhs, "*": lambda: lhs * rhs,
                "/": lambda: lhs / rhs}[node.op.value]()

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: Any, lhs: Any, rhs: Any) -> Any:
        if isinstance(lhs, _Geoms) and isinstance(rhs, shapely.Geometry):
            geoms, lit, op = lhs.geoms, rhs, node.op.name
        elif isinstance(rhs, _Geoms) and isinstance(lhs, shapely.Geometry):
            geoms, lit = rhs.geoms, lhs
            op = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(node.op.name, node.op.name)
        else:
            raise _bad(f"filter: S_{node.op.name} needs the property {GEOMETRY!r} and a geometry literal")
        shapely.prepare(lit)
        hits = _SPATIAL[op](lit, geoms)
        return pd.Series(hits, index=self.attrs.index, dtype="boolean")

    @handle(ast.Attribute)
    def attribute(self, node: Any) -> Any:
        return _Geoms(self.geoms) if node.name == GEOMETRY else self.attrs[node.name]

    @handle(ast.Function)
    def function(self, node: Any, *args: Any) -> Any:
        name = node.name.lower()
        if name == "bbox" and len(args) in (4, 6) and all(self._kind(a) == "number" for a in args):
            x0, y0, x1, y1 = (args[0], args[1], args[2], args[3]) if len(args) == 4 else (
                args[0], args[1], args[3], args[4])
            return self.to_storage(shapely.box(x0, y0, x1, y1))
        if name == "lower" and len(args) == 1:
            return args[0].str.lower() if isinstance(args[0], pd.Series) else str(args[0]).lower()
        raise _bad(f"filter: function {node.name}() is not supported (supported: BBOX, CASEI)")

    @handle(values.Geometry)
    def geometry(self, node: Any) -> Any:
        try:
            geom = shapely.geometry.shape(node.geometry)
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException) as exc:
            raise _bad(f"filter: invalid geometry literal ({exc})") from None
        return self.to_storage(geom)

    @handle(str, float, int, bool)
    def literal(self, node: Any) -> Any:
        return node

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        raise _bad(f"filter: {type(node).__name__} is not supported by this server (supported: comparisons, "
                   "AND, OR, NOT, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS and the other spatial predicates)")


def evaluate(node: ast.Node, attrs: pd.DataFrame, geoms: np.ndarray,
             to_storage: Callable[[shapely.Geometry], shapely.Geometry]) -> np.ndarray:
    """Boolean mask of the rows of ``attrs`` (and ``geoms``) the filter selects (unknown counts as false)."""
    unknown = sorted(properties(node) - set(attrs.columns) - {GEOMETRY})
    if unknown:
        raise InputError(f"filter: unknown propert{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
                         "see /queryables for the properties of this collection",
                         problems=[Problem(check="filter", message=f"unknown property {n}") for n in unknown])
    try:
        out = _Evaluator(attrs, geoms, to_storage).evaluate(node)
    except InputError:
        raise
    except (TypeError, ValueError) as exc:
        raise _bad(f"filter: cannot be evaluated ({str(exc)[:200]})") from None
    if isinstance(out, pd.Series):
        return np.asarray(out.astype("boolean").fillna(False), dtype=bool)
    if isinstance(out, bool | np.bool_):
        return np.full(len(attrs), bool(out))
    raise _bad("filter: the expression is not a condition (true or false per feature)")
