"""Writes the SYNTHETIC inputs of the tiny snapshot: six invented square Ortsteile and their invented counts.

Nothing here is official data. The squares lie in Bremen's and Bremerhaven's coordinate range (EPSG:25832) but
their keys (``040119..``, ``040129..``) and names are made up; every number is chosen so that the expected
answers can be worked out by hand (``tests/tiny.py`` states them). The outputs are committed; run again after a
change: ``.venv/bin/python tests/data/tiny_snapshot/make_tiny_snapshot.py``.

Outputs (beside this file):

- ``synthetic_ortsteile.geojson``, ``synthetic_stadtteile.geojson``, ``synthetic_stadtbezirke.geojson``: the
  squares and their unions with the attribute names of the official shapefiles (``sch_ot``, ``bez_ot``, ...)
  and a ``note`` saying they are synthetic;
- ``synthetic_12411-03-03-2021.csv``, ``synthetic_12411-03-03-2023.csv``: table 12411-03-03 in the exact
  layout of the Statistisches Landesamt Bremen (ISO-8859-1, ``;``, CRLF, three header rows, footnotes).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTE = "SYNTHETIC: invented test square, not an official boundary"
SIDE = 1000  # metres: every square is 1 km², so density per km² equals the population

#: key, name, lower-left corner (EPSG:25832)
ORTSTEILE = [
    ("04011911", "Ahornfeld", (487000, 5883000)),
    ("04011912", "Birkenfeld", (488000, 5883000)),
    ("04011921", "Cedernfeld", (487000, 5882000)),
    ("04011922", "Dornfeld", (488000, 5882000)),
    ("04012911", "Eschenfeld", (473000, 5933000)),
    ("04012912", "Fichtenfeld", (474000, 5933000)),
]
STADTTEILE = [("04011910", "Teststadtteil Nord"), ("04011920", "Teststadtteil Süd"),
              ("04012910", "Teststadtteil Hafen")]
STADTBEZIRKE = [("04011900", "Testbezirk Bremen"), ("04012900", "Testbezirk Bremerhaven")]

#: invented counts: key -> year -> (population, foreign nationals)
COUNTS = {
    "04011911": {2021: (1000, 100), 2023: (1000, 100)},
    "04011912": {2021: (2000, 200), 2023: (2000, 200)},
    "04011921": {2021: (3000, 300), 2023: (3000, 300)},
    "04011922": {2021: (4000, 1800), 2023: (4000, 2000)},
    "04012911": {2021: (1500, 150), 2023: (1500, 150)},
    "04012912": {2021: (200, 20), 2023: (200, 20)},
}
AGE_GROUPS = ["unter 6", "6 - 18", "18 - 65", "65 - 80", "80 und mehr"]
#: invented age structure per square (percent of residents, the same for foreign nationals; each sums to 100),
#: different in each square so that the district types of the monitoring have distinct points to cluster
AGE_SHARES = {
    "04011911": [6, 12, 60, 15, 7],
    "04011912": [8, 14, 58, 14, 6],
    "04011921": [4, 10, 56, 20, 10],
    "04011922": [10, 16, 60, 10, 4],
    "04012911": [5, 11, 54, 20, 10],
    "04012912": [5, 15, 50, 20, 10],
}

TITLE = "12411-03-03: Bevölkerung nach Geschlecht, Nationalität und Altersgruppen bis 90+ (Stand  31.12.)"
HEADER = [
    "Gebietsschlüssel;Gebietseinheit;Zeit;Alter von ... bis unter ... Jahren;" + ";".join(["Bevölkerung 1)"] * 9),
    ";;;;insgesamt;männlich;weiblich;Deutsche;Deutsche;Deutsche;Ausländer 2);Ausländer 2);Ausländer 2)",
    ";;;;;;;zusammen;männlich;weiblich;zusammen;männlich;weiblich",
]
FOOTNOTES = ["", "1) SYNTHETIC: hand-made test fixture in the layout of the Statistisches Landesamt Bremen; "
             "invented numbers (tests/data/tiny_snapshot/make_tiny_snapshot.py).",
             "2) SYNTHETIC: invented.", "", "© tests (synthetic)"]


def square(x: int, y: int) -> list[list[list[int]]]:
    return [[[x, y], [x + SIDE, y], [x + SIDE, y + SIDE], [x, y + SIDE], [x, y]]]


def bbox(keys: list[str]) -> list[list[list[int]]]:
    """The rectangle covering the squares of ``keys`` (they always form a rectangle here)."""
    corners = [corner for key, _name, corner in ORTSTEILE if key in keys]
    x0, y0 = min(c[0] for c in corners), min(c[1] for c in corners)
    x1, y1 = max(c[0] for c in corners) + SIDE, max(c[1] for c in corners) + SIDE
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def feature_collection(features: list[dict[str, object]]) -> str:
    """A GeoJSON FeatureCollection in EPSG:25832 (named in the 2008 ``crs`` member GDAL reads), one feature a line."""
    crs = json.dumps({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}})
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return f'{{"type": "FeatureCollection", "name": "synthetic", "crs": {crs}, "features": [\n{lines}\n]}}\n'


def boundaries() -> None:
    ot = [{"type": "Feature", "properties": {"sch_ot": key, "bez_ot": name, "note": NOTE},
           "geometry": {"type": "Polygon", "coordinates": square(*corner)}} for key, name, corner in ORTSTEILE]
    st = [{"type": "Feature", "properties": {"sch": key, "bez_st": name, "note": NOTE},
           "geometry": {"type": "Polygon",
                        "coordinates": bbox([k for k, _n, _c in ORTSTEILE if k[:7] == key[:7]])}}
          for key, name in STADTTEILE]
    sb = [{"type": "Feature", "properties": {"sch_sb": key, "bez_sb": name, "note": NOTE},
           "geometry": {"type": "Polygon",
                        "coordinates": bbox([k for k, _n, _c in ORTSTEILE if k[:6] == key[:6]])}}
          for key, name in STADTBEZIRKE]
    for name, features in (("ortsteile", ot), ("stadtteile", st), ("stadtbezirke", sb)):
        (HERE / f"synthetic_{name}.geojson").write_text(feature_collection(features), encoding="utf-8")


def split(total: int, shares: list[int]) -> list[int]:
    """``total`` split by ``shares`` (percent) into whole numbers that sum to it (largest remainder)."""
    exact = [total * s / 100 for s in shares]
    parts = [int(e) for e in exact]
    for i in sorted(range(len(shares)), key=lambda i: parts[i] - exact[i])[:total - sum(parts)]:
        parts[i] += 1
    return parts


def halves(n: int) -> tuple[int, int]:
    """Men and women: half each, the odd one a woman."""
    return n // 2, n - n // 2


def counts(total: int, foreign: int) -> list[int]:
    """The nine count columns of one age group: total, men, women, Germans (all, men, women), foreigners (same)."""
    german = total - foreign
    gm, gw = halves(german)
    fm, fw = halves(foreign)
    return [total, gm + fm, gw + fw, german, gm, gw, foreign, fm, fw]


def row(key: str, name: str, year: int, age: str, values: list[int]) -> str:
    return ";".join([key, f"{name} (Ortsteil)", f"{year}-12-31", age, *map(str, values)])


def statistics() -> None:
    names = {key: name for key, name, _corner in ORTSTEILE}
    for year in (2021, 2023):
        lines = [TITLE, *HEADER]
        for key, years in COUNTS.items():
            population, foreign = years[year]
            shares = AGE_SHARES[key]
            groups = [counts(n, f) for n, f in zip(split(population, shares), split(foreign, shares), strict=True)]
            for age, values in zip(AGE_GROUPS, groups, strict=True):
                lines.append(row(key, names[key], year, age, values))
            # the total row is the sum of the age groups, column by column
            lines.append(row(key, names[key], year, "Insgesamt", [sum(col) for col in zip(*groups, strict=True)]))
        text = "\r\n".join([*lines, *FOOTNOTES]) + "\r\n"
        (HERE / f"synthetic_12411-03-03-{year}.csv").write_bytes(text.encode("iso-8859-1"))


if __name__ == "__main__":
    boundaries()
    statistics()
