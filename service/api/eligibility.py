"""Eligibility answers (framework-free): per-district answer parts, questions, decision ids, batches.

Every answer of ``/api/v1/eligibility`` is assembled from parts computed once per snapshot
(:func:`service.api.answers.district_answers`), so the request path is a lookup plus a JSON dump. The fields of
an answer:

``decision_id``
    sha256 (first 32 hex digits) of the canonical JSON of the normalised question, the snapshot version and
    the programme definition hash: the same question asked of the same snapshot and definition always gets
    the same id.
``question``
    The normalised question (``kind`` = ``point`` | ``district`` | ``area``; coordinates rounded to 1e-7
    degrees or 1 cm).
``district`` / ``districts``
    The district answered (``level``, ``key``, ``name``, ``city``) and the chain of districts at every level
    (Ortsteil, Stadtteil, Stadtbezirk, city).
``designation``
    The official designation recorded in the snapshot (``designated``, ``programmes``, ``areas``,
    ``confidence``): an input, shown next to the statistical result, never derived from it.
``classification``
    ``classifiable`` (and why not), the index values and classes (e.g. ``status_class``, ``dynamics_class``),
    ``matrix_cell``, ``stability`` (share of Monte Carlo draws with the same result) and ``borderline``.
``categories``
    Every category of the definition with ``applies`` and its ``reasons``: one per condition with
    ``indicator``, ``label``, ``value``, ``operator``, ``threshold``, ``margin`` (in the indicator's unit),
    ``margin_sd``, ``unit`` and ``passed``.
``funding_strands``
    The strands that apply: categories that carry a budget in the definition and apply (``basis``:
    ``indicated``), and official designations (``basis``: ``designated``); ``budget_eur`` is the data-driven
    share of the budget.
``basis``
    What the area's city is classified on (:meth:`geo.classify.Definition.basis_for`): ``group`` (the city with
    a basis of its own, else None), ``own_basis``, the definition's ``label``, ``confidence`` (high | medium |
    low) and ``description``, ``not_published`` (indicators of the programme's status index that the city's
    basis lacks, e.g. SGB II in Bremerhaven) and ``text`` (``de``, ``en``: the same in words).
``indicators``
    Ortsteile: every component of every index of the area's basis with ``index``, ``indicator``, ``label``
    (``label_de``, ``label_en``), ``value`` (as published), ``value_used`` (after shrinkage, where the
    definition shrinks), ``unit``, ``year`` (the year that value is from), ``direction``, ``weight``, ``z``
    (oriented z-score: higher = more need) and ``contribution`` (``weight * z / SD`` of the weighted sum: the
    components' contributions add up to the index up to its centring; None for an area without an index).
``data_vintage``, ``programme``, ``snapshot_version``
    Statistics year (and the year of each indicator), snapshot creation time, definition id, version, hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import (
    GeometryError,
    InputError,
    LimitError,
    OutOfAreaError,
    Problem,
    UnknownKeyError,
    ValidationError,
)

LEVELS = ("ortsteil", "stadtteil", "stadtbezirk")
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)
SUPPORTED_CRS = {"EPSG:4326": "EPSG:4326", "CRS84": "EPSG:4326", "OGC:CRS84": "EPSG:4326",
                 "EPSG:25832": "EPSG:25832", "EPSG:3857": "EPSG:3857", "EPSG:4258": "EPSG:4258",
                 "EPSG:31467": "EPSG:31467"}
#: deepest nesting accepted in a JSON body (GeoJSON needs 7, a programme definition about 6)
MAX_JSON_DEPTH = 64
BATCH_COLUMNS = ["id", "status", "level", "key", "name", "city", "ortsteil_key", "stadtteil_key",
                 "stadtbezirk_key", "designated", "designation_programmes", "categories", "funding_strands",
                 "status_class", "dynamics_class", "stability"]


def clean(value: Any) -> Any:
    """JSON-safe value: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dumps(obj: Any) -> str:
    """Compact JSON (UTF-8 text, no NaN)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decision_id(question: Mapping[str, Any] | str, snapshot_version: str, definition_hash: str) -> str:
    """The deterministic id of a decision (see module docstring); ``question`` as a mapping or its JSON."""
    q = question if isinstance(question, str) else dumps(question)
    payload = f'{{"question":{q},"snapshot_version":{dumps(snapshot_version)},"definition_hash":"{definition_hash}"}}'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------------- bodies


def read_json(raw: bytes | str, what: str = "the body") -> Any:
    """Parse a JSON request body; every way it can fail is an :class:`InputError` (400), never a 500.

    Besides syntax: bytes that are not UTF-8, nesting deeper than :data:`MAX_JSON_DEPTH` (Python's parser
    raises RecursionError at about 1,000 levels; below that every recursive consumer of the value would be at
    risk) and integers of more than 4,300 digits (Python's int-string limit raises ValueError).
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                         problems=[Problem(check="json", message=str(exc)[:200])]) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                         f"{exc.start:,}); send JSON as UTF-8", problems=[Problem(check="encoding",
                                                                                  message="not UTF-8")]) from None
    except RecursionError:
        raise _too_deep(what) from None
    except ValueError as exc:  # int-string conversion limit (JSONDecodeError is handled above)
        raise InputError(f"{what} has a number that cannot be read: {str(exc)[:120]}",
                         problems=[Problem(check="number", message="number too long")]) from None
    check_depth(data, what)
    return data


def _too_deep(what: str) -> InputError:
    return InputError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep",
                      problems=[Problem(check="nesting", message=f"at most {MAX_JSON_DEPTH} levels")])


def check_depth(data: Any, what: str = "the body", limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`InputError` when lists/objects in ``data`` nest deeper than ``limit`` (iterative walk)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, dict | list):
            if depth > limit:
                raise _too_deep(what)
            stack.extend((v, depth + 1) for v in (obj.values() if isinstance(obj, dict) else obj)
                         if isinstance(v, dict | list))


def check_area_geojson(body: Any) -> None:
    """The outline of a GeoJSON area body, checked before it is read as a geometry (:mod:`service.api.area`).

    A Feature's ``geometry`` and every member of a FeatureCollection's ``features`` must be objects; anything
    else is a :class:`GeometryError` naming the member (the geometry reader expects mappings there).
    """
    if not isinstance(body, Mapping):
        return  # answered by area_eligibility
    kind = body.get("type")
    if kind == "FeatureCollection":
        feats = body.get("features")
        if not isinstance(feats, list):
            raise GeometryError(f"the FeatureCollection's 'features' must be a list, got {_kind(feats)}")
        for i, f in enumerate(feats):
            if not isinstance(f, Mapping):
                raise GeometryError(f"features[{i}] must be a GeoJSON Feature object, got {_kind(f)}")
        if len(feats) == 1:
            _check_feature(feats[0], "features[0]")
    elif kind == "Feature":
        _check_feature(body, "the Feature")


def _check_feature(f: Mapping[str, Any], where: str) -> None:
    g = f.get("geometry")
    if f.get("type") == "Feature" and g is not None and not isinstance(g, Mapping):
        raise GeometryError(f"the geometry of {where} must be a GeoJSON geometry object, got {_kind(g)}")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if value is None or isinstance(value, bool | int | float):
        return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class PointQuestion:
    """A point question: coordinates in ``crs`` (a canonical name, :func:`normalise_crs`)."""

    x: float
    y: float
    crs: str

    def normalised(self) -> dict[str, Any]:
        """The question as the answer repeats it, coordinates rounded to the CRS's precision."""
        digits = 7 if self.crs in ("EPSG:4326", "EPSG:4258") else 2
        return {"kind": "point", "crs": self.crs, "x": round(self.x, digits), "y": round(self.y, digits)}

    def normalised_json(self) -> str:
        """``dumps(self.normalised())`` without the JSON encoder (Python's float repr is valid JSON)."""
        digits = 7 if self.crs in ("EPSG:4326", "EPSG:4258") else 2
        return f'{{"kind":"point","crs":"{self.crs}","x":{round(self.x, digits)!r},"y":{round(self.y, digits)!r}}}'


def _float(args: Mapping[str, str], name: str) -> float:
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        raise InputError(f"query parameter {name!r} is missing",
                         problems=[Problem(check="missing_parameter", message=f"{name} is required")])
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"query parameter {name!r} is not a number: {raw!r}",
                         problems=[Problem(check="not_a_number", message=f"{name}={raw!r}")]) from None
    if not math.isfinite(value):
        raise InputError(f"query parameter {name!r} must be finite, got {raw!r}",
                         problems=[Problem(check="not_finite", message=f"{name}={raw!r}")])
    return value


def normalise_crs(raw: str | None, default: str = "EPSG:25832") -> str:
    """Canonical name of a supported CRS (``EPSG:25832``, ``EPSG:4326``, ...)."""
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().upper()
    for prefix in ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/", "HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/"):
        if text.startswith(prefix):
            text = "EPSG:" + text[len(prefix):]
    if text.endswith("/OGC/1.3/CRS84"):
        text = "CRS84"
    if text.isdigit():
        text = "EPSG:" + text
    if text not in SUPPORTED_CRS:
        raise InputError(f"unsupported crs {raw!r}; use one of {', '.join(sorted(SUPPORTED_CRS))}",
                         problems=[Problem(check="crs", message=f"crs={raw!r}")])
    return SUPPORTED_CRS[text]


def parse_point_question(args: Mapping[str, str]) -> PointQuestion | str:
    """Validate the query of ``GET /eligibility``: a :class:`PointQuestion` or a district key (str)."""
    if len(args) == 2 and "lon" in args and "lat" in args:  # fast path of the common question
        try:
            lon, lat = float(args["lon"]), float(args["lat"])
        except ValueError:
            pass
        else:
            if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
                return PointQuestion(lon, lat, "EPSG:4326")
    given = {k for k in ("lon", "lat", "x", "y", "district") if args.get(k) not in (None, "")}
    modes = [m for m, need in (("lonlat", {"lon", "lat"}), ("xy", {"x", "y"}), ("district", {"district"}))
             if need & given]
    if len(modes) != 1:
        detail = ("give exactly one of: lon and lat (WGS84), x and y with crs (default EPSG:25832), or district "
                  f"(8-digit key); got {', '.join(sorted(given)) or 'none of them'}")
        raise InputError(detail, problems=[Problem(check="parameters", message=detail)])
    if modes[0] == "district":
        return _district_question(args)
    return _lonlat_question(args) if modes[0] == "lonlat" else _xy_question(args)


def _district_question(args: Mapping[str, str]) -> str:
    """The 8-digit district key of ``?district=``."""
    key = str(args["district"]).strip()
    if not (len(key) == 8 and key.isdigit()):
        raise InputError(f"district must be an 8-digit key such as 04011373, got {key!r}",
                         problems=[Problem(check="key_format", message=f"district={key!r}")])
    return key


def _lonlat_question(args: Mapping[str, str]) -> PointQuestion:
    """The WGS84 point of ``?lon=&lat=``, both ranges checked at once."""
    if args.get("crs") not in (None, "") and normalise_crs(args.get("crs")) != "EPSG:4326":
        raise InputError("lon/lat are always WGS84 (EPSG:4326); use x and y for other CRS")
    lon, lat = _float(args, "lon"), _float(args, "lat")
    problems = []
    if not LON_RANGE[0] <= lon <= LON_RANGE[1]:
        problems.append(Problem(check="range", message=f"lon={lon} is outside -180..180"))
    if not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
        problems.append(Problem(check="range", message=f"lat={lat} is outside -90..90"))
    if problems:
        raise InputError("; ".join(p.message for p in problems) + " (lon/lat in WGS84 degrees)",
                         problems=problems)
    return PointQuestion(lon, lat, "EPSG:4326")


def _xy_question(args: Mapping[str, str]) -> PointQuestion:
    """The point of ``?x=&y=&crs=`` (default EPSG:25832), within the valid range of its CRS."""
    crs = normalise_crs(args.get("crs"))
    x, y = _float(args, "x"), _float(args, "y")
    if crs in ("EPSG:4326", "EPSG:4258"):
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(f"x={x}, y={y} are not longitude/latitude in degrees for {crs}")
    elif abs(x) > 1e8 or abs(y) > 1e8:
        raise InputError(f"x={x}, y={y} are outside the valid range of {crs} (|value| <= 1e8 m)")
    return PointQuestion(x, y, crs)


def answer_tails(answers: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each answer as JSON text without its opening brace, ready to follow ``question`` and ``decision_id``."""
    return {k: dumps(v)[1:] for k, v in answers.items()}


def render_answer(tail: str, question: Mapping[str, Any] | str, snapshot_version: str, definition_hash: str) -> str:
    """Splice question (mapping or its JSON) and decision id in front of a precomputed answer tail."""
    q = question if isinstance(question, str) else dumps(question)
    did = decision_id(q, snapshot_version, definition_hash)
    return f'{{"decision_id":"{did}","question":{q},{tail}'


def district_answer_tail(tails: Mapping[str, str], key: str, snapshot_version: str) -> str:
    """The precomputed answer tail of district ``key``; :class:`UnknownKeyError` for a key not in the snapshot."""
    if key not in tails:
        raise UnknownKeyError(f"no district with key {key!r} in snapshot {snapshot_version}")
    return tails[key]


def outside_error(question: PointQuestion) -> OutOfAreaError:
    """The error for a point that lies in neither city."""
    return OutOfAreaError(
        f"the point ({question.x}, {question.y}) in {question.crs} lies outside both cities (Bremen and "
        "Bremerhaven); no district contains it",
        problems=[Problem(check="outside", message="point outside Bremen and Bremerhaven")])


# ------------------------------------------------------------------------------------------- batch


@dataclass(frozen=True)
class BatchPoints:
    """The points of a batch question: ids, coordinates in ``crs`` and which rows could not be read."""

    ids: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    crs: str
    invalid: np.ndarray  # bool: row could not be read as finite coordinates


def parse_batch_csv(data: bytes, *, crs: str | None, max_rows: int) -> BatchPoints:
    """Read ``id,lon,lat`` (WGS84) or ``id,x,y`` (``crs``, default EPSG:25832) from CSV bytes."""
    try:
        text = data.decode("utf-8-sig", errors="strict") if data else ""
    except UnicodeDecodeError as exc:
        raise InputError(f"the CSV body is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"position {exc.start:,}); save the file as UTF-8 (CSV UTF-8 in Excel)",
                         problems=[Problem(check="encoding", message="not UTF-8")]) from None
    if not text.strip():
        raise InputError("the CSV body is empty; send a header 'id,lon,lat' or 'id,x,y' and one row per point")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={"id": str}, sep=None if ";" in text.split("\n", 1)[0]
                            else ",", engine="python" if ";" in text.split("\n", 1)[0] else "c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"the CSV body cannot be read: {exc}") from exc
    cols = [str(c).strip().lower() for c in frame.columns]
    frame.columns = cols
    if "id" not in cols:
        raise InputError(f"the CSV has no 'id' column (columns: {', '.join(cols)})")
    if {"lon", "lat"} <= set(cols):
        xcol, ycol = "lon", "lat"
        crs_name = "EPSG:4326"
        if crs not in (None, "") and normalise_crs(crs) != "EPSG:4326":
            raise InputError("columns lon/lat are WGS84 (EPSG:4326); name them x/y for another crs")
    elif {"x", "y"} <= set(cols):
        xcol, ycol = "x", "y"
        crs_name = normalise_crs(crs)
    else:
        raise InputError(f"the CSV needs columns id,lon,lat or id,x,y (got {', '.join(cols)})")
    _check_rows(len(frame), max_rows)
    xs = pd.to_numeric(frame[xcol], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[ycol], errors="coerce").to_numpy(dtype=float)
    ids = frame["id"].fillna("").astype(str).to_numpy(dtype=object)
    return BatchPoints(ids=ids, xs=xs, ys=ys, crs=crs_name, invalid=_invalid(xs, ys, crs_name))


def _check_rows(n: int, max_rows: int) -> None:
    if n > max_rows:
        raise LimitError(f"the batch has {n:,} rows; at most {max_rows:,} are accepted per request "
                         "(split the file)")
    if n == 0:
        raise InputError("the batch has no rows")


def _invalid(xs: np.ndarray, ys: np.ndarray, crs: str) -> np.ndarray:
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if crs in ("EPSG:4326", "EPSG:4258"):
        with np.errstate(invalid="ignore"):
            bad |= ~((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
    return bad


def parse_batch_geojson(obj: Any, *, crs: str | None, max_rows: int) -> BatchPoints:
    """Read a GeoJSON FeatureCollection of Points (id from ``id`` or ``properties.id``; WGS84 unless ``crs``)."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InputError("the GeoJSON body must be a FeatureCollection of Point features")
    feats = obj.get("features")
    if not isinstance(feats, list):
        raise InputError("the FeatureCollection has no 'features' list")
    _check_rows(len(feats), max_rows)
    crs_name = normalise_crs(crs, default="EPSG:4326")
    n = len(feats)
    ids = np.empty(n, dtype=object)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    for i, f in enumerate(feats):
        if not isinstance(f, Mapping):
            ids[i] = str(i)
            continue
        raw_props = f.get("properties")
        props: Mapping[str, Any] = raw_props if isinstance(raw_props, Mapping) else {}
        fid = f.get("id", props.get("id", i))
        ids[i] = str(fid)
        g = f.get("geometry")
        if isinstance(g, Mapping) and g.get("type") == "Point":
            c = g.get("coordinates")
            if isinstance(c, list) and len(c) >= 2 and all(isinstance(v, int | float) for v in c[:2]):
                xs[i], ys[i] = float(c[0]), float(c[1])
    return BatchPoints(ids=ids, xs=xs, ys=ys, crs=crs_name, invalid=_invalid(xs, ys, crs_name))


def leaf_table(answers: Mapping[str, Mapping[str, Any]], leaf_keys: np.ndarray) -> pd.DataFrame:
    """One row per locator leaf with the batch output columns (without id and status)."""
    rows = []
    for key in leaf_keys:
        a = answers[str(key)]
        chain = {d["level"]: d["key"] for d in a["districts"]}
        cls = a.get("classification") or {}
        rows.append({
            "level": a["district"]["level"],
            "key": str(key),
            "name": a["district"]["name"],
            "city": a["district"]["city"],
            "ortsteil_key": chain.get("ortsteil", ""),
            "stadtteil_key": chain.get("stadtteil", ""),
            "stadtbezirk_key": chain.get("stadtbezirk", ""),
            "designated": bool(a["designation"]["designated"]),
            "designation_programmes": ";".join(a["designation"]["programmes"]),
            "categories": ";".join(c["id"] for c in a.get("categories", []) if c["applies"]),
            "funding_strands": ";".join(dict.fromkeys(s["id"] for s in a["funding_strands"])),
            "status_class": cls.get("status_class") or "",
            "dynamics_class": cls.get("dynamics_class") or "",
            "stability": cls.get("stability"),
        })
    out = pd.DataFrame(rows)
    out["stability"] = out["stability"].astype(float)
    return out


def batch_frame(ids: np.ndarray, leaves: np.ndarray, invalid: np.ndarray, table: pd.DataFrame) -> pd.DataFrame:
    """Assemble the batch answer: one row per input point, vectorised (``table`` from :func:`leaf_table`)."""
    found = leaves >= 0
    take = np.where(found, leaves, 0)
    out = table.iloc[take].reset_index(drop=True)
    status = np.where(invalid, "invalid", np.where(found, "ok", "outside"))
    empty = ~found
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].astype(object)
        out.loc[empty, col] = None
    out.insert(0, "status", status)
    out.insert(0, "id", ids)
    return out[BATCH_COLUMNS]


def check_batch_question(points: BatchPoints) -> None:
    """Refuse a batch none of whose rows has valid coordinates."""
    if len(points.ids) and points.invalid.all():
        raise ValidationError(f"none of the {len(points.ids)} rows has valid coordinates in {points.crs}")
