"""The footer's "Datenstand" says the statistics' years and the day of the build, not a version id (issue 15)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(("lang", "words"), [("de", ("Datenstand: Einwohner 20", "erstellt am ", "Bedarfsdaten 20")),
                                             ("en", ("Data as of: Residents 20", "built on ", "need data 20"))])
def test_footer_names_years_and_build_day(client, state, lang: str, words: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/table?lang={lang}").get_data(as_text=True)
    footer = re.search(r"<footer.*?</footer>", html, re.S)
    assert footer is not None
    summary = re.search(r"<summary>(.*?)</summary>", footer.group(0), re.S)
    assert summary is not None
    for word in words:
        assert word in summary.group(0), summary.group(0)
    assert state.snapshot.version not in summary.group(0)  # the id is in the details only
    assert re.search(r"(SGB-II-Quote \(unter 65\)|SGB II recipients per 100 residents under 65) 20\d\d",
                     footer.group(0))
    years = [int(y) for y in re.findall(r"(?:Einwohner|Residents) (\d{4})", summary.group(0))]
    assert years == [max(state.snapshot.manifest["years"])]
