"""CLI subcommands: table mode, errors as exit code 2 with the field named, compare."""

from __future__ import annotations

import argparse

import pandas as pd
import yaml

from geo.errors import QuartiereError
from service.commands import classify as classify_cmd
from service.commands import compare as compare_cmd

from .fixtures import definition, grid_table


def run(module, argv: list[str], capsys) -> tuple[int, str, str]:
    """Mimic service.cli.main: parse with the module's parser, map QuartiereError to exit code 2."""
    parser = argparse.ArgumentParser(prog="quartiere")
    sub = parser.add_subparsers(dest="command", required=True)
    module.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
    except QuartiereError as exc:
        import sys

        print(f"error: {exc}", file=sys.stderr)
        code = 2
    out = capsys.readouterr()
    return code, out.out, out.err


def write_inputs(tmp_path, defn: dict) -> tuple[str, str]:
    prog = tmp_path / "prog.yml"
    prog.write_text(yaml.safe_dump(defn), encoding="utf-8")
    table = grid_table(geometry=False).rename(columns={"key": "area_id"})
    csv = tmp_path / "table.csv"
    table.to_csv(csv, index=False)
    return str(prog), str(csv)


def test_table_mode_writes_csv_with_ids_and_categories(tmp_path, capsys):
    prog, csv = write_inputs(tmp_path, definition())
    out = tmp_path / "out.csv"
    code, stdout, _ = run(
        classify_cmd,
        ["classify", "--programme", prog, "--table", csv, "--id-column", "area_id", "--out", str(out), "--draws", "20"],
        capsys,
    )
    assert code == 0
    df = pd.read_csv(out, dtype={"area_id": str})
    assert df.columns[:4].tolist() == ["area_id", "name", "city", "status_class"]
    for col in ("area_id", "name", "status_class", "categories", "stability", "budget_eur"):
        assert col in df.columns
    row = df.set_index("area_id").loc["00000002"]
    assert row["categories"] == "win"
    assert "classified 11 areas" in stdout


def test_invalid_definition_exits_2_naming_the_field(tmp_path, capsys):
    bad = definition()
    bad["indices"]["status"]["components"][0]["weight"] = "heavy"
    bad["indices"]["status"]["cutoffs"] = [1.0, 0.0, 2.0]
    prog, csv = write_inputs(tmp_path, bad)
    code, _, err = run(
        classify_cmd,
        ["classify", "--programme", prog, "--table", csv, "--id-column", "area_id", "--out", str(tmp_path / "o.csv")],
        capsys,
    )
    assert code == 2
    assert "indices.status.components[0].weight" in err and "indices.status.cutoffs" in err
    assert "Traceback" not in err


def test_missing_id_column_exits_2(tmp_path, capsys):
    prog, csv = write_inputs(tmp_path, definition())
    code, _, err = run(
        classify_cmd,
        ["classify", "--programme", prog, "--table", csv, "--id-column", "nope", "--out", str(tmp_path / "o.csv")],
        capsys,
    )
    assert code == 2 and "nope" in err


def test_compare_prints_and_writes(tmp_path, capsys):
    base = definition()
    draft = definition(id="draft")
    draft["categories"][0]["all"][1]["value"] = 500
    prog, csv = write_inputs(tmp_path, base)
    draft_path = tmp_path / "draft.yml"
    draft_path.write_text(yaml.safe_dump(draft), encoding="utf-8")
    out = tmp_path / "cmp.csv"
    code, stdout, _ = run(
        compare_cmd,
        ["compare", prog, str(draft_path), "--table", csv, "--id-column", "area_id", "--out", str(out)],
        capsys,
    )
    assert code == 0
    assert "00000007" in stdout and "+1 / -0 areas" in stdout
    areas = pd.read_csv(out, dtype={"key": str}, keep_default_na=False).set_index("key")
    assert areas.loc["00000007", "gained"] == "win"
    # the other WiN areas keep their category but give up budget to G
    assert (areas.drop(index="00000007")["gained"] == "").all()
    assert areas["budget_shift_eur"].sum() == 0 or abs(areas["budget_shift_eur"].sum()) < 0.005
