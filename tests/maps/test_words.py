"""The word catalogues (maps/locale/{de,en}/LC_MESSAGES/messages.po): complete in both languages, and holding
every key the code asks for."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo.classify.definition import load_definition
from geo.pipeline.indicators import REGISTRY
from maps.i18n import catalogue

REPO = Path(__file__).resolve().parents[2]
PROGRAMMES = sorted((REPO / "programmes").glob("*.yml"))


def test_reasons_in_words_without_the_engine_prefix():
    from maps.i18n import reason_text

    engine = "not classifiable: fewer than 300 residents or population unknown"
    assert reason_text(engine, "de") == "weniger als 300 Einwohner oder Einwohnerzahl unbekannt"
    assert reason_text(engine, "en") == "fewer than 300 residents or population unknown"
    assert reason_text("not classifiable: no district statistics published", "de") == \
        "keine Ortsteilstatistik veröffentlicht"
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
