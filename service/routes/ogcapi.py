"""``/ogcapi``: OGC API Features Core with GeoJSON and OpenAPI 3.0 (see :mod:`service.ogc`)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from service import national, ogc
from service.app import services, state
from service.eligibility import dumps
from service.routes.national import collection_ids, national_collections

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


@bp.get("")
@bp.get("/")
def landing() -> Response:
    from service.processes import REL_PROCESSES

    page = ogc.landing_page(_base(), "Lebendige Quartiere: districts of Bremen and Bremerhaven")
    page["links"].append({"href": f"{_base()}/processes", "rel": REL_PROCESSES, "type": "application/json",
                          "title": "processes (eligibility)"})
    return _json(page)


@bp.get("/conformance")
def conformance() -> Response:
    from service.processes import CONFORMANCE as PROCESSES

    return _json({"conformsTo": [*ogc.CONFORMANCE, *PROCESSES]})


@bp.get("/api")
def api() -> Response:
    from service.openapi import document

    return Response(dumps(document(collection_ids())), mimetype="application/vnd.oai.openapi+json;version=3.0")


@bp.get("/collections")
def collections() -> Response:
    doc = ogc.collections_doc(state().collections, _base())
    doc["collections"] += [national.collection_doc(c, _base()) for c in national_collections().values()]
    return _json(doc)


# the national collections (service.national; only when NATIONAL_SNAPSHOTS is configured) come first: their ids
# differ from the Bremen ones


@bp.get("/collections/<collectionId>")
def collection(collectionId: str) -> Response:
    nat = national_collections()
    if collectionId in nat:
        return _json(national.collection_doc(nat[collectionId], _base()))
    return _json(ogc.collection_doc(ogc.get_collection(state().collections, collectionId), _base()))


@bp.get("/collections/<collectionId>/items")
def items(collectionId: str) -> Response:
    nat = national_collections()
    if collectionId in nat:
        return Response(national.items(nat[collectionId], request.args, _base()), mimetype=ogc.GEOJSON)
    c = ogc.get_collection(state().collections, collectionId)
    return Response(ogc.items(c, request.args, _base()), mimetype=ogc.GEOJSON)


@bp.get("/collections/<collectionId>/items/<featureId>")
def item(collectionId: str, featureId: str) -> Response:
    nat = national_collections()
    if collectionId in nat:
        return Response(national.item(nat[collectionId], featureId, _base()), mimetype=ogc.GEOJSON)
    c = ogc.get_collection(state().collections, collectionId)
    return Response(ogc.item(c, featureId, _base()), mimetype=ogc.GEOJSON)
