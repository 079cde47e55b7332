"""The OpenAPI part of the monitoring API (:mod:`service.web.monitoring` serves it)."""

from __future__ import annotations

from typing import Any

from service.api.monitoring import INEQUALITY_LEVELS

JSON = "application/json"


_PROBLEM: dict[str, Any] = {"$ref": "#/components/responses/Problem"}
_NUM = {"type": "number", "nullable": True}
_INEQUALITY_ROW = {"type": "object", "required": ["year", "gini", "theil", "theil_between", "theil_within", "cv",
                                           "p90_p10_ratio"],
            "properties": {"year": {"type": "integer"}, "n_districts": {"type": "integer"},
                           "weighted": {"type": "boolean"}, "mean": _NUM, "gini": _NUM, "theil": _NUM,
                           "theil_between": _NUM, "theil_within": _NUM, "theil_between_share": _NUM, "cv": _NUM,
                           "p90_p10_ratio": _NUM, "note": {"type": "string"}}}
_SEGREGATION_ROW = {"type": "object", "required": ["year", "dissimilarity", "isolation", "morans_i"],
           "properties": {"year": {"type": "integer"}, "n_districts": {"type": "integer"},
                          "group_share": _NUM, "dissimilarity": _NUM, "isolation": _NUM, "morans_i": _NUM,
                          "morans_expected_i": _NUM, "morans_p_sim": _NUM, "note": {"type": "string"}}}
INEQUALITY_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["indicator", "level", "snapshot_version", "series", "segregation"],
    "properties": {"indicator": {"type": "string"}, "unit": {"type": "string"},
                   "level": {"type": "string", "enum": list(INEQUALITY_LEVELS)},
                   "groups": {"type": "string"}, "snapshot_version": {"type": "string"},
                   "methods": {"type": "object"},
                   "series": {"type": "array", "items": _INEQUALITY_ROW},
                   "segregation": {"type": "array", "items": _SEGREGATION_ROW}}}
DISTRICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "name", "level", "snapshot_version", "indicators", "early_warning", "early_warning_rule"],
    "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string", "nullable": True},
        "level": {"type": "string"}, "snapshot_version": {"type": "string"},
        "trend_method": {"type": "string"},
        "indicators": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["series"],
            "properties": {"unit": {"type": "string"},
                           "series": {"type": "array", "items": {"type": "array"}},
                           "trend": {"type": "object"}}}},
        "early_warning": {"type": "object", "required": ["warning", "indicators"],
                          "properties": {"warning": {"type": "boolean"},
                                         "indicators": {"type": "array", "items": {"type": "object"}},
                                         "note": {"type": "string"}}},
        "early_warning_rule": {"type": "object", "required": ["periods", "directions", "thresholds"]},
        "hotspot_class": {"type": "string"},
        "district_type": {"type": "object", "nullable": True},
    }}


def monitoring_paths() -> dict[str, Any]:
    """The OpenAPI 3.0 path items of the monitoring API."""
    return {
        "/api/v1/monitoring/inequality": {"get": {
            "summary": "Inequality between districts over time, and segregation of SGB II recipients",
            "description": "Per year: Gini, Theil (total, between and within Stadtbezirke), coefficient of "
                           "variation and P90/P10 ratio of the indicator between districts, with the weights "
                           "used; the index of dissimilarity, isolation index and global Moran's I of SGB II "
                           "recipients (from counts); the same for foreign nationals only as descriptive "
                           "demography (descriptive_segregation). Unknown indicator or level: 400.",
            "operationId": "monitoringInequality",
            "parameters": [
                {"name": "indicator", "in": "query", "required": True, "schema": {"type": "string",
                 "example": "share_foreign_pct"}, "description": "indicator id, e.g. share_foreign_pct"},
                {"name": "level", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(INEQUALITY_LEVELS), "default": "ortsteil"},
                 "description": "districts compared"},
            ],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": INEQUALITY_SCHEMA}}},
                          "400": _PROBLEM}}},
        "/api/v1/monitoring/poverty": {"get": {
            "summary": "Poverty: inequality, segregation of SGB II recipients, early warnings, evaluation",
            "description": "The need series of the Bremer Ortsteilatlas (SGB II 2005-2018, unemployment "
                           "1999-2017): Gini, Theil (between and within Stadtbezirke), P90/P10 and CV per year "
                           "with the weights used; dissimilarity and isolation of SGB II recipients from counts; "
                           "early warnings on need series; the comparison of WiN Ortsteile with similar "
                           "undesignated ones (bootstrap interval, placebo year, placebo groups) and its verdict "
                           "in German and English.",
            "operationId": "monitoringPoverty",
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": {
                "type": "object", "required": ["snapshot_version", "inequality", "segregation", "early_warning",
                                               "evaluation"],
                "properties": {"snapshot_version": {"type": "string"}, "inequality": {"type": "object"},
                               "weights": {"type": "object"}, "segregation": {"type": "object"},
                               "early_warning": {"type": "object"}, "evaluation": {"type": "object"}}}}}}}}},
        "/api/v1/monitoring/districts/{key}": {"get": {
            "summary": "Time series, trends and early-warning status of one district",
            "description": "Every indicator's series up to the latest data year, its trend (OLS slope per "
                           "year) and change of trend, and the early-warning status with the rule applied. "
                           "Unknown key: 404.",
            "operationId": "monitoringDistrict",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string", "example": "04011373"},
                            "description": "8-digit district key (Ortsteil, Stadtteil, Stadtbezirk or city)"}],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": DISTRICT_SCHEMA}}},
                          "404": _PROBLEM}}},
    }
