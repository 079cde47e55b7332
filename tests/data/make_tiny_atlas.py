"""Writes the synthetic fixtures tiny_ortsteilatlas.xlsx and tiny_wahlatlas_data.js (invented numbers).

Run from the repository: ``.venv/bin/python tests/data/make_tiny_atlas.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
SGB2 = "Anteil der Leistungsberechtigten (Grundsicherung für Arbeitsuchende, SGB II) an der Bevölkerung"
U65 = f"{SGB2} unter 65 Jahren (%)"
U15 = f"{SGB2} unter 15 Jahren (%)"


def atlas() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sozialleistungen"
    ws.append([None, None, "Sozialleistungen"])
    # u65: 2017, 2018 and an extra year 2019; u15 with extra white space in its name; an unknown indicator
    ws.append([None, None, U65, None, None, U15.replace(" an der ", "  an der "), None, "Ein neuer Indikator (%)"])
    ws.append(["Ortsteil / Stadtteil / Stadtbezirk", None, 2017, 2018, 2019, 2017, 2018, "2017-2018"])
    ws.append([991, "Erstes Ortsteil", 10.5, 11.25, 12.0, 20.0, None, 1.0])
    ws.append([992, "Zweites Ortsteil", None, "x", 13.5, 30.0, "n/a", 2.0])
    ws.append([99, "Stadtteil Beispiel", 11.0, 12.0, 12.5, 25.0, 26.0, 3.0])
    ws.append([9, "Stadtbezirk Beispiel", 11.0, 12.0, 12.5, 25.0, 26.0, 3.0])
    ws.append([None, "Stadt Beispiel", 9.0, 9.5, 10.0, 19.0, 20.0, 4.0])
    ws.append(["abc", "no district", 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    pop = book.create_sheet("Bevölkerung (Absolute Werte)")
    pop.append([None, None, "Bevölkerung (Absolute Werte)"])
    pop.append([None, None, "Bevölkerungszahl insgesamt", None, "Bevölkerungszahl im Alter von 65 Jahren oder älter"])
    pop.append(["Ortsteil / Stadtteil / Stadtbezirk", None, 2016, 2018, 2016, 2018])
    pop.append([991, "Erstes Ortsteil", 1000, 1100, 200, 300])
    pop.append([992, "Zweites Ortsteil", 500, 600, 100, None])
    book.save(HERE / "tiny_ortsteilatlas.xlsx")


def wahlatlas() -> None:
    features = [{"id": "X991", "name": "Erstes Ortsteil", "filters": [{"for": "filter4", "name": "Bremen"}]},
                {"id": "X992", "name": "Zweites Ortsteil", "filters": [{"for": "filter4", "name": "Bremen"}]},
                {"id": "Y993", "name": "Drittes Ortsteil", "filters": [{"for": "filter4", "name": "Bremerhaven"}]},
                {"id": "Z994", "name": "Unbekannte Stadt", "filters": []}]
    note = ("<b>Bremen:</b> <br>Ortsteil Erstes Ortsteil einschließlich Ortsteil Zweites Ortsteil. </br>"
            "<br><b>Bremerhaven:</b> <br>Ortsteil Drittes Ortsteil ohne Briefwahl. </br>")
    doc = {"version": "1.3", "geographies": [{
        "id": "Ortsteile", "name": "Ortsteile", "type": "polygon", "features": features,
        "comparisonFeatures": [{"id": "X1", "name": "Stadt Bremen"}, {"id": "Y2", "name": "Land Bremen"}],
        "themes": [{"id": "t0", "name": "Wahlbeteiligung", "properties": [{"name": "metatext", "value": note}],
                    "indicators": [
                        {"id": "i0", "name": "Wahlbeteiligung 2023 (%)", "type": "numeric",
                         "values": [50.5, "", 40.0, 1.0], "comparisonValues": [55.0, 54.0]},
                        {"id": "i1", "name": "Wahlbeteiligung 2019 (%)", "type": "numeric",
                         "values": [60.5, "NaN", 45.0, 1.0], "comparisonValues": [65.0, 64.0]},
                        {"id": "i2", "name": "Neue Kennzahl 2023 (%)", "type": "numeric",
                         "values": [1.0, 2.0, 3.0, 4.0], "comparisonValues": [1.0, 1.0]},
                        {"id": "i3", "name": "2023", "type": "categoric", "values": ["A", "B", "C", "D"]}]}]}]}
    (HERE / "tiny_wahlatlas_data.js").write_text("\ufeff" + json.dumps(doc, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    atlas()
    wahlatlas()
