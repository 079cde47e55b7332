"""The scenario pages: the list of drafts (``/scenarios``) and one draft against the official result.

The draft page (``/scenarios/<scenario_id>``) shows both maps side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, render_template, url_for
from markupsafe import Markup

from geo.errors import Problem, UnknownKeyError
from maps import overview_map
from maps.overview import category_text
from service.web.context import services_if_any
from service.web.page_common import PageData, lang_url, page_data, with_nonce

_ASSET_TAGS = re.compile(r"<script[^>]*\bsrc=[^>]*></script>|<link rel=\"stylesheet\"[^>]*>")




@dataclass(frozen=True)
class _StoredDefinition:
    """Title and hash of a scenario stored through the API (``POST /api/v1/scenarios``)."""

    title: str
    hash: str


def _scenarios_dir() -> Path:
    return Path(current_app.config["SCENARIOS_DIR"])


def scenario_ids() -> list[str]:
    """The ids of the draft definition files in ``SCENARIOS_DIR`` (the official programme left out), sorted."""
    folder = _scenarios_dir()
    if not folder.is_dir():
        return []
    official = Path(current_app.config["PROGRAMME"])
    return sorted(p.stem for p in folder.glob("*.yml") if p.is_file() and p.resolve() != official.resolve())


def _unknown_scenario(scenario_id: str) -> UnknownKeyError:
    return UnknownKeyError(f"there is no scenario {scenario_id!r}",
                           problems=[Problem("unknown_scenario", f"no scenario has the id {scenario_id!r}",
                                             key=scenario_id)])


def _scenario_result(data: PageData, scenario_id: str) -> tuple[Any, Any]:
    from geo.classify import load_definition

    services = services_if_any()
    if services is not None and scenario_id not in scenario_ids():
        try:
            draft = services.store.result(scenario_id)
        except UnknownKeyError:
            raise _unknown_scenario(scenario_id) from None
        return _StoredDefinition(draft.definition.get("title") or draft.definition_id, draft.definition_hash), draft
    if scenario_id not in scenario_ids():
        raise _unknown_scenario(scenario_id)
    store = current_app.extensions.setdefault("quartiere_scenarios", {})
    definition = load_definition(_scenarios_dir() / f"{scenario_id}.yml")
    cache_key = (data.snapshot.version, definition.hash)
    if definition.hash == data.definition.hash:
        return definition, data.result
    result = store.get(cache_key)
    if result is None:
        # published by ``quartiere build --programme FILE``; a draft file added since is classified once here
        # (outside any shared lock: two first requests may both compute it, neither blocks other pages)
        from geo.classify import classify
        from geo.errors import ProductMissingError
        from geo.pipeline.products import read_classification

        try:
            result = read_classification(Path(data.snapshot.path), data.snapshot.manifest, definition)
        except ProductMissingError:
            result = classify(data.wide, definition, meta={"snapshot_version": data.snapshot.version})
        store[cache_key] = result
    return definition, result


def scenarios() -> str:
    """``/scenarios``: the draft files that fit this snapshot and the scenarios stored through the API."""
    data = page_data()
    services = services_if_any()
    stored = services.store.recent() if services is not None else []
    files = [i for i in scenario_ids() if _classifies_this_table(data, i)]
    return render_template("pages/scenarios.html", data=data, ids=files, stored=stored)


def _classifies_this_table(data: PageData, scenario_id: str) -> bool:
    """Whether the draft file's indicators are all columns of this snapshot's table (only then is it listed).

    A definition for the national dataset, such as germany-screening, would answer 422.
    """
    from geo.classify import load_definition
    from geo.errors import QuartiereError

    try:
        definition = load_definition(_scenarios_dir() / f"{scenario_id}.yml")
    except QuartiereError:
        return False
    return set(definition.input_columns()) <= set(data.wide.columns)


def scenario(scenario_id: str) -> str:
    """``/scenarios/<scenario_id>``: a draft's classification compared with the official one, maps side by side."""
    from geo.classify import compare_results

    data = page_data()
    definition, draft = _scenario_result(data, scenario_id)
    comparison = compare_results(data.result, draft)
    lang = g.lang
    asset_base = url_for("pages.static", filename="vendor").rstrip("/")
    profile = lang_url("pages.district", key="__KEY__")

    def build(result: Any) -> Any:
        return overview_map(data.wide, classification=result.table, lang=lang, config=data.map_config,
                            web=data.web, asset_base=asset_base, profile_url=profile, layers=["categories"],
                            use_hash=False)

    base_parts = data.map_html("scenario-base", lang, lambda: build(data.result))
    draft_parts = data.map_html(f"scenario-{scenario_id}-{definition.hash[:12]}", lang, lambda: build(draft))
    areas = comparison.areas.copy()
    for col in ("gained", "lost", "base_categories", "draft_categories"):
        if col in areas:
            areas[col] = [category_text([c for c in str(v).replace(",", ";").split(";") if c.strip()], lang)
                          if isinstance(v, str) and v else (category_text(v, lang) if isinstance(v, list) and v
                                                            else "–") for v in areas[col]]
    draft_ctx = with_nonce(draft_parts)
    draft_ctx["head"] = Markup(_ASSET_TAGS.sub("", str(draft_ctx["head"])))  # Leaflet is loaded once
    from service.api.scenario_designer import budget_summary, explain

    stored = scenario_id not in scenario_ids()
    return render_template("pages/scenario.html", data=data, scenario_id=scenario_id, definition=definition,
                           comparison=comparison, areas=areas, base=with_nonce(base_parts), draft=draft_ctx,
                           blocked=explain(draft), budget=budget_summary(draft), stored=stored)




def register(bp: Blueprint) -> None:
    """``/scenarios`` (the drafts) and ``/scenarios/<scenario_id>`` (a draft against the official result)."""
    bp.add_url_rule("/scenarios", "scenarios", scenarios)
    bp.add_url_rule("/scenarios/<scenario_id>", "scenario", scenario)
