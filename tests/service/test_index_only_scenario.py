"""An index-only draft (no categories, budget or robustness) is a valid scenario: stored, shown, downloadable."""

from __future__ import annotations

import yaml

from tests.service.conftest import TOKEN
from tests.service.test_api import _draft_yaml


def test_an_index_only_scenario_is_stored_shown_and_downloadable(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    draft = yaml.safe_load(_draft_yaml())
    for key in ("categories", "budget", "spatial", "designation_check", "robustness"):
        draft.pop(key, None)
    draft["id"] = "draft-index-only"
    resp = client.post("/api/v1/scenarios", json=draft, headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 201, resp.data[:500]
    scenario = resp.get_json()
    rows = scenario["results"]
    assert len(rows) == 113 and any(r["status_class"] for r in rows)
    assert all("categories" in r and not r["categories"] for r in rows)
    assert client.get(f"/scenarios/{scenario['id']}").status_code == 200
    csv_text = client.get(f"/api/v1/downloads/classification.csv?scenario={scenario['id']}").get_data(as_text=True)
    assert "draft-index-only" in csv_text
