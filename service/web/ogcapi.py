"""``/ogcapi``: OGC API Features Core with GeoJSON and OpenAPI 3.0, CRS and Filtering (see :mod:`service.api.ogc`).

Every route of this blueprint checks its query parameters first (:func:`check_query`): a parameter the
operation does not know, one given twice or ``f`` other than JSON is a 400 naming it.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from service.api import national, ogc, ogc_features
from service.api.eligibility import dumps
from service.api.ogc_crs import content_crs
from service.api.ogc_query import PARAMETERS, check_parameters
from service.web.context import services, state
from service.web.national import collection_ids, national_collections

# route variables are named as in the OGC API Features OpenAPI fragments (collectionId, featureId)

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")


def _base() -> str:
    """Base of every absolute link: the configured ``PUBLIC_URL``, else the URL the request was sent to.

    The fallback is Werkzeug's ``request.url_root`` (Host header and script root); ``X-Forwarded-Host`` is never
    read (no proxy fix is installed), so a client cannot point the links elsewhere through it.
    """
    public = services().settings.get("PUBLIC_URL")
    root = public if public else request.url_root
    return str(root).rstrip("/") + "/ogcapi"


def _json(obj: object) -> Response:
    return Response(dumps(obj), mimetype="application/json")


@bp.before_request
def check_query() -> None:
    """400 for unknown, contradictory (given twice, differently) or malformed ``f`` parameters of the operations."""
    operation = (request.endpoint or "").rpartition(".")[2]
    if operation in PARAMETERS:
        args = request.args
        # the same value twice is let through: GDAL 3.6 appends the query of its URL to every next link again
        check_parameters(args.keys(), operation, repeated=[k for k in args if len(set(args.getlist(k))) > 1],
                         f=args.get("f"))


def _features(body: tuple[bytes, str]) -> Response:
    resp = Response(body[0], mimetype=ogc.GEOJSON)
    resp.headers["Content-Crs"] = content_crs(body[1])
    return resp


def _find(collection_id: str) -> ogc_features.FeatureTable:
    nat = national_collections()
    if collection_id in nat:
        return nat[collection_id]
    return ogc.get_collection(state().collections, collection_id)


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """``GET /ogcapi``: the landing page with links to the API, conformance, collections and processes."""
    from service.api.processes import REL_CONFORMANCE, REL_PROCESSES

    page = ogc.landing_page(_base(), "Lebendige Quartiere: districts of Bremen and Bremerhaven")
    page["links"] += [{"href": f"{_base()}/processes", "rel": REL_PROCESSES, "type": "application/json",
                       "title": "processes (eligibility)"},
                      {"href": f"{_base()}/conformance", "rel": REL_CONFORMANCE, "type": "application/json",
                       "title": "conformance classes"}]
    return _json(page)


@bp.get("/conformance")
def conformance() -> Response:
    """``GET /ogcapi/conformance``: the conformance classes of the features and processes parts."""
    from service.api.processes import CONFORMANCE as PROCESSES

    return _json({"conformsTo": [*ogc.CONFORMANCE, *PROCESSES]})


@bp.get("/api")
def api() -> Response:
    """``GET /ogcapi/api``: the OpenAPI 3.0 document of the service."""
    from service.api.openapi import document

    return Response(dumps(document(collection_ids())), mimetype="application/vnd.oai.openapi+json;version=3.0")


@bp.get("/collections")
def collections() -> Response:
    """``GET /ogcapi/collections``: the Bremen collections and, when configured, the national ones."""
    doc = ogc.collections_doc(state().collections, _base())
    doc["collections"] += [national.collection_doc(c, _base()) for c in national_collections().values()]
    return _json(doc)


# the national collections (service.api.national; only when NATIONAL_SNAPSHOTS is configured) come first: their ids
# differ from the Bremen ones


@bp.get("/collections/<collectionId>")
def collection(collectionId: str) -> Response:
    """``GET /ogcapi/collections/<collectionId>``: one collection's description."""
    return _json(ogc_features.collection_doc(_find(collectionId), _base()))


@bp.get("/collections/<collectionId>/queryables")
def queryables(collectionId: str) -> Response:
    """``GET /ogcapi/collections/<collectionId>/queryables``: the properties a filter may use, as JSON Schema."""
    return Response(dumps(ogc_features.queryables_doc(_find(collectionId), _base())),
                    mimetype=ogc_features.SCHEMA_JSON)


@bp.get("/collections/<collectionId>/items")
def items(collectionId: str) -> Response:
    """``GET /ogcapi/collections/<collectionId>/items``: the collection's features (GeoJSON), filtered and paged."""
    return _features(ogc_features.items(_find(collectionId), request.args, _base()))


@bp.get("/collections/<collectionId>/items/<featureId>")
def item(collectionId: str, featureId: str) -> Response:
    """``GET /ogcapi/collections/<collectionId>/items/<featureId>``: one feature as GeoJSON."""
    return _features(ogc_features.item(_find(collectionId), featureId, _base(), request.args))
