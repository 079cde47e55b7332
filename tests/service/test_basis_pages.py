"""The district profile explains designated versus indicated with the report's sentence (REAL snapshot).

The sentence comes from the classification the build published (``designations_versus_data`` in its meta); the
page reads it and classifies nothing.
"""

from __future__ import annotations

import html as htmllib
import re

import pytest

pytestmark = pytest.mark.realdata

OSTERHOLZ, MITTELSHUCHTING, TENEVER = "04011374", "04011241", "04011373"


def _explanation(page: str) -> str | None:
    m = re.search(r'<dd class="explanation">(.*?)</dd>', page, flags=re.S)
    return htmllib.unescape(m.group(1)) if m else None


def _published_row(state, key: str) -> dict:  # type: ignore[no-untyped-def]
    rows = state.result.meta["designations_versus_data"]["rows"]
    return next(r for r in rows if r["key"] == key)


def test_osterholz_profile_explains_the_estate(client, state) -> None:  # type: ignore[no-untyped-def]
    row = _published_row(state, OSTERHOLZ)
    assert row["explanation"] == "sub_ortsteil_estate" and row["status_index"] < 0
    status = "−" + f"{abs(row['status_index']):.2f}"
    de = client.get(f"/districts/{OSTERHOLZ}").get_data(as_text=True)
    assert "<dt>Erklärung</dt>" in de
    assert _explanation(de) == ("Wohnquartier innerhalb des Ortsteils (Schweizer Viertel): der Ortsteilwert "
                                f"{status.replace('.', ',')} mittelt es mit seiner Umgebung")
    en = client.get(f"/districts/{OSTERHOLZ}?lang=en").get_data(as_text=True)
    assert "<dt>Explanation</dt>" in en
    assert _explanation(en) == (f"estate inside the Ortsteil (Schweizer Viertel): the Ortsteil's value {status} "
                                "averages it with its surroundings")


def test_profile_and_report_say_the_same(client, state) -> None:  # type: ignore[no-untyped-def]
    from maps.report import designation_explanation

    for key in (MITTELSHUCHTING, TENEVER):
        page = client.get(f"/districts/{key}").get_data(as_text=True)
        assert _explanation(page) == designation_explanation(_published_row(state, key), "de")
    page = client.get(f"/districts/{MITTELSHUCHTING}").get_data(as_text=True)
    assert (_explanation(page) or "").startswith("knapp verfehlt: ")


def test_profile_without_designation_or_indication_has_no_explanation(client, state) -> None:  # type: ignore[no-untyped-def]
    listed = {r["key"] for r in state.result.meta["designations_versus_data"]["rows"]}
    table = state.result.table
    key = next(k for k in table.loc[table["classifiable"], "key"] if k not in listed)
    page = client.get(f"/districts/{key}").get_data(as_text=True)
    assert page.count('class="explanation"') == 0 and "<dt>Erklärung</dt>" not in page
