"""The Excel workbook ``/api/v1/downloads/districts.xlsx`` (read back with openpyxl) and the German CSV dialect."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import coordinate_from_string

from maps.i18n import indicator_label, t

TENEVER = "04011373"
SHEETS = {"ortsteile": "Ortsteile", "stadtteile": "Stadtteile", "stadtbezirke": "Stadtbezirke"}


@pytest.fixture(scope="module")
def workbook(app):  # type: ignore[no-untyped-def]
    r = app.test_client().get("/api/v1/downloads/districts.xlsx")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["Content-Disposition"].endswith('.xlsx"')
    return load_workbook(io.BytesIO(r.data))


def _table(ws) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Column ids (the header comments), rows by key, and the cells of each column of the first data row."""
    ids = [c.comment.text for c in ws[1]]
    rows = {}
    for row in ws.iter_rows(min_row=2):
        rec = {i: c.value for i, c in zip(ids, row, strict=True)}
        rows[str(rec["key"])] = rec
    return ids, rows, {i: c for i, c in zip(ids, ws[2], strict=True)}


def _same(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)) or a == "":
        return b is None or b == "" or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool) == isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    return str(a) == str(b)


def test_sheets_keys_as_text_counts_as_integers_frozen_and_filtered(workbook) -> None:  # type: ignore[no-untyped-def]
    assert workbook.sheetnames == [*SHEETS.values(), "Einstufung", "Quellen"]
    ws = workbook["Ortsteile"]
    hits = [c for row in ws.iter_rows() for c in row if c.value == TENEVER]
    assert hits and all(c.data_type == "s" for c in hits)  # 04011373, never the number 4011373
    assert not any(c.value == int(TENEVER) for row in ws.iter_rows() for c in row)
    for sheet in [*SHEETS.values(), "Einstufung"]:
        w = workbook[sheet]
        ids, rows, first = _table(w)
        assert all(isinstance(k, str) and len(k) == 8 and k.isdigit() for k in rows)
        assert coordinate_from_string(w.freeze_panes)[1] == 2  # the header row stays in view
        assert w.auto_filter.ref == f"A1:{w.cell(row=1, column=len(ids)).column_letter}{len(rows) + 1}"
        assert all(c.font.bold for c in w[1])
        pops = [r["population"] for r in rows.values() if r["population"] is not None]
        assert pops and first["population"].number_format == "#,##0"
        if sheet != "Einstufung":  # the classification's estimated residents may have a fraction
            assert all(type(p) is int for p in pops)


def test_german_headers_from_the_i18n_labels_and_formats_by_unit(workbook) -> None:  # type: ignore[no-untyped-def]
    ws = workbook["Ortsteile"]
    ids, _, first = _table(ws)
    headers = dict(zip(ids, [c.value for c in ws[1]], strict=True))
    assert headers["population"] == indicator_label("population", "de")
    assert headers["sgb2_u65_pct"] == indicator_label("sgb2_u65_pct", "de")
    assert headers["key"] == t("map.key", "de") and headers["designated"] == t("field.designated", "de")
    assert headers["sgb2_u65_pct_year"].startswith(indicator_label("sgb2_u65_pct", "de").rsplit(" (", 1)[0])
    assert first["sgb2_u65_pct"].number_format == "#,##0.0"  # percent: one decimal
    assert first["year"].number_format == "0" and type(first["year"].value) is int
    assert first["designated"].data_type == "b"
    _, _, cls_first = _table(workbook["Einstufung"])
    assert cls_first["status_index"].number_format == "#,##0.00"


@pytest.mark.parametrize("layer", list(SHEETS))
def test_values_agree_with_the_geojson_download(client, workbook, layer: str) -> None:  # type: ignore[no-untyped-def]
    feats = client.get(f"/api/v1/downloads/{layer}.geojson").get_json()["features"]
    ids, rows, _ = _table(workbook[SHEETS[layer]])
    assert len(rows) == len(feats)
    picks = [f for f in feats if f["properties"]["key"] in (TENEVER, feats[0]["properties"]["key"],
                                                            feats[-1]["properties"]["key"])]
    assert len(picks) >= 2
    for f in picks:
        props = f["properties"]
        row = rows[props["key"]]
        assert set(ids) == set(props)
        bad = {c: (props[c], row[c]) for c in ids if not _same(props[c], row[c])}
        assert not bad, bad


def test_classification_sheet_agrees_with_the_csv_download(client, workbook) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/api/v1/downloads/classification.csv").data.decode("utf-8")
    csv_rows = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
    ids, rows, _ = _table(workbook["Einstufung"])
    assert set(rows) == set(csv_rows)
    for key in (TENEVER, min(rows), max(rows)):
        row, ref = rows[key], csv_rows[key]
        for col in ids:
            want = ref[col]
            got = row[col]
            if isinstance(got, bool):
                assert want == str(got), col
            elif isinstance(got, int | float):
                assert math.isclose(float(want), float(got), rel_tol=1e-12), col
            else:
                assert (got or "") == want, col


def test_sources_sheet_names_snapshot_inputs_and_definition(workbook, state) -> None:  # type: ignore[no-untyped-def]
    cells = {c.value for row in workbook["Quellen"].iter_rows() for c in row if c.value is not None}
    assert state.version in cells and state.definition.hash in cells and state.definition.id in cells
    inputs = state.snapshot.manifest["inputs"]
    assert inputs and all(i["path"] in cells and i["sha256"] in cells for i in inputs)
    assert all(c.id in cells for c in state.definition.categories)
    assert any(isinstance(v, str) and str(state.snapshot.latest_year) in v for v in cells) or \
        state.snapshot.latest_year in cells


def test_formulas_are_neutralised_in_cells() -> None:
    from service.api.workbook import write_sheet

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    write_sheet(ws, pd.DataFrame({"key": ["04011373", "=1+1"], "name": ['=HYPERLINK("http://x")', "-5"],
                                  "population": [1.0, float("nan")]}))
    buf = io.BytesIO()
    wb.save(buf)
    back = load_workbook(io.BytesIO(buf.getvalue())).active
    assert back is not None
    cells = [c for row in back.iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert back["A3"].value == "'=1+1" and back["B2"].value.startswith("'=") and back["B3"].value == "-5"
    assert back["C2"].value == 1 and type(back["C2"].value) is int and back["C3"].value is None


# ------------------------------------------------------------------------------------------ German CSV


def test_excel_de_csv_has_german_booleans_and_whole_counts(client) -> None:  # type: ignore[no-untyped-def]
    de = client.get("/api/v1/downloads/ortsteile.csv?dialect=excel-de").data.decode("utf-8-sig")
    en = client.get("/api/v1/downloads/ortsteile.csv").data.decode("utf-8")
    de_rows = {r["key"]: r for r in csv.DictReader(io.StringIO(de), delimiter=";")}
    en_rows = {r["key"]: r for r in csv.DictReader(io.StringIO(en))}
    props = {f["properties"]["key"]: f["properties"]
             for f in client.get("/api/v1/downloads/ortsteile.geojson").get_json()["features"]}
    yes, no = t("value.true", "de"), t("value.false", "de")
    assert {r["designated"] for r in de_rows.values()} <= {yes, no}
    assert {r["has_statistics"] for r in de_rows.values()} <= {yes, no}
    assert {r["designated"] for r in en_rows.values()} <= {"True", "False"}  # the English dialect is unchanged
    for key in (TENEVER, min(props)):
        p = props[key]
        assert de_rows[key]["designated"] == (yes if p["designated"] else no)
        assert de_rows[key]["population"] == str(int(p["population"]))  # 3892, not 3892,0
        assert en_rows[key]["population"] == repr(float(p["population"]))
        assert de_rows[key]["year"] == str(p["year"])
    share = de_rows[TENEVER]["share_foreign_pct"]
    assert "," in share and float(share.replace(",", ".")) == pytest.approx(props[TENEVER]["share_foreign_pct"])


def test_german_values_keep_fractional_counts_and_plain_columns() -> None:
    from service.api.exports import german_values

    frame = pd.DataFrame({"population": [3892.0, 2399.955], "under_18": [402.0, None],
                          "share_foreign_pct": [5.0, 6.0], "designated": [True, False],
                          "ok": pd.Series([True, None], dtype=object)})
    out = german_values(frame)
    assert out["population"].tolist() == [3892.0, 2399.955]  # an estimate keeps its decimals
    assert out["under_18"].tolist()[0] == 402 and str(out["under_18"].dtype) == "Int64"
    assert out["share_foreign_pct"].dtype == float  # not a count: unchanged
    assert out["designated"].tolist() == [t("value.true", "de"), t("value.false", "de")]
    assert out["ok"][0] == t("value.true", "de") and pd.isna(out["ok"][1])  # missing stays missing
