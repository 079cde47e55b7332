"""The Ortsteilatlas reader: synthetic edge cases, and the snapshot against the published workbook."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml

from geo.pipeline.catalogue import NEED_CATALOGUE, load_need_catalogue
from geo.pipeline.indicators import REGISTRY
from geo.pipeline.sources.ortsteilatlas import area_key, parse_year, read_ortsteilatlas, to_indicators

TINY = Path(__file__).parent / "data" / "tiny_ortsteilatlas.xlsx"
WORKBOOK = Path("bremen-ortsteilatlas") / "raw" / "Bremen_Datentabelle_Ortsteilatlas.xlsx"
REQUIRED = ["sgb2_u65_pct", "sgb2_u15_pct", "sgb2_households_pct", "unemployment_pct", "long_term_unemployment_pct",
            "youth_unemployment_pct", "abitur_rate_pct", "leavers_low_qualification_pct",
            "pupils_non_german_language_pct", "living_space_m2_per_resident", "income_median_eur",
            "turnout_state_election_pct"]


# --- synthetic fixture ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():  # type: ignore[no-untyped-def]
    return read_ortsteilatlas(TINY, key_prefix="04099")


def _cell(table, name_part: str, key: str, year: int):  # type: ignore[no-untyped-def]
    d = table.data
    rows = d[d["indicator_name"].str.contains(name_part, regex=False) & (d["key"] == key) & (d["year"] == year)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_keys_levels_and_values(tiny) -> None:  # type: ignore[no-untyped-def]
    levels = dict(zip(tiny.data["key"], tiny.data["level"], strict=True))
    assert levels == {"04099991": "ortsteil", "04099992": "ortsteil", "04099990": "stadtteil",
                      "04099900": "stadtbezirk", "04099000": "stadt"}
    assert _cell(tiny, "unter 65", "04099991", 2018)["value"] == 11.25
    assert _cell(tiny, "unter 65", "04099000", 2017)["value"] == 9.0


def test_missing_cells_keep_their_reason(tiny) -> None:  # type: ignore[no-untyped-def]
    empty = _cell(tiny, "unter 65", "04099992", 2017)
    assert math.isnan(empty["value"]) and empty["flag"] == "empty"
    marker = _cell(tiny, "unter 65", "04099992", 2018)
    assert math.isnan(marker["value"]) and marker["flag"] == "suppressed"
    text = _cell(tiny, "unter 15", "04099992", 2018)
    assert math.isnan(text["value"]) and text["flag"] == "unreadable"
    assert any(p.check == "atlas_unreadable" and "n/a" in p.message for p in tiny.problems)


def test_extra_year_column_and_period_header(tiny) -> None:  # type: ignore[no-untyped-def]
    assert _cell(tiny, "unter 65", "04099992", 2019)["value"] == 13.5
    period = _cell(tiny, "Ein neuer Indikator", "04099991", 2018)
    assert period["period"] == "2017-2018"
    assert parse_year("2012-2013") == (2013, "2012-2013") and parse_year(2018) == (2018, "2018")
    assert parse_year("Ortsteil") is None


def test_names_are_normalised_and_bad_codes_left_out(tiny) -> None:  # type: ignore[no-untyped-def]
    assert "  " not in "".join(tiny.data["indicator_name"].unique())
    assert any(p.check == "atlas_unknown_area" and "'abc'" in p.message for p in tiny.problems)
    assert area_key("373", "04011") == "04011373" and area_key("", "04011") == "04011000"
    assert area_key("37", "04011") == "04011370" and area_key("3", "04011") == "04011300"


def test_unknown_indicator_is_a_warning_not_a_crash(tiny) -> None:  # type: ignore[no-untyped-def]
    rows, problems = to_indicators(tiny, load_need_catalogue())
    unknown = [p for p in problems if p.check == "atlas_unknown_indicator"]
    assert len(unknown) == 1 and "Ein neuer Indikator" in unknown[0].message
    assert unknown[0].severity == "warning"
    assert set(rows["indicator"]) == {"sgb2_u65_pct", "sgb2_u15_pct"}
    u65 = rows[(rows["indicator"] == "sgb2_u65_pct") & (rows["key"] == "04099991")].set_index("year")
    # base population where the workbook publishes it (2018: 1100 - 300 residents under 65)
    assert u65.loc[2018, "denominator"] == 800
    assert u65.loc[2018, "numerator"] == pytest.approx(11.25 * 8)
    assert math.isnan(u65.loc[2017, "denominator"])  # no population published for 2017
    z = rows[(rows["indicator"] == "sgb2_u65_pct") & (rows["key"] == "04099992")].set_index("year")
    assert math.isnan(z.loc[2018, "denominator"])  # 65+ missing -> no base


def test_not_a_workbook_is_an_input_error(tmp_path: Path) -> None:
    from geo.errors import InputError

    bad = tmp_path / "x.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputError, match="Excel workbook"):
        read_ortsteilatlas(bad)


def test_catalogue_ids_and_directions() -> None:
    cat = load_need_catalogue()
    ids = cat.snapshot_ids()
    assert set(REQUIRED) <= set(ids)
    for ident in ids:
        assert REGISTRY[ident].direction in ("higher_is_worse", "higher_is_better", "none")
    # origin is never a need indicator: migration background is descriptive only
    for ident in ids:
        if "migration" in ident:
            assert REGISTRY[ident].direction == "none"
    assert REGISTRY["living_space_m2_per_resident"].unit == "m²"
    assert REGISTRY["income_median_eur"].unit == "EUR"


# --- the real workbook ----------------------------------------------------------------------------------------

def _norm(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _published(data_dir: Path) -> dict[tuple[str, str, int], float | None]:
    """Every catalogued series of the workbook, read cell by cell with openpyxl: (id, key, year) -> value."""
    spec = yaml.safe_load(NEED_CATALOGUE.read_text(encoding="utf-8"))["ortsteilatlas"]["indicators"]
    wanted = {(_norm(e["topic"]), _norm(e["name"])): e for e in spec if e.get("in_snapshot", True)}
    book = openpyxl.load_workbook(data_dir / WORKBOOK, read_only=True, data_only=True)
    out: dict[tuple[str, str, int], float | None] = {}
    for ws in book.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        topic = _norm(next(c for c in rows[0] if c is not None))
        starts = [j for j, c in enumerate(rows[1]) if c is not None]
        for n, start in enumerate(starts):
            entry = wanted.get((topic, _norm(rows[1][start])))
            if entry is None:
                continue
            end = starts[n + 1] if n + 1 < len(starts) else len(rows[1])
            for j in range(start, end):
                if not isinstance(rows[2][j], int):
                    continue
                for r in rows[3:]:
                    code = "" if r[0] is None else str(r[0])
                    key = "04011" + (code.ljust(3, "0") if code else "000")
                    v = r[j]
                    out[(entry["id"], key, rows[2][j])] = None if v is None else float(v) * entry.get("scale", 1)
    return out


@pytest.mark.realdata
def test_snapshot_reproduces_every_published_value(real_snapshot, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    published = _published(data_dir)
    ind = real_snapshot.indicators
    ours = ind[ind["source"].str.startswith("Ortsteilatlas") & ~ind["source"].str.contains("only Ortsteil")]
    ours = {(i, k, int(y)): (v, f) for i, k, y, v, f in
            zip(ours["indicator"], ours["key"], ours["year"], ours["value"], ours["flag"], strict=True)}
    wahl_years = {("turnout_state_election_pct", 2019)}  # the Wahlatlas gives that year (checked in test_wahlatlas)
    n_checked = 0
    for (ident, key, year), value in published.items():
        if key == "04011123" or (ident, year) in wahl_years:
            continue
        got = ours.get((ident, key, year))
        assert got is not None, (ident, key, year)
        if value is None:
            assert np.isnan(got[0]) and got[1] == "empty", (ident, key, year, got)
        else:
            assert got[0] == pytest.approx(value, rel=1e-12), (ident, key, year)
        n_checked += 1
    assert n_checked > 25_000
    every_ortsteil = {k for (_i, k, _y) in published if len(k) == 8 and k[-1] != "0"}
    assert len(every_ortsteil) == 88


@pytest.mark.realdata
def test_spot_values(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators

    def value(ident: str, key: str, year: int) -> float:
        return float(ind[(ind.indicator == ident) & (ind.key == key) & (ind.year == year)]["value"].item())

    assert value("sgb2_u15_pct", "04011373", 2018) == pytest.approx(49.59, abs=0.005)
    assert value("sgb2_u15_pct", "04011442", 2018) == pytest.approx(57.35, abs=0.005)
    assert value("sgb2_u15_pct", "04011000", 2018) == pytest.approx(30.71, abs=0.005)
    assert value("unemployment_pct", "04011442", 2017) == pytest.approx(29.58, abs=0.005)
    assert value("income_median_eur", "04011000", 2013) > 1000  # published in 1000 EUR, stored in EUR


@pytest.mark.realdata
def test_every_level_and_base_population(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    ind = real_snapshot.indicators
    u15 = ind[(ind.indicator == "sgb2_u15_pct") & (ind.year == 2018)]
    assert set(u15["level"]) == {"ortsteil", "stadtteil", "stadtbezirk", "stadt"}
    # the Stadtteil without subdivision (Borgfeld) takes its only Ortsteil's published value
    borgfeld = u15.set_index("key").loc[["04011350", "04011351"], "value"]
    assert borgfeld.iloc[0] == borgfeld.iloc[1]
    u65 = ind[(ind.indicator == "sgb2_u65_pct") & (ind.key == "04011373") & (ind.year == 2018)].iloc[0]
    assert u65["denominator"] > 5000 and u65["numerator"] == pytest.approx(u65["value"] * u65["denominator"] / 100)
    years = sorted(ind.loc[ind.indicator == "sgb2_u15_pct", "year"].unique())
    assert years == list(range(2005, 2019))


@pytest.mark.realdata
def test_the_published_layer_carries_need_series_with_their_years(real_snapshot) -> None:  # type: ignore[no-untyped-def]
    layer = real_snapshot.layer("ortsteil").set_index("key")
    assert layer.loc["04011373", "sgb2_u15_pct"] == pytest.approx(49.59, abs=0.005)  # Tenever
    assert int(layer.loc["04011373", "sgb2_u15_pct_year"]) == 2018
    assert int(layer.loc["04011442", "unemployment_pct_year"]) == 2017  # Gröpelingen
    assert "share_foreign_pct_year" not in layer.columns  # descriptive series get no need column
    bhv = layer[layer["city"] == "Bremerhaven"]
    assert bhv["sgb2_u15_pct"].isna().all() and bhv["turnout_state_election_pct"].notna().sum() >= 20
