"""The scenario form's logic and API (service.api.scenario_designer, service.web.scenario_designer)."""

from __future__ import annotations

import pytest

from geo.errors import InputError
from service.api.scenario_designer import apply_values, parameters

pytestmark = pytest.mark.realdata

WIN_STATUS = "categories.0.all.0.value"


def test_the_form_offers_weights_thresholds_cap_and_budget(state) -> None:  # type: ignore[no-untyped-def]
    fields = {p.path: p for p in parameters(state.result.definition)}
    official = state.result.definition
    assert fields[WIN_STATUS].value == official["categories"][0]["all"][0]["value"]
    assert {p.section for p in fields.values()} == {"weights", "thresholds", "cap", "budget"}
    assert {p.basis for p in fields.values() if p.section == "weights"} == {"Bremen", "Bremerhaven"}
    assert fields["budget.totals.Bremerhaven"].value == official["budget"]["totals"]["Bremerhaven"]
    assert fields["spatial.population_cap.share"].maximum == 1.0


def test_apply_values_writes_a_copy_and_reports_every_bad_field(state) -> None:  # type: ignore[no-untyped-def]
    official = state.result.definition
    draft = apply_values(official, {WIN_STATUS: 0.6, "budget.totals.Bremen": 1_800_000}, title="Test")
    assert draft["categories"][0]["all"][0]["value"] == 0.6 and draft["budget"]["totals"]["Bremen"] == 1_800_000
    assert official["categories"][0]["all"][0]["value"] != 0.6  # the official mapping is untouched
    assert draft["title"] == "Test" and draft["id"].endswith("-draft")
    with pytest.raises(InputError) as err:
        apply_values(official, {WIN_STATUS: "x", "nope": 1, "spatial.population_cap.share": 1.5,
                                "budget.totals.Bremen": True})
    checks = sorted(p.check for p in err.value.problems)
    assert checks == ["not_a_number", "not_a_number", "out_of_range", "unknown_field"]


def test_preview_answers_the_change_and_what_held_it_back(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/scenarios/preview", json={"values": {WIN_STATUS: 0.6}})
    assert r.status_code == 200
    body = r.get_json()
    win = next(c for c in body["comparison"]["categories"] if c["category"] == "win")
    assert win["areas_gained"] > 0 and win["draft_areas"] == win["base_areas"] + win["areas_gained"] - win["areas_lost"]
    blocked = {b["category"]: b for b in body["blocked"]}
    assert blocked["win"]["capped"], "with the threshold at 0.6 the 30 % cap holds some areas back"
    assert {b["group"] for b in body["budget"]} == {"Bremen", "Bremerhaven"}
    assert all(b["allocated_eur"] + b["unallocated_eur"] == pytest.approx(b["total_eur"]) for b in body["budget"])


def test_preview_refuses_bad_values_and_saving_needs_the_token(client) -> None:  # type: ignore[no-untyped-def]
    bad = client.post("/api/v1/scenarios/preview", json={"values": {WIN_STATUS: "x"}})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["problems"][0]["detail"]["field"] == WIN_STATUS
    assert client.post("/api/v1/scenarios/preview", data=b"[1]",
                       content_type="application/json").status_code == 400
    assert client.post("/api/v1/scenarios/from-form", json={"values": {}}).status_code == 401


def test_saved_scenario_downloads_as_yaml_and_excel(client) -> None:  # type: ignore[no-untyped-def]
    import io

    import openpyxl
    import yaml

    from tests.service.conftest import TOKEN

    saved = client.post("/api/v1/scenarios/from-form", json={"values": {WIN_STATUS: 0.9}, "title": "0.9"},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert saved.status_code in (200, 201)
    sid = saved.get_json()["id"]
    text = client.get(f"/api/v1/scenarios/{sid}/definition.yml").get_data(as_text=True)
    assert yaml.safe_load(text)["categories"][0]["all"][0]["value"] == 0.9
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/scenarios/{sid}/comparison.xlsx").data))
    assert book.sheetnames == ["Gebiete", "Kategorien", "Budget", "Begrenzt durch"]
    assert client.get("/api/v1/scenarios/doesnotexist/definition.yml").status_code == 404
