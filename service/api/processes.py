"""OGC API - Processes - Part 1: Core 1.0 (OGC 18-062r2): the eligibility check as a process (framework-free).

Two processes, both executed synchronously only (``jobControlOptions: ["sync-execute"]``, outputs by value):

``eligibility``
    input ``location`` (one): a GeoJSON Point, Polygon or MultiPolygon, or an 8-digit district key
    (``"04011373"``); output ``answer``: the answer of ``/api/v1/eligibility`` for the same question, decision id
    included (point and key answers are spliced from the same precomputed parts, areas go through
    :func:`service.api.area.area_eligibility`).
``eligibility-batch``
    input ``locations`` (1 to :data:`MAX_BATCH`, of them at most :data:`MAX_BATCH_AREAS` polygons), each like
    ``location``; output ``answers``: one element per
    location in input order, the answer or, where that location has none (outside both cities, unknown key, no
    statistics), an RFC 9457 problem object.

Coordinates are CRS84 (longitude, latitude) unless the value is *qualified* with a ``crs`` member, as the bbox
input values of the standard are: ``{"value": {"type": "Point", ...}, "mediaType": "application/geo+json",
"crs": "http://www.opengis.net/def/crs/EPSG/0/25832"}``. A value given by reference (``{"href": ...}``) is
resolved only when it names a feature of this server's own district collections
(``.../ogcapi/collections/ortsteile/items/04011373``): the server never fetches a URL.

The execute body is ``{"inputs": {...}, "outputs": {...}, "response": "raw" | "document"}``; ``raw`` (the
default) answers the output value itself, ``document`` a results document ``{"answer": {"value": ...,
"mediaType": "application/json"}}``. Every error is a typed :mod:`geo.errors` exception whose message names the
input; an unknown process id is :class:`NoSuchProcessError` (404 with the exception type of the standard).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from geo.analysis.interpolate import NoStatisticsError
from geo.errors import (
    CRSError,
    GeometryError,
    InputError,
    LimitError,
    OutOfAreaError,
    Problem,
    QuartiereError,
    UnknownKeyError,
)
from service.api import eligibility as el
from service.api.lookup import OUTSIDE, lookup_point
from service.api.ogc_query import int_param
from service.api.transform import point_to_utm

if TYPE_CHECKING:
    from service.api.state import ServiceState

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
]
#: link relation of the process list in the landing page (OGC API - Processes 1.0, Core)
REL_PROCESSES = "http://www.opengis.net/def/rel/ogc/1.0/processes"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
NO_SUCH_PROCESS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process"
VERSION = "1.0.0"
MAX_BATCH = 1000
#: polygons per batch request (each takes tens of milliseconds: the request stays well inside any timeout)
MAX_BATCH_AREAS = 100
#: largest ``limit`` of the process list (/req/core/pl-limit-definition)
MAX_LIST_LIMIT = 10000
JSON = "application/json"
GEOJSON = "application/geo+json"
RESPONSES = ("raw", "document")
#: collections whose features a ``location`` may reference by ``href``
DISTRICT_COLLECTIONS = ("ortsteile", "stadtteile", "stadtbezirke")
CRS_URIS = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            *(f"http://www.opengis.net/def/crs/EPSG/0/{c}" for c in (25832, 4258, 3857, 31467, 4326))]


NO_SUCH_JOB = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job"


class NoSuchProcessError(UnknownKeyError):
    """A process id this server does not offer (``/req/core/process-exception/no-such-process``)."""


class NoSuchJobError(UnknownKeyError):
    """A job id this server does not know (``/req/core/job-exception-no-such-job``)."""


#: the exception type URI of the standard for each of its errors
EXCEPTION_TYPES: dict[type[UnknownKeyError], str] = {NoSuchProcessError: NO_SUCH_PROCESS, NoSuchJobError: NO_SUCH_JOB}


def get_job(job_id: str) -> NoReturn:
    """``/jobs/{jobID}`` and its results: always :class:`NoSuchJobError`, since no job is ever created.

    Execution is synchronous and creates no job (the standard's permission /per/core/process-execute-sync-job
    is not used), so every job id is unknown.
    """
    raise NoSuchJobError(f"no job {job_id[:80]!r}: the processes of this server execute synchronously and "
                         "keep no jobs; the answer is in the response to the execute request")


# ----------------------------------------------------------------------------------------------- schemas


def _position() -> dict[str, Any]:
    return {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}


def _geometry_schema(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"GeoJSON {kind}", "type": "object", "required": ["type", "coordinates"],
            "contentMediaType": GEOJSON,
            "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates}}


def _ring() -> dict[str, Any]:
    return {"type": "array", "minItems": 4, "items": _position()}


#: JSON Schema of one location (the first sub-schema is the default format, /req/ogc-process-description)
LOCATION_SCHEMA: dict[str, Any] = {"oneOf": [
    _geometry_schema("Point", _position()),
    _geometry_schema("Polygon", {"type": "array", "minItems": 1, "items": _ring()}),
    _geometry_schema("MultiPolygon", {"type": "array", "minItems": 1,
                                      "items": {"type": "array", "minItems": 1, "items": _ring()}}),
    {"title": "District key", "type": "string", "pattern": "^[0-9]{8}$",
     "description": "8-digit key of an Ortsteil, Stadtteil or Stadtbezirk, e.g. 04011373 (Tenever)"},
]}
LOCATION_TEXT = ("A GeoJSON Point, Polygon or MultiPolygon, or an 8-digit district key. Coordinates are CRS84 "
                 "(longitude, latitude); for another CRS give a qualified value with a crs member, e.g. "
                 '{"value": {"type": "Point", "coordinates": [496000, 5880000]}, "mediaType": '
                 '"application/geo+json", "crs": "http://www.opengis.net/def/crs/EPSG/0/25832"}. A reference '
                 '{"href": ".../ogcapi/collections/ortsteile/items/04011373"} to a district feature of this server '
                 "is resolved as that district's key. A point on a shared boundary goes to the district with the "
                 "smallest key; a polygon is answered by areal interpolation of the districts it overlaps.")
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object", "contentMediaType": JSON,
    "required": ["decision_id", "question", "district", "eligible", "snapshot_version", "programme"],
    "properties": {"decision_id": {"type": "string"}, "question": {"type": "object"},
                   "district": {"type": "object"}, "eligible": {"type": "boolean"},
                   "snapshot_version": {"type": "string"}, "programme": {"type": "object"}},
}
_CRS_PARAMETER = {"title": "Coordinate reference systems of qualified location values",
                  "parameters": [{"name": "crs", "value": CRS_URIS}]}


@dataclass(frozen=True)
class Process:
    """One OGC API process of the service: its id, words, and the ids of its one input and output."""

    id: str
    title: str
    description: str
    input_id: str
    output_id: str
    many: bool  # the input takes a list of locations

    def summary(self, base: str) -> dict[str, Any]:
        """The process summary of the ``/processes`` list, with links under ``base``."""
        return {"id": self.id, "version": VERSION, "title": self.title, "description": self.description,
                "keywords": ["eligibility", "Lebendige Quartiere", "Bremen", "Bremerhaven"],
                "jobControlOptions": ["sync-execute"], "outputTransmission": ["value"],
                "links": [{"href": f"{base}/processes/{self.id}", "rel": "self", "type": JSON,
                           "title": "process description"},
                          {"href": f"{base}/processes/{self.id}/execution",
                           "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute", "type": JSON,
                           "title": "execute (POST)"}]}

    def description_doc(self, base: str) -> dict[str, Any]:
        """The process description of ``/processes/{processID}``: the summary with its input and output."""
        if self.many:
            inp = {"title": "Locations", "description": f"A list of locations (at most {MAX_BATCH_AREAS} of them "
                   f"polygons), each as for the process 'eligibility': {LOCATION_TEXT}", "minOccurs": 1,
                   "maxOccurs": MAX_BATCH, "schema": LOCATION_SCHEMA, "additionalParameters": _CRS_PARAMETER}
            out = {"title": "Answers", "description": "One element per location in input order: the eligibility "
                   "answer, or an RFC 9457 problem object (type, title, status, detail) where that location "
                   "has none (outside both cities, unknown key, no statistics).",
                   "schema": {"type": "array", "contentMediaType": JSON,
                              "items": {"oneOf": [ANSWER_SCHEMA, {"type": "object", "required": ["type", "status"]}]}}}
        else:
            inp = {"title": "Location", "description": LOCATION_TEXT, "minOccurs": 1, "maxOccurs": 1,
                   "schema": LOCATION_SCHEMA, "additionalParameters": _CRS_PARAMETER}
            out = {"title": "Eligibility answer", "description": "The answer of GET/POST /api/v1/eligibility for "
                   "the same question: decision id, districts, designation, classification, categories with "
                   "reasons, funding strands, data vintage and programme.", "schema": ANSWER_SCHEMA}
        return {**self.summary(base), "inputs": {self.input_id: inp}, "outputs": {self.output_id: out}}


PROCESSES: dict[str, Process] = {p.id: p for p in (
    Process("eligibility", "Eligibility of a location",
            "Does a point, an area or a district of Bremen or Bremerhaven qualify for the programme Lebendige "
            "Quartiere, for which funding strand, and why? The same answer as /api/v1/eligibility.",
            "location", "answer", many=False),
    Process("eligibility-batch", "Eligibility of several locations",
            f"The eligibility answer for each of up to {MAX_BATCH:,} locations (points, areas or district keys).",
            "locations", "answers", many=True),
)}


def get_process(process_id: str) -> Process:
    """The process with ``process_id`` (else :class:`NoSuchProcessError`)."""
    if process_id not in PROCESSES:
        raise NoSuchProcessError(f"no process {process_id!r}; processes: {', '.join(PROCESSES)}")
    return PROCESSES[process_id]


def process_list(base: str, args: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The process list (``limit`` 1..:data:`MAX_LIST_LIMIT`, larger values clamped, default 10; ``offset``)."""
    args = args or {}
    unknown = sorted(set(args) - {"limit", "offset", "f"})
    if unknown:
        raise InputError(f"unknown query parameter {unknown[0]!r}; /processes takes limit and offset",
                         problems=[Problem(check="parameter", message=unknown[0])])
    if args.get("f") not in (None, "", "json"):
        raise InputError(f"f must be 'json', got {args['f'][:40]!r}", problems=[Problem(check="parameter",
                                                                                       message="f")])
    limit = int_param(args, "limit", 10, 1, MAX_LIST_LIMIT, clamp=True)
    offset = int_param(args, "offset", 0, 0)
    items = list(PROCESSES.values())
    links = [{"href": f"{base}/processes?limit={limit}&offset={offset}", "rel": "self", "type": JSON,
              "title": "processes"}]
    if offset + limit < len(items):
        links.append({"href": f"{base}/processes?limit={limit}&offset={offset + limit}", "rel": "next",
                      "type": JSON, "title": "next page"})
    return {"processes": [p.summary(base) for p in items[offset:offset + limit]], "links": links}


# ------------------------------------------------------------------------------------------ input values


def _named(name: str, exc: QuartiereError) -> QuartiereError:
    """The same error with the input named first (``input 'location': ...``)."""
    out = type(exc)(f"input {name!r}: {exc.message}", problems=exc.problems)
    out.__cause__ = exc
    return out


def _key_of_reference(href: Any, name: str) -> str:
    """The district key a reference to this server's own district feature names."""
    path = urlsplit(href).path.rstrip("/").split("/") if isinstance(href, str) else []
    if len(path) >= 4 and path[-4] == "collections" and path[-3] in DISTRICT_COLLECTIONS and path[-2] == "items":
        return path[-1]
    raise InputError(f"input {name!r}: a reference is resolved only when it names a district feature of this "
                     "server (.../ogcapi/collections/ortsteile/items/<key>); the server fetches no other URL",
                     problems=[Problem(check="input", message=f"{name}: href={str(href)[:120]!r}")])


def _coordinates(geom: Mapping[str, Any], name: str) -> tuple[float, float]:
    c = geom.get("coordinates")
    if not (isinstance(c, list) and len(c) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in c)):
        raise GeometryError(f"a Point's coordinates must be 2 or 3 numbers, got {el._kind(c)}",
                            problems=[Problem(check="input", message=f"{name}: Point coordinates")])
    return float(c[0]), float(c[1])


@dataclass(frozen=True)
class Location:
    """One parsed location: exactly one of ``key``, ``point``, ``area`` (GeoJSON with its ``crs``)."""

    key: str | None = None
    point: el.PointQuestion | None = None
    area: Mapping[str, Any] | None = None
    crs: str | None = None


def parse_location(value: Any, name: str) -> Location:
    """A ``location`` value (inline, qualified or by reference) checked and parsed; errors name the input."""
    crs_raw: Any = None
    if isinstance(value, Mapping) and "href" in value and "type" not in value:
        value = _key_of_reference(value.get("href"), name)
    elif isinstance(value, Mapping) and "value" in value:
        media = value.get("mediaType")
        if media not in (None, GEOJSON, JSON, "text/plain"):
            raise InputError(f"input {name!r}: mediaType {media!r} is not supported; use {GEOJSON}",
                             problems=[Problem(check="input", message=f"{name}: mediaType")])
        crs_raw = value.get("crs")
        value = value["value"]
    try:
        if isinstance(value, str):
            key = el.parse_point_question({"district": value})
            assert isinstance(key, str)
            return Location(key=key)
        if not isinstance(value, Mapping):
            raise InputError(f"a location must be a GeoJSON geometry object or an 8-digit district key, got "
                             f"{el._kind(value)}", problems=[Problem(check="input", message=name)])
        crs_raw = crs_raw if crs_raw is not None else value.get("crs")  # the qualified crs, else GeoJSON 2008's
        if crs_raw is not None and not isinstance(crs_raw, str):
            raise CRSError(f"crs must be a URI such as {CRS_URIS[1]}, got {el._kind(crs_raw)}")
        geom = value.get("geometry") if value.get("type") == "Feature" else value
        if isinstance(geom, Mapping) and geom.get("type") == "Point":
            x, y = _coordinates(geom, name)
            crs = el.normalise_crs(crs_raw, default="EPSG:4326")
            args = {"lon": repr(x), "lat": repr(y)} if crs == "EPSG:4326" else {"x": repr(x), "y": repr(y),
                                                                                   "crs": crs}
            q = el.parse_point_question(args)
            assert isinstance(q, el.PointQuestion)
            return Location(point=q)
        el.check_area_geojson(value)
        crs_name = el.normalise_crs(crs_raw, default="") if crs_raw else None
        body = {k: v for k, v in value.items() if k != "crs"} if crs_name else value
        return Location(area=body, crs=crs_name)
    except (InputError, GeometryError, CRSError) as exc:
        raise _named(name, exc) from exc


# ----------------------------------------------------------------------------------------------- answers


def answer_text(state: ServiceState, loc: Location, *, max_vertices: int, name: str = "location") -> str:
    """The answer of ``/api/v1/eligibility`` for one location, as JSON text (errors in the input name ``name``)."""
    try:
        return _answer_text(state, loc, max_vertices=max_vertices)
    except (InputError, GeometryError, CRSError, LimitError) as exc:
        raise _named(name, exc) from exc


def _answer_text(state: ServiceState, loc: Location, *, max_vertices: int) -> str:
    from service.api.area import area_eligibility

    if loc.key is not None:
        tail = el.district_answer_tail(state.tails, loc.key, state.version)
        return el.render_answer(tail, {"kind": "district", "key": loc.key}, state.version, state.definition.hash)
    if loc.point is not None:
        q = loc.point
        leaf = lookup_point(state.locator, *point_to_utm(q.x, q.y, q.crs))
        if leaf == OUTSIDE:
            raise el.outside_error(q)
        return el.render_answer(state.leaf_tails[leaf], q.normalised_json(), state.version, state.definition.hash)
    return el.dumps(area_eligibility(state, loc.area, crs=loc.crs, max_vertices=max_vertices))


# ----------------------------------------------------------------------------------------------- execute


@dataclass(frozen=True)
class Execution:
    """The result of an execute request: the body text, its media type and the headers to add."""

    body: str
    media_type: str
    headers: dict[str, str]


def _inputs(process: Process, body: Mapping[str, Any]) -> Any:
    inputs = body.get("inputs")
    if not isinstance(inputs, Mapping):
        raise InputError(f"the execute request needs an 'inputs' object with the input {process.input_id!r}",
                         problems=[Problem(check="input", message=f"{process.input_id} is required")])
    unknown = [k for k in inputs if k != process.input_id]
    if unknown:
        raise InputError(f"unknown input {unknown[0]!r} of process {process.id!r}; its input is "
                         f"{process.input_id!r}", problems=[Problem(check="input", message=str(unknown[0]))])
    if process.input_id not in inputs:
        raise InputError(f"input {process.input_id!r} is missing",
                         problems=[Problem(check="input", message=f"{process.input_id} is required")])
    return inputs[process.input_id]


def _check_outputs(process: Process, body: Mapping[str, Any]) -> str:
    """The ``response`` form after checking ``outputs`` (only the one output, by value, as JSON)."""
    response = body.get("response", "raw")
    if response not in RESPONSES:
        raise InputError(f"response must be 'raw' or 'document', got {el._kind(response)}",
                         problems=[Problem(check="parameter", message="response")])
    if body.get("subscriber") is not None:
        raise InputError("this server executes synchronously only; 'subscriber' (callbacks) is not supported",
                         problems=[Problem(check="parameter", message="subscriber")])
    outputs = body.get("outputs")
    if outputs is None:
        return str(response)
    if not isinstance(outputs, Mapping):
        raise InputError("'outputs' must be an object keyed by output id")
    for oid, spec in outputs.items():
        if oid != process.output_id:
            raise InputError(f"unknown output {oid!r} of process {process.id!r}; its output is "
                             f"{process.output_id!r}", problems=[Problem(check="output", message=str(oid))])
        spec = spec if isinstance(spec, Mapping) else {}
        mode = spec.get("transmissionMode", "value")
        media = (spec.get("format") or {}).get("mediaType") if isinstance(spec.get("format"), Mapping) else None
        if mode != "value":
            raise InputError(f"output {oid!r}: transmissionMode {el._kind(mode)} is not supported; use 'value'")
        if media not in (None, JSON):
            raise InputError(f"output {oid!r}: format {media!r} is not supported; use {JSON}")
    return str(response)


def prefer_applied(prefer: str | None) -> dict[str, str]:
    """The ``Preference-Applied`` header for a ``Prefer`` header: only a wish for synchronous answers is honoured.

    ``respond-async`` is not: the processes run synchronously only (/req/core/process-execute-auto-execution-mode,
    part B).
    """
    tokens = [t.strip().split("=")[0].lower() for t in (prefer or "").split(",") if t.strip()]
    return {"Preference-Applied": "respond-sync"} if "respond-sync" in tokens else {}


def execute(state: ServiceState, process_id: str, raw: bytes, *, prefer: str | None, max_vertices: int,
            max_rows: int, problem: Callable[[QuartiereError], dict[str, Any]]) -> Execution:
    """Run one synchronous execute request (the body as bytes) and give its response.

    ``problem`` turns the error of one location of a batch into its RFC 9457 object (the web layer's one mapping
    of errors to problems).
    """
    process = get_process(process_id)
    if not raw.strip():
        raise InputError('the execute request body is empty; send {"inputs": {...}}')
    body = el.read_json(raw, "the execute request")
    if not isinstance(body, Mapping):
        raise InputError(f"the execute request must be a JSON object, got {el._kind(body)}")
    response = _check_outputs(process, body)
    value = _inputs(process, body)
    if process.many:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise InputError(f"input {process.input_id!r} needs at least one location")
        if len(values) > min(MAX_BATCH, max_rows):
            raise LimitError(f"input {process.input_id!r} has {len(values):,} locations; at most "
                             f"{min(MAX_BATCH, max_rows):,} per request")
        locs = [parse_location(v, f"{process.input_id}[{i}]") for i, v in enumerate(values)]
        areas = sum(loc.area is not None for loc in locs)
        if areas > MAX_BATCH_AREAS:
            raise LimitError(f"input {process.input_id!r} has {areas:,} areas; at most {MAX_BATCH_AREAS} per "
                             "request (each is estimated by areal interpolation; points and keys are cheap)")
        texts = []
        for i, loc in enumerate(locs):
            try:
                texts.append(answer_text(state, loc, max_vertices=max_vertices, name=f"{process.input_id}[{i}]"))
            except (OutOfAreaError, UnknownKeyError, NoStatisticsError) as exc:
                texts.append(el.dumps(problem(exc)))
        out = "[" + ",".join(texts) + "]"
    else:
        if isinstance(value, list):
            if len(value) != 1:
                raise InputError(f"input {process.input_id!r} takes one location (maxOccurs 1), got "
                                 f"{len(value)}; use the process 'eligibility-batch' for several")
            value = value[0]
        out = answer_text(state, parse_location(value, process.input_id), max_vertices=max_vertices,
                          name=process.input_id)
    if response == "document":
        out = f'{{{el.dumps(process.output_id)}:{{"value":{out},"mediaType":"{JSON}"}}}}'
    return Execution(out, JSON, prefer_applied(prefer))
