"""Drafting a funding strand in the browser (issue 15, part 4): form, preview, saving and downloads.

The form page, its live preview, saving with the token, and the downloads of a stored scenario (YAML definition,
comparison as Excel).

``GET  /scenarios/new``                        the form, starting from the official definition
``POST /api/v1/scenarios/preview``             ``{"values": {path: number}, "title": ...}`` -> the comparison with
                                               the official result, which rules blocked a change, the budget; no
                                               token, nothing stored (robustness draws skipped: fast)
``POST /api/v1/scenarios/from-form``           the same body with ``Authorization: Bearer <token>``: stored like
                                               ``POST /api/v1/scenarios``; 201 with ``Location``
``GET  /api/v1/scenarios/<id>/definition.yml`` the stored scenario's definition as YAML
``GET  /api/v1/scenarios/<id>/comparison.xlsx`` the comparison as an Excel workbook
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
from flask import Blueprint, Flask, Response, g, render_template, request
from openpyxl import Workbook

from geo.classify import ClassificationResult, classify, compare_results, parse_definition
from geo.errors import InputError
from maps.i18n import indicator_label, operator_label, rule_label, t
from service.api import scenario_designer as designer
from service.api.eligibility import clean, dumps
from service.api.workbook import MEDIA_TYPE, write_sheet
from service.web.context import services, state
from service.web.page_common import page_data, page_headers, page_setup

api_bp = Blueprint("scenario_designer_api", __name__, url_prefix="/api/v1/scenarios")
page_bp = Blueprint("scenario_designer", __name__)
page_bp.before_request(page_setup)
page_bp.after_request(page_headers)

#: the largest form body accepted (a few dozen numbers and a title)
MAX_FORM_BYTES = 64 * 1024


def _form_body() -> tuple[dict[str, Any], str | None]:
    raw = request.get_data(cache=False)
    if len(raw) > MAX_FORM_BYTES:
        raise InputError(f"the form body is larger than {MAX_FORM_BYTES:,} bytes")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise InputError(f"the form body is not JSON: {exc}") from exc
    if not isinstance(body, Mapping):
        raise InputError("the form body must be a JSON object with 'values'")
    title = body.get("title")
    return dict(body.get("values") or {}), (str(title) if title else None)


def _draft_definition(values: Mapping[str, Any], title: str | None) -> dict[str, Any]:
    official = state().result
    return designer.apply_values(official.definition, values, title=title)


def _preview_answer(draft_def: Mapping[str, Any], draft: ClassificationResult, lang: str) -> dict[str, Any]:
    official = state().result
    comparison = compare_results(official, draft)
    return clean({
        "definition": {"id": draft_def.get("id"), "title": draft_def.get("title")},
        "comparison": {"categories": comparison.categories.to_dict("records"),
                       "areas": comparison.areas.to_dict("records"),
                       "budget": comparison.budget.to_dict("records")},
        "blocked": designer.explain(draft),
        "budget": designer.budget_summary(draft),
        "words": {c: t(f"cat.{c}", lang) for c in comparison.categories["category"]},
    })


@api_bp.post("/preview")
def preview() -> Response:
    values, title = _form_body()
    draft_def = _draft_definition(values, title)
    definition = parse_definition(draft_def, source_name="the form")
    draft = classify(state().wide, definition, draws=0, meta={"snapshot_version": state().version,
                                                                "scenario": True})
    lang = request.args.get("lang", "de")
    return Response(dumps(_preview_answer(draft_def, draft, lang if lang in ("de", "en") else "de")),
                    mimetype="application/json")


@api_bp.post("/from-form")
def save_from_form() -> Response:
    from service.api.scenarios import run_scenario, store_scenario
    from service.web.api import require_token

    actor = require_token()
    values, title = _form_body()
    draft_def = _draft_definition(values, title)
    st = state()
    answer, draft = run_scenario(draft_def, wide=st.wide, official=st.result, snapshot_version=st.version)
    stored, created = store_scenario(services().store, answer, draft, actor=actor)
    resp = Response(dumps(stored), status=201 if created else 200, mimetype="application/json")
    resp.headers["Location"] = f"/api/v1/scenarios/{stored['id']}"
    return resp


@api_bp.get("/<scenario_id>/definition.yml")
def definition_yaml(scenario_id: str) -> Response:
    text = designer.to_yaml(services().store.definition(scenario_id))
    return Response(text, mimetype="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="scenario-{scenario_id}.yml"'})


@api_bp.get("/<scenario_id>/comparison.xlsx")
def comparison_xlsx(scenario_id: str) -> Response:
    draft = services().store.result(scenario_id)
    official = state().result
    comparison = compare_results(official, draft)
    book = Workbook()
    sheets = [("Gebiete", comparison.areas), ("Kategorien", comparison.categories),
              ("Budget", pd.DataFrame(designer.budget_summary(draft))),
              ("Begrenzt durch", pd.DataFrame(_blocked_rows(designer.explain(draft))))]
    first = True
    for name, frame in sheets:
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = name
        write_sheet(ws, frame)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="scenario-{scenario_id}.xlsx"'})


def _blocked_rows(blocked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in blocked:
        for rule in ("capped", "too_few_residents", "enclave"):
            for area in entry[rule]:
                rows.append({"category": entry["category"], "rule": t(f"scen.rule.{rule}", "de"), **area})
    return rows or [{"category": "", "rule": "", "key": "", "name": ""}]


def _field_label(p: designer.Parameter, lang: str) -> str:
    if p.kind == "weight":
        return indicator_label(str(p.indicator), lang, unit=False)
    if p.kind == "threshold":
        field = rule_label(str(p.field), lang) or indicator_label(str(p.field), lang, unit=False)
        return f"{t('cat.' + str(p.category), lang)}: {field} {operator_label(str(p.operator), lang)}"
    if p.kind == "share":
        return t("scen.form.cap", lang)
    return f"{t('scen.form.budget', lang)} {p.city}"


@page_bp.get("/scenarios/new")
def new_scenario() -> str:
    data = page_data()
    lang = g.lang
    fields = [{**p.to_dict(), "label": _field_label(p, lang)} for p in designer.parameters(data.result.definition)]
    sections = [(s, t(f"scen.form.section.{s}", lang), [f for f in fields if f["section"] == s])
                for s in ("weights", "thresholds", "cap", "budget")]
    return render_template("pages/scenario_new.html", data=data, sections=sections,
                           token_configured=bool(services().settings.get("API_TOKEN")))


def init_app(app: Flask, *, pages: bool = True) -> None:
    """Register the designer's API (and the form page when ``pages``)."""
    app.register_blueprint(api_bp)
    if pages:
        app.register_blueprint(page_bp)


__all__ = ["api_bp", "init_app", "page_bp"]
