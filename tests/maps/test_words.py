"""The word catalogues (maps/locale/{de,en}/LC_MESSAGES/messages.po): complete in both languages, and holding
every key the code asks for."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo.classify.definition import load_definition
from geo.classify.rows import reason_code
from geo.pipeline.indicators import REGISTRY
from maps.i18n import catalogue

REPO = Path(__file__).resolve().parents[2]
PROGRAMMES = sorted((REPO / "programmes").glob("*.yml"))


def test_reasons_in_words_from_the_engine_codes():
    from geo.classify.rows import reason_code
    from maps.i18n import reason_text

    small = reason_code("too_few_residents", min=1500.0)
    assert reason_text(small, "de") == "weniger als 1.500 Einwohner oder Einwohnerzahl unbekannt"
    assert reason_text(small, "en") == "fewer than 1,500 residents or population unknown"
    known = reason_code("check_failed", field="has_statistics", reason="no district statistics published")
    assert reason_text(known, "de") == "keine Statistik veröffentlicht"
    own = reason_code("check_failed", field="is_estate", reason="a housing estate of its own")
    assert reason_text(own, "de") == "a housing estate of its own"  # the definition's own words
    assert reason_text("not classifiable: an older product's sentence", "de") == "an older product's sentence"
    assert reason_text("", "de") == ""


def missing_words(de: dict[str, str], en: dict[str, str]) -> list[str]:
    """Keys one catalogue has and the other lacks, and keys with an empty text."""
    return sorted({f"only in de: {k}" for k in de.keys() - en.keys()}
                  | {f"only in en: {k}" for k in en.keys() - de.keys()}
                  | {f"empty in {lang}: {k}" for lang, cat in (("de", de), ("en", en)) for k, v in cat.items()
                     if not v.strip()})


def test_both_catalogues_have_the_same_keys_and_no_empty_text() -> None:
    assert missing_words(catalogue("de"), catalogue("en")) == []


def test_the_completeness_check_can_fail() -> None:
    assert missing_words({"a": "A", "b": "B"}, {"a": "A", "c": "C"}) == ["only in de: b", "only in en: c"]
    assert missing_words({"a": ""}, {"a": "A"}) == ["empty in de: a"]


def _literal_keys(source: str) -> set[str]:
    """String literals passed as the key to :func:`maps.i18n.t` (under whatever name a module imports it)."""
    tree = ast.parse(source)
    names = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "maps.i18n" for a in node.names if a.name == "t"}
    if "def t(key" in source:  # maps/i18n.py itself
        names.add("t")
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def keys_in_code() -> dict[str, set[str]]:
    """Every literal key in geo, service and maps (Python ``t("...")``, templates ``tr('...')``), per file."""
    found: dict[str, set[str]] = {}
    for package in ("geo", "service", "maps"):
        for path in (REPO / package).rglob("*.py"):
            if keys := _literal_keys(path.read_text(encoding="utf-8")):
                found[str(path.relative_to(REPO))] = keys
    for path in (REPO / "service").rglob("*.html"):
        if keys := set(re.findall(r"\btr\(\s*['\"]([^'\"]+)['\"]\s*\)", path.read_text(encoding="utf-8"))):
            found[str(path.relative_to(REPO))] = keys
    return found


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    words = catalogue("de")
    used = keys_in_code()
    assert sum(len(k) for k in used.values()) > 200  # the scan finds the keys (templates and Python)
    missing = {path: sorted(k for k in keys if k not in words) for path, keys in used.items()}
    assert {p: k for p, k in missing.items() if k} == {}


def test_the_key_scan_finds_literals_under_any_name() -> None:
    source = "from maps.i18n import t as tt\nx = tt('a.b', lang)\ny = tt(f'c.{d}')\nz = other('e.f')\n"
    assert _literal_keys(source) == {"a.b"}


@pytest.mark.parametrize("path", PROGRAMMES, ids=[p.stem for p in PROGRAMMES])
def test_every_id_of_a_shipped_programme_has_words(path: Path) -> None:
    """Category ids (``cat.<id>``), index classes (``status.<class>``, ``dynamics.<class>``), index names
    (``index.<name>``) and indicators (the registry's labels or the programme's own)."""
    words = catalogue("de")
    defn = load_definition(path)
    wanted = [f"cat.{c.id}" for c in defn.categories]
    for spec in defn.indices:
        wanted += [f"index.{spec.name}", f"field.{spec.field}"] + [f"{spec.name}.{label}" for label in spec.labels]
    assert [k for k in wanted if k not in words] == []
    assert [i.id for i in defn.indicators if i.id not in REGISTRY and not i.label] == []


def test_designation_check_messages_in_words() -> None:
    """The engine's verdict and driver messages (geo.classify.designation_check) as German and English text."""
    from maps.i18n import message_text, messages_text

    cond = {"code": "condition", "field": "population", "value": 5853.67, "op": ">=", "threshold": 2000}
    assert message_text(cond, "de") == "Einwohner 5.854 (≥ 2.000)"
    assert message_text(cond, "en") == "Residents 5,854 (≥ 2,000)"
    failed = {"code": "condition_failed", "category": "win", "field": "status_index", "value": 0.62, "op": ">=",
              "threshold": 1.0, "short_sd": 0.38}
    assert message_text(failed, "de") == "WiN-Gebiet (indiziert): Statusindex 0,62 (verfehlt ≥ 1,00 um 0,38 SD)"
    assert message_text(failed, "en") == "WiN area (indicated): Status index 0.62 (misses ≥ 1.00 by 0.38 SD)"
    drivers = [{"code": "qualifies_as", "categories": ["win"]},
               {"code": "driven_by", "index": "status",
                "contributions": [{"indicator": "sgb2_u15_pct", "value": 0.84}, {"indicator": "unemployment_pct",
                                                                                "value": -0.12}]}]
    de = messages_text(drivers, "de")
    assert de.startswith("erfüllt die Bedingungen für WiN-Gebiet (indiziert); Statusindex vor allem bestimmt durch: ")
    assert "+0,84" in de and "-0,12" in de and "sgb2" not in de
    assert messages_text(drivers, "en").startswith("meets the conditions for WiN area (indicated); status index "
                                                  "driven by: ")
    assert messages_text({"code": "phase_out_candidate"}, "de") == "ausgewiesen, aber nicht angezeigt (Auslaufkandidat)"
    assert messages_text({"code": "new_candidate"}, "en") == "indicated, not designated (new candidate)"
    assert messages_text({"code": "not_classifiable", "designated": True,
                          "reason": reason_code("check_failed", field="has_statistics", reason="none")}, "de") == \
        "ausgewiesen; keine Statistik veröffentlicht"
    assert messages_text([{"code": "no_data"}], "en") == "no data to check the designation against"
    assert messages_text("an older product's sentence", "de") == "an older product's sentence"
    assert messages_text(None, "de") == ""


def test_every_message_code_of_the_engine_has_words() -> None:
    """Each code the designation check can return renders to a text in both languages, not to its code."""
    import inspect

    from geo.classify import designation_check
    from maps.i18n import message_text

    source = inspect.getsource(designation_check)
    codes = {c for pair in re.findall(r'"code": "(\w+)"(?: if \w+ else "(\w+)")?', source) for c in pair if c}
    codes |= set(designation_check.VERDICTS.values())
    assert {"condition", "condition_failed", "driven_by", "qualifies_as", "no_data", "not_classifiable",
            "phase_out_candidate"} <= codes
    for code in codes:
        for lang in ("de", "en"):
            assert message_text({"code": code, "reason": "x"}, lang) not in ("", code)
