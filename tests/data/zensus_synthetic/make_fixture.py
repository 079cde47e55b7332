"""Write the SYNTHETIC census fixture of tests/test_zensus.py (hand-made numbers, no real data).

Four 1 km cells in a row (EPSG:3035 centres, y = 3,335,500; x = 4,215,500 + 1000 k) and four 100 m cells.
Run from the repository root: ``.venv/bin/python tests/data/zensus_synthetic/make_fixture.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
X = [4215500, 4216500, 4217500, 4218500]
Y = [3335500] * 4
# cell:          A      B      C      D   (-1: no value or confidential)
GRID = {
    "Einwohner": [100, 300, 200, -1],
    "Leerstandsquote": [10.0, 2.0, 5.0, -1.0],
    "Wohnfl_Bew_D": [40.0, 30.0, 50.0, -1.0],
    "HHGroesse_D": [2.0, 3.0, 2.5, -1.0],
    "unter18_A": [20.0, -1.0, 10.0, -1.0],
    "ab65_A": [-1.0, 10.0, 20.0, -1.0],
    "Auslaender_A": [50.0, 50.0, 50.0, -1.0],  # present on purpose: the catalogue never asks for it
}
# 100 m cells: P1 in the left half of A, P2 and P3 in B and C, P4 outside every district
CELLS = [
    ("dwellings_WOHNFLAECHE_10S_1", 4215250, 3335450, 10, "04099111"),
    ("dwellings_WOHNFLAECHE_10S_5", 4215250, 3335450, 20, "04099111"),
    ("dwellings_NUTZUNG_DETAIL_HHGEN_4", 4215250, 3335450, 3, "04099111"),
    ("dwellings_EIGENTUM_4", 4215250, 3335450, 15, "04099111"),
    ("families_FAMTYP_KIND_2", 4215250, 3335450, 5, "04099111"),
    ("families_FAMTYP_KIND_12", 4215250, 3335450, 4, "04099111"),
    ("dwellings_WOHNFLAECHE_10S_3", 4216550, 3335550, 50, "04099112"),
    ("dwellings_NUTZUNG_DETAIL_HHGEN_4", 4216550, 3335550, 5, "04099112"),
    ("dwellings_EIGENTUM_3", 4216550, 3335550, 10, "04099112"),
    ("families_FAMTYP_KIND_2", 4216550, 3335550, 20, "04099112"),
    ("families_FAMTYP_KIND_10", 4216550, 3335550, 3, "04099112"),
    # labelled with the wrong Ortsteil on purpose: the reader must report the disagreement
    ("dwellings_WOHNFLAECHE_10S_17", 4217450, 3335350, 40, "04099111"),
    ("dwellings_WOHNFLAECHE_10S_1", 4225050, 3335050, 7, ""),
]


def main() -> None:
    for name, values in GRID.items():
        kind = pa.int32() if name == "Einwohner" else pa.float64()
        table = pa.table({name: pa.array(values, kind), "x": pa.array(X, pa.int32()), "y": pa.array(Y, pa.int32())})
        pq.write_table(table, HERE / f"continuous_{name}.parquet")
    with open(HERE / "zensus2022_100m_synthetic_long.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["datei_z22data", "x_mp_100m_epsg3035", "y_mp_100m_epsg3035", "wert", "quality",
                      "ot_key_zentroid"])
        for file, x, y, value, key in CELLS:
            out.writerow([file, x, y, value, 0, key])


if __name__ == "__main__":
    main()
