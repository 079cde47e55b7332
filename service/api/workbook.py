"""The districts as an Excel workbook (openpyxl, framework-free): ``/api/v1/downloads/districts.xlsx``.

One sheet per level (Ortsteile, Stadtteile, Stadtbezirke), the classification by the programme definition
("Einstufung", the rows of the classification download) and "Quellen" (snapshot, data years, input files with
checksums, the definition used). Cells are typed: keys and names are text (``04011373`` stays ``04011373``),
counts and years integers, shares and rates numbers with the decimals of their unit, flags booleans; headers are
the German labels of :mod:`maps.i18n` (the column's id is the header cell's comment, as in the CSV and GeoJSON
downloads); the header row is frozen and filtered. Text cells go through :func:`service.api.exports.neutralise_frame`
like every CSV, so no cell is read as a formula.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo.classify import ClassificationResult, Definition
from geo.pipeline.indicators import REGISTRY
from geo.pipeline.snapshot import Snapshot
from maps.i18n import indicator_label, t
from service.api.exports import (
    COUNT_UNITS,
    classification_frame,
    is_count,
    layer_frame,
    neutralise_cell,
    neutralise_frame,
    year_base,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: layer -> sheet name
LEVELS = {"ortsteile": "Ortsteile", "stadtteile": "Stadtteile", "stadtbezirke": "Stadtbezirke"}
#: number formats by unit (Excel codes are locale-free: German Excel shows 1.234,5)
INTEGER, ONE_DECIMAL, TWO_DECIMALS, THREE_DECIMALS = "#,##0", "#,##0.0", "#,##0.00", "0.000"
#: columns that are not indicators, with the i18n key of their German label
FIELD_KEYS = {
    "key": "map.key", "city": "map.city", "year": "profile.year", "designated": "field.designated",
    "designation_programmes": "layer.designations", "designation_areas": "profile.designation",
    "designation_confidence": "profile.confidence", "status_index": "field.status_index",
    "status_class": "field.status_class", "dynamics_index": "field.dynamics_index",
    "dynamics_class": "field.dynamics_class", "categories": "map.category", "stability": "profile.stability",
    "borderline": "profile.borderline", "basis": "table.basis", "basis_confidence": "table.confidence",
    "matrix_cell": "profile.classification",
}
INDEX_FIELDS = ("status_index", "dynamics_index")


def header(col: str) -> str:
    """The German header of a column: indicator labels with their unit, field labels, else the column id."""
    if col in REGISTRY:
        return indicator_label(col, "de")
    base = year_base(col)
    if base is not None:
        return t("table.year_of", "de").format(label=indicator_label(base, "de").rsplit(" (", 1)[0])
    if col == "name":
        return "Name"
    for level in ("stadtteil", "stadtbezirk", "city"):
        if col == f"{level}_key":
            word = t("map.city", "de") if level == "city" else t(f"level.{level}", "de")
            return f"{word} ({t('map.key', 'de')})"
    if col == "budget_eur":
        return f"{t('profile.budget', 'de')} (EUR)"
    if col.startswith("is_") and t(f"cat.{col[3:]}", "de") != f"cat.{col[3:]}":
        return f"{t('map.category', 'de')}: {t(f'cat.{col[3:]}', 'de')}"
    key = FIELD_KEYS.get(col)
    return t(key, "de") if key else col


def number_format(col: str) -> str | None:
    """The Excel number format of a numeric column (decimals by unit), None for text and flags."""
    if col == "year" or year_base(col) is not None:
        return "0"
    ind = REGISTRY.get(col)
    if ind is not None:
        if ind.unit in COUNT_UNITS or ind.unit == "persons/km²" or ind.unit == "EUR":
            return INTEGER
        return ONE_DECIMAL
    if col in INDEX_FIELDS:
        return TWO_DECIMALS
    if col == "stability":
        return THREE_DECIMALS
    if col == "budget_eur":
        return INTEGER
    return None


def _cell(value: Any, count: bool) -> Any:
    """A Python value openpyxl writes with the right type (missing -> empty, whole counts -> int)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if count and value == int(value):
            return int(value)
    return value


def write_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """A table with typed cells, German headers (column id as comment), frozen header row and autofilter."""
    plain = neutralise_frame(pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore")))
    cols = [str(c) for c in frame.drop(columns=["geometry"], errors="ignore").columns]
    ws.append([header(c) for c in cols])
    bold = Font(bold=True)
    for j, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        cell.comment = Comment(col, "Lebendige Quartiere")
        ws.column_dimensions[get_column_letter(j)].width = min(max(len(str(cell.value)), 8) + 2, 40)
    counts = [is_count(c) for c in cols]
    for row in plain.itertuples(index=False, name=None):
        ws.append([_cell(v, c) for v, c in zip(row, counts, strict=True)])
    for j, col in enumerate(cols, start=1):
        fmt = number_format(col)
        if fmt is None:
            continue
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    ws.freeze_panes = "C2" if cols[:2] == ["key", "name"] else "A2"
    if len(plain):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(plain) + 1}"


def _rows(ws: Worksheet, rows: Iterable[Sequence[Any]]) -> None:
    for r in rows:
        ws.append(list(r))


def write_sources(ws: Worksheet, snapshot: Snapshot, definition: Definition) -> None:
    """Snapshot, data years, statistics tables, input files and the programme definition used."""
    m = snapshot.manifest
    bold = Font(bold=True)
    _rows(ws, [[t("page.snapshot", "de"), snapshot.version], ["Erstellt", m.get("created")],
               ["Statistikjahr", snapshot.latest_year],
               ["Jahre der Bevölkerungsstatistik", ", ".join(str(y) for y in m.get("years") or [])],
               ["Programmdefinition", definition.id], ["Version", definition.version],
               ["Titel", definition.title], ["Prüfsumme der Definition (SHA-256)", definition.hash], []])
    ws.append([t("map.category", "de"), "Name", "Beschreibung"])
    for cat in definition.categories:
        ws.append([cat.id, t(f"cat.{cat.id}", "de") if t(f"cat.{cat.id}", "de") != f"cat.{cat.id}" else cat.label,
                   cat.description])
    ws.append([])
    ws.append([t("profile.indicator", "de"), "Spalte", "Jahre der Werte (Ortsteile)"])
    orts = snapshot.layers["ortsteile"]
    for col in orts.columns:
        base = year_base(str(col))
        if base is None or base not in orts.columns:
            continue
        years = sorted({int(y) for y in pd.to_numeric(orts[col], errors="coerce").dropna()})
        ws.append([indicator_label(base, "de"), base, ", ".join(str(y) for y in years)])
    ws.append([])
    ws.append(["Statistiktabelle", "Datei", "Titel", "Jahre"])
    for tab in m.get("statistics_tables") or []:
        ws.append([tab.get("table_id"), tab.get("file"), tab.get("title"),
                   ", ".join(str(y) for y in tab.get("years") or [])])
    ws.append([])
    ws.append(["Eingangsdatei", "SHA-256", "Bytes"])
    for inp in m.get("inputs") or []:
        ws.append([inp.get("path"), inp.get("sha256"), inp.get("bytes")])
    for row in ws.iter_rows():
        first = row[0]
        if first.value in (t("map.category", "de"), t("profile.indicator", "de"), "Statistiktabelle",
                           "Eingangsdatei"):
            for cell in row:
                cell.font = bold
    for letter, width in (("A", 38), ("B", 60), ("C", 60), ("D", 30)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows():  # neutralised like the tables: manifest texts are data, never formulas
        for cell in row:
            cell.value = neutralise_cell(cell.value)


def districts_workbook(snapshot: Snapshot, result: ClassificationResult, definition: Definition,
                       wide: pd.DataFrame | None = None) -> bytes:
    """The workbook as bytes (``.xlsx``)."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for layer, sheet in LEVELS.items():
        write_sheet(wb.create_sheet(sheet), layer_frame(snapshot, layer).sort_values("key").reset_index(drop=True))
    cls = classification_frame(snapshot, result, wide).sort_values("key").reset_index(drop=True)
    write_sheet(wb.create_sheet("Einstufung"), cls.drop(columns=["definition_id", "definition_hash"]))
    write_sources(wb.create_sheet("Quellen"), snapshot, definition)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
