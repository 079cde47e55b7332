"""The programme-year report, service side: read what it shows, hand it to the renderer, write the file.

:func:`collect_report_data` reads the classification the build published for the snapshot's latest year (with
its basis evidence and designated-versus-data rows; :func:`geo.classify.classify` for another year or draws
count) and runs the monitoring series (:mod:`geo.analysis.monitoring`) and the evaluation
(:func:`geo.analysis.monitoring.evaluate_funding`, :func:`geo.analysis.monitoring.compare_changes`);
:func:`inline_leaflet` reads the vendored Leaflet for the interactive map; :func:`maps.report.render_report` draws
the HTML from its Jinja templates. Framework-free: no Flask; :mod:`service.commands.report` is the CLI.
"""

from __future__ import annotations

import base64
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from geo.analysis.monitoring.poverty import need_directions
from geo.errors import Problem, ValidationError
from maps.report import CHART_INDICATORS, SYNTHETIC_MARKERS, Leaflet, ReportData, render_report

__all__ = ["build_report", "collect_report_data", "find_synthetic", "inline_leaflet", "write_report"]

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
MAP_MODES = ("interactive", "static")


def find_synthetic(snapshot: Any) -> list[str]:
    """Inputs, indicator sources or designation sources of ``snapshot`` that are marked synthetic."""
    found: list[str] = []

    def marked(text: object) -> bool:
        low = str(text).lower()
        return any(m in low for m in SYNTHETIC_MARKERS)

    for item in snapshot.manifest.get("inputs", []):
        if marked(item.get("path", "")):
            found.append(str(item["path"]))
    if snapshot.manifest.get("synthetic"):
        found.append(f"manifest: {snapshot.manifest['synthetic']}")
    ind = snapshot.indicators
    if "source" in ind.columns:
        for src in ind["source"].dropna().astype(str).unique():
            if marked(src):
                found.append(f"indicator source: {src}")
    des = snapshot.designations
    for col in ("sources", "confidence", "status"):
        if col in getattr(des, "columns", []):
            for val in des[col].dropna().astype(str).unique():
                if marked(val):
                    found.append(f"designations {col}: {val}")
    return found


def _check_year(snapshot: Any, year: int | None) -> int:
    years = sorted(int(y) for y in snapshot.manifest.get("years", []))
    if year is None:
        return int(snapshot.latest_year)
    if int(year) not in years:
        raise ValidationError(f"no data for the programme year {year} in snapshot {snapshot.version}",
                              problems=[Problem("year", f"--year must be one of {', '.join(map(str, years))}, "
                                                f"got {year}")])
    return int(year)


#: published meta entries that hold for another draws count of the same year (draws change only the stability)
_SAME_YEAR_META = ("basis_evidence", "designations_versus_data")
#: published meta entries that describe the definition's basis whatever the year
_ANY_YEAR_META = ("basis_evidence",)


def _classification(snapshot: Any, defn: Any, wide: Any, *, year: int, draws: int | None) -> Any:
    """Return the classification of ``defn`` for ``year`` and ``draws``, published where possible.

    The build's published classification is used when it is the one asked for (the snapshot's latest year,
    the definition's draws); otherwise it is classified here, with the published evidence that still holds
    (the proxy evidence always; designated versus indicated for the latest year only).
    """
    from geo.classify import classify
    from geo.errors import ProductMissingError, SnapshotError
    from geo.pipeline.products import read_classification

    meta = {"snapshot_version": snapshot.version, "level": "ortsteil", "year": year}
    published = None
    if getattr(snapshot, "path", None) is not None:
        try:
            published = read_classification(Path(snapshot.path), snapshot.manifest, defn)
        except (ProductMissingError, SnapshotError):
            published = None
    latest = year == int(snapshot.latest_year)
    if published is not None and latest and draws in (None, defn.robustness.draws):
        published.meta.update(meta)
        return published
    result = classify(wide, defn, draws=draws, meta=meta)
    if published is not None:
        for name in _SAME_YEAR_META if latest else _ANY_YEAR_META:
            if name in published.meta:
                result.meta[name] = published.meta[name]
    return result


def collect_report_data(snapshot: Any, definition: Any, *, year: int | None = None, draws: int | None = None,
                        permutations: int = 999) -> ReportData:
    """Collect the report's data: a programme's classification and monitoring for ``year``.

    ``year`` defaults to the snapshot's latest year. The classification is read from the snapshot, or run for
    another year or draws count.

    Parameters
    ----------
    snapshot
        A loaded :class:`geo.pipeline.snapshot.Snapshot`.
    definition
        A :class:`geo.classify.Definition`, a mapping or the path of a YAML file.
    year
        Programme year; must be a year of the snapshot.
    draws
        Monte Carlo draws (default: the definition's).
    permutations
        Permutations of the Moran's I tests.
    """
    from geo.analysis import monitoring
    from geo.classify import load_definition

    defn = definition if hasattr(definition, "indicators") else load_definition(definition)
    year = _check_year(snapshot, year)
    wide = snapshot.wide("ortsteil", year)
    result = _classification(snapshot, defn, wide, year=year, draws=draws)
    long = snapshot.indicators[snapshot.indicators["year"] <= year]
    groups = monitoring.parent_map(wide)
    inequality = monitoring.inequality_series(long, groups=groups, indicators=list(CHART_INDICATORS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segregation = monitoring.segregation_series(long, districts=snapshot.layer("ortsteil"),
                                                    permutations=permutations)
    directions = need_directions()
    ew = monitoring.need_early_warning(long)
    table = result.table.set_index("key")
    ok = set(table.index[table["classifiable"]])
    ew = ew[ew["warning"] & ew["key"].isin(ok)].copy()
    ew["name"] = ew["key"].map(table["name"])
    ew["population"] = ew["key"].map(table["population"])
    evaluation = comparison = None
    if len(snapshot.designations):
        comparison, cohorts = monitoring.need_evaluation(long, snapshot.designations)
        evaluation = monitoring.EvaluationResult(
            outcomes=pd.concat([c.outcomes for c in cohorts], ignore_index=True),
            matches=pd.concat([c.matches for c in cohorts], ignore_index=True),
            treated=cohorts[0].treated, caveats=cohorts[0].caveats) if cohorts else None
    pov_ineq = monitoring.poverty_inequality(long, groups=groups)
    pov_seg = monitoring.sgb2_segregation(long, districts=snapshot.layer("ortsteil"), permutations=permutations)
    return ReportData(snapshot=snapshot, definition=defn, year=year, wide=wide, result=result,
                      inequality=inequality, segregation=segregation, warnings=ew.reset_index(drop=True),
                      directions=directions, evaluation=evaluation, synthetic=find_synthetic(snapshot),
                      poverty_inequality=pov_ineq, poverty_segregation=pov_seg, comparison=comparison)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def inline_leaflet() -> Leaflet:
    """The vendored Leaflet script and stylesheet, the stylesheet's images turned into ``data:`` URIs."""
    js_path, css_path = VENDOR / "leaflet" / "leaflet.js", VENDOR / "leaflet" / "leaflet.css"
    if not js_path.is_file() or not css_path.is_file():
        raise FileNotFoundError(f"vendored Leaflet not found under {VENDOR / 'leaflet'}")
    css = css_path.read_text(encoding="utf-8")
    css = re.sub(r"url\((['\"]?)images/([\w.-]+\.png)\1\)",
                 lambda m: f"url({_data_uri(VENDOR / 'leaflet' / 'images' / m.group(2))})", css)
    js = js_path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return Leaflet(js=js, css=css)


def build_report(snapshot: Any, definition: Any, *, year: int | None = None, lang: str = "de",
                 map_mode: str = "interactive", draws: int | None = None) -> str:
    """Classify, monitor and evaluate for ``year`` and return the report as one HTML string.

    Parameters
    ----------
    snapshot
        A loaded snapshot (:func:`geo.pipeline.snapshot.load_snapshot`).
    definition
        Programme definition (object, mapping or YAML path).
    year
        Programme year (default: the latest year of the snapshot).
    lang
        ``"de"`` (default) or ``"en"``.
    map_mode
        ``"interactive"`` (Leaflet map inlined in an ``<iframe srcdoc>``; the static map when the vendored
        Leaflet is missing) or ``"static"`` (SVG map).
    draws
        Monte Carlo draws of the robustness analysis (default: the definition's).
    """
    from maps.i18n import check_lang

    check_lang(lang)
    if map_mode not in MAP_MODES:
        raise ValidationError("invalid map mode", problems=[Problem("map", f"map mode must be 'interactive' or "
                                                                   f"'static', got {map_mode!r}")])
    data = collect_report_data(snapshot, definition, year=year, draws=draws)
    leaflet = None
    if map_mode == "interactive":
        try:
            leaflet = inline_leaflet()
        except FileNotFoundError:
            leaflet = None
    return render_report(data, lang=lang, leaflet=leaflet)


def write_report(snapshots: str | os.PathLike[str], programme: str | os.PathLike[str],
                 out: str | os.PathLike[str], *, version: str | None = None, year: int | None = None,
                 lang: str = "de", map_mode: str = "interactive") -> Path:
    """Load the snapshot and the definition, build the report and write it (UTF-8) to ``out``."""
    from geo.classify import load_definition
    from geo.pipeline.snapshot import load_snapshot

    definition = load_definition(programme)  # fails first: cheaper than loading the snapshot
    snapshot = load_snapshot(snapshots, version)
    html = build_report(snapshot, definition, year=year, lang=lang, map_mode=map_mode)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
