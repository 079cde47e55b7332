"""The check page's place search in headless Chromium (server with the invented address file)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.realdata


def _type_and_pick(page, text: str, option_text: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    box = page.locator("#district")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("list") is None
    box.press_sequentially(text, delay=30)
    option = page.locator("#place-suggestions li[role=option]", has_text=option_text).first
    option.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    index = page.locator("#place-suggestions li[role=option]").all_inner_texts()
    steps = next(i for i, t in enumerate(index) if option_text in t) + 1
    for _ in range(steps):  # keyboard only
        box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == f"place-opt-{steps - 1}"
    with page.expect_navigation():
        box.press("Enter")


def test_district_with_a_typo(page) -> None:  # type: ignore[no-untyped-def]
    _type_and_pick(page, "Tenver", "Tenever")
    page.wait_for_url(re.compile(r"district=04011373"))
    answer = page.locator("#answer")
    assert answer.locator('[data-key="04011373"]').count() == 1
    assert "WiN-Gebiet (indiziert)" in answer.inner_text()
    screenshot(page, "places-tenver")
    page.watch.assert_clean()


def test_postcode_lists_every_district(page) -> None:  # type: ignore[no-untyped-def]
    _type_and_pick(page, "28239", "28239")
    page.wait_for_url(re.compile(r"postcode=28239"))
    answer = page.locator("#answer")
    assert answer.locator('[data-group="postcode"]').count() == 1
    text = answer.inner_text()
    assert "hängt von der Straße ab: bitte den Ort auf der Karte wählen" in text
    assert answer.locator('tr[data-key="04011445"][data-eligible="yes"]').count() == 1  # Oslebshausen
    assert answer.locator('tr[data-key="04011444"][data-eligible="no"]').count() == 1  # In den Wischen
    screenshot(page, "places-28239")
    page.watch.assert_clean()


def test_street_address(page) -> None:  # type: ignore[no-untyped-def]
    _type_and_pick(page, "Lindenhofstr. 3", "Lindenhofstraße 3,")
    page.wait_for_url(re.compile(r"lon=8\.75"))
    answer = page.locator("#answer")
    assert answer.locator('[data-key="04011441"]').count() == 1  # Lindenhof
    assert "Lindenhof" in answer.inner_text()
    screenshot(page, "places-address")
    page.watch.assert_clean()


def test_english_and_mouse(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check?lang=en")
    page.locator("#district").press_sequentially("Otto Brenner Allee 12", delay=20)
    option = page.locator("#place-suggestions li", has_text="Otto-Brenner-Allee 12")
    option.wait_for(state="visible")
    with page.expect_navigation():
        option.click()
    assert "lang=en" in page.url
    assert page.locator('#answer [data-key="04011373"]').count() == 1
    page.watch.assert_clean()
