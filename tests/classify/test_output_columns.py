"""The output columns documented in programmes/README.md ("Output columns") are the ones a result has."""

from __future__ import annotations

import re
from pathlib import Path

from geo.classify import classify

from .fixtures import definition, grid_table

README = Path(__file__).resolve().parents[2] / "programmes" / "README.md"


def documented_table_columns() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Output columns", 1)[1].split("The other parts:", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([^`]+)`", line.split("|")[1])
    return names


def expand(names: list[str], defn: dict) -> set[str]:
    out = set()
    for name in names:
        if name.startswith("<index>"):
            out |= {name.replace("<index>", idx) for idx in defn["indices"]}
        elif name.startswith("is_<category>"):
            out |= {f"is_{c['id']}" for c in defn["categories"]}
        else:
            out.add(name)
    return out


def test_the_result_table_has_exactly_the_documented_columns():
    names = documented_table_columns()
    assert "classifiable_reason" in names and "<index>_class" in names
    d = definition(matrix={"rows": "status", "columns": "status"})
    table = classify(grid_table(), d).table
    assert set(table.columns) == expand(names, d)


def test_the_other_parts_have_the_documented_columns():
    text = README.read_text(encoding="utf-8").split("The other parts:", 1)[1].split("## ", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (.+) \|$", text, flags=re.M)}
    res = classify(grid_table(), definition())
    for part in ("reasons", "near_misses", "designation_check", "budget"):
        documented = {c.strip() for names in re.findall(r"`([^`]+)`", rows[part]) for c in names.split(",")}
        got = set(getattr(res, part).columns)
        # an empty near-miss table has no name column (names are looked up for the areas listed)
        assert got == documented if part != "near_misses" else got <= documented, part
