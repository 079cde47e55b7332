"""The classification package stays walkable: no function in geo/classify over 80 lines, no module over 500."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "geo" / "classify"
MAX_FUNCTION_LINES = 80


def test_no_function_in_geo_classify_is_longer_than_80_lines():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 10
    long = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_module_in_geo_classify_is_longer_than_500_lines():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 500} == {}
