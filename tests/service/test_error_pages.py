"""Browsers get error pages in their language; API clients keep problem+json (issue 15, part 5)."""

from __future__ import annotations

import pytest

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(("path", "status", "german", "english"), [
    ("/districts/99999999", 404, "Ortsteil 99999999 gibt es nicht.", "There is no Ortsteil 99999999."),
    ("/districts/0401112", 404, "Stadtteil 0401112 gibt es nicht.", "There is no Stadtteil 0401112."),
    ("/scenarios/no-such-scenario", 404, "Ein Szenario „no-such-scenario“ gibt es nicht.",
     "There is no scenario “no-such-scenario”."),
    ("/national", 404, "Die Deutschland-Ansicht ist auf diesem Server nicht eingerichtet.",
     "The Germany view is not set up on this server."),
    ("/no/such/page", 404, "Die Seite /no/such/page gibt es nicht.", "There is no page /no/such/page."),
])
def test_browser_gets_an_html_page_in_its_language(client, path: str, status: int, german: str,  # type: ignore[no-untyped-def]
                                                   english: str) -> None:
    de = client.get(path, headers=BROWSER)
    assert de.status_code == status and de.mimetype == "text/html"
    html = de.get_data(as_text=True)
    assert german in html and '<html lang="de">' in html and 'href="/"' in html  # a way back
    assert "Content-Security-Policy" in de.headers
    assert ("no route for GET" in html) == (path == "/no/such/page")  # only a real unknown page is "no route"
    en = client.get(path + "?lang=en", headers=BROWSER)
    assert en.status_code == status and english in en.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/districts/99999999", "/national", "/no/such/page"])
def test_api_clients_keep_problem_json(client, path: str) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 404 and r.mimetype == "application/problem+json"
        assert r.get_json()["status"] == 404


def test_api_paths_answer_json_even_to_a_browser(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/districts/99999999", headers=BROWSER)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_unknown_district_problem_names_the_district_not_the_route(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/districts/99999999").get_json()
    assert "99999999" in body["detail"] and "no route" not in body["detail"]
    assert body["problems"][0]["check"] == "unknown_district"


def test_a_missing_product_is_a_503_page_for_browsers(snapshots_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An older build without the monitoring product: browsers get the 503 page, API clients the problem."""
    from service.app import create_app
    from tests.official import version_without_product

    root = version_without_product(snapshots_dir, tmp_path / "snapshots", "monitoring")
    client = create_app({"SNAPSHOTS": str(root), "INSTANCE": str(tmp_path / "inst"), "TESTING": True}).test_client()
    page = client.get("/monitoring", headers=BROWSER)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Die Daten sind gerade nicht verfügbar" in page.get_data(as_text=True)
    assert client.get("/monitoring").mimetype == "application/problem+json"
