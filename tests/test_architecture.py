"""Layer boundaries from docs/architecture.md, enforced on the source tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (REPO / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("geo", {"flask", "folium", "service", "maps", "werkzeug",
                                                             "urllib", "http", "requests"}),
                                                    ("maps", {"flask", "service", "requests", "urllib", "pyogrio",
                                                              "fiona"}),
                                                    ("service/api", {"flask", "werkzeug"})])
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    bad = {str(p.relative_to(REPO)): sorted(n & forbidden) for p, n in _imports(package).items() if n & forbidden}
    assert not bad


def test_http_status_codes_only_in_service() -> None:
    pattern = re.compile(r"\b(status(_code)?\s*=\s*[1-5]\d\d|HTTPStatus)\b")
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "geo").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders


_FILE_CALLS = {"open", "read_file", "read_text", "read_bytes", "write_text", "write_bytes"}


def _root(node: ast.expr) -> ast.expr:
    """The start of a chain such as ``(resources.files("maps") / "locale" / "de").open("rb")``."""
    while True:
        if isinstance(node, ast.BinOp):
            node = node.left
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr != "files":
            node = node.func.value
        else:
            return node


def _own_resource(node: ast.expr) -> bool:
    """``resources.files("maps")`` (or ``"maps.<sub>"``): maps' own package data, such as its catalogues."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "files"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).split(".")[0] == "maps")


def _file_reads(source: str) -> list[int]:
    """Lines of ``source`` that open, read or write a file other than maps' own package resources."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _FILE_CALLS and not (isinstance(func, ast.Attribute) and _own_resource(_root(func.value))):
            lines.append(node.lineno)
    return lines


def test_maps_never_opens_files() -> None:
    """maps draws what it is given; the one thing it reads is its own word catalogue (a package resource)."""
    offenders = {str(p.relative_to(REPO)): lines for p in (REPO / "maps").rglob("*.py")
                 if (lines := _file_reads(p.read_text(encoding="utf-8")))}
    assert not offenders


@pytest.mark.parametrize("source", ["open('districts.csv')", "Path(p).read_text()", "pd.read_file(p)",
                                    "(resources.files('geo') / 'x.yml').open()", "files(root).read_bytes()",
                                    "io.open(p)"])
def test_the_file_check_catches_data_files(source: str) -> None:
    assert _file_reads(source) == [1]


def test_the_file_check_allows_maps_own_resources() -> None:
    assert not _file_reads("with (resources.files('maps') / 'locale' / 'de' / 'messages.po').open('rb') as f: pass")


def test_the_package_builds_without_warnings_and_carries_its_data(tmp_path: Path) -> None:
    """``pip install .`` gets the templates, static files and catalogues, with no setuptools warning about data
    folders that are not packages (issue 15, part 6)."""
    import subprocess
    import sys
    import zipfile

    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
                          "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    assert "absent from" not in log and "is deprecated" not in log, log[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("geo/pipeline/need_catalogue.yml", "service/templates/pages/base.html",
                   "service/static/css/pages.css", "service/static/vendor/leaflet/leaflet.js",
                   "maps/report/templates/report.html", "maps/locale/de/LC_MESSAGES/messages.po"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)
