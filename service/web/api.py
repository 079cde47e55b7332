"""``/api/v1``: eligibility (point, district, area, batch), scenarios, OpenAPI document and its page."""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import Blueprint, Response, request

from geo.classify.schema import json_schema
from geo.errors import InputError
from service.api import eligibility as el
from service.api.lookup import OUTSIDE, lookup_point, lookup_points
from service.api.transform import point_to_utm, to_utm
from service.web.context import services, state
from service.web.problems import AuthError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

JSON = "application/json"


def _json(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type=JSON)


def require_token() -> str:
    """Check ``Authorization: Bearer <token>`` in constant time; return the actor id for the audit trail."""
    expected = services().settings.get("API_TOKEN")
    if not expected:
        raise AuthError("writing is disabled on this server: no API token is configured", status=403)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("this endpoint needs 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(token.strip().encode("utf-8"), str(expected).encode("utf-8")):
        raise AuthError("the API token is not valid")
    return "token:" + hashlib.sha256(token.strip().encode("utf-8")).hexdigest()[:12]


@bp.get("/eligibility")
def eligibility_get() -> Response:
    """``GET /api/v1/eligibility``: the answer for a point, a district key or a postcode."""
    if "postcode" in request.args:  # every Ortsteil the postcode touches (service/web/places.py)
        from service.web.places import eligibility_by_postcode

        return eligibility_by_postcode(request.args)
    st = state()
    q = el.parse_point_question(request.args)
    if isinstance(q, str):
        tail = el.district_answer_tail(st.tails, q, st.version)
        question = {"kind": "district", "key": q}
        return _json(el.render_answer(tail, question, st.version, st.definition.hash))
    x, y = point_to_utm(q.x, q.y, q.crs)
    leaf = lookup_point(st.locator, x, y)
    if leaf == OUTSIDE:
        raise el.outside_error(q)
    return _json(el.render_answer(st.leaf_tails[leaf], q.normalised_json(), st.version, st.definition.hash))


@bp.post("/eligibility")
def eligibility_post() -> Response:
    """``POST /api/v1/eligibility``: the answer for a GeoJSON polygon in the body."""
    from service.api.area import area_eligibility

    body = _body_json()
    el.check_area_geojson(body)
    crs = el.normalise_crs(request.args.get("crs"), default="") if request.args.get("crs") else None
    answer = area_eligibility(state(), body, crs=crs,
                              max_vertices=int(services().settings["POLYGON_MAX_VERTICES"]))
    return _json(el.dumps(answer))


def _body_json() -> object:
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InputError("the request body is empty; send GeoJSON")
    return el.read_json(raw)


@bp.post("/eligibility/batch")
def eligibility_batch() -> Response:
    """``POST /api/v1/eligibility/batch``: the answers for many points (CSV or GeoJSON), as JSON or CSV."""
    st = state()
    max_rows = int(services().settings["BATCH_MAX_ROWS"])
    ctype = (request.mimetype or "").lower()
    crs = request.args.get("crs")
    if ctype in ("text/csv", "application/csv", "text/plain"):
        pts = el.parse_batch_csv(request.get_data(cache=False), crs=crs, max_rows=max_rows)
    elif ctype in ("application/geo+json", "application/json"):
        pts = el.parse_batch_geojson(_body_json(), crs=crs, max_rows=max_rows)
    else:
        raise InputError(f"send the points as text/csv (id,lon,lat or id,x,y) or application/geo+json, "
                         f"not {ctype or 'no Content-Type'}")
    el.check_batch_question(pts)
    xs, ys = to_utm(pts.xs, pts.ys, pts.crs)
    leaves = lookup_points(st.locator, xs, ys)
    leaves[pts.invalid] = OUTSIDE
    frame = el.batch_frame(pts.ids, leaves, pts.invalid, st.leaf_rows)
    want_csv = request.args.get("f") == "csv" or (
        request.args.get("f") != "json"
        and request.accept_mimetypes.best_match([JSON, "text/csv"], default=JSON) == "text/csv"
        and request.accept_mimetypes["text/csv"] > request.accept_mimetypes[JSON])
    headers = {"X-Programme-Hash": st.definition.hash}
    if want_csv:
        from service.api.exports import to_csv

        return Response(to_csv(frame), mimetype="text/csv", headers=headers)
    body = {"snapshot_version": st.version,
            "programme": {"id": st.definition.id, "hash": st.definition.hash},
            "count": len(frame),
            "counts": {s: int((frame["status"] == s).sum()) for s in ("ok", "outside", "invalid")},
            "columns": list(frame.columns),
            "rows": json.loads(frame.to_json(orient="values"))}
    return Response(el.dumps(body), mimetype=JSON, headers=headers)


@bp.post("/scenarios")
def scenario_post() -> Response:
    """``POST /api/v1/scenarios``: run and store a draft definition (token needed); 201 with ``Location``."""
    from service.api.scenarios import parse_definition_body, run_scenario, store_scenario

    actor = require_token()
    data = parse_definition_body(request.get_data(cache=False), request.content_type)
    st = state()
    answer, draft = run_scenario(data, wide=st.wide, official=st.result, snapshot_version=st.version)
    stored, created = store_scenario(services().store, answer, draft, actor=actor)
    resp = _json(el.dumps(stored), status=201 if created else 200)
    resp.headers["Location"] = f"/api/v1/scenarios/{stored['id']}"
    return resp


@bp.get("/scenarios/<scenario_id>")
def scenario_get(scenario_id: str) -> Response:
    """``GET /api/v1/scenarios/<scenario_id>``: the stored answer of a scenario."""
    rec = services().store.get(scenario_id)
    return _json(rec["answer_json"])


@bp.get("/status")
def status() -> Response:
    """``GET /api/v1/status``: the snapshot, programme, layer sizes and products this process serves."""
    st = state()
    h = services().holder
    return _json(el.dumps({"snapshot_version": st.version, "snapshot_created": st.snapshot.manifest.get("created"),
                           "programme": {"id": st.definition.id, "hash": st.definition.hash},
                           "districts": {k: len(v) for k, v in st.snapshot.layers.items()},
                           "reload_error": h.last_error,
                           "products": {"classification": True,
                                        "monitoring": st.monitoring_product is not None},
                           "products_error": st.monitoring_missing}))


@bp.get("/programme-schema")
def programme_schema() -> Response:
    """The JSON Schema of a programme definition (what ``quartiere schema`` prints)."""
    return Response(json.dumps(json_schema(), ensure_ascii=False), content_type="application/schema+json")


@bp.get("/openapi.json")
def openapi() -> Response:
    """``GET /api/v1/openapi.json``: the OpenAPI document of the service."""
    from service.api.openapi import document
    from service.web.national import collection_ids

    return _json(el.dumps(document(collection_ids())))


@bp.get("/docs")
def docs() -> Response:
    """``GET /api/v1/docs``: an HTML page listing every operation of the OpenAPI document."""
    from service.api.openapi import docs_html

    return Response(docs_html(), mimetype="text/html")
