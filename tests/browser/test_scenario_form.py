"""Drafting a funding strand in the browser (issue 15, part 4): the form, its live preview, saving with the token,
the comparison page with what limited the changes, and the downloads."""

from __future__ import annotations

import io
import re
import urllib.request

import pytest
import yaml

from tests.browser.conftest import BROWSER_TOKEN, screenshot
from tests.servers import watched_page

pytestmark = pytest.mark.realdata

WIN_STATUS = 'input[name="categories.0.all.0.value"]'


def _preview_settles(pg) -> str:  # type: ignore[no-untyped-def]
    pg.wait_for_function("() => !document.getElementById('preview-body').hasAttribute('aria-busy') && "
                         "document.getElementById('preview-body').textContent.length > 0")
    return str(pg.locator("#preview-body").inner_text())


def test_draft_preview_save_compare_and_download(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/scenarios/new")
    first = _preview_settles(page)
    assert "Keine Änderungen." in first and "Bremen" in first and "nicht verteilt" in first
    page.fill('input[name="title"]', "Niedrigere WiN-Schwelle (Browsertest)")
    page.fill(WIN_STATUS, "0.6")
    page.wait_for_function("() => document.querySelectorAll('#preview-body table').length >= 3")
    text = _preview_settles(page)
    assert "WiN-Gebiet" in text and "gewinnt" in text
    assert "die Bevölkerungsobergrenze ist erreicht" in text  # the 30 % cap keeps some areas out
    screenshot(page, "scenario-form-preview")
    page.fill('input[name="token"]', BROWSER_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/scenarios/[0-9a-f]{16}$"))
    scenario_id = page.url.rsplit("/", 1)[1]
    body = page.locator("main").inner_text()
    assert "Niedrigere WiN-Schwelle (Browsertest)" in body and "Gebiete, die sich ändern" in body
    assert "Was Änderungen begrenzt" in body and "nicht verteilt" in body
    assert page.locator("table.data tbody tr").count() >= 3
    screenshot(page, "scenario-comparison")
    page.watch.assert_clean()

    with urllib.request.urlopen(f"{server}/api/v1/scenarios/{scenario_id}/definition.yml") as r:
        definition = yaml.safe_load(r.read())
    assert definition["categories"][0]["all"][0]["value"] == 0.6
    assert definition["title"] == "Niedrigere WiN-Schwelle (Browsertest)"
    with urllib.request.urlopen(f"{server}/api/v1/scenarios/{scenario_id}/comparison.xlsx") as r:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(r.read()))
    assert {"Gebiete", "Kategorien", "Budget", "Begrenzt durch"} <= set(book.sheetnames)
    assert book["Gebiete"].max_row >= 2

    page.goto("/scenarios")
    assert "Niedrigere WiN-Schwelle (Browsertest)" in page.locator("main").inner_text()
    assert "germany-screening" not in page.locator("main").inner_text()  # another dataset's definition


def test_saving_without_the_token_says_why(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/scenarios/new")
    _preview_settles(page)
    page.fill(WIN_STATUS, "0.8")
    page.fill('input[name="token"]', "wrong")
    page.click("button[type=submit]")
    page.wait_for_function("() => document.getElementById('preview-body').textContent.includes('token')")
    assert "/scenarios/new" in page.url


def test_the_form_fits_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]
    with watched_page(browser, server, viewport={"width": 390, "height": 844}) as pg:
        pg.goto("/scenarios/new")
        _preview_settles(pg)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(pg, "scenario-form-phone")
        pg.watch.assert_clean()
