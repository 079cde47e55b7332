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


@pytest.mark.parametrize(("package", "forbidden"), [("geo", {"flask", "folium", "service", "maps", "werkzeug"}),
                                                    ("maps", {"flask", "service", "requests", "urllib", "pyogrio",
                                                              "fiona"})])
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    bad = {str(p.relative_to(REPO)): sorted(n & forbidden) for p, n in _imports(package).items() if n & forbidden}
    assert not bad


def test_http_status_codes_only_in_service() -> None:
    pattern = re.compile(r"\b(status(_code)?\s*=\s*[1-5]\d\d|HTTPStatus)\b")
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "geo").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_maps_never_opens_files() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "maps").rglob("*.py")
                 if re.search(r"\bopen\(|read_file\(|\.read_text\(|\.write_text\(", p.read_text(encoding="utf-8"))]
    assert not offenders


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
                   "service/report_templates/report.html"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)
